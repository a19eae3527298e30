package prune

import (
	"context"
	"fmt"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/data"
)

// Level is one trained network of IMP: level 0 is the dense run, level k the run with k
// rounds of pruning.
type Level struct {
	Mask     Mask        // the weights this level trained with (level 0 of IMP: Dense)
	Net      *nn.Network // the trained network; the weights Mask prunes are +0
	Metrics  []nn.EpochMetrics
	Sparsity float64 // Mask.Sparsity(): the fraction of the prunable weights pruned
}

// IMP runs iterative magnitude pruning with rewinding. Level 0 trains cfg as given (from
// cfg.Start, or cfg's initialisation) and keeps its network at step rewindStep (0: the
// initialisation, as in the original lottery ticket experiments; a few hundred steps:
// "late rewinding"). Each level k = 1..levels then prunes the trained network of level k−1
// with Next, rewinds the surviving weights to their values at rewindStep, and trains again
// with cfg and the pruned weights held at zero, so it returns levels+1 networks.
//
// Every retraining is a whole run of cfg (cfg.Epochs epochs, the schedule from its start,
// the data order of cfg.DataSeed) from the rewound weights, with a fresh optimiser; with
// rewindStep 0 that is exactly open_lth's lottery run, with rewindStep > 0 it trains
// rewindStep steps more than open_lth, which resumes the schedule at the rewind step.
//
// cfg.Checkpoints is replaced by the rewind step and cfg.Masks must be nil: IMP sets both.
// cfg.Progress sees the steps of every level; progress, if set, is called with each level's
// number before it trains. Errors from training (a diverged run, a cancelled ctx) are
// wrapped with the level they happened at. ctx is checked before each level's pruning and
// throughout its training (every step and every chunk of its evaluations, see nn.Train),
// so a cancelled IMP stops within a step.
func IMP(ctx context.Context, cfg nn.TrainConfig, train, test *data.Set, levels int, rewindStep int, opt Options, progress func(level int)) ([]Level, error) {
	if err := checkIMP(cfg, levels, opt); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(int) {}
	}
	progress(0)
	dense, err := denseRun(ctx, cfg, train, test, rewindStep)
	if err != nil {
		return nil, err
	}
	return impFrom(ctx, cfg, train, test, dense, levels, opt, progress)
}

// checkIMP reports arguments IMP cannot work with, before anything trains.
func checkIMP(cfg nn.TrainConfig, levels int, opt Options) error {
	if levels < 0 {
		return fmt.Errorf("IMP needs levels ≥ 0, got %d", levels)
	}
	if err := opt.validate(); err != nil {
		return err
	}
	if cfg.Masks != nil {
		return fmt.Errorf("IMP chooses the masks itself; the training configuration must not set any")
	}
	return nil
}

// DenseRun is a finished dense run of a training configuration: level 0 of IMP, and the
// network at the rewind step that every later level starts from.
type DenseRun struct {
	Net     *nn.Network
	Metrics []nn.EpochMetrics
	Rewind  *nn.Network
}

// IMPFrom is IMP for a dense run already done (a train node's results, reused rather than
// trained again). dense must be cfg's run: IMPFrom checks the architectures, not the
// history. levels+1 networks are returned, level 0 being dense.Net.
func IMPFrom(ctx context.Context, cfg nn.TrainConfig, train, test *data.Set, dense DenseRun, levels int, opt Options, progress func(level int)) ([]Level, error) {
	if err := checkIMP(cfg, levels, opt); err != nil {
		return nil, err
	}
	if err := dense.check(cfg); err != nil {
		return nil, err
	}
	return impFrom(ctx, cfg, train, test, dense, levels, opt, progress)
}

// impFrom prunes and retrains the levels after dense; its arguments are checked.
func impFrom(ctx context.Context, cfg nn.TrainConfig, train, test *data.Set, dense DenseRun, levels int, opt Options, progress func(level int)) ([]Level, error) {
	if progress == nil {
		progress = func(int) {}
	}
	net := dense.Net.Clone()
	canonicalZeros(net)
	out := []Level{{Mask: Dense(cfg.Arch, opt), Net: net, Metrics: dense.Metrics}}
	for k := 1; k <= levels; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mask, err := Next(out[k-1].Net, out[k-1].Mask, opt)
		if err != nil {
			return nil, fmt.Errorf("level %d: %v", k, err)
		}
		progress(k)
		l, err := retrain(ctx, cfg, train, test, dense.Rewind, mask, k)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// check reports a dense run that cannot be cfg's.
func (d DenseRun) check(cfg nn.TrainConfig) error {
	if d.Net == nil || d.Rewind == nil {
		return fmt.Errorf("the dense run needs its final network and its network at the rewind step")
	}
	for what, n := range map[string]*nn.Network{"final": d.Net, "rewind": d.Rewind} {
		if !n.Arch.Equal(cfg.Arch) {
			return fmt.Errorf("the dense run's %s network is %s, but the training configuration is %s", what, n.Arch, cfg.Arch)
		}
	}
	return nil
}

// IMPWithMasks trains the levels of masks found elsewhere (mask transport: masks of another
// run, moved into this one's coordinates with Transport). It trains cfg densely to get this
// run's network at rewindStep; then level k trains masks[k] from that rewound network, as
// IMP would. As in IMP, a masks[0] that prunes nothing is the dense run itself, so the masks
// IMP returns give back IMP's networks. The masks may cover any linear or convolutional
// weights of cfg.Arch and must hold only 0 and 1; they are checked before anything trains.
func IMPWithMasks(ctx context.Context, cfg nn.TrainConfig, train, test *data.Set, masks []Mask, rewindStep int) ([]Level, error) {
	if err := checkMasks(cfg, masks); err != nil {
		return nil, err
	}
	dense, err := denseRun(ctx, cfg, train, test, rewindStep)
	if err != nil {
		return nil, err
	}
	return withMasksFrom(ctx, cfg, train, test, dense, masks, nil)
}

// IMPWithMasksFrom is IMPWithMasks for a dense run already done; progress, if set, is
// called with each level's number before it trains.
func IMPWithMasksFrom(ctx context.Context, cfg nn.TrainConfig, train, test *data.Set, dense DenseRun, masks []Mask, progress func(level int)) ([]Level, error) {
	if err := checkMasks(cfg, masks); err != nil {
		return nil, err
	}
	if err := dense.check(cfg); err != nil {
		return nil, err
	}
	return withMasksFrom(ctx, cfg, train, test, dense, masks, progress)
}

// withMasksFrom trains the levels of masks after dense; its arguments are checked.
func withMasksFrom(ctx context.Context, cfg nn.TrainConfig, train, test *data.Set, dense DenseRun, masks []Mask, progress func(level int)) ([]Level, error) {
	if progress == nil {
		progress = func(int) {}
	}
	var out []Level
	for k, m := range masks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if kept, total := m.Count(); k == 0 && kept == total {
			net := dense.Net.Clone()
			canonicalZeros(net)
			out = append(out, Level{Mask: m.Clone(), Net: net, Metrics: dense.Metrics})
			continue
		}
		progress(k)
		l, err := retrain(ctx, cfg, train, test, dense.Rewind, m.Clone(), k)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// checkMasks validates carried masks before anything trains.
func checkMasks(cfg nn.TrainConfig, masks []Mask) error {
	if len(masks) == 0 {
		return fmt.Errorf("IMPWithMasks needs at least one mask")
	}
	if cfg.Masks != nil {
		return fmt.Errorf("IMPWithMasks takes its masks as an argument; the training configuration must not set any")
	}
	if err := cfg.Arch.Validate(); err != nil {
		return err
	}
	shapes := weightShapes(cfg.Arch)
	for k, m := range masks {
		if err := m.check(cfg.Arch, shapes, "weight"); err != nil {
			return fmt.Errorf("mask %d: %v", k, err)
		}
	}
	return nil
}

// denseRun trains cfg (checked to have no masks) keeping its network at rewindStep.
func denseRun(ctx context.Context, cfg nn.TrainConfig, train, test *data.Set, rewindStep int) (DenseRun, error) {
	if train == nil || test == nil {
		return DenseRun{}, fmt.Errorf("IMP needs a training and a test set")
	}
	if rewindStep < 0 {
		return DenseRun{}, fmt.Errorf("rewind step %d is negative", rewindStep)
	}
	if cfg.BatchSize >= 1 && cfg.Epochs >= 0 {
		if total := nn.StepsPerEpoch(train.N, cfg.BatchSize) * cfg.Epochs; rewindStep > total {
			return DenseRun{}, fmt.Errorf("rewind step %d is beyond the run's %d steps", rewindStep, total)
		}
	}
	cfg.Checkpoints = []int{rewindStep}
	res, err := nn.Train(ctx, cfg, train, test)
	if err != nil {
		return DenseRun{}, fmt.Errorf("level 0 (dense): %w", err)
	}
	return DenseRun{Net: res.Final, Metrics: res.Metrics, Rewind: res.Checkpoints[0]}, nil
}

// retrain trains level k: cfg from rewind with the weights mask prunes zeroed and held at
// zero.
func retrain(ctx context.Context, cfg nn.TrainConfig, train, test *data.Set, rewind *nn.Network, mask Mask, k int) (Level, error) {
	cfg.Start = Rewind(rewind, mask)
	cfg.Masks = map[string][]float32(mask)
	cfg.Checkpoints = nil
	res, err := nn.Train(ctx, cfg, train, test)
	if err != nil {
		return Level{}, fmt.Errorf("level %d (sparsity %.4f): %w", k, mask.Sparsity(), err)
	}
	canonicalZeros(res.Final)
	return Level{Mask: mask, Net: res.Final, Metrics: res.Metrics, Sparsity: mask.Sparsity()}, nil
}

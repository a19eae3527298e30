package kinds

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/perm"
	"github.com/modulo-ml/modulo/nn/prune"
	"github.com/modulo-ml/modulo/stages"
)

// Mask is the artifact type of pruning masks: one U8 tensor of 0s and 1s per pruned
// weight ("mask.layers.i.weight") in safetensors, with the architecture in the metadata.
var Mask = stages.ArtifactType("mask", "application/vnd.modulo.mask+safetensors")

// pruneMetricsType is one row of a prune node's per-level metrics: the level's final epoch.
var pruneMetricsType = cty.Object(map[string]cty.Type{
	"level": cty.Number, "sparsity": cty.Number, "weights": cty.Number,
	"train_loss": cty.Number, "train_accuracy": cty.Number,
	"test_loss": cty.Number, "test_accuracy": cty.Number,
})

// maxLevels bounds levels: at the default fraction 100 levels leave 2e-10 of the weights.
const maxLevels = 100

// pruneConfig is a prune block's configuration.
type pruneConfig struct {
	From         fromConfig    `cty:"from"`
	Levels       *int          `cty:"levels"`
	Fraction     float64       `cty:"fraction"`
	Scope        string        `cty:"scope"`
	ExemptOutput bool          `cty:"exempt_output"`
	Rewind       string        `cty:"rewind"`
	Mask         []*stages.Ref `cty:"mask"`
	Permutation  *stages.Ref   `cty:"permutation"`
	Threads      int           `cty:"threads"`
}

// fromConfig is what a prune node reads of its train node (fromType).
type fromConfig struct {
	Recipe      *stages.Ref   `cty:"recipe"`
	Final       *stages.Ref   `cty:"final"`
	Checkpoints []*stages.Ref `cty:"checkpoints"`
	Metrics     cty.Value     `cty:"metrics"`
}

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "prune",
		Version: 5, // 2: trains as train version 3 does; 3: as train version 4; 4: as train version 5; 5: as train version 6
		Doc:     "Iterative magnitude pruning with rewinding of a train node's run, or retraining it with transported masks.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "from", Type: fromType, Required: true, Doc: `the train node whose run is pruned, such as from = train.net["a"] (the block, not one of its outputs)`},
			{Name: "levels", Type: cty.Number, Doc: "rounds of pruning: levels+1 networks, level 0 dense; with mask, defaults to every mask", Check: stages.Int(0, maxLevels)},
			{Name: "fraction", Type: cty.Number, Default: cty.NumberFloatVal(prune.DefaultFraction), Doc: "fraction of the remaining weights pruned per level", Check: stages.Range(0, 1, true, true)},
			{Name: "scope", Type: cty.String, Default: cty.StringVal("global"), Doc: "global (one threshold) or layer (the fraction of each layer)", Check: stages.OneOf("global", "layer")},
			{Name: "exempt_output", Type: cty.Bool, Default: cty.False, Doc: "leave the output layer dense (biases are never pruned)"},
			{Name: "rewind", Type: cty.String, Default: cty.StringVal("0"), Doc: `step ("500") or epoch ("1ep") of the run that survivors rewind to; "0" is the initialisation`, Check: durationCheck},
			{Name: "mask", Type: cty.List(Mask), Doc: "mask transport: another prune node's masks, trained in this run instead of its own", Check: stages.Items(1, maxLevels+1, nil)},
			{Name: "permutation", Type: Permutation, Doc: "mask transport: aligns the mask's network to this one (match with reference = this run, target = the mask's run)"},
			threadsAttr,
		}},
		Outputs: []stages.OutputSpec{
			{Name: "levels", Type: cty.List(Network), Doc: "the trained network of every level, level 0 dense"},
			{Name: "masks", Type: cty.List(Mask), Doc: "the mask every level trained with"},
			{Name: "final", Type: Network, Doc: "the last level's network"},
			{Name: "metrics", Type: cty.List(pruneMetricsType), Doc: "per level: sparsity, weights left, final train and test loss and accuracy"},
		},
		Config:   pruneConfig{},
		Validate: validatePrune,
		Expect:   expectPrune,
		Cost:     threadsCost,
		Run:      runPrune,
	})
}

// fromType is what a prune node reads of its train node: a reference to the block
// converts to it, keeping only these outputs.
var fromType = cty.Object(map[string]cty.Type{
	"recipe": Recipe, "final": Network, "checkpoints": cty.List(Network), "metrics": cty.List(metricsType),
})

func validatePrune(p *stages.Planned) error {
	var errs []error
	levels, hasLevels := knownInt(p.Value, "levels")
	mask := p.Get("mask")
	if mask.IsKnown() && mask.IsNull() {
		if l := p.Get("levels"); l.IsKnown() && l.IsNull() {
			errs = append(errs, cty.GetAttrPath("levels").NewErrorf("levels is required: how many rounds of pruning (or give mask, another prune node's masks)"))
		}
		if pm := p.Get("permutation"); pm.IsKnown() && !pm.IsNull() {
			errs = append(errs, cty.GetAttrPath("permutation").NewErrorf("permutation moves a transported mask; it needs mask (such as mask = prune.other.masks)"))
		}
	}
	if n, ok := p.Len("mask"); ok && !mask.IsNull() {
		if n == 0 {
			errs = append(errs, cty.GetAttrPath("mask").NewErrorf("mask is an empty list; give another prune node's masks"))
		} else if hasLevels && levels > n-1 {
			errs = append(errs, cty.GetAttrPath("levels").NewErrorf("levels = %d needs %d masks but mask holds %d", levels, levels+1, n))
		}
	}
	meta, known := recipeMetaOf(p)
	if r := p.Get("rewind"); r.IsKnown() && known {
		if d, err := ParseDuration(r.AsString()); err == nil {
			if step := d.Steps(meta.StepsPerEpoch); step > meta.Steps {
				errs = append(errs, cty.GetAttrPath("rewind").NewErrorf("rewind %q is step %d, beyond the %d steps of the train node's run; rewind to an earlier point or train for longer", r.AsString(), step, meta.Steps))
			}
		}
	}
	if known {
		errs = append(errs, checkMaskArch(p, meta.Arch)...)
	}
	return errors.Join(errs...)
}

// expectPrune tells the architecture of the levels and how many there are.
func expectPrune(p *stages.Planned) map[string]stages.Expected {
	meta, ok := recipeMetaOf(p)
	if !ok {
		return nil
	}
	n := -1
	if l, ok := knownInt(p.Value, "levels"); ok {
		n = l + 1
	} else if m := p.Get("levels"); m.IsKnown() && m.IsNull() {
		if l, ok := p.Len("mask"); ok {
			n = l
		}
	}
	return map[string]stages.Expected{
		"levels": {Meta: meta.Arch, Len: n},
		"masks":  {Meta: meta.Arch, Len: n},
		"final":  {Meta: meta.Arch, Len: -1},
	}
}

// checkMaskArch compares the architectures known at plan time: the masks', the
// permutation's and arch, the run's.
func checkMaskArch(p *stages.Planned, arch string) []error {
	var errs []error
	for _, name := range []string{"mask", "permutation"} {
		for _, m := range p.Metas(name) {
			if m != arch {
				errs = append(errs, cty.GetAttrPath(name).NewErrorf("%s belongs to a network of architecture %s, but the train node's run is %s", name, m, arch))
				break
			}
		}
	}
	return errs
}

func runPrune(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var c pruneConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	rb, err := in.Read(c.From.Recipe)
	if err != nil {
		return nil, err
	}
	doc, trainCfg, err := decodeRecipe(rb)
	if err != nil {
		return nil, err
	}
	raw, err := in.Read(&stages.Ref{Type: "dataset", ID: doc.Data})
	if err != nil {
		return nil, fmt.Errorf("the train node's dataset: %w", err)
	}
	d, _, err := LoadDataset(ctx, raw, in.Materialize)
	if err != nil {
		return nil, err
	}
	tc, err := TrainConfigOf(trainCfg, d.Train)
	if err != nil {
		return nil, err
	}
	b := blas.Default().WithThreads(in.Threads)
	tc.BLAS = b
	tc.Checkpoints = nil

	dense, err := denseRunOf(ctx, in, &c, doc, tc, d)
	if err != nil {
		return nil, err
	}
	opt := prune.Options{
		Fraction:     c.Fraction,
		Scope:        prune.Scope(c.Scope),
		ExemptOutput: c.ExemptOutput,
	}
	levels := 0
	if c.Levels != nil {
		levels = *c.Levels
	}
	var masks []prune.Mask
	if c.Mask != nil {
		if masks, err = transportedMasks(in, &c, tc.Arch); err != nil {
			return nil, err
		}
		if c.Levels != nil {
			if levels+1 > len(masks) {
				return nil, fmt.Errorf("levels = %d needs %d masks but mask holds %d", levels, levels+1, len(masks))
			}
			masks = masks[:levels+1]
		}
		levels = len(masks) - 1
	}

	var last time.Time
	level := 0
	tc.Progress = func(p nn.Progress) {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond || p.Step == p.Steps {
			last = now
			done := float64(level-1) + float64(p.Step)/float64(p.Steps)
			in.Report(stages.Progress{Done: done, Total: float64(levels), Unit: "level",
				Message: fmt.Sprintf("level %d/%d step %d/%d loss %.4f", level, levels, p.Step, p.Steps, p.Loss)})
		}
	}
	onLevel := func(k int) { level = k }
	var out []prune.Level
	if masks != nil {
		out, err = prune.IMPWithMasksFrom(ctx, tc, d.Train, d.Test, dense, masks, onLevel)
	} else {
		out, err = prune.IMPFrom(ctx, tc, d.Train, d.Test, dense, levels, opt, onLevel)
	}
	if err != nil {
		return nil, err
	}
	return pruneResult(tc.Arch, out)
}

// denseRunOf gathers level 0 from the train node: its final network and metrics, and its
// network at the rewind step, read from its checkpoints when it kept that step and trained
// again up to it otherwise (bit-identical: same recipe, same data order).
func denseRunOf(ctx context.Context, in *stages.Input, c *pruneConfig, doc *recipeDoc, tc nn.TrainConfig, d *data.Dataset) (prune.DenseRun, error) {
	var dense prune.DenseRun
	rw, err := ParseDuration(c.Rewind)
	if err != nil {
		return dense, err
	}
	step := rw.Steps(doc.StepsPerEpoch)
	if step > doc.Steps {
		return dense, fmt.Errorf("rewind %q is step %d, beyond the %d steps of the train node's run", c.Rewind, step, doc.Steps)
	}
	if dense.Net, err = readNetwork(in, c.From.Final); err != nil {
		return dense, err
	}
	if dense.Metrics, err = epochMetricsOf(c.From.Metrics); err != nil {
		return dense, err
	}
	if i := slices.Index(doc.Checkpoints, step); i >= 0 && i < len(c.From.Checkpoints) {
		dense.Rewind, err = readNetwork(in, c.From.Checkpoints[i])
		return dense, err
	}
	if step == 0 {
		dense.Rewind, err = nn.Init(tc.Arch, tc.Init, tc.Seed)
		return dense, err
	}
	in.Report(stages.Progress{Message: fmt.Sprintf("the train node kept no checkpoint at step %d: training up to it", step)})
	early := tc
	early.StopAfter = step
	res, err := nn.Train(ctx, early, d.Train, d.Test)
	if err != nil {
		return dense, fmt.Errorf("training up to the rewind step %d: %w", step, err)
	}
	dense.Rewind = res.Final
	return dense, nil
}

// metricsRow is one row of a train node's metrics output (metricsType).
type metricsRow struct {
	Epoch         int     `cty:"epoch"`
	Step          int     `cty:"step"`
	LR            float64 `cty:"lr"`
	TrainLoss     float64 `cty:"train_loss"`
	TrainAccuracy float64 `cty:"train_accuracy"`
	TestLoss      float64 `cty:"test_loss"`
	TestAccuracy  float64 `cty:"test_accuracy"`
}

// epochMetricsOf turns a train node's metrics output back into nn's rows.
func epochMetricsOf(v cty.Value) ([]nn.EpochMetrics, error) {
	var rows []metricsRow
	if err := stages.DecodeValue(v, &rows); err != nil {
		return nil, fmt.Errorf("reading the train node's metrics: %v", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("the train node has no metrics")
	}
	out := make([]nn.EpochMetrics, len(rows))
	for i, r := range rows {
		out[i] = nn.EpochMetrics{
			Epoch: r.Epoch, Step: r.Step, LR: r.LR,
			TrainLoss: r.TrainLoss, TrainAcc: r.TrainAccuracy,
			TestLoss: r.TestLoss, TestAcc: r.TestAccuracy,
		}
	}
	return out, nil
}

// transportedMasks reads the mask attribute and, when permutation is set, moves every mask
// into this run's coordinates.
func transportedMasks(in *stages.Input, c *pruneConfig, arch nn.Arch) ([]prune.Mask, error) {
	var p *perm.Permutation
	if c.Permutation != nil {
		q, err := readPermutation(in, c.Permutation)
		if err != nil {
			return nil, err
		}
		if !q.Arch.Equal(arch) {
			return nil, fmt.Errorf("the permutation is for %s but the run is %s", q.Arch, arch)
		}
		p = &q
	}
	var masks []prune.Mask
	for i, r := range c.Mask {
		b, err := in.Read(r)
		if err != nil {
			return nil, err
		}
		a, m, err := prune.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("mask[%d]: %w", i, err)
		}
		if !a.Equal(arch) {
			return nil, fmt.Errorf("mask[%d] belongs to %s but the run is %s", i, a, arch)
		}
		if p != nil {
			if m, err = prune.Transport(m, *p); err != nil {
				return nil, fmt.Errorf("mask[%d]: %w", i, err)
			}
		}
		masks = append(masks, m)
	}
	return masks, nil
}

// pruneResult encodes the levels.
func pruneResult(arch nn.Arch, levels []prune.Level) (*stages.Result, error) {
	var nets, masks []stages.Artifact
	var rows []cty.Value
	for k, l := range levels {
		na, err := encodeNetwork(l.Net)
		if err != nil {
			return nil, err
		}
		mb, err := prune.Encode(arch, l.Mask)
		if err != nil {
			return nil, err
		}
		nets = append(nets, na)
		masks = append(masks, stages.Artifact{Data: mb, Codec: artifacts.Raw, Meta: arch.String()})
		kept, _ := l.Mask.Count()
		m := l.Metrics[len(l.Metrics)-1]
		rows = append(rows, cty.ObjectVal(map[string]cty.Value{
			"level": cty.NumberIntVal(int64(k)), "sparsity": cty.NumberFloatVal(l.Mask.Sparsity()), "weights": cty.NumberIntVal(int64(kept)),
			"train_loss": cty.NumberFloatVal(m.TrainLoss), "train_accuracy": cty.NumberFloatVal(m.TrainAcc),
			"test_loss": cty.NumberFloatVal(m.TestLoss), "test_accuracy": cty.NumberFloatVal(m.TestAcc),
		}))
	}
	return &stages.Result{Outputs: map[string]stages.Output{
		"levels":  {Artifacts: nets},
		"masks":   {Artifacts: masks},
		"final":   {Artifacts: nets[len(nets)-1:]},
		"metrics": {Value: cty.ListVal(rows)},
	}}, nil
}

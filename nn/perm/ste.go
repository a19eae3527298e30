package perm

import (
	"context"
	"fmt"
	"math"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// STEOptions configure learned matching.
type STEOptions struct {
	Epochs int     // passes over the training examples
	Batch  int     // examples per step
	LR     float64 // Adam's learning rate (Git Re-Basin: 1e-3)
	Seed   uint64  // the order of the examples, and weight matching's
	// EvalN is the number of training examples the midpoint's loss is measured on, after
	// each epoch and for the starting permutation, to keep the best.
	EvalN    int
	BLAS     blas.Impl
	Progress func(step, steps int, loss float64)
}

// streamSTE separates the example order of learned matching from other uses of its seed.
const streamSTE = 0x73746565 // "stee"

// STEMatch aligns b to a by learned matching (Git Re-Basin's straight-through estimator):
// free weights W start at a; each step projects W onto the permutations of b by weight
// matching (warm-started from the last step's permutation P), forms the midpoint
// ½(a + P(b)) and takes an Adam step on W along the midpoint's loss gradient on a batch,
// passed straight through the projection (∂mid/∂W = ½). After each epoch the midpoint of
// the current P is measured on the first EvalN training examples, and the permutation
// whose midpoint has the lowest loss is returned — weight matching's own (the start)
// among the candidates, so the result is never worse than it by that measure. MLPs only.
// Result.Objective is the kept permutation's midpoint loss; Sweeps the steps taken.
func STEMatch(ctx context.Context, a, b *nn.Network, train *data.Set, opt STEOptions) (Result, error) {
	if a.Arch.Kind != "mlp" {
		return Result{}, fmt.Errorf("learned matching (ste) is implemented for MLPs; a %s is not supported yet", a.Arch.Kind)
	}
	if !b.Arch.Equal(a.Arch) {
		return Result{}, fmt.Errorf("learned matching: the networks are %s and %s", a.Arch, b.Arch)
	}
	if opt.Epochs < 1 || opt.Batch < 1 || !(opt.LR > 0) || opt.EvalN < 1 {
		return Result{}, fmt.Errorf("learned matching: epochs, batch, lr and eval examples must be positive")
	}
	if opt.BLAS == nil {
		opt.BLAS = blas.Default()
	}
	wm := WMOptions{Seed: opt.Seed, MaxSweeps: SweepLimit, Tol: GainTol, BLAS: opt.BLAS}
	start, err := WeightMatch(ctx, a, b, wm)
	if err != nil {
		return Result{}, err
	}
	mid := nn.NewNetwork(a.Arch)
	midLoss := func(p Permutation) (float64, error) {
		pb, err := p.Apply(b)
		if err != nil {
			return 0, err
		}
		nn.Combine(mid, []float64{0.5, 0.5}, a, pb)
		loss, _, err := nn.Evaluate(ctx, mid, train, opt.EvalN, opt.BLAS)
		return loss, err
	}
	best := start.Perm
	bestLoss, err := midLoss(best)
	if err != nil {
		return Result{}, err
	}
	w := a.Clone()
	params := make([][]float32, len(w.Params))
	for i, p := range w.Params {
		params[i] = p.Data
	}
	adam, err := nn.NewOptimizer(nn.OptimConfig{Kind: "adam", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		return Result{}, err
	}
	batch := min(opt.Batch, train.N)
	model := nn.NewModel(mid, batch, opt.BLAS)
	dlogits := make([]float32, batch*a.Arch.Output)
	xb := make([]float32, batch*train.D)
	yb := make([]uint8, batch)
	rng := nn.NewRand(opt.Seed, streamSTE)
	order := make([]int, train.N)
	for i := range order {
		order[i] = i
	}
	p := start.Perm
	steps, step := opt.Epochs*(train.N/batch), 0
	for epoch := 0; epoch < opt.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for s := 0; s+batch <= train.N; s += batch {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
			init := p
			wm.Init = &init
			r, err := WeightMatch(ctx, w, b, wm)
			if err != nil {
				return Result{}, err
			}
			p = r.Perm
			pb, err := p.Apply(b)
			if err != nil {
				return Result{}, err
			}
			nn.Combine(mid, []float64{0.5, 0.5}, a, pb)
			for k, i := range order[s : s+batch] {
				copy(xb[k*train.D:(k+1)*train.D], train.Row(i))
				yb[k] = train.Y[i]
			}
			logits := model.Forward(xb, batch)
			loss, _ := nn.SoftmaxCrossEntropy(logits, yb, batch, a.Arch.Output, dlogits)
			if math.IsNaN(loss) {
				return Result{}, fmt.Errorf("learned matching: the midpoint's loss is NaN at step %d; lower lr", step)
			}
			model.Backward(xb, batch, dlogits)
			for _, g := range model.Grads {
				for j := range g {
					g[j] *= 0.5 // straight through: ∂mid/∂W = ½
				}
			}
			adam.Step(params, model.Grads, nil, opt.LR)
			step++
			if opt.Progress != nil {
				opt.Progress(step, steps, loss)
			}
		}
		l, err := midLoss(p)
		if err != nil {
			return Result{}, err
		}
		if l < bestLoss {
			best, bestLoss = p, l // each step's permutation is a new one
		}
	}
	return Result{Perm: best, Objective: bestLoss, Sweeps: step}, nil
}

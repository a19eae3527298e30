package nn

import (
	"fmt"
	"math"

	"github.com/modulo-ml/modulo/nn/vec"
)

// OptimConfig configures an optimiser with PyTorch's semantics.
//
//   - "sgd": g ← ∇ + wd·w; buf ← momentum·buf + g (buf = g on the first step);
//     g ← g + momentum·buf with Nesterov, else g ← buf; w ← w − lr·g.
//   - "adam": g ← ∇ + wd·w, then Adam with bias correction.
//   - "adamw": w ← w − lr·wd·w (decoupled), then Adam on ∇.
//
// Every field is used as it is: a zero is a zero, never a default (PyTorch's are the train
// stage's schema's, the one place defaults live), so beta1 = 0 is Adam without momentum.
type OptimConfig struct {
	Kind        string  // "sgd", "adam" or "adamw"
	Momentum    float64 // sgd
	Nesterov    bool    // sgd
	WeightDecay float64
	Beta1       float64 // adam(w): decay of the first moment, in [0, 1)
	Beta2       float64 // adam(w): decay of the second moment, in [0, 1)
	Eps         float64 // adam(w): added to the root of the second moment, > 0
}

// Validate reports a configuration that cannot work. Adam's fields are checked for adam and
// adamw only: SGD ignores them.
func (c OptimConfig) Validate() error {
	switch c.Kind {
	case "sgd", "adam", "adamw":
	default:
		return fmt.Errorf("unknown optimizer %q; the optimizers are: sgd, adam, adamw", c.Kind)
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) {
		return fmt.Errorf("momentum %g is outside [0, 1); 0.9 is usual, 0 turns momentum off", c.Momentum)
	}
	if c.Nesterov && c.Momentum == 0 {
		return fmt.Errorf("nesterov needs a positive momentum; set momentum (0.9 is usual) or nesterov = false")
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return fmt.Errorf("weight_decay %g must be a finite number ≥ 0; 0 turns it off", c.WeightDecay)
	}
	if c.Kind == "sgd" {
		return nil
	}
	for _, b := range []struct {
		name string
		v    float64
	}{{"beta1", c.Beta1}, {"beta2", c.Beta2}} {
		if !(b.v >= 0 && b.v < 1) {
			return fmt.Errorf("%s %g is outside [0, 1); PyTorch's defaults are beta1 = 0.9 and beta2 = 0.999", b.name, b.v)
		}
	}
	if !(c.Eps > 0) || math.IsInf(c.Eps, 0) {
		return fmt.Errorf("eps %g must be a finite number > 0 (it keeps Adam's step finite); PyTorch's default is 1e-8", c.Eps)
	}
	return nil
}

// Optimizer updates parameters from their gradients. Its state (momentum buffers, moments)
// is kept per parameter, in the order of the slices passed to Step.
type Optimizer struct {
	cfg   OptimConfig
	step  int
	bufs  [][]float32 // sgd momentum, or adam first moments
	bufs2 [][]float32 // adam second moments
	added []bool      // parameters whose gradients are added to bufs (addToMomentum)
}

// NewOptimizer returns an optimiser for cfg, used exactly as given, or cfg's Validate error.
func NewOptimizer(cfg OptimConfig) (*Optimizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Optimizer{cfg: cfg}, nil
}

// Step applies one update with learning rate lr to params from grads (same shapes). masks,
// when not nil, holds for each parameter nil or a 0/1 mask: masked-out weights and their
// optimiser state stay exactly zero.
func (o *Optimizer) Step(params [][]float32, grads [][]float32, masks [][]float32, lr float64) {
	o.begin(params)
	for i, w := range params {
		var mask []float32
		if masks != nil {
			mask = masks[i]
		}
		o.update(i, 0, len(w), w, grads[i], mask, lr)
	}
}

// begin starts a step: it counts it and allocates the state of params on the first one.
// The updates of the step (update) may then run concurrently on disjoint ranges.
func (o *Optimizer) begin(params [][]float32) {
	o.step++
	if o.bufs != nil {
		return
	}
	o.bufs = make([][]float32, len(params))
	o.bufs2 = make([][]float32, len(params))
	for i, w := range params {
		// A zero buffer makes the first step's buf = mu·0 + d = d, PyTorch's initialisation.
		if o.cfg.Kind != "sgd" || o.cfg.Momentum != 0 {
			o.bufs[i] = make([]float32, len(w))
		}
		if o.cfg.Kind != "sgd" {
			o.bufs2[i] = make([]float32, len(w))
		}
	}
}

// addToMomentum returns the momentum buffer of parameter i for the caller to add the
// parameter's gradient to before each update, instead of handing update a gradient; nil
// when the optimiser has no such buffer or needs the gradient itself (adam, SGD without
// momentum, Nesterov's). The buffer then holds momentum·buf between steps, so that adding
// ∇ to it (a GEMM with beta 1) makes momentum·buf + ∇, and update reads and writes two
// arrays instead of reading three and writing two (vec.SGDAdded). Call it after begin.
func (o *Optimizer) addToMomentum(i int) []float32 {
	if o.cfg.Kind != "sgd" || o.cfg.Momentum == 0 || o.cfg.Nesterov {
		return nil
	}
	if o.added == nil {
		o.added = make([]bool, len(o.bufs))
	}
	o.added[i] = true
	return o.bufs[i]
}

// update applies the step to elements [lo, hi) of parameter i, whose values, gradient and
// mask (nil for none) are w, g and mask, whole (g is not read when the gradient was added
// to the momentum; see addToMomentum). The update is elementwise, so splitting a
// parameter into ranges gives the same bits as updating it whole.
func (o *Optimizer) update(i, lo, hi int, w, g, mask []float32, lr float64) {
	w = w[lo:hi]
	if mask != nil {
		mask = mask[lo:hi]
	}
	part := func(s []float32) []float32 {
		if s == nil {
			return nil
		}
		return s[lo:hi]
	}
	buf, buf2 := part(o.bufs[i]), part(o.bufs2[i])
	if o.added != nil && o.added[i] {
		vec.SGDAdded(w, buf, float32(lr), float32(o.cfg.Momentum), float32(o.cfg.WeightDecay))
		applyMask(w, mask)
		applyMask(buf, mask)
		return
	}
	g = g[lo:hi]
	if o.cfg.Kind == "sgd" {
		vec.SGD(w, g, buf, float32(lr), float32(o.cfg.Momentum), float32(o.cfg.WeightDecay), o.cfg.Nesterov)
		applyMask(w, mask)
		applyMask(buf, mask)
		return
	}
	c1 := 1 - math.Pow(o.cfg.Beta1, float64(o.step))
	c2 := 1 - math.Pow(o.cfg.Beta2, float64(o.step))
	// PyTorch: w −= lr/c1 · m / (√v/√c2 + eps).
	vec.Adam(w, g, buf, buf2, float32(lr), float32(lr/c1), float32(o.cfg.Beta1), float32(o.cfg.Beta2),
		float32(o.cfg.Eps), float32(o.cfg.WeightDecay), float32(math.Sqrt(c2)), o.cfg.Kind == "adamw")
	applyMask(w, mask)
	applyMask(buf, mask)
	applyMask(buf2, mask)
}

// applyMask zeroes the elements of x that mask prunes. x may be nil: plain SGD (momentum 0)
// keeps no momentum buffer, and masking it panicked on the length mismatch.
func applyMask(x, mask []float32) {
	if mask != nil && x != nil {
		vec.Mul(x, mask)
	}
}

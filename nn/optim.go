package nn

import (
	"fmt"
	"math"
)

// OptimConfig configures an optimiser with PyTorch's semantics.
//
//   - "sgd": g ← ∇ + wd·w; buf ← momentum·buf + g (buf = g on the first step);
//     g ← g + momentum·buf with Nesterov, else g ← buf; w ← w − lr·g.
//   - "adam": g ← ∇ + wd·w, then Adam with bias correction.
//   - "adamw": w ← w − lr·wd·w (decoupled), then Adam on ∇.
type OptimConfig struct {
	Kind        string  // "sgd", "adam" or "adamw"
	Momentum    float64 // sgd
	Nesterov    bool    // sgd
	WeightDecay float64
	Beta1       float64 // adam(w); 0.9 when 0
	Beta2       float64 // adam(w); 0.999 when 0
	Eps         float64 // adam(w); 1e-8 when 0
}

// Validate reports a configuration that cannot work.
func (c OptimConfig) Validate() error {
	switch c.Kind {
	case "sgd", "adam", "adamw":
	default:
		return fmt.Errorf("unknown optimizer %q; the optimizers are: sgd, adam, adamw", c.Kind)
	}
	if c.Momentum < 0 || c.Momentum >= 1 {
		return fmt.Errorf("momentum %g is outside [0, 1)", c.Momentum)
	}
	if c.Nesterov && c.Momentum == 0 {
		return fmt.Errorf("nesterov needs a positive momentum")
	}
	if c.WeightDecay < 0 {
		return fmt.Errorf("weight_decay %g is negative", c.WeightDecay)
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
}

// NewOptimizer returns an optimiser for cfg, which must be valid.
func NewOptimizer(cfg OptimConfig) *Optimizer {
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	return &Optimizer{cfg: cfg}
}

// Step applies one update with learning rate lr to params from grads (same shapes). masks,
// when not nil, holds for each parameter nil or a 0/1 mask: masked-out weights and their
// optimiser state stay exactly zero.
func (o *Optimizer) Step(params [][]float32, grads [][]float32, masks [][]float32, lr float64) {
	if o.bufs == nil {
		o.bufs = make([][]float32, len(params))
		o.bufs2 = make([][]float32, len(params))
	}
	o.step++
	for i, w := range params {
		g := grads[i]
		var mask []float32
		if masks != nil {
			mask = masks[i]
		}
		switch o.cfg.Kind {
		case "sgd":
			o.sgd(i, w, g, mask, lr)
		default:
			o.adam(i, w, g, mask, lr)
		}
	}
}

func (o *Optimizer) sgd(i int, w, g, mask []float32, lr float64) {
	wd, mu := float32(o.cfg.WeightDecay), float32(o.cfg.Momentum)
	lr32 := float32(lr)
	if mu == 0 {
		for j := range w {
			d := g[j] + wd*w[j]
			w[j] -= lr32 * d
		}
		applyMask(w, mask)
		return
	}
	buf := o.bufs[i]
	first := buf == nil
	if first {
		buf = make([]float32, len(w))
		o.bufs[i] = buf
	}
	nesterov := o.cfg.Nesterov
	for j := range w {
		d := g[j] + wd*w[j]
		if first {
			buf[j] = d
		} else {
			buf[j] = mu*buf[j] + d
		}
		if nesterov {
			d += mu * buf[j]
		} else {
			d = buf[j]
		}
		w[j] -= lr32 * d
	}
	applyMask(w, mask)
	applyMask(buf, mask)
}

func (o *Optimizer) adam(i int, w, g, mask []float32, lr float64) {
	if o.bufs[i] == nil {
		o.bufs[i] = make([]float32, len(w))
		o.bufs2[i] = make([]float32, len(w))
	}
	m, v := o.bufs[i], o.bufs2[i]
	b1, b2 := o.cfg.Beta1, o.cfg.Beta2
	c1 := 1 - math.Pow(b1, float64(o.step))
	c2 := 1 - math.Pow(b2, float64(o.step))
	decoupled := o.cfg.Kind == "adamw"
	wd := float32(o.cfg.WeightDecay)
	step := float32(lr / c1)
	eps := float32(o.cfg.Eps)
	sqrtC2 := float32(math.Sqrt(c2))
	fb1, fb2 := float32(b1), float32(b2)
	for j := range w {
		d := g[j]
		if decoupled {
			w[j] -= float32(lr) * wd * w[j]
		} else {
			d += wd * w[j]
		}
		m[j] = fb1*m[j] + (1-fb1)*d
		v[j] = fb2*v[j] + (1-fb2)*d*d
		// PyTorch: w −= lr/c1 · m / (√v/√c2 + eps).
		w[j] -= step * m[j] / (float32(math.Sqrt(float64(v[j])))/sqrtC2 + eps)
	}
	applyMask(w, mask)
	applyMask(m, mask)
	applyMask(v, mask)
}

func applyMask(x, mask []float32) {
	if mask == nil {
		return
	}
	for j, k := range mask {
		x[j] *= k
	}
}

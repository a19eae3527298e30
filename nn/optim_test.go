package nn

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestOptimizerSteps checks two steps of each optimiser against values computed by hand
// from PyTorch's update rules.
func TestOptimizerSteps(t *testing.T) {
	tests := []struct {
		name string
		cfg  OptimConfig
		lr   float64
		want [2]float64 // w after step 1 and step 2, from w0 = 1 with gradient 0.5 each step
	}{
		// plain: w1 = 1 − 0.1·0.5 = 0.95; w2 = 0.9.
		{"sgd", OptimConfig{Kind: "sgd"}, 0.1, [2]float64{0.95, 0.9}},
		// wd 0.1: g1 = 0.5+0.1 = 0.6, w1 = 0.94; g2 = 0.5+0.094 = 0.594, w2 = 0.8806.
		{"sgd wd", OptimConfig{Kind: "sgd", WeightDecay: 0.1}, 0.1, [2]float64{0.94, 0.8806}},
		// momentum 0.9: buf1 = 0.5, w1 = 0.95; buf2 = 0.45+0.5 = 0.95, w2 = 0.855.
		{"sgd momentum", OptimConfig{Kind: "sgd", Momentum: 0.9}, 0.1, [2]float64{0.95, 0.855}},
		// nesterov: buf1 = 0.5, d1 = 0.5+0.45 = 0.95, w1 = 0.905; buf2 = 0.95, d2 = 0.5+0.855 = 1.355, w2 = 0.7695.
		{"sgd nesterov", OptimConfig{Kind: "sgd", Momentum: 0.9, Nesterov: true}, 0.1, [2]float64{0.905, 0.7695}},
		// adam: the first steps move by about lr: m̂ = 0.5, v̂ = 0.25, Δ = lr·0.5/(0.5+1e-8).
		{"adam", OptimConfig{Kind: "adam"}, 0.01, [2]float64{0.99, 0.98}},
		// adamw wd 0.1: w ← w(1 − lr·wd) then the Adam step: 1·0.999 − 0.01 = 0.989; 0.989·0.999 − 0.01 = 0.978011.
		{"adamw", OptimConfig{Kind: "adamw", WeightDecay: 0.1}, 0.01, [2]float64{0.989, 0.978011}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptimizer(tt.cfg)
			w := []float32{1}
			g := []float32{0.5}
			for i := 0; i < 2; i++ {
				o.Step([][]float32{w}, [][]float32{g}, nil, tt.lr)
				if math.Abs(float64(w[0])-tt.want[i]) > 1e-6 {
					t.Errorf("after step %d w = %.7f, want %.7f", i+1, w[0], tt.want[i])
				}
			}
		})
	}
}

func TestOptimizerMask(t *testing.T) {
	for _, kind := range []string{"sgd", "adam", "adamw"} {
		o := NewOptimizer(OptimConfig{Kind: kind, Momentum: 0.9 * b2f(kind == "sgd"), WeightDecay: 0.1})
		w := []float32{0, 1, 0, 2}
		mask := []float32{0, 1, 0, 1}
		for i := 0; i < 3; i++ {
			o.Step([][]float32{w}, [][]float32{{0.3, 0.3, 0.3, 0.3}}, [][]float32{mask}, 0.1)
		}
		if w[0] != 0 || w[2] != 0 || o.bufs[0][0] != 0 {
			t.Errorf("%s: masked weights or state moved: %v, state %v", kind, w, o.bufs[0])
		}
		if w[1] == 1 {
			t.Errorf("%s: unmasked weight did not move", kind)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		s    Schedule
		step int
		want float64
	}{
		{Schedule{LR: 1, Kind: "constant", Total: 10}, 5, 1},
		{Schedule{LR: 1, Kind: "constant", Warmup: 4, Total: 10}, 0, 0.25},
		{Schedule{LR: 1, Kind: "constant", Warmup: 4, Total: 10}, 3, 1},
		{Schedule{LR: 1, Kind: "step", Milestones: []int{3, 6}, Gamma: 0.1, Total: 10}, 2, 1},
		{Schedule{LR: 1, Kind: "step", Milestones: []int{3, 6}, Gamma: 0.1, Total: 10}, 3, 0.1},
		{Schedule{LR: 1, Kind: "step", Milestones: []int{3, 6}, Gamma: 0.1, Total: 10}, 9, 0.01},
		{Schedule{LR: 1, Kind: "cosine", Total: 10}, 0, 1},
		{Schedule{LR: 1, Kind: "cosine", Total: 10}, 5, 0.5},
		{Schedule{LR: 1, Kind: "cosine", Warmup: 2, Total: 12}, 7, 0.5},
		{Schedule{LR: 2, Kind: "linear", Total: 10}, 5, 1},
	}
	for _, tt := range tests {
		if got := tt.s.At(tt.step); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%+v at %d = %g, want %g", tt.s, tt.step, got, tt.want)
		}
	}
	if (Schedule{LR: 1, Kind: "exp"}).Validate() == nil {
		t.Error("unknown schedule accepted")
	}
}

// TestMomentumAddedMatchesSGD: adding each step's gradient to the buffer addToMomentum
// returns (as training's GEMMs do) and updating without a gradient is SGD with momentum:
// bit for bit without weight decay, where the sums are the same, and to rounding with it,
// where two additions change order; masked weights and their buffers stay zero. The
// optimisers that need the gradient itself get no buffer.
func TestMomentumAddedMatchesSGD(t *testing.T) {
	rng := NewRand(3, 4)
	const n, steps = 100, 6
	grads := make([][]float32, steps)
	for s := range grads {
		grads[s] = make([]float32, n)
		for i := range grads[s] {
			grads[s][i] = float32(rng.NormFloat64())
		}
	}
	w0 := make([]float32, n)
	mask := make([]float32, n)
	for i := range w0 {
		w0[i] = float32(rng.NormFloat64())
		mask[i] = float32(i % 3 % 2) // 0, 1, 0, 0, 1, 0, …
	}
	for _, wd := range []float64{0, 0.01} {
		for _, masked := range []bool{false, true} {
			cfg := OptimConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: wd}
			plain, added := NewOptimizer(cfg), NewOptimizer(cfg)
			w1, w2 := slices.Clone(w0), slices.Clone(w0)
			var m []float32
			if masked {
				m = mask
				applyMask(w1, m)
				applyMask(w2, m)
			}
			for s := range steps {
				lr := 0.05 / float64(s+1)
				plain.begin([][]float32{w1})
				plain.update(0, 0, n, w1, grads[s], m, lr)
				added.begin([][]float32{w2})
				buf := added.addToMomentum(0)
				for i := range buf {
					buf[i] += grads[s][i]
				}
				added.update(0, 0, n, w2, nil, m, lr)
			}
			what := fmt.Sprintf("weight decay %g, masked %v", wd, masked)
			if wd == 0 {
				sameBits(t, what, w2, w1)
			} else {
				closeTo(t, what, w2, w1)
			}
			for i := range w2 {
				if masked && mask[i] == 0 && (w2[i] != 0 || added.bufs[0][i] != 0) {
					t.Fatalf("%s: masked weight %d is %g with buffer %g", what, i, w2[i], added.bufs[0][i])
				}
			}
		}
	}
	for _, cfg := range []OptimConfig{{Kind: "sgd"}, {Kind: "sgd", Momentum: 0.9, Nesterov: true}, {Kind: "adam"}, {Kind: "adamw"}} {
		o := NewOptimizer(cfg)
		o.begin([][]float32{make([]float32, 3)})
		if buf := o.addToMomentum(0); buf != nil {
			t.Errorf("%+v: addToMomentum gave a buffer", cfg)
		}
	}
}

package nn

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// adamCfg is Adam (or AdamW) with PyTorch's betas and eps, which nn never fills in itself.
func adamCfg(kind string, wd float64) OptimConfig {
	return OptimConfig{Kind: kind, WeightDecay: wd, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// mustOptimizer is NewOptimizer for configurations a test knows to be valid.
func mustOptimizer(t *testing.T, cfg OptimConfig) *Optimizer {
	t.Helper()
	o, err := NewOptimizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOptimizerSteps checks two steps of each optimiser against values computed by hand
// from PyTorch's update rules.
func TestOptimizerSteps(t *testing.T) {
	rmsLike := adamCfg("adam", 0)
	rmsLike.Beta1 = 0
	tests := []struct {
		name  string
		cfg   OptimConfig
		lr    float64
		grads [2]float32
		want  [2]float64 // w after step 1 and step 2, from w0 = 1
	}{
		// plain: w1 = 1 − 0.1·0.5 = 0.95; w2 = 0.9.
		{"sgd", OptimConfig{Kind: "sgd"}, 0.1, [2]float32{0.5, 0.5}, [2]float64{0.95, 0.9}},
		// wd 0.1: g1 = 0.5+0.1 = 0.6, w1 = 0.94; g2 = 0.5+0.094 = 0.594, w2 = 0.8806.
		{"sgd wd", OptimConfig{Kind: "sgd", WeightDecay: 0.1}, 0.1, [2]float32{0.5, 0.5}, [2]float64{0.94, 0.8806}},
		// momentum 0.9: buf1 = 0.5, w1 = 0.95; buf2 = 0.45+0.5 = 0.95, w2 = 0.855.
		{"sgd momentum", OptimConfig{Kind: "sgd", Momentum: 0.9}, 0.1, [2]float32{0.5, 0.5}, [2]float64{0.95, 0.855}},
		// nesterov: buf1 = 0.5, d1 = 0.5+0.45 = 0.95, w1 = 0.905; buf2 = 0.95, d2 = 0.5+0.855 = 1.355, w2 = 0.7695.
		{"sgd nesterov", OptimConfig{Kind: "sgd", Momentum: 0.9, Nesterov: true}, 0.1, [2]float32{0.5, 0.5}, [2]float64{0.905, 0.7695}},
		// adam: the first steps move by about lr: m̂ = 0.5, v̂ = 0.25, Δ = lr·0.5/(0.5+1e-8).
		{"adam", adamCfg("adam", 0), 0.01, [2]float32{0.5, 0.5}, [2]float64{0.99, 0.98}},
		// adamw wd 0.1: w ← w(1 − lr·wd) then the Adam step: 1·0.999 − 0.01 = 0.989; 0.989·0.999 − 0.01 = 0.978011.
		{"adamw", adamCfg("adamw", 0.1), 0.01, [2]float32{0.5, 0.5}, [2]float64{0.989, 0.978011}},
		// A gradient that changes sign tells the betas apart. Step 1 as above: w1 = 0.99,
		// v1 = 0.001·0.25 = 0.00025. Step 2, g = −0.3: v2 = 0.999·0.00025 + 0.001·0.09 =
		// 0.00033975, √(v2/(1−0.999²)) = √(0.00033975/0.001999) = 0.4122575.
		// beta1 0.9: m2 = 0.9·0.05 − 0.1·0.3 = 0.015, m̂2 = 0.015/0.19 = 0.0789474,
		// w2 = 0.99 − 0.01·0.0789474/0.4122575 = 0.9880850.
		{"adam sign change", adamCfg("adam", 0), 0.01, [2]float32{0.5, -0.3}, [2]float64{0.99, 0.9880850}},
		// beta1 0 (RMSprop with Adam's bias-corrected v): m̂2 = g2 = −0.3,
		// w2 = 0.99 + 0.01·0.3/0.4122575 = 0.9972770.
		{"adam beta1=0", rmsLike, 0.01, [2]float32{0.5, -0.3}, [2]float64{0.99, 0.9972770}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mustOptimizer(t, tt.cfg)
			w := []float32{1}
			for i := 0; i < 2; i++ {
				g := []float32{tt.grads[i]}
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
		cfg := adamCfg(kind, 0.1)
		if kind == "sgd" {
			cfg = OptimConfig{Kind: kind, Momentum: 0.9, WeightDecay: 0.1}
		}
		o := mustOptimizer(t, cfg)
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

// TestOptimConfigValidate: the values nn refuses instead of replacing them with a default.
func TestOptimConfigValidate(t *testing.T) {
	adam := adamCfg("adam", 0)
	with := func(f func(*OptimConfig)) OptimConfig {
		c := adam
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  OptimConfig
		want string // "" for valid
	}{
		{"adam", adam, ""},
		{"beta1 0", with(func(c *OptimConfig) { c.Beta1 = 0 }), ""},
		{"beta2 0", with(func(c *OptimConfig) { c.Beta2 = 0 }), ""},
		{"sgd ignores betas", OptimConfig{Kind: "sgd"}, ""},
		{"beta1 1", with(func(c *OptimConfig) { c.Beta1 = 1 }), "beta1 1 is outside [0, 1)"},
		{"beta1 negative", with(func(c *OptimConfig) { c.Beta1 = -0.1 }), "beta1 -0.1 is outside [0, 1)"},
		{"beta1 NaN", with(func(c *OptimConfig) { c.Beta1 = math.NaN() }), "beta1 NaN is outside [0, 1)"},
		{"beta2 1", with(func(c *OptimConfig) { c.Beta2 = 1 }), "beta2 1 is outside [0, 1)"},
		{"eps 0", with(func(c *OptimConfig) { c.Eps = 0 }), "eps 0 must be a finite number > 0"},
		{"eps negative", with(func(c *OptimConfig) { c.Eps = -1e-8 }), "eps -1e-08 must be"},
		{"eps infinite", with(func(c *OptimConfig) { c.Eps = math.Inf(1) }), "eps +Inf must be"},
		{"momentum NaN", OptimConfig{Kind: "sgd", Momentum: math.NaN()}, "momentum NaN is outside [0, 1)"},
		{"weight decay infinite", OptimConfig{Kind: "sgd", WeightDecay: math.Inf(1)}, "weight_decay +Inf must be a finite number"},
		{"unknown", OptimConfig{Kind: "rmsprop"}, `unknown optimizer "rmsprop"`},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		_, nerr := NewOptimizer(tt.cfg)
		switch {
		case tt.want == "" && (err != nil || nerr != nil):
			t.Errorf("%s: Validate = %v, NewOptimizer = %v; want valid", tt.name, err, nerr)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || nerr == nil):
			t.Errorf("%s: Validate = %v, NewOptimizer = %v; want %q", tt.name, err, nerr, tt.want)
		}
	}
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
			plain, added := mustOptimizer(t, cfg), mustOptimizer(t, cfg)
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
	for _, cfg := range []OptimConfig{{Kind: "sgd"}, {Kind: "sgd", Momentum: 0.9, Nesterov: true}, adamCfg("adam", 0), adamCfg("adamw", 0)} {
		o := mustOptimizer(t, cfg)
		o.begin([][]float32{make([]float32, 3)})
		if buf := o.addToMomentum(0); buf != nil {
			t.Errorf("%+v: addToMomentum gave a buffer", cfg)
		}
	}
}

// TestTrainAdamBeta1Zero: training with beta1 = 0 is Adam without a first moment (an
// RMSprop-like step lr·g/(√v̂ + eps)), computed here by hand in float64 for a linear model
// (2 inputs, 2 classes, one example, so each step's gradient is exact), and it differs from
// training with beta1 = 0.9. nn used to train a beta1 of 0 with 0.9.
func TestTrainAdamBeta1Zero(t *testing.T) {
	arch := Arch{Kind: "mlp", Input: 2, Output: 2, Activation: "relu", Bias: true}
	x, y := []float32{0.5, -1.2}, uint8(1)
	set := &data.Set{X: x, Y: []uint8{y}, N: 1, D: 2, Classes: 2}
	const lr, beta2, eps, steps = 0.1, 0.999, 1e-8, 3
	cfg := TrainConfig{Arch: arch, Init: "pytorch", Seed: 4, Epochs: steps, BatchSize: 1, EvalTrain: 1,
		Optim: adamCfg("adam", 0), Schedule: Schedule{LR: lr, Kind: "constant"}, BLAS: blas.Gonum()}
	cfg.Optim.Beta1 = 0
	got, err := Train(context.Background(), cfg, set, set)
	if err != nil {
		t.Fatal(err)
	}
	init, err := Init(arch, "pytorch", cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	// θ = W (2×2, row-major out×in) then b; z = W·x + b, dz = softmax(z) − onehot(y),
	// dW = dz·xᵀ, db = dz.
	theta := make([]float64, 6)
	for i, v := range init.Param(WeightName(0)).Data {
		theta[i] = float64(v)
	}
	for i, v := range init.Param(BiasName(0)).Data {
		theta[4+i] = float64(v)
	}
	v := make([]float64, 6)
	for step := 1; step <= steps; step++ {
		z := [2]float64{}
		for o := range 2 {
			z[o] = theta[2*o]*float64(x[0]) + theta[2*o+1]*float64(x[1]) + theta[4+o]
		}
		mx := max(z[0], z[1])
		e0, e1 := math.Exp(z[0]-mx), math.Exp(z[1]-mx)
		dz := [2]float64{e0 / (e0 + e1), e1 / (e0 + e1)}
		dz[y]--
		g := []float64{dz[0] * float64(x[0]), dz[0] * float64(x[1]), dz[1] * float64(x[0]), dz[1] * float64(x[1]), dz[0], dz[1]}
		c2 := 1 - math.Pow(beta2, float64(step))
		for i := range theta {
			v[i] = beta2*v[i] + (1-beta2)*g[i]*g[i]
			theta[i] -= lr * g[i] / (math.Sqrt(v[i]/c2) + eps)
		}
	}
	w, b := got.Final.Param(WeightName(0)).Data, got.Final.Param(BiasName(0)).Data
	for i, want := range theta {
		have := float64(append(slices.Clone(w), b...)[i])
		if math.Abs(have-want) > 1e-5 {
			t.Errorf("parameter %d after %d steps with beta1 = 0: %.7f, want %.7f by hand", i, steps, have, want)
		}
	}
	cfg.Optim.Beta1 = 0.9
	other, err := Train(context.Background(), cfg, set, set)
	if err != nil {
		t.Fatal(err)
	}
	if sameParams(got.Final, other.Final) {
		t.Error("beta1 = 0 and beta1 = 0.9 trained the same network")
	}
}

package perm

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// selfInner is ⟨a, a⟩ summed in the order Inner uses.
func selfInner(a *nn.Network) float64 {
	s := 0.0
	for _, p := range a.Params {
		for _, v := range p.Data {
			s += float64(v) * float64(v)
		}
	}
	return s
}

// trainedNet trains a small MLP for two epochs on a synthetic problem, so that recovery is
// also checked on weights that are no longer independent draws.
func trainedNet(t testing.TB, act string, ln bool) (*nn.Network, *data.Set) {
	t.Helper()
	d, err := data.Synthetic(data.SyntheticConfig{Examples: 2000, TestExamples: 300, Dims: 24, Classes: 5, Seed: 3, Spread: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	a := nn.Arch{Kind: "mlp", Input: 24, Hidden: []int{32, 32}, Output: 5, Activation: act, LayerNorm: ln, Bias: true}
	res, err := nn.Train(context.Background(), nn.TrainConfig{Arch: a, Init: "pytorch", Seed: 1, DataSeed: 2, Epochs: 2, BatchSize: 32,
		Optim: nn.OptimConfig{Kind: "sgd", Momentum: 0.9}, Schedule: nn.Schedule{LR: 0.05, Kind: "constant"}, EvalTrain: 100}, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	return res.Final, d.Test
}

// recoveryCases are networks paired with inputs: random inits of every architecture with
// hidden layers, and three trained networks.
func recoveryCases(t *testing.T) []struct {
	name string
	net  *nn.Network
	x    []float32
	n    int
} {
	type tc = struct {
		name string
		net  *nn.Network
		x    []float32
		n    int
	}
	var cases []tc
	for i, a := range testArchs() {
		if len(a.Hidden) > 0 {
			cases = append(cases, tc{a.String(), randomNet(t, a, uint64(i+10)), randomInputs(300, a.Input, uint64(i)), 300})
		}
	}
	for _, c := range []struct {
		act string
		ln  bool
	}{{"relu", false}, {"relu", true}, {"tanh", false}} {
		n, test := trainedNet(t, c.act, c.ln)
		cases = append(cases, tc{fmt.Sprintf("trained %s", n.Arch), n, test.X, test.N})
	}
	return cases
}

// TestRecovery relabels a network with a random permutation q and checks that both
// matchings find exactly q⁻¹, that the aligned copy is the original bit for bit, and that
// the loss barrier between the original and the aligned copy is 0.
func TestRecovery(t *testing.T) {
	for ci, c := range recoveryCases(t) {
		t.Run(c.name, func(t *testing.T) {
			q := Random(c.net.Arch, uint64(ci+1))
			b := apply(t, q, c.net)
			want := q.Inverse()
			wm, err := WeightMatch(context.Background(), c.net, b, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if !wm.Perm.Equal(want) {
				t.Fatalf("weight matching: fixed-point fraction with q⁻¹ %v, want exactly q⁻¹", FixedPointFraction(wm.Perm, want))
			}
			if got, want := wm.Objective, selfInner(c.net); got != want {
				t.Errorf("weight matching objective = %v, want ⟨a, a⟩ = %v", got, want)
			}
			if wm.Sweeps < 1 || wm.Sweeps > 100 {
				t.Errorf("weight matching took %d sweeps", wm.Sweeps)
			}
			aligned := apply(t, wm.Perm, b)
			if !sameNetwork(aligned, c.net) {
				t.Error("the aligned network is not the original bit for bit")
			}
			dead := constantUnits(t, c.net, c.x, c.n)
			for _, k := range Kernels {
				am, err := ActivationMatch(context.Background(), c.net, b, c.x, c.n, AMOptions{Kernel: k, Batch: 128})
				if err != nil {
					t.Fatal(err)
				}
				checkActivationRecovery(t, k, am.Perm, q, dead)
				x := c.x[:64*c.net.Arch.Input]
				if d := maxAbsDiff(logits(apply(t, am.Perm, b), x, 64), logits(c.net, x, 64)); d > 1e-5 {
					t.Errorf("activation matching (%s): the aligned network's logits differ by %g", k, d)
				}
			}
			// The barrier: the midpoint of the original and its aligned copy is the original.
			mid := lerp(c.net, aligned, 0.5)
			x := c.x[:64*c.net.Arch.Input]
			if d := maxAbsDiff(logits(mid, x, 64), logits(c.net, x, 64)); d > 1e-6 {
				t.Errorf("logits at α = 0.5 differ from the original's by %g", d)
			}
			// Without alignment the midpoint is a different function, which is the point.
			if d := maxAbsDiff(logits(lerp(c.net, b, 0.5), x, 64), logits(c.net, x, 64)); d < 1e-3 {
				t.Errorf("the unaligned midpoint computes the original function (difference %g)", d)
			}
		})
	}
}

// constantUnits marks, per hidden layer of n, the units whose output is the same for all
// n examples of x: dead ReLUs, mostly. Activations cannot tell such units apart.
func constantUnits(t *testing.T, net *nn.Network, x []float32, n int) [][]bool {
	m := nn.NewModel(net, n, blas.Default())
	m.Forward(x, n)
	dead := make([][]bool, len(net.Arch.Hidden))
	for l, w := range net.Arch.Hidden {
		h := m.Hidden(l, n)
		dead[l] = make([]bool, w)
		for j := range w {
			dead[l][j] = true
			for r := 1; r < n && dead[l][j]; r++ {
				dead[l][j] = h[r*w+j] == h[j]
			}
		}
	}
	return dead
}

// checkActivationRecovery checks that got, an alignment of q.Apply(a) to a, is q⁻¹ on every
// unit of a that varies over the examples, and pairs the constant units of a with constant
// units; when no unit is constant that is got == q⁻¹ exactly.
func checkActivationRecovery(t *testing.T, kernel string, got, q Permutation, dead [][]bool) {
	t.Helper()
	want := q.Inverse()
	wrong, constant := 0, 0
	for l, g := range got.Groups {
		for i, j := range g {
			switch {
			case dead[l][i]:
				constant++
				if !dead[l][q.Groups[l][j]] {
					t.Errorf("activation matching (%s): constant unit %d of layer %d is paired with a varying unit", kernel, i, l)
				}
			case j != want.Groups[l][i]:
				wrong++
			}
		}
	}
	if wrong > 0 {
		t.Errorf("activation matching (%s): %d varying units are not where q⁻¹ puts them (fixed-point fraction %v)", kernel, wrong, FixedPointFraction(got, want))
	}
	if constant == 0 && !got.Equal(want) {
		t.Errorf("activation matching (%s): not q⁻¹", kernel)
	}
}

// lerp returns (1−α)·a + α·b, parameter by parameter.
func lerp(a, b *nn.Network, alpha float32) *nn.Network {
	out := a.Clone()
	for i, p := range out.Params {
		for j := range p.Data {
			p.Data[j] = (1-alpha)*p.Data[j] + alpha*b.Params[i].Data[j]
		}
	}
	return out
}

// TestWeightMatchIndependent aligns two independent initialisations, where there is no
// exact answer: the result must beat the identity, be a fixed point of the descent, and
// repeat for the same seed.
func TestWeightMatchIndependent(t *testing.T) {
	for i, a := range testArchs() {
		t.Run(a.String(), func(t *testing.T) {
			x, y := randomNet(t, a, uint64(2*i+1)), randomNet(t, a, uint64(2*i+2))
			res, err := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Perm.Validate(); err != nil {
				t.Fatal(err)
			}
			exact, _ := Inner(x, y, res.Perm)
			base, _ := Inner(x, y, Identity(a))
			if res.Objective != exact || res.Objective < base {
				t.Errorf("objective %v, want Inner %v, at least the identity's %v", res.Objective, exact, base)
			}
			again, _ := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: 1})
			if !again.Perm.Equal(res.Perm) || again.Sweeps != res.Sweeps {
				t.Error("the same seed gave a different result")
			}
			warm, err := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: 2, Init: &res.Perm})
			if err != nil {
				t.Fatal(err)
			}
			wantSweeps := 1
			if len(a.Hidden) == 0 {
				wantSweeps = 0
			}
			if !warm.Perm.Equal(res.Perm) || warm.Sweeps != wantSweeps {
				t.Errorf("warm start at the optimum moved to another permutation or took %d sweeps", warm.Sweeps)
			}
		})
	}
}

// TestCostUpdates checks the incremental costs against costs computed afresh: the matcher
// for (a, b) after moving to P must hold, up to float32 rounding, the costs of the matcher
// for (a, P(b)) at the identity with their columns relabelled by P.
func TestCostUpdates(t *testing.T) {
	for i, a := range testArchs() {
		x, y := randomNet(t, a, uint64(2*i+1)), randomNet(t, a, uint64(2*i+2))
		vx, _ := viewOf(x, a)
		vy, _ := viewOf(y, a)
		m, _ := newMatcher(context.Background(), blas.Default(), a, []layers{vx}, []layers{vy})
		p := Identity(a)
		for s := range uint64(3) { // several moves, so that updates pile up
			for l, g := range Random(a, s+uint64(10*i)).Groups {
				m.move(p, l, g)
			}
		}
		vp, _ := viewOf(apply(t, p, y), a)
		fresh, _ := newMatcher(context.Background(), blas.Default(), a, []layers{vx}, []layers{vp})
		for l, n := range a.Hidden {
			worst, scale := 0.0, 0.0
			for r := range n {
				for j := range n {
					want := fresh.cost[l][r*n+j]
					worst = max(worst, math.Abs(m.cost[l][r*n+p.Groups[l][j]]-want))
					scale = max(scale, math.Abs(want))
				}
			}
			if worst > 1e-5*scale {
				t.Errorf("%s: group %d: incremental cost is off by %g (largest cost %g)", a, l, worst, scale)
			}
		}
	}
}

// TestWeightMatchGlobal compares with brute force on one hidden layer, where a single
// assignment is the exact global optimum.
func TestWeightMatchGlobal(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 3, Hidden: []int{5}, Output: 2, Activation: "tanh", Bias: true, LayerNorm: true}
	for seed := range uint64(5) {
		x, y := randomNet(t, a, 2*seed+1), randomNet(t, a, 2*seed+2)
		res, err := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol})
		if err != nil {
			t.Fatal(err)
		}
		best := math.Inf(-1)
		permutations(5, func(g []int) {
			v, _ := Inner(x, y, Permutation{Arch: a, Groups: [][]int{g}})
			best = max(best, v)
		})
		if math.Abs(res.Objective-best) > 1e-9 {
			t.Errorf("seed %d: objective %v, brute force %v", seed, res.Objective, best)
		}
	}
}

// permutations calls f with every permutation of 0..n−1 (Heap's algorithm).
func permutations(n int, f func([]int)) {
	g := Identity(nn.Arch{Hidden: []int{n}}).Groups[0]
	var gen func(k int)
	gen = func(k int) {
		if k == 1 {
			f(g)
			return
		}
		for i := 0; i < k; i++ {
			gen(k - 1)
			if k%2 == 0 {
				g[i], g[k-1] = g[k-1], g[i]
			} else {
				g[0], g[k-1] = g[k-1], g[0]
			}
		}
	}
	gen(n)
}

func TestMatchErrors(t *testing.T) {
	a := testArchs()[0]
	other := a
	other.Hidden = []int{12, 7, 11}
	n, m := randomNet(t, a, 1), randomNet(t, other, 2)
	bad := Identity(a)
	bad.Groups[1] = make([]int, 7)
	x := randomInputs(10, a.Input, 1)
	ctx := context.Background()
	wm := WMOptions{MaxSweeps: SweepLimit, Tol: GainTol}
	withInit := func(p *Permutation) WMOptions { o := wm; o.Init = p; return o }
	am := AMOptions{Kernel: "linear", Batch: ActivationBatch}
	tests := []struct {
		name string
		run  func() error
		err  string
	}{
		{"wm arch", func() error { _, err := WeightMatch(ctx, n, m, wm); return err }, "second network"},
		{"wm nil", func() error { _, err := WeightMatch(ctx, nil, n, wm); return err }, "nil"},
		{"wm init arch", func() error { p := Identity(other); _, err := WeightMatch(ctx, n, n, withInit(&p)); return err }, "initial permutation is for"},
		{"wm init invalid", func() error { _, err := WeightMatch(ctx, n, n, withInit(&bad)); return err }, "appears twice"},
		{"wm no sweeps", func() error { _, err := WeightMatch(ctx, n, n, WMOptions{Tol: GainTol}); return err }, "max_sweeps must be at least 1, got 0"},
		{"wm negative tol", func() error { _, err := WeightMatch(ctx, n, n, WMOptions{MaxSweeps: 1, Tol: -1}); return err }, "tolerance must be a finite number ≥ 0, got -1"},
		{"wm NaN tol", func() error { _, err := WeightMatch(ctx, n, n, WMOptions{MaxSweeps: 1, Tol: math.NaN()}); return err }, "got NaN"},
		{"am arch", func() error { _, err := ActivationMatch(ctx, n, m, x, 10, am); return err }, "second network"},
		{"am no kernel", func() error {
			_, err := ActivationMatch(ctx, n, n, x, 10, AMOptions{Batch: ActivationBatch})
			return err
		}, `unknown kernel ""`},
		{"am no batch", func() error { _, err := ActivationMatch(ctx, n, n, x, 10, AMOptions{Kernel: "linear"}); return err }, "batch must be at least 1 example, got 0"},
		{"am kernel", func() error { o := am; o.Kernel = "rbf"; _, err := ActivationMatch(ctx, n, n, x, 10, o); return err }, "unknown kernel"},
		{"am short", func() error { _, err := ActivationMatch(ctx, n, n, x, 11, am); return err }, "11 examples"},
		{"am empty", func() error { _, err := ActivationMatch(ctx, n, n, nil, 0, am); return err }, "at least one example"},
	}
	for _, tt := range tests {
		if err := tt.run(); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.err)
		}
	}
}

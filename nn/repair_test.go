package nn

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
)

func repairNets(t *testing.T, layerNorm bool) (a, b *Network, x []float32, n int) {
	t.Helper()
	arch := Arch{Kind: "mlp", Input: 20, Hidden: []int{16, 12, 8}, Output: 4, Activation: "relu", Bias: true, LayerNorm: layerNorm}
	var err error
	if a, err = Init(arch, "pytorch", 1); err != nil {
		t.Fatal(err)
	}
	if b, err = Init(arch, "kaiming_normal", 2); err != nil {
		t.Fatal(err)
	}
	d := synthetic(t)
	return a, b, d.Train.X, min(d.Train.N, 500)
}

// TestRepairReachesGoal: after Repair, every hidden channel's preactivation statistics are
// the goal's (up to BatchNorm's ε on the variance), with and without LayerNorm after the
// layers, and the layers above see the layers below already reset.
func TestRepairReachesGoal(t *testing.T) {
	ctx, impl := context.Background(), blas.Default()
	for _, ln := range []bool{false, true} {
		a, b, x, n := repairNets(t, ln)
		sa, err := PreactivationStats(ctx, a, x, n, impl)
		if err != nil {
			t.Fatal(err)
		}
		sb, _ := PreactivationStats(ctx, b, x, n, impl)
		goal := MixStats([]float64{0.5, 0.5}, sa, sb)
		mid := Combine(nil, []float64{0.5, 0.5}, a, b)
		if err := Repair(ctx, mid, goal, x, n, impl); err != nil {
			t.Fatal(err)
		}
		got, _ := PreactivationStats(ctx, mid, x, n, impl)
		for l := range goal.Mean {
			for c := range goal.Mean[l] {
				if d := math.Abs(got.Mean[l][c] - goal.Mean[l][c]); d > 1e-3*math.Max(1, goal.Std[l][c]) {
					t.Errorf("layernorm %v: layer %d channel %d mean %g, goal %g", ln, l, c, got.Mean[l][c], goal.Mean[l][c])
				}
				// ε shrinks a channel whose std σ was small by σ/√(σ²+ε): 0.2% at σ = 0.05.
				if d := math.Abs(got.Std[l][c] - goal.Std[l][c]); d > 5e-3*math.Max(1e-2, goal.Std[l][c]) {
					t.Errorf("layernorm %v: layer %d channel %d std %g, goal %g", ln, l, c, got.Std[l][c], goal.Std[l][c])
				}
			}
		}
	}
}

// TestRepairOwnStats: a network reset to its own statistics computes what it did (the
// only change is ε's), and MixStats at weight (1, 0) is the first network's statistics.
func TestRepairOwnStats(t *testing.T) {
	ctx, impl := context.Background(), blas.Default()
	a, b, x, n := repairNets(t, false)
	sa, _ := PreactivationStats(ctx, a, x, n, impl)
	sb, _ := PreactivationStats(ctx, b, x, n, impl)
	goal := MixStats([]float64{1, 0}, sa, sb)
	c := a.Clone()
	if err := Repair(ctx, c, goal, x, n, impl); err != nil {
		t.Fatal(err)
	}
	want := NewModel(a, 10, impl).Forward(x, 10)
	want = append([]float32{}, want...)
	got := NewModel(c, 10, impl).Forward(x, 10)
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-3*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("logit %d: %g after resetting to its own statistics, %g before", i, got[i], want[i])
		}
	}
}

func TestRepairRefuses(t *testing.T) {
	ctx, impl := context.Background(), blas.Default()
	a, _, x, n := repairNets(t, false)
	st, _ := PreactivationStats(ctx, a, x, n, impl)
	nobias := a.Arch.Clone()
	nobias.Bias = false
	nb, _ := Init(nobias, "pytorch", 1)
	if err := Repair(ctx, nb, st, x, n, impl); err == nil || !strings.Contains(err.Error(), "biases") {
		t.Errorf("an MLP without biases: %v", err)
	}
	conv := Arch{Kind: "resnet", Input: 1 * 8 * 8, Output: 2, Activation: "relu", LayerNorm: true, Channels: 1, Height: 8, Width: 8, Plan: []int{2, 4, 8}, Blocks: 1}
	cn, err := Init(conv, "pytorch", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PreactivationStats(ctx, cn, make([]float32, 64), 1, impl); err == nil || !strings.Contains(err.Error(), "MLPs") {
		t.Errorf("a ResNet: %v", err)
	}
	if _, err := PreactivationStats(ctx, a, x, 0, impl); err == nil {
		t.Error("no examples: no error")
	}
}

package perm

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
)

func seqArchs() []nn.Arch {
	return []nn.Arch{
		{Kind: "mlp", Input: 9, Hidden: []int{12, 7, 10}, Output: 4, Activation: "relu", Bias: true},
		{Kind: "mlp", Input: 9, Hidden: []int{8, 8}, Output: 3, Activation: "relu", LayerNorm: true, Bias: true},
		{Kind: "resnet", Input: 1 * 8 * 8, Output: 3, Activation: "relu", LayerNorm: true, Channels: 1, Height: 8, Width: 8, Plan: []int{4, 8, 8}, Blocks: 1},
	}
}

// TestSequenceOfOnePairRepeated: one pair repeated is the same problem scaled, and gives
// weight matching's permutation.
func TestSequenceOfOnePairRepeated(t *testing.T) {
	opt := WMOptions{MaxSweeps: SweepLimit, Tol: GainTol}
	for i, a := range seqArchs() {
		x, y := randomNet(t, a, uint64(2*i+1)), randomNet(t, a, uint64(2*i+2))
		one, err := WeightMatch(context.Background(), x, y, opt)
		if err != nil {
			t.Fatal(err)
		}
		seq, err := WeightMatchSequence(context.Background(), []*nn.Network{x, x, x}, []*nn.Network{y, y, y}, opt)
		if err != nil {
			t.Fatal(err)
		}
		for g := range one.Perm.Groups {
			if !slices.Equal(one.Perm.Groups[g], seq.Perm.Groups[g]) {
				t.Errorf("%s: group %d: %v for the pair, %v for it repeated", a, g, one.Perm.Groups[g], seq.Perm.Groups[g])
			}
		}
		if d := seq.Objective - 3*one.Objective; d > 1e-9*seq.Objective || d < -1e-9*seq.Objective {
			t.Errorf("%s: summed objective %g, want 3 × %g", a, seq.Objective, one.Objective)
		}
	}
}

// TestSequenceBeatsFinalPair: on sequences of different pairs, the sequence's permutation
// started from the final pair's has a summed objective at least the final pair's
// permutation's (the descent only climbs), and usually more.
func TestSequenceBeatsFinalPair(t *testing.T) {
	opt := WMOptions{MaxSweeps: SweepLimit, Tol: GainTol}
	ctx := context.Background()
	better := 0
	for i, a := range seqArchs() {
		for trial := range 3 {
			var xs, ys []*nn.Network
			for k := range 4 {
				seed := uint64(100*i + 10*trial + 2*k)
				xs, ys = append(xs, randomNet(t, a, seed+1)), append(ys, randomNet(t, a, seed+2))
			}
			final, err := WeightMatch(ctx, xs[3], ys[3], opt)
			if err != nil {
				t.Fatal(err)
			}
			sumFinal := 0.0
			for k := range xs {
				v, _ := Inner(xs[k], ys[k], final.Perm)
				sumFinal += v
			}
			warm := opt
			warm.Init = &final.Perm
			seq, err := WeightMatchSequence(ctx, xs, ys, warm)
			if err != nil {
				t.Fatal(err)
			}
			if seq.Objective < sumFinal-1e-9*abs(sumFinal) {
				t.Errorf("%s trial %d: summed objective %g below the final pair's permutation's %g", a, trial, seq.Objective, sumFinal)
			}
			if seq.Objective > sumFinal+1e-9*abs(sumFinal) {
				better++
			}
		}
	}
	if better == 0 {
		t.Error("the sequence's permutation never beat the final pair's: the descent does nothing")
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestSequenceMismatch(t *testing.T) {
	a := seqArchs()[0]
	x := randomNet(t, a, 1)
	_, err := WeightMatchSequence(context.Background(), []*nn.Network{x, x}, []*nn.Network{x}, WMOptions{MaxSweeps: 1})
	if err == nil || !strings.Contains(err.Error(), "2 networks against 1") {
		t.Errorf("sequences of different lengths: %v", err)
	}
	other := randomNet(t, seqArchs()[1], 2)
	_, err = WeightMatchSequence(context.Background(), []*nn.Network{x, x}, []*nn.Network{x, other}, WMOptions{MaxSweeps: 1})
	if err == nil || !strings.Contains(err.Error(), "second network 1") {
		t.Errorf("a pair of another architecture: %v", err)
	}
}

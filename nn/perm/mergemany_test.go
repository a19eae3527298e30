package perm

import (
	"context"
	"slices"
	"testing"

	"github.com/modulo-ml/modulo/nn"
)

// TestMergeManyTwoIsWeightMatching: for two networks, the frame is network 0's and the
// second is weight-matched to it.
func TestMergeManyTwoIsWeightMatching(t *testing.T) {
	opt := WMOptions{MaxSweeps: SweepLimit, Tol: GainTol}
	for i, a := range seqArchs() {
		x, y := randomNet(t, a, uint64(7*i+1)), randomNet(t, a, uint64(7*i+2))
		want, err := WeightMatch(context.Background(), x, y, opt)
		if err != nil {
			t.Fatal(err)
		}
		perms, rounds, err := MergeMany(context.Background(), []*nn.Network{x, y}, 10, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !samePerm(perms[0], Identity(a)) || !samePerm(perms[1], want.Perm) {
			t.Errorf("%s: MergeMany of two gave %v, weight matching %v", a, perms[1].Groups, want.Perm.Groups)
		}
		if rounds != 1 { // the mean of the others is network 0 itself: nothing moves
			t.Errorf("%s: %d rounds, want 1", a, rounds)
		}
	}
}

// TestMergeManyRecoversPermutations: N copies of one network, each scrambled by a random
// permutation, are brought back to one frame: every aligned copy equals network 0.
func TestMergeManyRecoversPermutations(t *testing.T) {
	opt := WMOptions{MaxSweeps: SweepLimit, Tol: GainTol}
	for i, a := range seqArchs() {
		base := randomNet(t, a, uint64(31+i))
		nets := []*nn.Network{base}
		for k := range 4 {
			s, err := Random(a, uint64(100*i+k)).Apply(base)
			if err != nil {
				t.Fatal(err)
			}
			nets = append(nets, s)
		}
		perms, _, err := MergeMany(context.Background(), nets, 10, opt)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k < len(nets); k++ {
			back, err := perms[k].Apply(nets[k])
			if err != nil {
				t.Fatal(err)
			}
			for pi, p := range back.Params {
				if !slices.Equal(p.Data, base.Params[pi].Data) {
					t.Fatalf("%s: copy %d, %s differs from network 0 after merging", a, k, p.Name)
				}
			}
		}
	}
	if _, _, err := MergeMany(context.Background(), []*nn.Network{randomNet(t, seqArchs()[0], 1)}, 1, opt); err == nil {
		t.Error("one network: no error")
	}
}

package perm

import (
	"math"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
)

// TestPermutedNetworkComputesTheSameFunction is the check that catches a wrong permutation
// spec (Git Re-Basin's issues #3, #8, #10: a residual stream, a shortcut or a norm that does
// not move with its channels): for every group of every convolutional architecture alone,
// and for all groups at once, π(θ) gives the logits of θ within 1e-5.
func TestPermutedNetworkComputesTheSameFunction(t *testing.T) {
	for i, a := range convArchs() {
		t.Run(a.String(), func(t *testing.T) {
			n := randomNet(t, a, uint64(i+40))
			const rows = 4
			x := make([]float32, rows*a.Input)
			rng := nn.NewRand(9, 9)
			for j := range x {
				x[j] = float32(rng.NormFloat64())
			}
			want := append([]float32(nil), nn.NewConvModel(n, rows, blas.Default(), false).Forward(x, rows)...)
			all := Random(a, uint64(i))
			for g := -1; g < len(all.Groups); g++ {
				p := all
				name := "every group"
				if g >= 0 {
					p = Identity(a)
					p.Groups[g] = all.Groups[g]
					name = "group " + a.Spec().Groups[g].Name
				}
				got := nn.NewConvModel(apply(t, p, n), rows, blas.Default(), false).Forward(x, rows)
				for j, w := range want {
					if math.Abs(float64(got[j]-w)) > 1e-5*(1+math.Abs(float64(w))) {
						t.Fatalf("%s permuted: logit %d is %g, unpermuted %g", name, j, got[j], w)
					}
				}
			}
		})
	}
}

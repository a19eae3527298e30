package sparse

import (
	"math/rand/v2"
	"testing"

	"github.com/modulo-ml/modulo/nn/data"
)

// BenchmarkMNISTLane is one core's share of a training step's first layer on MNIST
// (784→512, batch 128 in two parts of 64 rows, as nn's training runs it): the forward
// product of one part's rows, and half the panels of the weight gradient from both parts,
// each part compressed straight from the data set and transposed. Batches are drawn in
// turn from a shuffled training set, so the kernels see the pixels' real pattern of zeros.
func BenchmarkMNISTLane(b *testing.B) {
	d, err := data.Load(data.Source{Kind: "mnist"})
	if err != nil {
		b.Skip(err) // not downloaded: make run fetches it
	}
	const in, out, part = 784, 512, 64
	rng := rand.New(rand.NewPCG(1, 2))
	order := rng.Perm(d.Train.N)
	wt := panels(randomDense(rng, in, out, 1), in, out)
	bias := randomDense(rng, 1, out, 1)
	dz := randomDense(rng, 2*part, out, 1)
	z := make([]float32, part*out)
	dwt := NewPanels(in, out)
	var rows, cols [2]Matrix
	next := func() []int {
		lo := rng.IntN(d.Train.N - part)
		return order[lo : lo+part]
	}
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			rows[0].FromRows(d.Train.X, next(), in)
			MulPanels(&rows[0], wt, bias, z)
		}
	})
	b.Run("gradient", func(b *testing.B) {
		half := dwt.Slice(0, dwt.NumPanels()/2)
		for b.Loop() {
			for p := range rows {
				rows[p].FromRows(d.Train.X, next(), in)
				rows[p].Transpose(&cols[p])
				MulToPanels(&cols[p], dz[p*part*out:], out, half, p > 0)
			}
		}
	})
}

package nn

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
)

// TestSplitPassIsWholePass: a pass split into row ranges (ForwardRows, BackwardRows, in any
// order) and parts of output units (Gradients) gives the whole pass's logits and gradients,
// for widths that do not split evenly: bit for bit with gonum, within float32 rounding with
// OpenBLAS (whose blocking, and so its rounding, depends on a GEMM's shape).
func TestSplitPassIsWholePass(t *testing.T) {
	impls := []blas.Impl{blas.Gonum()}
	if b := blas.Default(); b.Name() != "gonum" {
		impls = append(impls, b)
	}
	for _, b := range impls {
		for _, ln := range []bool{false, true} {
			a := Arch{Kind: "mlp", Input: 37, Hidden: []int{50, 130}, Output: 7, Activation: "relu", LayerNorm: ln, Bias: true}
			t.Run(fmt.Sprintf("%s/ln=%v", b.Name(), ln), func(t *testing.T) {
				net, err := Init(a, "pytorch", 3)
				if err != nil {
					t.Fatal(err)
				}
				const rows = 21
				rng := NewRand(5, 5)
				x := make([]float32, rows*a.Input)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				y := make([]uint8, rows)
				for i := range y {
					y[i] = uint8(rng.IntN(a.Output))
				}

				whole := NewModel(net, rows, b)
				dl := make([]float32, rows*a.Output)
				logits := whole.Forward(x, rows)
				SoftmaxCrossEntropy(logits, y, rows, a.Output, dl)
				whole.Backward(x, rows, dl)

				split := NewModel(net, rows, b)
				split.Start(x, rows)
				dl2 := make([]float32, rows*a.Output)
				inv := 1 / float64(rows)
				for _, r := range [][2]int{{13, 21}, {0, 5}, {5, 13}} {
					split.ForwardRows(r[0], r[1])
					crossEntropy(split.Logits()[r[0]*a.Output:], y[r[0]:], r[1]-r[0], a.Output, inv, dl2[r[0]*a.Output:])
					split.BackwardRows(r[0], r[1], dl2[r[0]*a.Output:])
				}
				same := sameBits
				if b.Name() != "gonum" {
					same = closeTo
				}
				same(t, "logits", split.Logits(), logits)
				const parts = 3
				covered := make([][]int, len(net.Params))
				for _, k := range []int{2, 0, 1} {
					split.Gradients(k, parts)
					for i, p := range net.Params {
						lo, hi := split.Part(i, k, parts)
						if len(covered[i]) == 0 {
							covered[i] = make([]int, len(p.Data))
						}
						for j := lo; j < hi; j++ {
							covered[i][j]++
						}
					}
				}
				for i, p := range net.Params {
					same(t, "gradient of "+p.Name, split.Grads[i], whole.Grads[i])
					for j, c := range covered[i] {
						if c != 1 {
							t.Fatalf("element %d of %s is in %d parts, want 1", j, p.Name, c)
						}
					}
				}
			})
		}
	}
}

// TestTrainSameBitsWhateverTheThreads: one thread (parts in turn), two (parts side by side,
// single-threaded GEMMs) and four (two-threaded GEMMs) train the same network, bit for
// bit, and Train gives the BLAS its threads back.
func TestTrainSameBitsWhateverTheThreads(t *testing.T) {
	d := synthetic(t)
	cfg := smallConfig()
	cfg.Arch.Hidden = []int{256, 256} // wide enough for OpenBLAS to use its threads
	cfg.Epochs = 1
	cfg.BatchSize = 96 // 2000 examples: 20 batches of 96 (split 48/48) and one of 80
	b := blas.Default()
	defer b.SetThreads(0)
	var nets []*Network
	for _, threads := range []int{1, 2, 4} {
		b.SetThreads(threads)
		cfg.BLAS = b
		res, err := Train(context.Background(), cfg, d.Train, d.Test)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Threads(); got != threads {
			t.Errorf("after training, the BLAS has %d threads, want %d", got, threads)
		}
		nets = append(nets, res.Final)
	}
	for _, n := range nets[1:] {
		for i, p := range nets[0].Params {
			sameBits(t, p.Name, n.Params[i].Data, p.Data)
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

func closeTo(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

package nn

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
)

// TestSplitPassIsWholePass: a pass split into parts (forwardPart and backwardPart in any
// order, then gradients) gives the whole pass's logits and gradients, for widths that do not
// split evenly, with a plain model and with training models (transposed first layer, on
// dense and on mostly-zero inputs): bit for bit for a plain model on gonum, within float32
// rounding otherwise (OpenBLAS's rounding depends on a GEMM's shape; the sparse kernels
// add fewer terms). Gradients added to buffers (training's momentum) are checked too.
func TestSplitPassIsWholePass(t *testing.T) {
	impls := testImpls()
	for _, b := range impls {
		for _, ln := range []bool{false, true} {
			for _, mode := range []string{"plain", "training", "training-sparse"} {
				a := Arch{Kind: "mlp", Input: 37, Hidden: []int{50, 130}, Output: 7, Activation: "relu", LayerNorm: ln, Bias: true}
				t.Run(fmt.Sprintf("%s/ln=%v/%s", b.Name(), ln, mode), func(t *testing.T) {
					checkSplit(t, a, b, mode)
				})
			}
		}
	}
}

func checkSplit(t *testing.T, a Arch, b blas.Impl, mode string) {
	net, err := Init(a, "pytorch", 3)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 21
	rng := NewRand(5, 5)
	x := make([]float32, rows*a.Input)
	for i := range x {
		if mode != "training-sparse" || rng.Float64() < 0.2 {
			x[i] = float32(rng.NormFloat64())
		}
	}
	y := make([]uint8, rows)
	for i := range y {
		y[i] = uint8(rng.IntN(a.Output))
	}

	whole := NewModel(net, rows, b)
	dl := make([]float32, rows*a.Output)
	logits := whole.Forward(x, rows)
	loss, _ := SoftmaxCrossEntropy(logits, y, rows, a.Output, dl)
	whole.Backward(x, rows, dl)

	split, parts := NewModel(net, rows, b), 3
	if mode != "plain" {
		split, parts = newTrainingModel(net.Clone(), rows, b, mode == "training-sparse"), stepParts
	}
	split.start(x, rows)
	dl2 := make([]float32, rows*a.Output)
	inv := 1 / float64(rows)
	var sum float64
	for k := parts - 1; k >= 0; k-- {
		r0, r1 := split.partRows(k, parts)
		split.forwardPart(k, parts)
		l, _ := crossEntropy(split.batchLogits()[r0*a.Output:], y[r0:], r1-r0, a.Output, inv, dl2[r0*a.Output:])
		sum += l
		split.backwardPart(k, parts, dl2[r0*a.Output:])
	}
	if got := sum * inv; math.Abs(got-loss) > 1e-6*loss {
		t.Errorf("the parts' losses make %g, the whole batch's is %g", got, loss)
	}
	same := sameBits
	if b.Name() != "gonum" || mode != "plain" {
		same = closeTo
	}
	same(t, "logits", split.batchLogits(), logits)
	covered := make([][]int, len(net.Params))
	for k := parts - 1; k >= 0; k-- {
		split.gradients(k, parts, nil, nil)
		for i := range net.Params {
			lo, hi := split.paramPart(i, k, parts)
			if len(covered[i]) == 0 {
				covered[i] = make([]int, len(split.Grads[i])) // in the training layout
			}
			for j := lo; j < hi; j++ {
				covered[i][j]++
			}
		}
	}
	for i, p := range net.Params {
		g := split.Grads[i]
		if split.first != nil && i == split.layers[0].wi {
			g = make([]float32, len(whole.Grads[i]))
			split.first.toNet(g, split.Grads[i])
		}
		same(t, "gradient of "+p.Name, g, whole.Grads[i])
		for j, c := range covered[i] {
			if c != 1 {
				t.Fatalf("element %d of %s is in %d parts, want 1", j, p.Name, c)
			}
		}
	}

	// Adding the weights' gradients to buffers (SGD's momentum in training) instead:
	// each buffer ends as its start plus the gradient just computed, the other
	// parameters' gradients are written as before, and the weights' are left alone.
	into := make([][]float32, len(split.layers))
	start := make([][]float32, len(split.layers))
	for l := range into {
		wi := split.layers[l].wi
		into[l] = make([]float32, len(split.Grads[wi]))
		for j := range into[l] {
			into[l][j] = float32(rng.NormFloat64())
		}
		start[l] = append([]float32(nil), into[l]...)
	}
	kept := make([][]float32, len(net.Params))
	for i := range kept {
		kept[i] = append([]float32(nil), split.Grads[i]...)
		for j := range split.Grads[i] {
			split.Grads[i][j] = float32(math.NaN()) // written again, or left alone
		}
	}
	for k := range parts {
		split.gradients(k, parts, into, nil)
	}
	for l := range into {
		wi := split.layers[l].wi
		want := make([]float32, len(into[l]))
		for j := range want {
			want[j] = start[l][j] + kept[wi][j]
		}
		closeTo(t, "buffer added to for "+net.Params[wi].Name, into[l], want)
		for j, g := range split.Grads[wi] {
			if !math.IsNaN(float64(g)) {
				t.Fatalf("gradient %d of %s was written while being added to a buffer", j, net.Params[wi].Name)
			}
		}
	}
	for i, p := range net.Params {
		if i != split.layers[split.owner[i]].wi {
			same(t, "gradient of "+p.Name+" beside added weights", split.Grads[i], kept[i])
		}
	}
}

// TestTrainSameBitsWhateverTheThreads: handles of one thread (parts in turn), two (parts
// side by side, single-threaded GEMMs) and four (parts side by side, each GEMM's blocks on
// two goroutines) train the same network, bit for bit, on both BLAS implementations, and
// Train leaves the caller's handle as it was. The wide case is large enough for OpenBLAS
// handles to cut its GEMMs into blocks (gonum cuts every GEMM into tiles).
func TestTrainSameBitsWhateverTheThreads(t *testing.T) {
	d := synthetic(t)
	narrow := smallConfig()
	narrow.Arch.Hidden = []int{256, 256}
	narrow.Epochs = 1
	narrow.BatchSize = 96 // 2000 examples: 20 batches of 96 (split 48/48) and one of 80
	wide := narrow
	wide.Arch.Hidden = []int{1024, 1024} // a part's 128×1024×1024 forward is cut in 16
	wide.BatchSize = 256
	wide.StopAfter = 2
	wide.EvalTrain = 100
	wide.Schedule.Warmup = 0
	impls := testImpls()
	for _, b := range impls {
		for name, cfg := range map[string]TrainConfig{"narrow": narrow, "wide": wide} {
			if name == "wide" && b.Name() == "gonum" {
				continue // slow, and gonum's tiles are cut in the narrow case already
			}
			t.Run(b.Name()+"/"+name, func(t *testing.T) {
				var first *Network
				for _, threads := range []int{1, 2, 4} {
					cfg.BLAS = b.WithThreads(threads)
					res, err := Train(context.Background(), cfg, d.Train, d.Test)
					if err != nil {
						t.Fatal(err)
					}
					if got := cfg.BLAS.Threads(); got != threads {
						t.Errorf("after training, the caller's handle has %d threads, want %d", got, threads)
					}
					if first == nil {
						first = res.Final
						continue
					}
					for i, p := range first.Params {
						sameBits(t, fmt.Sprintf("%s with %d threads", p.Name, threads), res.Final.Params[i].Data, p.Data)
					}
				}
			})
		}
	}
}

// testImpls is the BLAS implementations the tests compare: gonum, and OpenBLAS when it
// is the default.
func testImpls() []blas.Impl {
	impls := []blas.Impl{blas.Gonum()}
	if b := blas.Default(); b.Name() != "gonum" {
		impls = append(impls, b)
	}
	return impls
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

// TestEvaluateSameWhateverTheThreads: Evaluate shares its chunks among the handle's
// threads, and the loss and accuracy keep their bits whatever the threads.
func TestEvaluateSameWhateverTheThreads(t *testing.T) {
	d := synthetic(t) // 2,000 training examples: two chunks
	net, err := Init(Arch{Kind: "mlp", Input: 20, Hidden: []int{64}, Output: 4, Activation: "relu", Bias: true}, "pytorch", 5)
	if err != nil {
		t.Fatal(err)
	}
	impls := testImpls()
	ctx := context.Background()
	for _, b := range impls {
		loss, acc, err := Evaluate(ctx, net, d.Train, 0, b.WithThreads(1))
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{2, 3, 8} {
			l, a, err := Evaluate(ctx, net, d.Train, 0, b.WithThreads(threads))
			if err != nil || math.Float64bits(l) != math.Float64bits(loss) || a != acc {
				t.Errorf("%s, %d threads: loss %v, accuracy %v, %v; with one thread %v, %v", b.Name(), threads, l, a, err, loss, acc)
			}
		}
	}
}

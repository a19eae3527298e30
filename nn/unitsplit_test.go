package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// TestUnitSplitMatchesRowSplit: a unitLearner's steps (each core a share of every layer's
// units) train the network mlpLearner's steps (each core a share of the batch) train,
// within float32 rounding (the input gradients are summed in two partial sums), on both
// BLAS implementations, with one core and two, for sparse and dense inputs, one hidden
// layer and several, widths whose shares are not the first layer's panels (100), widths
// that give one part no units (8), and batches that give one part no rows (1). A masked
// weight stays zero.
func TestUnitSplitMatchesRowSplit(t *testing.T) {
	impls := testImpls()
	archs := [][]int{{20}, {50, 130}, {100, 64, 32}, {8, 8}, {128, 40}}
	for _, b := range impls {
		for _, hidden := range archs {
			for _, sparseIn := range []bool{false, true} {
				for _, helped := range []bool{false, true} {
					name := fmt.Sprintf("%s/%v/sparse=%v/helper=%v", b.Name(), hidden, sparseIn, helped)
					t.Run(name, func(t *testing.T) { checkUnitSplit(t, b, hidden, sparseIn, helped) })
				}
			}
		}
	}
}

func checkUnitSplit(t *testing.T, b blas.Impl, hidden []int, sparseIn, helped bool) {
	const n, batch, steps = 300, 64, 4
	a := Arch{Kind: "mlp", Input: 70, Hidden: hidden, Output: 5, Activation: "relu", Bias: true}
	set := unitSplitData(a, n, sparseIn)
	net, err := Init(a, "pytorch", 7)
	if err != nil {
		t.Fatal(err)
	}
	// A mask on the second layer's weight (the first's when there is one layer).
	masks := make([][]float32, len(net.Params))
	mi := min(2, len(net.Params)-2)
	masks[mi] = make([]float32, len(net.Params[mi].Data))
	for i := range masks[mi] {
		masks[mi][i] = float32((i / 3) % 2)
	}
	var helper *crew
	if helped {
		helper = newCrew()
		defer helper.close()
	}
	rowNet, unitNet := net.Clone(), net.Clone()
	cfg := OptimConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: 1e-4}
	rowOpt, _ := NewOptimizer(cfg)
	unitOpt, _ := NewOptimizer(cfg)
	clone := func(m [][]float32) [][]float32 {
		c := make([][]float32, len(m))
		for i, x := range m {
			if x != nil {
				c[i] = append([]float32(nil), x...)
			}
		}
		return c
	}
	rows := newMLPLearner(rowNet, batch, b.WithThreads(1), helper, clone(masks), set)
	units := newUnitLearner(newMLPLearner(unitNet, batch, b.WithThreads(1), helper, clone(masks), set))
	if units.model.first.sparse != sparseIn {
		t.Fatalf("sparse first layer %v, want %v", units.model.first.sparse, sparseIn)
	}
	rng := NewRand(3, 3)
	for s, size := range [steps]int{batch, 1, 2, 37} { // a part of no rows too
		idx := rng.Perm(n)[:size]
		inv := 1 / float64(len(idx))
		lr := 0.05
		want := rows.step(set, idx, inv, rowOpt, lr)
		got := units.step(set, idx, inv, unitOpt, lr)
		if math.Abs(got-want) > 1e-5*math.Abs(want) {
			t.Fatalf("step %d: loss %v, want %v", s, got, want)
		}
	}
	rows.sync()
	units.sync()
	for i, p := range rowNet.Params {
		closeTo(t, p.Name, unitNet.Params[i].Data, p.Data)
	}
	for i, m := range masks[mi] {
		if m == 0 && unitNet.Params[mi].Data[i] != 0 {
			t.Fatalf("masked weight %d of %s is %g", i, unitNet.Params[mi].Name, unitNet.Params[mi].Data[i])
		}
	}
}

// unitSplitData returns n examples of a's input, 80% zeros when sparse.
func unitSplitData(a Arch, n int, sparse bool) *data.Set {
	rng := NewRand(9, 9)
	s := &data.Set{X: make([]float32, n*a.Input), Y: make([]uint8, n), N: n, D: a.Input, Classes: a.Output}
	for i := range s.X {
		if !sparse || rng.Float64() < 0.2 {
			s.X[i] = float32(rng.NormFloat64())
		}
	}
	for i := range s.Y {
		s.Y[i] = uint8(rng.IntN(a.Output))
	}
	return s
}

// TestUnitSplitPanicStops: when one part of a step panics, the other stops at its next
// barrier instead of waiting forever, and the panic raised is the part's own.
func TestUnitSplitPanicStops(t *testing.T) {
	a := Arch{Kind: "mlp", Input: 10, Hidden: []int{32, 32}, Output: 3, Activation: "relu", Bias: true}
	set := unitSplitData(a, 50, false)
	net, err := Init(a, "pytorch", 1)
	if err != nil {
		t.Fatal(err)
	}
	helper := newCrew()
	defer helper.close()
	u := newUnitLearner(newMLPLearner(net, 16, blas.Gonum(), helper, make([][]float32, len(net.Params)), set))
	opt, _ := NewOptimizer(OptimConfig{Kind: "sgd"})
	idx := make([]int, 16)
	idx[15] = set.N + 5 // in the second part's rows: its gather panics
	defer func() {
		r := recover()
		if r == nil || r == errAborted {
			t.Fatalf("recovered %v, want the part's own panic", r)
		}
	}()
	u.step(set, idx, 1.0/16, opt, 0.1)
	t.Fatal("the step returned")
}

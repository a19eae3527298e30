package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
)

// TestGradients compares Backward with central finite differences of the loss, for every
// activation, with and without LayerNorm and biases.
func TestGradients(t *testing.T) {
	for _, act := range Activations {
		for _, ln := range []bool{false, true} {
			for _, bias := range []bool{true, false} {
				a := Arch{Kind: "mlp", Input: 5, Hidden: []int{7, 6}, Output: 4, Activation: act, LayerNorm: ln, Bias: bias}
				t.Run(fmt.Sprintf("%s/ln=%v/bias=%v", act, ln, bias), func(t *testing.T) { checkGradients(t, a) })
			}
		}
	}
}

func checkGradients(t *testing.T, a Arch) {
	net, err := Init(a, "pytorch", 7)
	if err != nil {
		t.Fatal(err)
	}
	// Perturb LayerNorm parameters away from 1 and 0 so their gradients are exercised.
	rng := NewRand(3, 3)
	for _, p := range net.Params {
		if p.Shape[0] > 0 && len(p.Shape) == 1 {
			for j := range p.Data {
				p.Data[j] += float32(rng.NormFloat64() * 0.3)
			}
		}
	}
	const rows = 3
	x := make([]float32, rows*a.Input)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := []uint8{0, 3, 1}
	b := blas.Gonum()
	m := NewModel(net, rows, b)
	dl := make([]float32, rows*a.Output)
	logits := m.Forward(x, rows)
	SoftmaxCrossEntropy(logits, y, rows, a.Output, dl)
	m.Backward(x, rows, dl)
	lossAt := func() float64 {
		l, _ := SoftmaxCrossEntropy(m.Forward(x, rows), y, rows, a.Output, nil)
		return l
	}
	fdCheck(t, net, m.Grads, lossAt, 2e-3)
}

// fdCheck compares the gradients grads of net's parameters with central finite
// differences of lossAt, with steps eps and eps/2.
func fdCheck(t *testing.T, net *Network, grads [][]float32, lossAt func() float64, eps float32) {
	t.Helper()
	// Central differences of a float32 network: eps trades rounding noise against the
	// chance of stepping over a ReLU kink; a point where two step sizes disagree sits on a
	// kink and is skipped.
	diff := func(p *Param, j int, eps float32) float64 {
		orig := p.Data[j]
		p.Data[j] = orig + eps
		lp := lossAt()
		p.Data[j] = orig - eps
		lm := lossAt()
		p.Data[j] = orig
		return (lp - lm) / (2 * float64(eps))
	}
	checked, skipped := 0, 0
	defer func() {
		if skipped*10 > checked+skipped {
			t.Errorf("%d of %d points sat on kinks; the check saw too little", skipped, checked+skipped)
		}
	}()
	for pi, p := range net.Params {
		for j := range p.Data {
			num := diff(p, j, eps)
			if half := diff(p, j, eps/2); math.Abs(half-num) > 1e-3+1e-2*math.Abs(num) {
				skipped++
				continue
			}
			checked++
			got := float64(grads[pi][j])
			if diff := math.Abs(num - got); diff > 2e-3+2e-2*math.Abs(num) {
				t.Errorf("%s[%d]: backward %.6f, finite difference %.6f", p.Name, j, got, num)
			}
		}
	}
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	logits := []float32{1, 2, 3, 0, 0, 0}
	labels := []uint8{2, 0}
	d := make([]float32, 6)
	loss, correct := SoftmaxCrossEntropy(logits, labels, 2, 3, d)
	// Row 1: log(e+e²+e³) − 3. Row 2: log 3; its arg-max is the first class, the label.
	want := (math.Log(math.E+math.Exp(2)+math.Exp(3)) - 3 + math.Log(3)) / 2
	if math.Abs(loss-want) > 1e-12 || correct != 2 {
		t.Errorf("loss %.12f correct %d, want %.12f 2", loss, correct, want)
	}
	var sum float64
	for _, v := range d {
		sum += float64(v)
	}
	if math.Abs(sum) > 1e-6 {
		t.Errorf("gradient rows should sum to zero, sum %g", sum)
	}
	// Large logits must not overflow.
	big := []float32{1000, 0}
	if l, _ := SoftmaxCrossEntropy(big, []uint8{0}, 1, 2, nil); math.IsNaN(l) || l > 1e-6 {
		t.Errorf("loss of a confident right answer = %g", l)
	}
}

func TestInitPyTorchBounds(t *testing.T) {
	a := Arch{Kind: "mlp", Input: 100, Hidden: []int{50}, Output: 10, Activation: "relu", Bias: true, LayerNorm: true}
	n1, _ := Init(a, "pytorch", 1)
	n2, _ := Init(a, "pytorch", 1)
	n3, _ := Init(a, "pytorch", 2)
	w := n1.Param(WeightName(0)).Data
	bound := float32(1 / math.Sqrt(100))
	var mean float64
	for _, v := range w {
		if v < -bound || v > bound {
			t.Fatalf("weight %g outside ±%g", v, bound)
		}
		mean += float64(v)
	}
	if mean /= float64(len(w)); math.Abs(mean) > 0.01 {
		t.Errorf("mean weight %g, want about 0", mean)
	}
	if n1.Param(NormWeightName(0)).Data[3] != 1 || n1.Param(NormBiasName(0)).Data[3] != 0 {
		t.Error("LayerNorm must start at γ=1, β=0")
	}
	for i := range w {
		if n2.Param(WeightName(0)).Data[i] != w[i] {
			t.Fatal("same seed, different weights")
		}
	}
	if n3.Param(WeightName(0)).Data[0] == w[0] {
		t.Error("different seeds, same weights")
	}
	for _, method := range []string{"xavier", ""} { // "" used to mean pytorch
		if _, err := Init(a, method, 1); err == nil {
			t.Errorf("initialisation %q accepted", method)
		}
	}
}

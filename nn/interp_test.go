package nn

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
)

func TestBarrier(t *testing.T) {
	al := Alphas(5)
	if al[0] != 0 || al[4] != 1 || al[2] != 0.5 {
		t.Fatalf("Alphas(5) = %v", al)
	}
	tests := []struct {
		f    []float64
		want float64
	}{
		{[]float64{1, 1, 1, 1, 1}, 0},
		{[]float64{1, 2, 3, 2, 1}, 2},         // a bump of 2 over a flat line
		{[]float64{0, 0.25, 0.5, 0.75, 1}, 0}, // linear: no barrier
		{[]float64{0, 0.1, 0.2, 0.3, 2}, 0},   // below the chord: the end points' maximum is 0
	}
	for _, tt := range tests {
		if got := Barrier(al, tt.f); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Barrier(%v) = %g, want %g", tt.f, got, tt.want)
		}
	}
}

func TestSimplex(t *testing.T) {
	pts := SimplexPoints(4)
	if len(pts) != 15 { // (r+1)(r+2)/2
		t.Fatalf("%d points, want 15", len(pts))
	}
	f := make([]float64, len(pts))
	for i, p := range pts {
		f[i] = p[0] + 2*p[1] + 3*p[2] // linear: no barrier
	}
	if b := SimplexBarrier(pts, f); math.Abs(b) > 1e-12 {
		t.Errorf("linear function has barrier %g", b)
	}
	for i, p := range pts {
		if p == [3]float64{0.25, 0.25, 0.5} {
			f[i] += 1
		}
	}
	if b := SimplexBarrier(pts, f); math.Abs(b-1) > 1e-12 {
		t.Errorf("bump of 1 gives barrier %g", b)
	}
}

func TestCombine(t *testing.T) {
	a := Arch{Kind: "mlp", Input: 20, Hidden: []int{3}, Output: 4, Activation: "relu", Bias: true}
	n1, _ := Init(a, "pytorch", 1)
	n2, _ := Init(a, "pytorch", 2)
	mid := Combine(nil, []float64{0.5, 0.5}, n1, n2)
	for pi, p := range mid.Params {
		for j, v := range p.Data {
			want := float32(0.5*float64(n1.Params[pi].Data[j]) + 0.5*float64(n2.Params[pi].Data[j]))
			if v != want {
				t.Fatalf("%s[%d] = %g, want %g", p.Name, j, v, want)
			}
		}
	}
	if !sameParams(Combine(nil, []float64{1, 0}, n1, n2), n1) {
		t.Error("α = 0 is not the first network")
	}
	// Interpolating a network with itself changes nothing: zero barrier.
	d := synthetic(t)
	var seen []int
	pts, err := Curve(context.Background(), n1, n1, Alphas(3), d.Train, d.Test, 100, blas.Default(), func(done int) { seen = append(seen, done) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{1, 2, 3}) {
		t.Errorf("progress saw %v, want [1 2 3]", seen)
	}
	var f []float64
	for _, p := range pts {
		f = append(f, p.TestLoss)
	}
	if b := Barrier(Alphas(3), f); math.Abs(b) > 1e-6 {
		t.Errorf("barrier of a network with itself = %g", b)
	}
}

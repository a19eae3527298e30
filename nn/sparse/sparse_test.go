package sparse

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomDense returns a rows×cols matrix whose entries are non-zero with probability density.
func randomDense(rng *rand.Rand, rows, cols int, density float64) []float32 {
	x := make([]float32, rows*cols)
	for i := range x {
		if rng.Float64() < density {
			x[i] = float32(rng.NormFloat64())
		}
	}
	return x
}

func dense(m *Matrix) []float32 {
	x := make([]float32, m.Rows*m.Cols)
	for r := 0; r < m.Rows; r++ {
		for p := m.Ptr[r]; p < m.Ptr[r+1]; p++ {
			if p > m.Ptr[r] && m.Idx[p] <= m.Idx[p-1] {
				panic("columns out of order")
			}
			x[r*m.Cols+int(m.Idx[p])] = m.Val[p]
		}
	}
	return x
}

func transposeDense(x []float32, rows, cols int) []float32 {
	t := make([]float32, len(x))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = x[r*cols+c]
		}
	}
	return t
}

func TestFromDenseAndTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var m, mt Matrix // reused across cases, as training reuses them
	for _, tc := range []struct {
		rows, cols int
		density    float64
	}{{0, 5, 0.5}, {3, 0, 0.5}, {4, 7, 0}, {4, 7, 1}, {128, 784, 0.19}, {5, 3, 0.5}, {1, 1, 1}} {
		x := randomDense(rng, tc.rows, tc.cols, tc.density)
		m.FromDense(x, tc.rows, tc.cols)
		if got := dense(&m); !slices.Equal(got, x) {
			t.Fatalf("%d×%d: FromDense does not give the matrix back", tc.rows, tc.cols)
		}
		nz := 0
		for _, v := range x {
			if v != 0 {
				nz++
			}
		}
		if m.NNZ() != nz {
			t.Errorf("%d×%d: NNZ %d, want %d", tc.rows, tc.cols, m.NNZ(), nz)
		}
		m.Transpose(&mt)
		if mt.Rows != tc.cols || mt.Cols != tc.rows || !slices.Equal(dense(&mt), transposeDense(x, tc.rows, tc.cols)) {
			t.Fatalf("%d×%d: Transpose is not the transpose", tc.rows, tc.cols)
		}
	}
}

// TestFromRows: compressing chosen rows gives the rows, in the order chosen.
func TestFromRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := randomDense(rng, 50, 37, 0.3)
	which := []int{49, 0, 7, 7, 31}
	var m Matrix
	m.FromRows(x, which, 37)
	got := dense(&m)
	for i, r := range which {
		if !slices.Equal(got[i*37:(i+1)*37], x[r*37:(r+1)*37]) {
			t.Fatalf("row %d of the compressed matrix is not row %d of x", i, r)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a row past the end did not panic")
		}
	}()
	m.FromRows(x, []int{50}, 37)
}

// TestMul checks the kernel against a float64 product, and bit for bit against the Go
// kernel, for widths with and without whole 128-column blocks and 16-column tails.
func TestMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		rows, cols, n int
		density       float64
		bias          bool
	}{
		{128, 784, 512, 0.19, true},
		{128, 784, 512, 0.19, false},
		{784, 128, 512, 0.19, false},
		{64, 300, 100, 0.3, true},
		{7, 20, 1, 0.5, true},
		{7, 20, 10, 1, false},
		{33, 50, 300, 0.05, true},
		{10, 10, 129, 0, true},
		{10, 10, 16, 0.4, false},
	} {
		x := randomDense(rng, tc.rows, tc.cols, tc.density)
		var m Matrix
		m.FromDense(x, tc.rows, tc.cols)
		b := randomDense(rng, tc.cols, tc.n, 1)
		var init []float32
		if tc.bias {
			init = randomDense(rng, 1, tc.n, 1)
		}
		out := make([]float32, tc.rows*tc.n)
		for i := range out {
			out[i] = float32(math.NaN()) // every element must be written
		}
		Mul(&m, b, tc.n, init, out)
		want := make([]float32, len(out))
		mulGo(&m, b, tc.n, init, want, 0, tc.n, false)
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: element %d is %g, the Go kernel gives %g", tc, i, out[i], want[i])
			}
		}
		for r := 0; r < tc.rows; r++ {
			for c := 0; c < tc.n; c++ {
				var s float64
				if init != nil {
					s = float64(init[c])
				}
				for k := 0; k < tc.cols; k++ {
					s += float64(x[r*tc.cols+k]) * float64(b[k*tc.n+c])
				}
				if d := math.Abs(float64(out[r*tc.n+c]) - s); d > 1e-4*(1+math.Abs(s)) {
					t.Fatalf("%+v: out[%d][%d] = %g, want %g", tc, r, c, out[r*tc.n+c], s)
				}
			}
		}
	}
}

// TestAddMulOverRowRanges: summing a product over two row ranges of mᵀ (AddMul onto
// Mul) gives the product over all of them bit for bit, as training's weight gradient does
// with the two parts of a batch; RowRange and Transpose of a range are checked on the way.
func TestAddMulOverRowRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const rows, cols, n = 40, 90, 200
	x := randomDense(rng, rows, cols, 0.2)
	dz := randomDense(rng, rows, n, 1)
	var m, mt Matrix
	m.FromDense(x, rows, cols)
	m.Transpose(&mt)
	want := make([]float32, cols*n)
	Mul(&mt, dz, n, nil, want)

	got := make([]float32, cols*n)
	for i, r := range [][2]int{{0, 17}, {17, 40}} {
		part := m.RowRange(r[0], r[1])
		if !slices.Equal(dense(&part), x[r[0]*cols:r[1]*cols]) {
			t.Fatalf("RowRange(%d, %d) is not those rows", r[0], r[1])
		}
		var pt Matrix
		part.Transpose(&pt)
		if i == 0 {
			Mul(&pt, dz[r[0]*n:], n, nil, got)
		} else {
			AddMul(&pt, dz[r[0]*n:], n, got)
		}
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("element %d: %g in two ranges, %g in one", i, got[i], want[i])
		}
	}
}

// TestMulPanicsOnShortSlices: a caller's shape error is a panic with the shapes, not a
// read past the end of a slice in C.
func TestMulPanicsOnShortSlices(t *testing.T) {
	var m Matrix
	m.FromDense(make([]float32, 6), 2, 3)
	defer func() {
		if recover() == nil {
			t.Fatal("Mul with a short b did not panic")
		}
	}()
	Mul(&m, make([]float32, 5), 2, nil, make([]float32, 4))
}

// TestMulGoMatchesKernel: the Go kernel, used without cgo, gives the cgo kernel's bits.
func TestMulGoMatchesKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x := randomDense(rng, 30, 50, 0.3)
	var m Matrix
	m.FromDense(x, 30, 50)
	b := randomDense(rng, 50, 140, 1)
	init := randomDense(rng, 1, 140, 1)
	for _, acc := range []bool{false, true} {
		got, want := randomDense(rng, 30, 140, 1), make([]float32, 30*140)
		copy(want, got)
		mul(&m, b, 140, init, got, 0, 140, acc)
		mulGo(&m, b, 140, init, want, 0, 140, acc)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("acc=%v: element %d is %g, the Go kernel gives %g", acc, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkMul is the first layer of 784-512-512-512-10 on an MNIST-like batch of 128
// (19% of the inputs non-zero), on one core: the forward product, the weight gradient
// (with the transpose it needs) and compressing the batch.
func BenchmarkMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randomDense(rng, 128, 784, 0.19)
	var m, mt Matrix
	m.FromDense(x, 128, 784)
	w := randomDense(rng, 784, 512, 1)
	dz := randomDense(rng, 128, 512, 1)
	out := make([]float32, 128*512)
	dw := make([]float32, 784*512)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			Mul(&m, w, 512, nil, out)
		}
	})
	b.Run("gradient", func(b *testing.B) {
		for b.Loop() {
			m.Transpose(&mt)
			Mul(&mt, dz, 512, nil, dw)
		}
	})
	b.Run("compress", func(b *testing.B) {
		for b.Loop() {
			m.FromDense(x, 128, 784)
		}
	})
}

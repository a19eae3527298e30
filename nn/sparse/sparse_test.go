package sparse

import (
	"fmt"
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

// panels returns the rows×cols row-major x in panels.
func panels(x []float32, rows, cols int) Panels {
	p := NewPanels(rows, cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			p.Data[p.Index(r, c)] = x[r*cols+c]
		}
	}
	return p
}

// rowMajor returns p's elements row by row, and checks that its padding is zero.
func rowMajor(t *testing.T, p Panels) []float32 {
	t.Helper()
	x := make([]float32, p.Rows*p.Cols)
	for r := 0; r < p.Rows; r++ {
		for c := 0; c < p.NumPanels()*PanelWidth; c++ {
			if c >= p.Cols {
				if v := p.Data[p.Index(r, c)]; math.Float32bits(v) != 0 {
					t.Fatalf("padding (%d, %d) is %g, want +0", r, c, v)
				}
				continue
			}
			x[r*p.Cols+c] = p.Data[p.Index(r, c)]
		}
	}
	return x
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

// near checks the rows×n out against init + x·b in float64.
func near(t *testing.T, what string, out, x, b, init []float32, rows, cols, n int) {
	t.Helper()
	for r := 0; r < rows; r++ {
		for c := 0; c < n; c++ {
			var s float64
			if init != nil {
				s = float64(init[c])
			}
			for k := 0; k < cols; k++ {
				s += float64(x[r*cols+k]) * float64(b[k*n+c])
			}
			if d := math.Abs(float64(out[r*n+c]) - s); d > 1e-4*(1+math.Abs(s)) {
				t.Fatalf("%s: out[%d][%d] = %g, want %g", what, r, c, out[r*n+c], s)
			}
		}
	}
}

var mulCases = []struct {
	rows, cols, n int
	density       float64
	bias          bool
}{
	{128, 784, 512, 0.19, true},
	{64, 784, 512, 0.19, false},
	{9, 1000, 70, 0.5, true}, // four blocks of b's rows, the last short
	{784, 64, 512, 0.19, false},
	{64, 300, 100, 0.3, true},
	{7, 20, 1, 0.5, true},
	{7, 20, 10, 1, false},
	{33, 50, 300, 0.05, true},
	{10, 10, 129, 0, true},
	{10, 10, 16, 0.4, false},
	{3, 0, 70, 0, true},
	{0, 5, 70, 0.5, false},
}

// TestMulPanels checks the forward product against a float64 product, and bit for bit
// against the Go kernel and MulPanelsLD's product into a wider matrix, for widths with and
// without whole panels, odd and even rows, one block of b's rows and several, with the
// AVX-512 kernel (where the CPU has it) and the portable one.
func TestMulPanels(t *testing.T) {
	bothKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, tc := range mulCases {
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
			MulPanels(&m, panels(b, tc.cols, tc.n), init, out)
			want := make([]float32, len(out))
			mulPanelsGo(&m, panels(b, tc.cols, tc.n), init, want, tc.n)
			sameBits(t, fmt.Sprintf("%+v against the Go kernel", tc), out, want)
			near(t, fmt.Sprintf("%+v", tc), out, x, b, init, tc.rows, tc.cols, tc.n)
			sameInBlock(t, fmt.Sprintf("%+v", tc), func(o []float32, ld int) {
				MulPanelsLD(&m, panels(b, tc.cols, tc.n), init, o, ld)
			}, out, tc.rows, tc.n)
		}
	})
}

// sameInBlock checks that mul, writing a rows×n product into a block of a wider matrix
// (rows ld apart, from an offset), writes want there, bit for bit, and nothing outside it.
func sameInBlock(t *testing.T, what string, mul func(out []float32, ld int), want []float32, rows, n int) {
	t.Helper()
	const off, pad = 5, 11
	ld := n + pad
	out := make([]float32, off+rows*ld)
	for i := range out {
		out[i] = -1
	}
	mul(out[off:], ld)
	for i, v := range out {
		r, c := (i-off)/ld, (i-off)%ld
		if i < off || c >= n {
			if v != -1 {
				t.Fatalf("%s: value %d outside the block is %g", what, i, v)
			}
			continue
		}
		if math.Float32bits(v) != math.Float32bits(want[r*n+c]) {
			t.Fatalf("%s: (%d, %d) in the block is %g, want %g", what, r, c, v, want[r*n+c])
		}
	}
}

// bothKernels runs f with the kernels the CPU gets and with the portable ones.
func bothKernels(t *testing.T, f func(t *testing.T)) {
	t.Run("default", f)
	t.Run("portable", func(t *testing.T) { withoutAVX512(func() { f(t) }) })
}

// TestMulToPanels checks the gradient product the same way, writing and adding, with b's
// rows further apart than its width.
func TestMulToPanels(t *testing.T) { bothKernels(t, testMulToPanels) }

func testMulToPanels(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, tc := range mulCases {
		x := randomDense(rng, tc.rows, tc.cols, tc.density)
		var m Matrix
		m.FromDense(x, tc.rows, tc.cols)
		const pad = 3
		ldb := tc.n + pad
		wide := randomDense(rng, tc.cols, ldb, 1) // b is its first n columns
		b := make([]float32, tc.cols*tc.n)
		for k := 0; k < tc.cols; k++ {
			copy(b[k*tc.n:(k+1)*tc.n], wide[k*ldb:])
		}
		out := NewPanels(tc.rows, tc.n)
		for i := range out.Data {
			out.Data[i] = float32(math.NaN()) // every element must be written
		}
		MulToPanels(&m, wide, ldb, out, false)
		want := NewPanels(tc.rows, tc.n)
		mulToPanelsGo(&m, wide, ldb, want, false)
		got := rowMajor(t, out)
		sameBits(t, fmt.Sprintf("%+v against the Go kernel", tc), got, rowMajor(t, want))
		near(t, fmt.Sprintf("%+v", tc), got, x, b, nil, tc.rows, tc.cols, tc.n)

		// Adding: out += m·b from where it is.
		start := randomDense(rng, tc.rows, tc.n, 1)
		out, want = panels(start, tc.rows, tc.n), panels(start, tc.rows, tc.n)
		MulToPanels(&m, wide, ldb, out, true)
		mulToPanelsGo(&m, wide, ldb, want, true)
		got = rowMajor(t, out)
		sameBits(t, fmt.Sprintf("%+v, adding, against the Go kernel", tc), got, rowMajor(t, want))
		zero := NewPanels(tc.rows, tc.n)
		MulToPanels(&m, wide, ldb, zero, false)
		product := rowMajor(t, zero)
		for i := range got {
			if want := float64(start[i]) + float64(product[i]); math.Abs(float64(got[i])-want) > 1e-4*(1+math.Abs(want)) {
				t.Fatalf("%+v: adding gives %g at %d, want %g + %g", tc, got[i], i, start[i], product[i])
			}
		}
	}
}

// TestMulToPanelsOverRowRanges: summing the gradient over two row ranges of mᵀ (adding
// onto the first) gives the product over all of them bit for bit, as training's weight
// gradient does with the two parts of a batch, each compressed on its own; Transpose of a
// range and Slice of panels (each part of a step computing its own panels) are checked on
// the way.
func TestMulToPanelsOverRowRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const rows, cols, n = 40, 90, 200
	x := randomDense(rng, rows, cols, 0.2)
	dz := randomDense(rng, rows, n, 1)
	var m, mt Matrix
	m.FromDense(x, rows, cols)
	m.Transpose(&mt)
	want := NewPanels(cols, n)
	MulToPanels(&mt, dz, n, want, false)

	got := NewPanels(cols, n)
	for i, r := range [][2]int{{0, 17}, {17, 40}} {
		var part, pt Matrix
		part.FromDense(x[r[0]*cols:r[1]*cols], r[1]-r[0], cols)
		part.Transpose(&pt)
		for _, ps := range [][2]int{{0, 1}, {1, got.NumPanels()}} {
			p0 := ps[0] * PanelWidth
			MulToPanels(&pt, dz[r[0]*n+p0:], n, got.Slice(ps[0], ps[1]), i > 0)
		}
	}
	sameBits(t, "two ranges against one", rowMajor(t, got), rowMajor(t, want))
}

// TestPanelsSlice: a slice of panels is those columns, sharing storage.
func TestPanelsSlice(t *testing.T) {
	x := randomDense(rand.New(rand.NewPCG(1, 1)), 3, 150, 1)
	p := panels(x, 3, 150)
	if p.NumPanels() != 3 {
		t.Fatalf("%d panels for 150 columns, want 3", p.NumPanels())
	}
	s := p.Slice(1, 3)
	if s.Cols != 150-PanelWidth || s.NumPanels() != 2 {
		t.Fatalf("panels [1, 3) of 150 columns: %d columns in %d panels", s.Cols, s.NumPanels())
	}
	for r := 0; r < 3; r++ {
		for c := 0; c < s.Cols; c++ {
			if s.Data[s.Index(r, c)] != x[r*150+PanelWidth+c] {
				t.Fatalf("element (%d, %d) of the slice is not column %d", r, c, PanelWidth+c)
			}
		}
	}
	s.Data[0] = 42
	if p.Data[p.Index(0, PanelWidth)] != 42 {
		t.Error("the slice does not share the panels' storage")
	}
}

// TestMulPanicsOnShortSlices: a caller's shape error is a panic with the shapes, not a
// read past the end of a slice in C.
func TestMulPanicsOnShortSlices(t *testing.T) {
	var m Matrix
	m.FromDense(make([]float32, 6), 2, 3)
	for name, f := range map[string]func(){
		"MulPanels, short b":    func() { MulPanels(&m, Panels{Rows: 3, Cols: 2, Data: make([]float32, 5)}, nil, make([]float32, 4)) },
		"MulPanels, short out":  func() { MulPanels(&m, NewPanels(3, 2), nil, make([]float32, 3)) },
		"MulPanels, wrong rows": func() { MulPanels(&m, NewPanels(2, 2), nil, make([]float32, 4)) },
		"MulToPanels, short b":  func() { MulToPanels(&m, make([]float32, 5), 2, NewPanels(2, 2), false) },
		"MulToPanels, narrow ldb": func() {
			MulToPanels(&m, make([]float32, 6), 1, NewPanels(2, 2), false)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkMul is the first layer of 784-512-512-512-10 on an MNIST-like batch of 128
// (19% of the inputs non-zero, uniformly placed), on one core: the forward product, the
// weight gradient (with the transpose it needs) and compressing the batch.
func BenchmarkMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randomDense(rng, 128, 784, 0.19)
	var m, mt Matrix
	m.FromDense(x, 128, 784)
	w := panels(randomDense(rng, 784, 512, 1), 784, 512)
	dz := randomDense(rng, 128, 512, 1)
	out := make([]float32, 128*512)
	dw := NewPanels(784, 512)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			MulPanels(&m, w, nil, out)
		}
	})
	b.Run("gradient", func(b *testing.B) {
		for b.Loop() {
			m.Transpose(&mt)
			MulToPanels(&mt, dz, 512, dw, false)
		}
	})
	b.Run("compress", func(b *testing.B) {
		for b.Loop() {
			m.FromDense(x, 128, 784)
		}
	})
}

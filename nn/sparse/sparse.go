// Package sparse multiplies a sparse matrix by a dense one. Training uses it for an MLP's
// first layer when its inputs are mostly zeros: 81% of MNIST's pixels are, and a dense GEMM
// spends a third of an epoch's arithmetic multiplying them. Both products of that layer are
// sparse-times-dense once its weight is kept transposed (in×out): the forward pass
// Z = X·Wᵀ, with X's rows in compressed form, and the weight gradient (Wᵀ)' = Xᵀ·dZ, with
// X's columns in compressed form (the compressed rows of Xᵀ).
//
// Numerics: each output element is its initial value plus the products of the row's stored
// entries in ascending column order, each product rounded before it is added (no fused
// multiply-add). The cgo kernel (AVX-512 when the CPU has it) and the Go fallback therefore
// give the same bits.
//
// The functions run on the calling goroutine: training already runs one part of a batch
// on each core.
package sparse

import (
	"fmt"
	"time"
)

// Timer, when not nil, is called with the duration of every product (Mul and AddMul), from
// the goroutine that ran it: benchmarks use it to split an epoch's time between the matrix
// products and the rest. Set it before the products start.
var Timer func(time.Duration)

// Matrix is a Rows×Cols matrix in compressed sparse row form: the stored entries of row r
// are Val[Ptr[r]:Ptr[r+1]] in columns Idx[Ptr[r]:Ptr[r+1]], in ascending column order.
// Its slices are reused by FromDense and Transpose, so a Matrix kept across training steps
// allocates only when a batch has more entries than any before it.
type Matrix struct {
	Rows, Cols int
	Ptr        []int32
	Idx        []int32
	Val        []float32
}

// NNZ is the number of stored entries.
func (m *Matrix) NNZ() int { return int(m.Ptr[m.Rows] - m.Ptr[0]) }

// RowRange returns rows [r0, r1) of m, sharing its storage.
func (m *Matrix) RowRange(r0, r1 int) Matrix {
	return Matrix{Rows: r1 - r0, Cols: m.Cols, Ptr: m.Ptr[r0 : r1+1], Idx: m.Idx, Val: m.Val}
}

// FromDense sets m to the non-zero entries of the rows×cols row-major x.
func (m *Matrix) FromDense(x []float32, rows, cols int) {
	if len(x) < rows*cols {
		panic(fmt.Sprintf("sparse: %d values for a %d×%d matrix", len(x), rows, cols))
	}
	m.Rows, m.Cols = rows, cols
	m.Ptr = grow(m.Ptr, rows+1)
	// Room for every entry and one vector more: the kernel stores whole vectors.
	m.Idx, m.Val = grow(m.Idx, rows*cols+16), grow(m.Val, rows*cols+16)
	compress(m, x, nil)
}

// FromRows sets m to the non-zero entries of rows which[0], which[1], … of the
// row-major x, cols wide: training compresses its batch straight from the data set rather
// than copying the rows first.
func (m *Matrix) FromRows(x []float32, which []int, cols int) {
	for _, r := range which {
		if r < 0 || (r+1)*cols > len(x) {
			panic(fmt.Sprintf("sparse: row %d of a %d-wide matrix of %d values", r, cols, len(x)))
		}
	}
	m.Rows, m.Cols = len(which), cols
	m.Ptr = grow(m.Ptr, m.Rows+1)
	m.Idx, m.Val = grow(m.Idx, m.Rows*cols+16), grow(m.Val, m.Rows*cols+16)
	compress(m, x, which)
}

// Transpose sets t to mᵀ (t must not be m).
func (m *Matrix) Transpose(t *Matrix) {
	t.Rows, t.Cols = m.Cols, m.Rows
	t.Ptr = grow(t.Ptr, t.Rows+1)
	t.Idx, t.Val = grow(t.Idx, m.NNZ()), grow(t.Val, m.NNZ())
	transpose(m, t)
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Mul sets out = init + m·b for the dense Cols×n b (row-major, rows n apart) and the
// Rows×n out; init (n values, added to every row) may be nil for zero.
func Mul(m *Matrix, b []float32, n int, init, out []float32) {
	check(m, b, n, out)
	if init != nil && len(init) < n {
		panic(fmt.Sprintf("sparse: %d initial values for %d columns", len(init), n))
	}
	timed(func() { mul(m, b, n, init, out, 0, n, false) })
}

// AddMul sets out += m·b, with b and out as for Mul.
func AddMul(m *Matrix, b []float32, n int, out []float32) {
	check(m, b, n, out)
	timed(func() { mul(m, b, n, nil, out, 0, n, true) })
}

func timed(f func()) {
	if Timer == nil {
		f()
		return
	}
	start := time.Now()
	f()
	Timer(time.Since(start))
}

func check(m *Matrix, b []float32, n int, out []float32) {
	if len(b) < m.Cols*n || len(out) < m.Rows*n || len(m.Ptr) < m.Rows+1 {
		panic(fmt.Sprintf("sparse: product of %d×%d by %d×%d with %d values, into %d values", m.Rows, m.Cols, m.Cols, n, len(b), len(out)))
	}
}

// compressGo is compress in Go.
func compressGo(m *Matrix, x []float32, which []int) {
	n := int32(0)
	m.Ptr[0] = 0
	for r := 0; r < m.Rows; r++ {
		row := r
		if which != nil {
			row = which[r]
		}
		for k, v := range x[row*m.Cols : (row+1)*m.Cols] {
			m.Idx[n], m.Val[n] = int32(k), v
			if v != 0 {
				n++
			}
		}
		m.Ptr[r+1] = n
	}
}

// transposeGo is transpose in Go: t's shape and slices are set, its contents are not.
func transposeGo(m, t *Matrix) {
	clear(t.Ptr)
	for _, k := range m.Idx[m.Ptr[0]:m.Ptr[m.Rows]] {
		t.Ptr[k+1]++
	}
	for k := 0; k < t.Rows; k++ {
		t.Ptr[k+1] += t.Ptr[k]
	}
	// Rows of m in ascending order fill each row of t in ascending column order; t.Ptr[k]
	// is where row k is filled up to, shifted back at the end.
	for r := 0; r < m.Rows; r++ {
		for p := m.Ptr[r]; p < m.Ptr[r+1]; p++ {
			q := t.Ptr[m.Idx[p]]
			t.Idx[q], t.Val[q] = int32(r), m.Val[p]
			t.Ptr[m.Idx[p]]++
		}
	}
	copy(t.Ptr[1:], t.Ptr[:t.Rows])
	t.Ptr[0] = 0
}

// mulGo is the kernel in Go: out[r][c0:c1] = init + Σ_p Val[p]·b[Idx[p]][c0:c1], or
// out[r][c0:c1] += Σ_p … when acc.
func mulGo(m *Matrix, b []float32, n int, init, out []float32, c0, c1 int, acc bool) {
	for r := 0; r < m.Rows; r++ {
		o := out[r*n+c0 : r*n+c1]
		switch {
		case acc:
		case init != nil:
			copy(o, init[c0:c1])
		default:
			clear(o)
		}
		for p := m.Ptr[r]; p < m.Ptr[r+1]; p++ {
			v := m.Val[p]
			row := b[int(m.Idx[p])*n+c0 : int(m.Idx[p])*n+c1]
			row = row[:len(o)]
			for c, x := range row {
				// The conversion keeps the compiler from fusing the multiply and the add.
				o[c] += float32(v * x)
			}
		}
	}
}

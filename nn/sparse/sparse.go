// Package sparse multiplies a sparse matrix by a dense one. Training uses it for an MLP's
// first layer when its inputs are mostly zeros: 81% of MNIST's pixels are, and a dense GEMM
// spends a third of an epoch's arithmetic multiplying them. Both products of that layer are
// sparse-times-dense once its weight is kept transposed (in×out): the forward pass
// Z = X·Wᵀ, with X's rows in compressed form (MulPanels), and the weight gradient
// (Wᵀ)' = Xᵀ·dZ, with X's columns in compressed form, the compressed rows of Xᵀ
// (MulToPanels). Wᵀ and its gradient are kept in column panels (Panels).
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

// Timer, when not nil, is called with the duration of every product (MulPanels and MulToPanels), from
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

// PanelWidth is the number of columns in a panel of a Panels matrix: four AVX-512 vectors,
// so that the kernel keeps the sums of two rows of the product in eight registers.
const PanelWidth = 64

// Panels is a dense Rows×Cols matrix stored in panels of PanelWidth columns: panel p holds
// columns [p·PanelWidth, (p+1)·PanelWidth) of every row, row after row, and the panels
// follow each other; the last panel is padded with columns of zeros.
//
// The kernels read a block of PanelWidth columns of one row of b for every stored entry
// of m. In a row-major b with rows 2 KB apart (512 columns), all of a column block's rows
// fall in a sixteenth of the L1 cache's sets and a quarter of L2's, and the loads miss;
// a panel's rows are contiguous. On MNIST's first layer (784→512, 64 rows, one core,
// BenchmarkMNISTLane) that takes the forward product from 156 µs to 105 µs.
type Panels struct {
	Rows, Cols int
	Data       []float32
}

// NewPanels returns a zero rows×cols Panels.
func NewPanels(rows, cols int) Panels {
	return Panels{Rows: rows, Cols: cols, Data: make([]float32, rows*numPanels(cols)*PanelWidth)}
}

func numPanels(cols int) int { return (cols + PanelWidth - 1) / PanelWidth }

// NumPanels is the number of panels.
func (p Panels) NumPanels() int { return numPanels(p.Cols) }

// Index is the position in Data of element (r, c).
func (p Panels) Index(r, c int) int {
	return (c/PanelWidth)*p.Rows*PanelWidth + r*PanelWidth + c%PanelWidth
}

// Slice returns panels [p0, p1) (columns [p0·PanelWidth, min(p1·PanelWidth, Cols))),
// sharing p's storage.
func (p Panels) Slice(p0, p1 int) Panels {
	size := p.Rows * PanelWidth
	return Panels{Rows: p.Rows, Cols: min(p.Cols, p1*PanelWidth) - p0*PanelWidth, Data: p.Data[p0*size : p1*size]}
}

// MulPanels sets out = init + m·b for b (m.Cols×b.Cols) in panels and the row-major
// m.Rows×b.Cols out; init (b.Cols values, added to every row) may be nil for zero. This is
// the forward product of a layer whose inputs are m's rows and whose weight, transposed, is b.
func MulPanels(m *Matrix, b Panels, init, out []float32) { MulPanelsLD(m, b, init, out, b.Cols) }

// MulPanelsLD is MulPanels into the rows of out ldo apart (ldo ≥ b.Cols): into some of the
// columns of a wider matrix, as when each core computes a share of a layer's units.
func MulPanelsLD(m *Matrix, b Panels, init, out []float32, ldo int) {
	if b.Rows != m.Cols || len(b.Data) < b.Rows*numPanels(b.Cols)*PanelWidth || ldo < b.Cols || len(m.Ptr) < m.Rows+1 ||
		(m.Rows > 0 && len(out) < (m.Rows-1)*ldo+b.Cols) {
		panic(fmt.Sprintf("sparse: product of %d×%d by %d×%d panels with %d values, into %d values (rows %d apart)", m.Rows, m.Cols, b.Rows, b.Cols, len(b.Data), len(out), ldo))
	}
	if init != nil && len(init) < b.Cols {
		panic(fmt.Sprintf("sparse: %d initial values for %d columns", len(init), b.Cols))
	}
	timed(func() { mulPanels(m, b, init, out, ldo) })
}

// MulToPanels sets out = m·b, or out += m·b when acc, for the dense b of m.Cols rows of
// out.Cols values, ldb apart, and out (m.Rows×out.Cols) in panels. This is the weight
// gradient of a layer whose inputs are the columns of m (the rows of mᵀ) and b the
// gradient of its outputs; acc adds a second part of a batch to the first.
func MulToPanels(m *Matrix, b []float32, ldb int, out Panels, acc bool) {
	if out.Rows != m.Rows || len(out.Data) < out.Rows*numPanels(out.Cols)*PanelWidth || ldb < out.Cols || len(m.Ptr) < m.Rows+1 ||
		(m.Cols > 0 && len(b) < (m.Cols-1)*ldb+out.Cols) {
		panic(fmt.Sprintf("sparse: product of %d×%d by %d×%d (%d values, rows %d apart) into %d×%d panels", m.Rows, m.Cols, m.Cols, out.Cols, len(b), ldb, out.Rows, out.Cols))
	}
	timed(func() { mulToPanels(m, b, ldb, out, acc) })
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

// addRowGo adds the products of row r's entries with rows of b (row k at b[k·ldb:], w
// columns) to o, in ascending column order, each product rounded before it is added (the
// conversion keeps the compiler from fusing the multiply and the add).
func addRowGo(m *Matrix, r int, b []float32, ldb int, o []float32) {
	for p := m.Ptr[r]; p < m.Ptr[r+1]; p++ {
		v := m.Val[p]
		row := b[int(m.Idx[p])*ldb:]
		row = row[:len(o)]
		for c, x := range row {
			o[c] += float32(v * x)
		}
	}
}

// mulPanelsGo is MulPanels in Go, panel by panel as the kernel goes.
func mulPanelsGo(m *Matrix, b Panels, init, out []float32, ldo int) {
	n := b.Cols
	for p := range b.NumPanels() {
		c0, c1 := p*PanelWidth, min(n, (p+1)*PanelWidth)
		panel := b.Data[p*b.Rows*PanelWidth:]
		for r := 0; r < m.Rows; r++ {
			o := out[r*ldo+c0 : r*ldo+c1]
			if init != nil {
				copy(o, init[c0:c1])
			} else {
				clear(o)
			}
			addRowGo(m, r, panel, PanelWidth, o)
		}
	}
}

// mulToPanelsGo is MulToPanels in Go; it reads b in place (the C kernel copies each
// panel's columns to a block first, which changes where the values are read, not the sums).
func mulToPanelsGo(m *Matrix, b []float32, ldb int, out Panels, acc bool) {
	n := out.Cols
	for p := range out.NumPanels() {
		c0, c1 := p*PanelWidth, min(n, (p+1)*PanelWidth)
		panel := out.Data[p*out.Rows*PanelWidth:]
		for r := 0; r < m.Rows; r++ {
			if !acc {
				clear(panel[r*PanelWidth : (r+1)*PanelWidth])
			}
			if m.Cols > 0 {
				addRowGo(m, r, b[c0:], ldb, panel[r*PanelWidth:r*PanelWidth+c1-c0])
			}
		}
	}
}

package nn

import (
	"fmt"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/sparse"
)

// firstT is a training model's first layer, which keeps its weight and the weight's
// gradient transposed (in×out; layers[0].w and .dw point at them). Then both products of
// the layer are sparse-times-dense when most inputs are zeros, as 81% of MNIST's pixels
// are: the forward pass Z = X·Wᵀ multiplies only the non-zero inputs of each row
// (sparse.MulPanels on the rows, compressed), and the weight gradient Wᵀ' = Xᵀ·dZ only
// those of each column (sparse.MulToPanels). The sparse kernels want Wᵀ and its gradient
// in panels of 64 columns (sparse.Panels), so that is how a sparse layer keeps them. On
// one core, for a batch of 128 random inputs 19% non-zero and 512 units, the products take
// 185 µs against the GEMM's 480 µs forward and 175 µs against 447 µs for the gradient
// (sparse.BenchmarkMul; GEMMs at 214 and 230 GFLOP/s).
//
// With dense inputs the layer runs the same products as GEMMs on the transposed weight,
// row-major.
type firstT struct {
	wt, dwt []float32     // in the training layout: panels when sparse, else row-major in×out
	wp      sparse.Panels // wt, when sparse
	params  [][]float32   // Net's parameters, with wt for the weight: what training updates
	sparse  bool
	// Each part's rows of the batch, compressed by row and by column; given says the rows
	// were compressed by take for the next forward pass.
	rows, cols [stepParts]sparse.Matrix
	given      [stepParts]bool
	in, out    int
}

// sparseDensity is the share of non-zero inputs below which a training model's first layer
// multiplies only the non-zero ones: the kernels take about half a GEMM's time at MNIST's
// 19%, so they stop paying at about a third.
const sparseDensity = 1.0 / 3

// newTrainingModel is NewModel for Train, with the first layer of firstT; sparseInputs says
// whether to multiply only the non-zero inputs. Train must update m.first.params and call
// m.sync before it reads Net's first weight. Passes may be split in up to stepParts parts.
func newTrainingModel(n *Network, batch int, b blas.Impl, sparseInputs bool) *Model {
	m := NewModel(n, batch, b)
	l := &m.layers[0]
	f := &firstT{sparse: sparseInputs}
	f.in, f.out = l.in, l.out
	if sparseInputs {
		f.wp = sparse.NewPanels(l.in, l.out)
		f.wt, f.dwt = f.wp.Data, make([]float32, len(f.wp.Data))
	} else {
		f.wt, f.dwt = make([]float32, len(l.w)), make([]float32, len(l.dw))
	}
	f.toTraining(f.wt, l.w)
	m.Grads[l.wi] = f.dwt
	l.w, l.dw = f.wt, f.dwt
	f.params = make([][]float32, len(n.Params))
	for i, p := range n.Params {
		f.params[i] = p.Data
	}
	f.params[l.wi] = f.wt
	m.first = f
	return m
}

// density is the share of non-zero values in x.
func density(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	nz := 0
	for _, v := range x {
		if v != 0 {
			nz++
		}
	}
	return float64(nz) / float64(len(x))
}

// trainingLayout returns x, a value per element of parameter i (a mask), in the layout
// m.first.params has for it.
func (m *Model) trainingLayout(i int, x []float32) []float32 {
	if i != m.layers[0].wi {
		return x
	}
	t := make([]float32, len(m.first.wt))
	m.first.toTraining(t, x)
	return t
}

// sync copies a training model's first weight back into Net.
func (m *Model) sync() {
	m.first.toNet(m.Net.Params[m.layers[0].wi].Data, m.first.wt)
}

// toTraining sets dst, in the training layout, to the out×in w in Net's layout (the
// padding of the last panel stays as it is: zeros).
func (f *firstT) toTraining(dst, w []float32) {
	if !f.sparse {
		transpose(dst, w, f.out, f.in)
		return
	}
	for j := 0; j < f.out; j++ {
		for k, v := range w[j*f.in : (j+1)*f.in] {
			dst[f.wp.Index(k, j)] = v
		}
	}
}

// toNet sets the out×in dst, in Net's layout, to src in the training layout.
func (f *firstT) toNet(dst, src []float32) {
	if !f.sparse {
		transpose(dst, src, f.in, f.out)
		return
	}
	for j := 0; j < f.out; j++ {
		row := dst[j*f.in : (j+1)*f.in]
		for k := range row {
			row[k] = src[f.wp.Index(k, j)]
		}
	}
}

// part returns the range of the training layout's elements whose gradients part part of
// parts computes: rows of Wᵀ (input units) when dense, whole panels when sparse.
func (f *firstT) part(part, parts int) (lo, hi int) {
	if !f.sparse {
		k0, k1 := share(f.in, part, parts)
		return k0 * f.out, k1 * f.out
	}
	p0, p1 := f.panels(part, parts)
	size := f.in * sparse.PanelWidth
	return p0 * size, p1 * size
}

// panels returns the panels of Wᵀ whose gradient part part of parts computes.
func (f *firstT) panels(part, parts int) (p0, p1 int) {
	n := f.wp.NumPanels()
	return n * part / parts, n * (part + 1) / parts
}

// transpose sets dst (cols×rows) to the transpose of the rows×cols src, in tiles that stay
// in cache.
func transpose(dst, src []float32, rows, cols int) {
	const tile = 32
	for r0 := 0; r0 < rows; r0 += tile {
		for c0 := 0; c0 < cols; c0 += tile {
			for r := r0; r < min(r0+tile, rows); r++ {
				for c := c0; c < min(c0+tile, cols); c++ {
					dst[c*rows+r] = src[r*cols+c]
				}
			}
		}
	}
}

// take compresses part part's rows of the next batch straight from the data set: rows which
// of the cols-wide x. With sparse inputs that replaces copying the rows into the batch (the
// batch's copy is then not read).
func (f *firstT) take(part int, x []float32, which []int, cols int) {
	f.rows[part].FromRows(x, which, cols)
	f.given[part] = true
}

// forward sets rows [r0, r1) of out (the layer's z, Batch×out) for part part, adding bias
// (nil for none).
func (f *firstT) forward(m *Model, part, r0, r1 int, bias, out []float32) {
	if part >= stepParts {
		panic(fmt.Errorf("%w: part %d of a training model, which has %d", ErrShape, part, stepParts))
	}
	l := &m.layers[0]
	n := r1 - r0
	x, z := m.x[r0*l.in:r1*l.in], out[r0*l.out:r1*l.out]
	if !f.sparse {
		linear(m.BLAS, x, n, f.wt, true, bias, l.in, l.out, z)
		return
	}
	if !f.given[part] {
		f.rows[part].FromDense(x, n, l.in)
	}
	f.given[part] = false
	sparse.MulPanels(&f.rows[part], f.wp, bias, z)
	f.rows[part].Transpose(&f.cols[part])
}

// gradient computes part part of parts of the transposed weight's gradient (see part),
// from every part's rows of the batch, in order, into dw (in the training layout), or adds
// it to dw when add.
func (f *firstT) gradient(m *Model, part, parts int, dw []float32, add bool) {
	l := &m.layers[0]
	if !f.sparse {
		k0, k1 := share(l.in, part, parts)
		if k0 < k1 {
			beta := float32(0)
			if add {
				beta = 1
			}
			m.BLAS.Sgemm(true, false, k1-k0, l.out, m.rows, 1, m.x[k0:], l.in, l.dz, l.out, beta, dw[k0*l.out:k1*l.out], l.out)
		}
		return
	}
	p0, p1 := f.panels(part, parts)
	if p0 == p1 {
		return
	}
	out := sparse.Panels{Rows: f.in, Cols: f.out, Data: dw}.Slice(p0, p1)
	c0 := p0 * sparse.PanelWidth
	for p := range parts {
		r0, _ := m.partRows(p, parts)
		sparse.MulToPanels(&f.cols[p], l.dz[r0*l.out+c0:], l.out, out, add || p > 0)
	}
}

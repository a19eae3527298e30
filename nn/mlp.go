package nn

import (
	"fmt"
	"math"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/vec"
)

// Model is a network prepared for passes over batches of up to Batch rows: it owns the
// activation and gradient buffers, so a training step allocates nothing. A Model is not safe
// for concurrent use; give each goroutine its own.
type Model struct {
	Net   *Network
	Batch int
	BLAS  blas.Impl

	layers []layer
	// Grads holds one gradient per parameter, in Net.Params order.
	Grads [][]float32

	logits []float32 // Batch×Output
	dz     []float32 // scratch: gradient w.r.t. the pre-activation of the current layer
	dh     []float32 // scratch: gradient w.r.t. the input of the current layer
	acc    []float64 // scratch: float64 column accumulators, 2×widest layer
}

// layer is one linear layer with its buffers. For hidden layers: z = x·Wᵀ + b, optional
// LayerNorm y = γ·(z−μ)/σ + β, and h = act(y), which is the next layer's input.
type layer struct {
	in, out          int
	w, b, g, beta    []float32 // parameters (b, g, beta may be nil)
	dw, db, dg, dbta []float32 // their gradients
	z, y, h          []float32 // Batch×out; y aliases z without LayerNorm
	mean, rstd       []float64 // per row, LayerNorm only
	hidden           bool
}

// NewModel prepares n for batches of up to batch rows, on the BLAS b.
func NewModel(n *Network, batch int, b blas.Impl) *Model {
	a := n.Arch
	m := &Model{Net: n, Batch: batch, BLAS: b}
	w := a.Widths()
	maxW := 0
	for _, x := range w {
		maxW = max(maxW, x)
	}
	m.Grads = make([][]float32, len(n.Params))
	grad := func(name string) []float32 {
		for i, p := range n.Params {
			if p.Name == name {
				m.Grads[i] = make([]float32, len(p.Data))
				return m.Grads[i]
			}
		}
		return nil
	}
	data := func(name string) []float32 {
		if p := n.Param(name); p != nil {
			return p.Data
		}
		return nil
	}
	for i := 0; i < a.Layers(); i++ {
		l := layer{in: w[i], out: w[i+1], hidden: i < len(a.Hidden)}
		l.w, l.dw = data(WeightName(i)), grad(WeightName(i))
		l.b, l.db = data(BiasName(i)), grad(BiasName(i))
		if l.hidden {
			l.z = make([]float32, batch*l.out)
			l.y = l.z
			if a.LayerNorm {
				l.g, l.dg = data(NormWeightName(i)), grad(NormWeightName(i))
				l.beta, l.dbta = data(NormBiasName(i)), grad(NormBiasName(i))
				l.y = make([]float32, batch*l.out)
				l.mean, l.rstd = make([]float64, batch), make([]float64, batch)
			}
			l.h = make([]float32, batch*l.out)
		}
		m.layers = append(m.layers, l)
	}
	m.logits = make([]float32, batch*a.Output)
	m.dz = make([]float32, batch*maxW)
	m.dh = make([]float32, batch*maxW)
	m.acc = make([]float64, 2*maxW)
	return m
}

// Forward computes the logits of the rows×Input batch x and returns them (rows×Output,
// valid until the next pass). It panics if rows exceeds the model's batch.
func (m *Model) Forward(x []float32, rows int) []float32 {
	if rows > m.Batch || len(x) < rows*m.Net.Arch.Input {
		panic(fmt.Errorf("%w: forward of %d rows (batch %d, %d values)", ErrShape, rows, m.Batch, len(x)))
	}
	act := m.Net.Arch.Activation
	in := x
	for i := range m.layers {
		l := &m.layers[i]
		out := m.logits
		if l.hidden {
			out = l.z
		}
		linear(m.BLAS, in, rows, l.w, l.b, l.in, l.out, out)
		if !l.hidden {
			break
		}
		if l.g != nil {
			layerNorm(l.z, l.y, l.g, l.beta, rows, l.out, l.mean, l.rstd)
		}
		activate(act, l.y[:rows*l.out], l.h[:rows*l.out])
		in = l.h
	}
	return m.logits[:rows*m.Net.Arch.Output]
}

// Hidden returns the post-activation outputs of hidden layer l for the rows of the last
// Forward (rows×Hidden[l], valid until the next pass): what activation matching compares.
func (m *Model) Hidden(l, rows int) []float32 {
	return m.layers[l].h[:rows*m.layers[l].out]
}

// linear computes out = x·Wᵀ + b for rows rows: the bias is copied into out first and the
// GEMM accumulates onto it (beta = 1), which saves a pass over out.
func linear(b blas.Impl, x []float32, rows int, w, bias []float32, in, outW int, out []float32) {
	beta := float32(0)
	if bias != nil {
		for r := 0; r < rows; r++ {
			copy(out[r*outW:(r+1)*outW], bias)
		}
		beta = 1
	}
	b.Sgemm(false, true, rows, outW, in, 1, x, in, w, in, beta, out, outW)
}

// Backward computes the gradients of the loss whose gradient with respect to the logits is
// dlogits (rows×Output), for the batch x last passed to Forward. Gradients overwrite
// m.Grads. The input gradient of the first layer is not computed: inputs are data.
func (m *Model) Backward(x []float32, rows int, dlogits []float32) {
	act := m.Net.Arch.Activation
	dz := m.dz[:rows*m.Net.Arch.Output]
	copy(dz, dlogits)
	for i := len(m.layers) - 1; i >= 0; i-- {
		l := &m.layers[i]
		in := x
		if i > 0 {
			in = m.layers[i-1].h
		}
		// dW = dzᵀ·in (out×in); db = column sums of dz.
		m.BLAS.Sgemm(true, false, l.out, l.in, rows, 1, dz, l.out, in, l.in, 0, l.dw, l.in)
		if l.db != nil {
			colSums(dz, rows, l.out, l.db, m.acc[:l.out])
		}
		if i == 0 {
			break
		}
		// dh = dz·W (rows×in), the gradient w.r.t. the previous layer's output.
		dh := m.dh[:rows*l.in]
		m.BLAS.Sgemm(false, false, rows, l.in, l.out, 1, dz, l.out, l.w, l.in, 0, dh, l.in)
		prev := &m.layers[i-1]
		next := m.dz[:rows*prev.out]
		activateBackward(act, prev.y[:rows*prev.out], prev.h[:rows*prev.out], dh, next)
		if prev.g != nil {
			layerNormBackward(prev.z, prev.g, prev.mean, prev.rstd, rows, prev.out, next, prev.dg, prev.dbta, m.acc)
		}
		dz = next
	}
}

// colSums sets dst[j] = Σ_r m[r][j], accumulating in float64 in acc (len cols).
func colSums(m []float32, rows, cols int, dst []float32, acc []float64) {
	clear(acc)
	for r := 0; r < rows; r++ {
		row := m[r*cols : (r+1)*cols]
		for j, v := range row {
			acc[j] += float64(v)
		}
	}
	for j := range dst {
		dst[j] = float32(acc[j])
	}
}

// activate sets h = act(y).
func activate(act string, y, h []float32) {
	switch act {
	case "relu":
		vec.Relu(y, h)
	case "tanh":
		for i, v := range y {
			h[i] = float32(math.Tanh(float64(v)))
		}
	case "gelu":
		for i, v := range y {
			x := float64(v)
			h[i] = float32(0.5 * x * (1 + math.Erf(x/math.Sqrt2)))
		}
	default:
		panic(fmt.Errorf("%w: unknown activation %q", ErrShape, act))
	}
}

// activateBackward sets dy = dh ⊙ act'(y), with h = act(y) from the forward pass.
func activateBackward(act string, y, h, dh, dy []float32) {
	switch act {
	case "relu":
		vec.ReluBackward(y, dh, dy)
	case "tanh":
		for i, t := range h {
			dy[i] = dh[i] * (1 - t*t)
		}
	case "gelu":
		const invSqrt2Pi = 0.3989422804014327
		for i, v := range y {
			x := float64(v)
			cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
			pdf := invSqrt2Pi * math.Exp(-0.5*x*x)
			dy[i] = dh[i] * float32(cdf+x*pdf)
		}
	}
}

// layerNormEps is PyTorch's default.
const layerNormEps = 1e-5

// layerNorm sets y = γ·(z−μ)/σ + β per row, recording μ and 1/σ for the backward pass.
func layerNorm(z, y, g, beta []float32, rows, cols int, mean, rstd []float64) {
	for r := 0; r < rows; r++ {
		row := z[r*cols : (r+1)*cols]
		var s float64
		for _, v := range row {
			s += float64(v)
		}
		mu := s / float64(cols)
		var ss float64
		for _, v := range row {
			d := float64(v) - mu
			ss += d * d
		}
		rs := 1 / math.Sqrt(ss/float64(cols)+layerNormEps)
		mean[r], rstd[r] = mu, rs
		out := y[r*cols : (r+1)*cols]
		for j, v := range row {
			out[j] = float32((float64(v)-mu)*rs)*g[j] + beta[j]
		}
	}
}

// layerNormBackward turns d (the gradient w.r.t. y, rows×cols) into the gradient w.r.t. z in
// place, and sets dg and dbeta.
// acc is scratch of at least 2×cols.
func layerNormBackward(z, g []float32, mean, rstd []float64, rows, cols int, d []float32, dg, dbeta []float32, acc []float64) {
	accG, accB := acc[:cols], acc[cols:2*cols]
	clear(accG)
	clear(accB)
	n := float64(cols)
	for r := 0; r < rows; r++ {
		zr := z[r*cols : (r+1)*cols]
		dr := d[r*cols : (r+1)*cols]
		mu, rs := mean[r], rstd[r]
		// With x̂ = (z−μ)·rs and dx̂ = d·γ: dz = rs·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).
		var sumD, sumDX float64
		for j, v := range dr {
			xh := (float64(zr[j]) - mu) * rs
			dxh := float64(v) * float64(g[j])
			sumD += dxh
			sumDX += dxh * xh
			accG[j] += float64(v) * xh
			accB[j] += float64(v)
		}
		mD, mDX := sumD/n, sumDX/n
		for j, v := range dr {
			xh := (float64(zr[j]) - mu) * rs
			dxh := float64(v) * float64(g[j])
			dr[j] = float32(rs * (dxh - mD - xh*mDX))
		}
	}
	for j := range dg {
		dg[j] = float32(accG[j])
		dbeta[j] = float32(accB[j])
	}
}

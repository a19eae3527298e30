package nn

import (
	"fmt"
	"math"
	"slices"

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
	owner  []int // the layer of each parameter, in Net.Params order
	// Grads holds one gradient per parameter, in Net.Params order.
	Grads [][]float32

	x      []float32 // the batch of the last forward pass
	rows   int       // its rows
	logits []float32 // Batch×Output
	dh     []float32 // scratch: gradient w.r.t. the input of a layer, Batch×maxW
	maxW   int       // the widest layer

	first *firstT // a training model's first layer (newTrainingModel), or nil
}

// layer is one linear layer with its buffers. For hidden layers: z = x·Wᵀ + b, optional
// LayerNorm y = γ·(z−μ)/σ + β, and h = act(y), which is the next layer's input.
type layer struct {
	in, out          int
	w, b, g, beta    []float32 // parameters (b, g, beta may be nil)
	dw, db, dg, dbta []float32 // their gradients
	z, y, h          []float32 // Batch×out; y aliases z without LayerNorm
	mean, rstd       []float64 // per row, LayerNorm only
	// dz is the gradient w.r.t. z and dy the one w.r.t. y (Batch×out; dy aliases dz without
	// LayerNorm), kept from the backward pass for the parameter gradients.
	dz, dy []float32
	hidden bool
	wi     int // the index of w in Net.Params
}

// NewModel prepares n for batches of up to batch rows, on the BLAS b.
func NewModel(n *Network, batch int, b blas.Impl) *Model { return newModel(n, batch, b, true) }

// newModel is NewModel, without the buffers of the backward pass unless backward: a model
// that only evaluates needs a third of the memory (for 2048-wide layers and chunks of 1,000
// examples, 72 MB instead of 220).
func newModel(n *Network, batch int, b blas.Impl, backward bool) *Model {
	a := n.Arch
	m := &Model{Net: n, Batch: batch, BLAS: b}
	w := a.Widths()
	maxW := 0
	for _, x := range w {
		maxW = max(maxW, x)
	}
	m.Grads = make([][]float32, len(n.Params))
	m.owner = make([]int, len(n.Params))
	cur := 0
	grad := func(name string) []float32 {
		for i, p := range n.Params {
			if p.Name == name {
				m.owner[i] = cur
				if backward {
					m.Grads[i] = make([]float32, len(p.Data))
				}
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
		cur = i
		l := layer{in: w[i], out: w[i+1], hidden: i < len(a.Hidden)}
		l.w, l.dw = data(WeightName(i)), grad(WeightName(i))
		l.wi = slices.IndexFunc(n.Params, func(p *Param) bool { return p.Name == WeightName(i) })
		l.b, l.db = data(BiasName(i)), grad(BiasName(i))
		if backward {
			l.dz = make([]float32, batch*l.out)
			l.dy = l.dz
		}
		if l.hidden {
			l.z = make([]float32, batch*l.out)
			l.y = l.z
			if a.LayerNorm {
				l.g, l.dg = data(NormWeightName(i)), grad(NormWeightName(i))
				l.beta, l.dbta = data(NormBiasName(i)), grad(NormBiasName(i))
				l.y = make([]float32, batch*l.out)
				if backward {
					l.dy = make([]float32, batch*l.out)
				}
				l.mean, l.rstd = make([]float64, batch), make([]float64, batch)
			}
			l.h = make([]float32, batch*l.out)
		}
		m.layers = append(m.layers, l)
	}
	m.logits = make([]float32, batch*a.Output)
	if backward {
		m.dh = make([]float32, batch*maxW)
	}
	m.maxW = maxW
	return m
}

// Forward computes the logits of the rows×Input batch x and returns them (rows×Output,
// valid until the next pass). It panics if rows exceeds the model's batch.
func (m *Model) Forward(x []float32, rows int) []float32 {
	m.start(x, rows)
	m.forwardPart(0, 1)
	return m.logits[:rows*m.Net.Arch.Output]
}

// start begins a pass over the rows×Input batch x. The pass may then be split in parts:
// each part's rows (partRows) go through forwardPart and backwardPart, concurrently with
// the other parts', and once every part is through, each part computes its share of the
// parameter gradients (gradients), again concurrently.
func (m *Model) start(x []float32, rows int) {
	if rows > m.Batch || len(x) < rows*m.Net.Arch.Input {
		panic(fmt.Errorf("%w: forward of %d rows (batch %d, %d values)", ErrShape, rows, m.Batch, len(x)))
	}
	m.x, m.rows = x, rows
}

// partRows returns the rows of the batch that part part of parts goes forward and back
// with.
func (m *Model) partRows(part, parts int) (r0, r1 int) {
	return m.rows * part / parts, m.rows * (part + 1) / parts
}

// forwardPart computes the logits of part part of parts of the batch given to start;
// batchLogits returns them.
func (m *Model) forwardPart(part, parts int) {
	r0, r1 := m.partRows(part, parts)
	act := m.Net.Arch.Activation
	in, inW := m.x, m.Net.Arch.Input
	n := r1 - r0
	for i := range m.layers {
		l := &m.layers[i]
		out := m.logits
		if l.hidden {
			out = l.z
		}
		lo, hi := r0*l.out, r1*l.out
		// A training model's ReLU layers add the bias in the ReLU's pass over z (one pass
		// less). Other models keep the bias-first GEMM: evaluation's bits stay as they were.
		fused := m.first != nil && l.hidden && l.g == nil && l.b != nil && act == "relu"
		bias := l.b
		if fused {
			bias = nil
		}
		if i == 0 && m.first != nil {
			m.first.forward(m, part, r0, r1, bias, out)
		} else {
			linear(m.BLAS, in[r0*inW:], n, l.w, false, bias, l.in, l.out, out[lo:])
		}
		if !l.hidden {
			break
		}
		if l.g != nil {
			layerNorm(l.z[lo:hi], l.y[lo:hi], l.g, l.beta, n, l.out, l.mean[r0:r1], l.rstd[r0:r1])
		}
		if fused {
			vec.BiasRelu(l.z[lo:hi], l.b, l.h[lo:hi], n, l.out)
		} else {
			activate(act, l.y[lo:hi], l.h[lo:hi])
		}
		in, inW = l.h, l.out
	}
}

// batchLogits returns the logits of the batch's rows (rows×Output), valid until the next pass.
func (m *Model) batchLogits() []float32 { return m.logits[:m.rows*m.Net.Arch.Output] }

// Hidden returns the post-activation outputs of hidden layer l for the rows of the last
// Forward (rows×Hidden[l], valid until the next pass): what activation matching compares.
func (m *Model) Hidden(l, rows int) []float32 {
	return m.layers[l].h[:rows*m.layers[l].out]
}

// linear computes out = x·Wᵀ + b for rows rows, W stored out×in, or in×out when wT (a
// training model's first layer): the bias (nil for none) is copied into out first and the
// GEMM accumulates onto it (beta = 1), which saves a pass over out.
func linear(b blas.Impl, x []float32, rows int, w []float32, wT bool, bias []float32, in, outW int, out []float32) {
	beta := float32(0)
	if bias != nil {
		for r := 0; r < rows; r++ {
			copy(out[r*outW:(r+1)*outW], bias)
		}
		beta = 1
	}
	if wT {
		b.Sgemm(false, false, rows, outW, in, 1, x, in, w, outW, beta, out, outW)
		return
	}
	b.Sgemm(false, true, rows, outW, in, 1, x, in, w, in, beta, out, outW)
}

// Backward computes the gradients of the loss whose gradient with respect to the logits is
// dlogits (rows×Output), for the batch x last passed to Forward. Gradients overwrite
// m.Grads. The input gradient of the first layer is not computed: inputs are data.
func (m *Model) Backward(x []float32, rows int, dlogits []float32) {
	if rows != m.rows || len(x) < rows*m.Net.Arch.Input {
		panic(fmt.Errorf("%w: backward of %d rows after a forward of %d", ErrShape, rows, m.rows))
	}
	m.x = x
	m.backwardPart(0, 1, dlogits)
	m.gradients(0, 1, nil, nil)
}

// backwardPart carries the gradient of the loss back through part part of parts of the
// batch, from dlogits, the gradient w.r.t. the part's logits (its rows×Output), after
// forwardPart of the same part. It keeps each layer's gradients w.r.t. its outputs for
// gradients.
func (m *Model) backwardPart(part, parts int, dlogits []float32) {
	r0, r1 := m.partRows(part, parts)
	act := m.Net.Arch.Activation
	n := r1 - r0
	last := &m.layers[len(m.layers)-1]
	copy(last.dz[r0*last.out:r1*last.out], dlogits[:n*last.out])
	for i := len(m.layers) - 1; i > 0; i-- {
		l, prev := &m.layers[i], &m.layers[i-1]
		// dh = dz·W (rows×in), the gradient w.r.t. the previous layer's output.
		dh := m.dh[r0*m.maxW : r0*m.maxW+n*l.in] // rows [r0, r1) own this region for every layer
		m.BLAS.Sgemm(false, false, n, l.in, l.out, 1, l.dz[r0*l.out:], l.out, l.w, l.in, 0, dh, l.in)
		lo, hi := r0*prev.out, r1*prev.out
		activateBackward(act, prev.y[lo:hi], prev.h[lo:hi], dh, prev.dy[lo:hi])
		if prev.g != nil {
			layerNormBackward(prev.z[lo:hi], prev.g, prev.mean[r0:r1], prev.rstd[r0:r1], n, prev.out, prev.dy[lo:hi], prev.dz[lo:hi])
		}
	}
}

// gradients computes part part of parts of the parameter gradients from the whole batch,
// once backwardPart has covered every part: the part's share of each layer's output units
// (rows of W, and their biases and LayerNorm parameters; see paramPart). Parts may run
// concurrently; together they overwrite m.Grads. done, if not nil, is called with each
// layer's index once the part's share of its gradients is ready, so that training can
// update those parameters while they are in cache. into, when not nil, holds per layer nil
// or a buffer shaped as its weight's gradient that the weight's gradient is added to
// instead of being written to m.Grads (training adds it to SGD's momentum: see
// Optimizer.addToMomentum).
func (m *Model) gradients(part, parts int, into [][]float32, done func(layer int)) {
	for i := range m.layers {
		m.layerGradients(i, part, parts, into)
		if done != nil {
			done(i)
		}
	}
}

// layerGradients is gradients for layer i alone: part part of parts of its parameters'
// gradients, from the whole batch's dz and inputs.
func (m *Model) layerGradients(i, part, parts int, into [][]float32) {
	rows := m.rows
	l := &m.layers[i]
	dw, beta := l.dw, float32(0)
	if into != nil && into[i] != nil {
		dw, beta = into[i], 1
	}
	if i == 0 && m.first != nil {
		m.first.gradient(m, part, parts, dw, beta == 1)
	}
	if j0, j1 := share(l.out, part, parts); j0 < j1 {
		in := m.x
		if i > 0 {
			in = m.layers[i-1].h
		}
		// dW = dzᵀ·in (out×in); db = column sums of dz.
		if i > 0 || m.first == nil {
			m.BLAS.Sgemm(true, false, j1-j0, l.in, rows, 1, l.dz[j0:], l.out, in, l.in, beta, dw[j0*l.in:], l.in)
		}
		if l.db != nil {
			vec.ColSums(l.dz, rows, l.out, j0, j1, l.db)
		}
		if l.g != nil {
			layerNormGrads(l.z, l.dy, l.mean, l.rstd, rows, l.out, j0, j1, l.dg, l.dbta)
		}
	}
}

// layerParams returns the indices in Net.Params of layer l's parameters.
func (m *Model) layerParams(l int) []int {
	var idx []int
	for i, o := range m.owner {
		if o == l {
			idx = append(idx, i)
		}
	}
	return idx
}

// paramPart returns the range of parameter i's elements whose gradients part part of parts of
// gradients computes.
func (m *Model) paramPart(i, part, parts int) (lo, hi int) {
	p := m.Net.Params[i]
	l := &m.layers[m.owner[i]]
	if m.first != nil && i == m.layers[0].wi {
		return m.first.part(part, parts)
	}
	j0, j1 := share(l.out, part, parts)
	row := len(p.Data) / l.out // in for a weight, 1 for a vector
	return j0 * row, j1 * row
}

// share is part part of parts of n units, cut at multiples of 16 so that each part's GEMM
// works on whole blocks of rows.
func share(n, part, parts int) (lo, hi int) {
	cut := func(k int) int {
		if k == parts {
			return n
		}
		return min(n, (n*k/parts)/16*16)
	}
	return cut(part), cut(part + 1)
}

// sumBlock is how many columns layerNormGrads adds up at a time, in float64 accumulators on
// the stack (so that parts running concurrently share no scratch).
const sumBlock = 64

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

// layerNormBackward sets dz, the gradient w.r.t. z, from d, the gradient w.r.t. y, for
// rows rows (rows×cols each).
func layerNormBackward(z, g []float32, mean, rstd []float64, rows, cols int, d, dz []float32) {
	n := float64(cols)
	for r := 0; r < rows; r++ {
		zr := z[r*cols : (r+1)*cols]
		dr := d[r*cols : (r+1)*cols]
		out := dz[r*cols : (r+1)*cols]
		mu, rs := mean[r], rstd[r]
		// With x̂ = (z−μ)·rs and dx̂ = d·γ: dz = rs·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).
		var sumD, sumDX float64
		for j, v := range dr {
			xh := (float64(zr[j]) - mu) * rs
			dxh := float64(v) * float64(g[j])
			sumD += dxh
			sumDX += dxh * xh
		}
		mD, mDX := sumD/n, sumDX/n
		for j, v := range dr {
			xh := (float64(zr[j]) - mu) * rs
			dxh := float64(v) * float64(g[j])
			out[j] = float32(rs * (dxh - mD - xh*mDX))
		}
	}
}

// layerNormGrads sets the gradients of γ and β for columns [j0, j1) from d, the gradient
// w.r.t. y, over rows rows.
func layerNormGrads(z, d []float32, mean, rstd []float64, rows, cols, j0, j1 int, dg, dbeta []float32) {
	for b0 := j0; b0 < j1; b0 += sumBlock {
		b1 := min(b0+sumBlock, j1)
		var accG, accB [sumBlock]float64
		for r := 0; r < rows; r++ {
			zr := z[r*cols+b0 : r*cols+b1]
			mu, rs := mean[r], rstd[r]
			for j, v := range d[r*cols+b0 : r*cols+b1] {
				xh := (float64(zr[j]) - mu) * rs
				accG[j] += float64(v) * xh
				accB[j] += float64(v)
			}
		}
		for j := b0; j < b1; j++ {
			dg[j] = float32(accG[j-b0])
			dbeta[j] = float32(accB[j-b0])
		}
	}
}

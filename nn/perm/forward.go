package perm

import (
	"math"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
)

// layerNormEps is PyTorch's default, as in package nn.
const layerNormEps = 1e-5

// forward is an MLP forward pass that keeps every hidden layer's post-activation output,
// which activation matching needs and nn.Model keeps to itself. It repeats nn's arithmetic
// (the same GEMM calls, LayerNorm in float64, the same activation formulas), so its logits
// match nn.Model.Forward; a test holds the two together.
type forward struct {
	arch   nn.Arch
	v      layers
	impl   blas.Impl
	batch  int
	z      [][]float32 // per hidden layer: pre-activation (after LayerNorm when present)
	h      [][]float32 // per hidden layer: post-activation, batch×width
	logits []float32
}

func newForward(arch nn.Arch, v layers, batch int, impl blas.Impl) *forward {
	f := &forward{arch: arch, v: v, impl: impl, batch: batch, logits: make([]float32, batch*arch.Output)}
	for _, w := range arch.Hidden {
		f.z = append(f.z, make([]float32, batch*w))
		f.h = append(f.h, make([]float32, batch*w))
	}
	return f
}

// run computes the rows×Input batch x (rows ≤ batch), filling f.h and f.logits.
func (f *forward) run(x []float32, rows int) []float32 {
	return f.runLayers(x, rows, f.arch.Layers())
}

// runLayers computes the first k linear layers of the rows×Input batch x (rows ≤ batch), with
// their norms and activations: k = len(Hidden) fills f.h only, which is all activation
// matching needs; k = Layers() also the logits, which it returns.
func (f *forward) runLayers(x []float32, rows, k int) []float32 {
	w := f.arch.Widths()
	in := x
	for i := 0; i < k; i++ {
		out := f.logits
		if i < len(f.arch.Hidden) {
			out = f.z[i]
		}
		linear(f.impl, in, rows, f.v.w[i], f.v.b[i], w[i], w[i+1], out)
		if i == len(f.arch.Hidden) {
			break
		}
		z := out[:rows*w[i+1]]
		if f.v.g != nil && f.v.g[i] != nil {
			layerNorm(z, f.v.g[i], f.v.beta[i], rows, w[i+1])
		}
		activate(f.arch.Activation, z, f.h[i][:rows*w[i+1]])
		in = f.h[i]
	}
	return f.logits[:rows*f.arch.Output]
}

// linear sets out = x·Wᵀ + b as nn does: the bias is copied in first and the GEMM
// accumulates onto it.
func linear(impl blas.Impl, x []float32, rows int, w, bias []float32, in, outW int, out []float32) {
	beta := float32(0)
	if bias != nil {
		for r := 0; r < rows; r++ {
			copy(out[r*outW:(r+1)*outW], bias)
		}
		beta = 1
	}
	impl.Sgemm(false, true, rows, outW, in, 1, x, in, w, in, beta, out, outW)
}

// layerNorm sets z = γ·(z−μ)/σ + β per row, in place, with nn's float64 statistics.
func layerNorm(z, g, beta []float32, rows, cols int) {
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
		for j, v := range row {
			row[j] = float32((float64(v)-mu)*rs)*g[j] + beta[j]
		}
	}
}

// activate sets h = act(y) with nn's formulas.
func activate(act string, y, h []float32) {
	switch act {
	case "relu":
		for i, v := range y {
			h[i] = max(v, 0)
		}
	case "tanh":
		for i, v := range y {
			h[i] = float32(math.Tanh(float64(v)))
		}
	case "gelu":
		for i, v := range y {
			x := float64(v)
			h[i] = float32(0.5 * x * (1 + math.Erf(x/math.Sqrt2)))
		}
	}
}

// Package vec holds the elementwise float32 kernels of training that are not GEMMs: the
// optimiser updates, ReLU and its derivative, masking. They run once per parameter or
// activation per step, so in plain Go loops (scalar, bounds-checked) they cost as much as
// all the GEMMs of an MLP epoch. With cgo they are C loops that gcc vectorises, compiled for
// AVX-512, AVX2 and plain x86-64 and chosen at run time by the CPU (target_clones); without
// cgo the same arithmetic runs in Go, giving the same bits.
//
// Every function panics with ErrLength if its slices are shorter than the first one.
package vec

import "errors"

// ErrLength is the panic value for slices of mismatched lengths.
var ErrLength = errors.New("vec: slice lengths differ")

func check(n int, xs ...[]float32) {
	for _, x := range xs {
		if len(x) < n {
			panic(ErrLength)
		}
	}
}

// SGD applies one SGD step to w: d = g + wd·w; with momentum (buf not nil)
// buf = mu·buf + d, and d = d + mu·buf (Nesterov) or d = buf; then w −= lr·d. A zero buf
// on the first step gives buf = d, as PyTorch does. The buf kept for the next step is
// flushed to zero when subnormal, as in SGDAdded.
func SGD(w, g, buf []float32, lr, mu, wd float32, nesterov bool) {
	check(len(w), g)
	if buf != nil {
		check(len(w), buf)
	}
	sgd(w, g, buf, lr, mu, wd, nesterov)
}

// SGDAdded applies one SGD step with momentum to w whose gradient ∇ has already been
// added to buf, which held mu·buf from the step before: b = buf + wd·w (buf + ∇ + wd·w,
// PyTorch's mu·buf + d but for the order of the two additions), w −= lr·b, and buf = mu·b
// for the next step's gradient to be added to. A GEMM adds the gradient to buf (beta 1)
// instead of writing it to a buffer of its own, and this pass reads two arrays rather
// than three: on MNIST's 784-512-512-512-10 the optimiser's time falls by about a third
// (CPU profiles of six epochs: 0.50-0.61 s against 0.32-0.47 s).
//
// The buf kept for the next step is flushed to zero when it is subnormal (below 2⁻¹²⁶ in
// magnitude). The momentum of a weight whose gradient stays zero (an input pixel that is
// almost always blank, a dead unit) decays by mu every step and turns subnormal after some
// 700 steps at mu = 0.9: after two MNIST epochs 1.3% of the first layer's buffer was, and
// more every epoch. Arithmetic on subnormals is slow on x86 (microcode assists of a hundred
// cycles or more on Intel; +10% for this pass at 1.3% on Zen 5), in this pass and in the
// GEMM that adds the next gradient to buf, so that every epoch after the first ran slower
// than the first. The flush changes no weight: lr·b of a subnormal b is far below half an
// ulp of any weight above 2⁻¹⁰⁰, and a gradient added to a flushed buf rounds to the same
// value unless it is itself below 2⁻¹⁰² (multi-epoch MNIST runs keep their bits).
func SGDAdded(w, buf []float32, lr, mu, wd float32) {
	check(len(w), buf)
	sgdAdded(w, buf, lr, mu, wd)
}

// Adam applies one Adam step: d = g (+ wd·w unless decoupled); m = b1·m + (1−b1)·d;
// v = b2·v + (1−b2)·d²; w −= step·m/(√v/sqrtC2 + eps), with step = lr/c1 precomputed for the
// bias correction; decoupled weight decay first scales w by (1 − lr·wd).
func Adam(w, g, m, v []float32, lr, step, b1, b2, eps, wd, sqrtC2 float32, decoupled bool) {
	check(len(w), g, m, v)
	adam(w, g, m, v, lr, step, b1, b2, eps, wd, sqrtC2, decoupled)
}

// Relu sets h = max(y, 0).
func Relu(y, h []float32) {
	check(len(y), h)
	relu(y, h)
}

// ReluBackward sets dy = dh where y > 0, else 0.
func ReluBackward(y, dh, dy []float32) {
	check(len(y), dh, dy)
	reluBackward(y, dh, dy)
}

// BiasRelu adds the bias b (cols values) to every row of the rows×cols z, in place, and
// sets h = max(z, 0): a hidden layer's bias and ReLU in one pass over z.
func BiasRelu(z, b, h []float32, rows, cols int) { BiasReluLD(z, b, h, rows, cols, cols) }

// BiasReluLD is BiasRelu on the rows×cols blocks of z and h whose rows are ld apart: the
// columns of a layer's outputs that one core computes when the units are split.
func BiasReluLD(z, b, h []float32, rows, cols, ld int) {
	checkBlock(rows, cols, ld, z, h)
	check(cols, b)
	biasRelu(z, b, h, rows, cols, ld)
}

// ReluBackwardSum sets dy = a + b where y > 0, else 0, on rows×cols blocks whose rows are
// ld apart; b may be nil (dy = a where y > 0). a and b are two halves of the gradient
// w.r.t. a layer's output, summed as one float32 addition, so the result does not depend
// on which core adds them.
func ReluBackwardSum(y, a, b, dy []float32, rows, cols, ld int) {
	if b != nil {
		checkBlock(rows, cols, ld, b)
	}
	checkBlock(rows, cols, ld, y, a, dy)
	reluBackwardSum(y, a, b, dy, rows, cols, ld)
}

// checkBlock panics with ErrLength unless every x holds a rows×cols block with rows ld
// apart.
func checkBlock(rows, cols, ld int, xs ...[]float32) {
	if rows < 0 || cols < 0 || ld < cols {
		panic(ErrLength)
	}
	if rows == 0 || cols == 0 {
		return
	}
	check((rows-1)*ld+cols, xs...)
}

// ColSums sets dst[j] = Σ_r m[r][j] for the columns j in [j0, j1) of the rows×cols m,
// adding in float64 in row order.
func ColSums(m []float32, rows, cols, j0, j1 int, dst []float32) {
	check(rows*cols, m)
	if j0 < 0 || j1 > cols || j0 > j1 || len(dst) < j1 {
		panic(ErrLength)
	}
	colSums(m, rows, cols, j0, j1, dst)
}

// Mul sets x = x·m elementwise (applying a 0/1 mask).
func Mul(x, m []float32) {
	check(len(m), x)
	mul(x, m)
}

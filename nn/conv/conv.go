// Package conv holds the image layers that VGG and ResNet are built from: 2-D convolution,
// 2×2 max-pooling and global average pooling, forward and backward, on batches of images in
// PyTorch's NCHW layout (row-major n×c×h×w float32, width fastest).
//
// A 3×3 convolution of stride 1 and padding 1 (most of VGG's and ResNet's) runs, where cgo
// is available, on kernels in C (kernels.h, chosen in kernels_cgo.go by the shape): between
// multiples of 16 channels, on Winograd's F(4×4, 3×3) (the forward pass and input gradient,
// on planes whose sides are multiples of 4, up to 64×64 channels) and F(2×2, 3×3) (even
// planes, 48 channels or more on the two sides: the weight gradient, and the rest where
// F(4×4) does not run); on planes of 2×2 or less as a dense layer; otherwise, and for the
// weight gradient between 16 channels, on direct kernels: each tile of output channels ×
// positions is held in vector registers while the input channels stream past, and the
// backward pass is the same kernel on the flipped, transposed weight plus a tile of
// weight-gradient dot products. A 3×3 convolution of stride 2 (ResNet's first of a stage)
// runs its forward pass and weight gradient on the same kernels, at every other position,
// and its input gradient on the GEMM. Other convolutions are computed per image as one GEMM
// on the tuned BLAS: the image is unfolded into columns (im2col: (c·k·k) × (oh·ow)), the
// weight (out × c·k·k, PyTorch's out×in×k×k flattened) multiplies them, and the backward
// pass folds the columns' gradient back (col2im). The order of every sum is fixed by the
// shapes alone, so results are the same bits on every run on the same machine with the
// same BLAS (the kernels pick their vector width from the CPU).
//
// Misuse (slices of the wrong length) panics with ErrShape, as package blas does; there is
// no data-dependent failure.
package conv

import (
	"errors"
	"fmt"

	"github.com/modulo-ml/modulo/nn/blas"
)

// GradGroup is how many images a direct kernel's weight gradient sums before it adds them
// to the gradient (stride 1 or 2). A batch run in passes of a multiple of it gets the weight
// gradient of one pass, to the bit; the other convolutions add theirs image by image.
const GradGroup = 8

// ErrShape is the panic value of a call whose slices do not match the shapes it was given.
var ErrShape = errors.New("conv: slice length does not match the shape")

// Conv2D is a square convolution of In channels to Out channels with a K×K kernel, stride
// Stride and zero padding Pad on every side (PyTorch's nn.Conv2d(in, out, k, stride,
// padding)).
type Conv2D struct {
	In, Out, K, Stride, Pad int
}

// OutSize is the output's height and width for an h×w input.
func (c Conv2D) OutSize(h, w int) (oh, ow int) {
	return (h+2*c.Pad-c.K)/c.Stride + 1, (w+2*c.Pad-c.K)/c.Stride + 1
}

// Validate says what is wrong with c for h×w inputs, if anything.
func (c Conv2D) Validate(h, w int) error {
	switch {
	case c.In < 1 || c.Out < 1 || c.K < 1 || c.Stride < 1 || c.Pad < 0:
		return fmt.Errorf("a convolution needs positive channels, kernel and stride and a padding ≥ 0, got %+v", c)
	case h+2*c.Pad < c.K || w+2*c.Pad < c.K:
		return fmt.Errorf("a %d×%d kernel does not fit a %d×%d input padded by %d", c.K, c.K, h, w, c.Pad)
	}
	return nil
}

// ColSize is the length of the scratch buffer Forward and Backward need for h×w inputs:
// one image's columns, or the direct kernels' padded planes.
func (c Conv2D) ColSize(h, w int) int {
	if c.direct() {
		return direct3Size(c.In, c.Out, h, w)
	}
	oh, ow := c.OutSize(h, w)
	if c.direct2() {
		return max(direct3s2Size(c.In, c.Out, h, w), c.In*c.K*c.K*oh*ow)
	}
	return c.In * c.K * c.K * oh * ow
}

// PrepSize is the length of Prepare's buffer for h×w inputs: the weight in the layouts the
// direct kernels read; 0 for a convolution on the GEMM, which reads the weight as it is.
func (c Conv2D) PrepSize(h, w int) int {
	if c.direct() {
		return direct3PrepSize(c.In, c.Out, h, w)
	}
	if c.direct2() {
		return direct3s2PrepSize(c.In, c.Out)
	}
	return 0
}

// Prepare writes to prep (PrepSize) the layouts of weight and bias (nil: none) that
// Forward and Backward read for h×w inputs. A batch run in passes prepares them once, not
// at every pass: for VGG's 128-channel layers on 4×4 and 2×2 images, rearranging the
// weight took longer than convolving eight images. They are stale once weight or bias
// change.
func (c Conv2D) Prepare(weight, bias []float32, h, w int, prep []float32) {
	if len(weight) != c.Out*c.In*c.K*c.K || bias != nil && len(bias) != c.Out || len(prep) != c.PrepSize(h, w) {
		panic(ErrShape)
	}
	if c.direct() {
		conv3Prepare(c.In, c.Out, h, w, weight, bias, prep)
	}
	if c.direct2() {
		conv3s2Prepare(c.In, c.Out, weight, bias, prep)
	}
}

// pointwise says whether c's columns are its input (a 1×1 convolution of stride 1).
func (c Conv2D) pointwise() bool { return c.K == 1 && c.Stride == 1 && c.Pad == 0 }

// direct says whether c runs on the direct 3×3 kernels.
func (c Conv2D) direct() bool { return direct3 && c.K == 3 && c.Stride == 1 && c.Pad == 1 }

// direct2 says whether c is a 3×3 convolution of stride 2 whose forward pass and weight
// gradient run on the direct kernels.
func (c Conv2D) direct2() bool { return direct3 && c.K == 3 && c.Stride == 2 && c.Pad == 1 }

// Forward computes y = conv(x) + bias for n images of In×h×w. weight is Out×In×K×K, bias
// has Out elements (nil: none), prep their layouts (Prepare), y is n×Out×oh×ow and col a
// scratch buffer of ColSize.
func (c Conv2D) Forward(b blas.Impl, x []float32, n, h, w int, weight, bias, prep, y, col []float32) {
	oh, ow := c.OutSize(h, w)
	kk := c.In * c.K * c.K
	c.check(x, n, h, w, weight, bias, y, col)
	if len(prep) != c.PrepSize(h, w) {
		panic(ErrShape)
	}
	if c.direct() {
		conv3Forward(x, n, c.In, h, w, c.Out, weight, bias, prep, y, col)
		return
	}
	if c.direct2() {
		conv3s2Forward(x, n, c.In, h, w, c.Out, bias, prep, y, col)
		return
	}
	in, out := c.In*h*w, c.Out*oh*ow
	for i := range n {
		cols := c.columns(x[i*in:(i+1)*in], h, w, col)
		yi := y[i*out : (i+1)*out]
		b.Sgemm(false, false, c.Out, oh*ow, kk, 1, weight, kk, cols, oh*ow, 0, yi, oh*ow)
		for o, bo := range bias {
			row := yi[o*oh*ow : (o+1)*oh*ow]
			for j := range row {
				row[j] += bo
			}
		}
	}
}

// columns returns one image's columns: the image itself for a pointwise convolution, else
// its im2col unfolding into col.
func (c Conv2D) columns(img []float32, h, w int, col []float32) []float32 {
	if c.pointwise() {
		return img
	}
	c.im2col(img, h, w, col)
	return col
}

// Backward adds the gradients of the loss with respect to weight and bias to dweight and
// dbias (nil: none) and writes the gradient with respect to x to dx (nil: not wanted),
// given dy, the gradient with respect to y. x, n, h, w, weight and prep are Forward's.
func (c Conv2D) Backward(b blas.Impl, x []float32, n, h, w int, weight, prep, dy, dx, dweight, dbias, col []float32) {
	oh, ow := c.OutSize(h, w)
	kk := c.In * c.K * c.K
	c.check(x, n, h, w, weight, dbias, dy, col)
	if len(dweight) != len(weight) || dx != nil && len(dx) != len(x) || len(prep) != c.PrepSize(h, w) {
		panic(ErrShape)
	}
	if c.direct() {
		conv3Backward(x, n, c.In, h, w, c.Out, prep, dy, dx, dweight, dbias, col)
		return
	}
	in, out := c.In*h*w, c.Out*oh*ow
	if c.direct2() {
		conv3s2Grads(x, n, c.In, h, w, c.Out, dy, dweight, dbias, col)
		if dx != nil {
			for i := range n {
				c.inputGrad(b, h, w, weight, dy[i*out:(i+1)*out], dx[i*in:(i+1)*in], col)
			}
		}
		return
	}
	for i := range n {
		dyi := dy[i*out : (i+1)*out]
		cols := c.columns(x[i*in:(i+1)*in], h, w, col)
		b.Sgemm(false, true, c.Out, kk, oh*ow, 1, dyi, oh*ow, cols, oh*ow, 1, dweight, kk)
		if dbias != nil {
			for o := range c.Out {
				var s float32
				for _, v := range dyi[o*oh*ow : (o+1)*oh*ow] {
					s += v
				}
				dbias[o] += s
			}
		}
		if dx != nil {
			c.inputGrad(b, h, w, weight, dyi, dx[i*in:(i+1)*in], col)
		}
	}
}

// inputGrad writes one image's input gradient dx = weightᵀ·dy on the GEMM: straight into dx
// for a 1×1 convolution of stride 1, whose columns are its input, else into the columns in
// col and folded back (col2im).
func (c Conv2D) inputGrad(b blas.Impl, h, w int, weight, dy, dx, col []float32) {
	oh, ow := c.OutSize(h, w)
	kk := c.In * c.K * c.K
	if c.pointwise() {
		b.Sgemm(true, false, kk, oh*ow, c.Out, 1, weight, kk, dy, oh*ow, 0, dx, oh*ow)
		return
	}
	col = col[:kk*oh*ow]
	b.Sgemm(true, false, kk, oh*ow, c.Out, 1, weight, kk, dy, oh*ow, 0, col, oh*ow)
	c.col2im(col, h, w, dx)
}

// check panics unless the slices fit the shapes.
func (c Conv2D) check(x []float32, n, h, w int, weight, bias, y, col []float32) {
	oh, ow := c.OutSize(h, w)
	if c.Validate(h, w) != nil || n < 0 || len(x) != n*c.In*h*w || len(weight) != c.Out*c.In*c.K*c.K ||
		bias != nil && len(bias) != c.Out || len(y) != n*c.Out*oh*ow || len(col) != c.ColSize(h, w) {
		panic(ErrShape)
	}
}

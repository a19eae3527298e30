// Package conv holds the image layers that VGG and ResNet are built from: 2-D convolution,
// 2×2 max-pooling and global average pooling, forward and backward, on batches of images in
// PyTorch's NCHW layout (row-major n×c×h×w float32, width fastest).
//
// A convolution is computed per image as one GEMM on the tuned BLAS: the image is unfolded
// into columns (im2col: (c·k·k) × (oh·ow)), the weight (out × c·k·k, PyTorch's
// out×in×k×k flattened) multiplies them, and the backward pass folds the columns' gradient
// back (col2im). The order of every sum is fixed by the shapes alone, so results are the
// same bits on every run with the same BLAS.
//
// Misuse (slices of the wrong length) panics with ErrShape, as package blas does; there is
// no data-dependent failure.
package conv

import (
	"errors"
	"fmt"

	"github.com/modulo-ml/modulo/nn/blas"
)

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
// one image's columns.
func (c Conv2D) ColSize(h, w int) int {
	oh, ow := c.OutSize(h, w)
	return c.In * c.K * c.K * oh * ow
}

// Forward computes y = conv(x) + bias for n images of In×h×w. weight is Out×In×K×K, bias
// has Out elements (nil: none), y is n×Out×oh×ow and col a scratch buffer of ColSize.
func (c Conv2D) Forward(b blas.Impl, x []float32, n, h, w int, weight, bias, y, col []float32) {
	oh, ow := c.OutSize(h, w)
	kk := c.In * c.K * c.K
	c.check(x, n, h, w, weight, bias, y, col)
	in, out := c.In*h*w, c.Out*oh*ow
	for i := range n {
		c.im2col(x[i*in:(i+1)*in], h, w, col)
		yi := y[i*out : (i+1)*out]
		b.Sgemm(false, false, c.Out, oh*ow, kk, 1, weight, kk, col, oh*ow, 0, yi, oh*ow)
		if bias != nil {
			for o := range c.Out {
				row := yi[o*oh*ow : (o+1)*oh*ow]
				for j := range row {
					row[j] += bias[o]
				}
			}
		}
	}
}

// Backward adds the gradients of the loss with respect to weight and bias to dweight and
// dbias (nil: none) and writes the gradient with respect to x to dx (nil: not wanted),
// given dy, the gradient with respect to y. x, n, h, w and weight are Forward's.
func (c Conv2D) Backward(b blas.Impl, x []float32, n, h, w int, weight, dy, dx, dweight, dbias, col []float32) {
	oh, ow := c.OutSize(h, w)
	kk := c.In * c.K * c.K
	c.check(x, n, h, w, weight, dbias, dy, col)
	if len(dweight) != len(weight) || dx != nil && len(dx) != len(x) {
		panic(ErrShape)
	}
	in, out := c.In*h*w, c.Out*oh*ow
	for i := range n {
		dyi := dy[i*out : (i+1)*out]
		c.im2col(x[i*in:(i+1)*in], h, w, col)
		b.Sgemm(false, true, c.Out, kk, oh*ow, 1, dyi, oh*ow, col, oh*ow, 1, dweight, kk)
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
			b.Sgemm(true, false, kk, oh*ow, c.Out, 1, weight, kk, dyi, oh*ow, 0, col, oh*ow)
			c.col2im(col, h, w, dx[i*in:(i+1)*in])
		}
	}
}

// check panics unless the slices fit the shapes.
func (c Conv2D) check(x []float32, n, h, w int, weight, bias, y, col []float32) {
	oh, ow := c.OutSize(h, w)
	if c.Validate(h, w) != nil || n < 0 || len(x) != n*c.In*h*w || len(weight) != c.Out*c.In*c.K*c.K ||
		bias != nil && len(bias) != c.Out || len(y) != n*c.Out*oh*ow || len(col) != c.ColSize(h, w) {
		panic(ErrShape)
	}
}

// im2col unfolds one image (In×h×w) into col: row (ch·K + ky)·K + kx holds, for every
// output position, the input pixel under kernel position (ky, kx) of channel ch (zero in
// the padding).
func (c Conv2D) im2col(img []float32, h, w int, col []float32) {
	oh, ow := c.OutSize(h, w)
	r := 0
	for ch := range c.In {
		plane := img[ch*h*w : (ch+1)*h*w]
		for ky := range c.K {
			for kx := range c.K {
				dst := col[r*oh*ow : (r+1)*oh*ow]
				for oy := range oh {
					iy := oy*c.Stride + ky - c.Pad
					row := dst[oy*ow : (oy+1)*ow]
					if iy < 0 || iy >= h {
						clear(row)
						continue
					}
					src := plane[iy*w : (iy+1)*w]
					for ox := range ow {
						ix := ox*c.Stride + kx - c.Pad
						if ix < 0 || ix >= w {
							row[ox] = 0
						} else {
							row[ox] = src[ix]
						}
					}
				}
				r++
			}
		}
	}
}

// col2im is im2col's adjoint: it writes to img (In×h×w) the sum, for every pixel, of the
// column entries that im2col copied from it.
func (c Conv2D) col2im(col []float32, h, w int, img []float32) {
	oh, ow := c.OutSize(h, w)
	clear(img)
	r := 0
	for ch := range c.In {
		plane := img[ch*h*w : (ch+1)*h*w]
		for ky := range c.K {
			for kx := range c.K {
				src := col[r*oh*ow : (r+1)*oh*ow]
				for oy := range oh {
					iy := oy*c.Stride + ky - c.Pad
					if iy < 0 || iy >= h {
						continue
					}
					dst := plane[iy*w : (iy+1)*w]
					for ox := range ow {
						if ix := ox*c.Stride + kx - c.Pad; ix >= 0 && ix < w {
							dst[ix] += src[oy*ow+ox]
						}
					}
				}
				r++
			}
		}
	}
}

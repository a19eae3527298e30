package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
)

// impls are the BLAS implementations every test runs on: the pure-Go one and the default
// (OpenBLAS where it loads).
func impls() []blas.Impl { return []blas.Impl{blas.Gonum(), blas.Default()} }

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// eachProduct calls f for every product of the definition of c on n h×w images, in order:
// output element yi (image, channel, row, column), for the bias with wi = xi = −1, then
// the terms weight[wi]·x[xi] of its sum (input channel, kernel row, kernel column; taps on
// the padding are none).
func eachProduct(c Conv2D, n, h, w int, f func(yi, wi, xi int)) {
	oh, ow := c.OutSize(h, w)
	for i := range n {
		for o := range c.Out {
			for oy := range oh {
				for ox := range ow {
					yi := ((i*c.Out+o)*oh+oy)*ow + ox
					f(yi, -1, -1)
					for ch := range c.In {
						for ky := range c.K {
							for kx := range c.K {
								iy, ix := oy*c.Stride+ky-c.Pad, ox*c.Stride+kx-c.Pad
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								f(yi, ((o*c.In+ch)*c.K+ky)*c.K+kx, ((i*c.In+ch)*h+iy)*w+ix)
							}
						}
					}
				}
			}
		}
	}
}

// refConv is a direct convolution in float64: the definition the kernels must match.
func refConv(c Conv2D, x []float64, n, h, w int, weight, bias []float64) []float64 {
	oh, ow := c.OutSize(h, w)
	y := make([]float64, n*c.Out*oh*ow)
	per := len(y) / max(n*c.Out, 1) // outputs per channel of an image
	eachProduct(c, n, h, w, func(yi, wi, xi int) {
		switch {
		case wi >= 0:
			y[yi] += weight[wi] * x[xi]
		case bias != nil:
			y[yi] = bias[yi/per%c.Out]
		}
	})
	return y
}

// refConvGrad is refConv's derivative in float64: the gradients of L = Σ dy·refConv with
// respect to x, the weight and the bias, each product of the definition's sum taken once.
func refConvGrad(c Conv2D, x []float64, n, h, w int, weight, dy []float64) (dx, dw, db []float64) {
	dx, dw, db = make([]float64, len(x)), make([]float64, len(weight)), make([]float64, c.Out)
	per := len(dy) / max(n*c.Out, 1)
	eachProduct(c, n, h, w, func(yi, wi, xi int) {
		if wi < 0 {
			db[yi/per%c.Out] += dy[yi]
			return
		}
		dw[wi] += dy[yi] * x[xi]
		dx[xi] += dy[yi] * weight[wi]
	})
	return dx, dw, db
}

// abs64 is to64 of the magnitudes: the references computed on it are each sum's Σ|term|,
// the scale of a float32 sum's rounding error, which the tests' tolerances are relative
// to (a sum of cancelling terms is not held to a relative error on its small result;
// measured on N(0, 1) images and He-scaled weights of 16 to 64 channels, Winograd's
// F(4×4, 3×3), whose transforms scale by up to 8 and 1/24, rounds at up to 2.5e-6 of
// Σ|term|, F(2×2, 3×3) and the direct kernels at up to 4e-7).
func abs64(s []float32) []float64 {
	d := to64(s)
	for i, v := range d {
		d[i] = math.Abs(v)
	}
	return d
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// convCase is a convolution and its input: n images of h×w.
type convCase struct {
	c       Conv2D
	n, h, w int
}

var convCases = []convCase{
	{Conv2D{In: 3, Out: 4, K: 3, Stride: 1, Pad: 1}, 2, 5, 6},
	{Conv2D{In: 2, Out: 3, K: 3, Stride: 2, Pad: 1}, 2, 7, 6},
	{Conv2D{In: 4, Out: 2, K: 1, Stride: 2, Pad: 0}, 3, 6, 6},
	{Conv2D{In: 1, Out: 5, K: 3, Stride: 1, Pad: 0}, 1, 4, 3},
	// The direct 3×3 kernels' cases: channels that fill no vector tile, one and odd sizes,
	// batches of one and three; and the GEMM's 1×1 and stride-2 paths beside them.
	{Conv2D{In: 3, Out: 5, K: 3, Stride: 1, Pad: 1}, 3, 15, 15},
	{Conv2D{In: 3, Out: 17, K: 3, Stride: 1, Pad: 1}, 1, 7, 7},
	{Conv2D{In: 9, Out: 5, K: 3, Stride: 1, Pad: 1}, 1, 1, 1},
	{Conv2D{In: 2, Out: 3, K: 3, Stride: 1, Pad: 1}, 3, 3, 3},
	{Conv2D{In: 19, Out: 9, K: 3, Stride: 1, Pad: 1}, 1, 3, 5},
	{Conv2D{In: 3, Out: 5, K: 3, Stride: 2, Pad: 1}, 3, 15, 15},
	{Conv2D{In: 3, Out: 4, K: 3, Stride: 2, Pad: 1}, 1, 7, 7},
	{Conv2D{In: 17, Out: 3, K: 3, Stride: 2, Pad: 1}, 1, 5, 5}, // stride 2: fewer output channels than a vector
	{Conv2D{In: 4, Out: 33, K: 3, Stride: 2, Pad: 1}, 9, 6, 5}, // stride 2: two vectors of output channels and one lane, more than a group
	{Conv2D{In: 5, Out: 3, K: 1, Stride: 1, Pad: 0}, 3, 7, 7},
	{Conv2D{In: 3, Out: 4, K: 1, Stride: 2, Pad: 0}, 1, 15, 15},
	{Conv2D{In: 3, Out: 5, K: 3, Stride: 1, Pad: 1}, 11, 3, 4}, // more than a group of images
	// Widths the channel-blocked kernel knows when compiled (fwdw): tiles of whole rows and
	// of parts of a row, two vectors of channels and then a partial one.
	{Conv2D{In: 2, Out: 40, K: 3, Stride: 1, Pad: 1}, 1, 4, 4},
	{Conv2D{In: 1, Out: 33, K: 3, Stride: 1, Pad: 1}, 2, 2, 2},
	{Conv2D{In: 2, Out: 17, K: 3, Stride: 1, Pad: 1}, 1, 6, 8},
	{Conv2D{In: 2, Out: 9, K: 3, Stride: 1, Pad: 1}, 1, 3, 16},
	// Winograd's (with its mode forced, or 32 channels and more): a partial group of images.
	{Conv2D{In: 16, Out: 16, K: 3, Stride: 1, Pad: 1}, 3, 4, 4},
	// The dense path's (planes of 2×2 or less whose channels fill vectors): every tap, the
	// centre alone, a column, and a partial second group of images.
	{Conv2D{In: 4, Out: 8, K: 3, Stride: 1, Pad: 1}, 3, 2, 2},
	{Conv2D{In: 16, Out: 16, K: 3, Stride: 1, Pad: 1}, 2, 1, 1},
	{Conv2D{In: 8, Out: 8, K: 3, Stride: 1, Pad: 1}, 2, 2, 1},
	{Conv2D{In: 4, Out: 4, K: 3, Stride: 1, Pad: 1}, 11, 2, 2},
}

// winCases are Winograd's shapes too large for finite differences (each costs a
// convolution per parameter): a group of one image, and groups with a partial last one,
// both ways between 16 and 32 channels, on rows of tiles of 3 and 4; and VGG's last layers
// on the dense path, with fewer output channels than input.
var winCases = []convCase{
	{Conv2D{In: 128, Out: 64, K: 3, Stride: 1, Pad: 1}, 9, 2, 2},
	// F(4×4, 3×3)'s (h and w multiples of 4): whole groups of one image, and a group of 10
	// images of 6 tiles with a partial second one; on F(2×2)'s weight gradient and on the
	// direct kernels' (16 channels both ways).
	{Conv2D{In: 16, Out: 16, K: 3, Stride: 1, Pad: 1}, 2, 32, 32},
	{Conv2D{In: 32, Out: 16, K: 3, Stride: 1, Pad: 1}, 13, 8, 12},
	{Conv2D{In: 16, Out: 32, K: 3, Stride: 1, Pad: 1}, 2, 16, 16},
	{Conv2D{In: 32, Out: 16, K: 3, Stride: 1, Pad: 1}, 20, 4, 4},
	{Conv2D{In: 32, Out: 32, K: 3, Stride: 1, Pad: 1}, 7, 8, 6},
}

// drawConv draws a case's input, weight, bias and output gradient (or output, its shape).
func drawConv(r *rand.Rand, c Conv2D, n, h, w int) (x, wt, bias, dy []float32) {
	oh, ow := c.OutSize(h, w)
	x = randSlice(r, n*c.In*h*w)
	wt = randSlice(r, c.Out*c.In*c.K*c.K)
	bias = randSlice(r, c.Out)
	dy = randSlice(r, n*c.Out*oh*ow)
	return x, wt, bias, dy
}

func TestConvForwardMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, b := range impls() {
		for _, tc := range slices.Concat(convCases, winCases) {
			c := tc.c
			x, wt, bias, dy := drawConv(r, c, tc.n, tc.h, tc.w)
			y := make([]float32, len(dy))
			c.Forward(b, x, tc.n, tc.h, tc.w, wt, bias, prepared(c, wt, bias, tc.h, tc.w), y, make([]float32, c.ColSize(tc.h, tc.w)))
			want := refConv(c, to64(x), tc.n, tc.h, tc.w, to64(wt), to64(bias))
			mag := refConv(c, abs64(x), tc.n, tc.h, tc.w, abs64(wt), abs64(bias))
			for i := range y {
				if math.Abs(float64(y[i])-want[i]) > 1e-5*(1+mag[i]) {
					t.Fatalf("%s %+v: y[%d] = %g, want %g", b.Name(), c, i, y[i], want[i])
				}
			}
		}
	}
}

// gradCheck compares analytic gradients with central differences of the loss
// L = Σ r·f(params) taken on a float64 reference f, so the differences are exact up to
// float64 rounding and the tolerance measures the float32 kernels alone.
func gradCheck(t *testing.T, name string, got []float32, params []float64, loss func() float64) {
	t.Helper()
	const eps = 1e-3
	for i := range params {
		p := params[i]
		params[i] = p + eps
		up := loss()
		params[i] = p - eps
		down := loss()
		params[i] = p
		want := (up - down) / (2 * eps)
		if math.Abs(float64(got[i])-want) > 1e-3*(1+math.Abs(want)) {
			t.Fatalf("%s: gradient %d = %g, finite difference %g", name, i, got[i], want)
		}
	}
}

func TestConvBackwardFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, b := range impls() {
		for _, tc := range convCases {
			c := tc.c
			name := fmt.Sprintf("%s %+v", b.Name(), c)
			x, wt, bias, dy := drawConv(r, c, tc.n, tc.h, tc.w)
			dx, dw, db := make([]float32, len(x)), make([]float32, len(wt)), make([]float32, len(bias))
			c.Backward(b, x, tc.n, tc.h, tc.w, wt, prepared(c, wt, bias, tc.h, tc.w), dy, dx, dw, db, make([]float32, c.ColSize(tc.h, tc.w)))
			x64, w64, b64, r64 := to64(x), to64(wt), to64(bias), to64(dy)
			loss := func() float64 {
				s := 0.0
				for i, v := range refConv(c, x64, tc.n, tc.h, tc.w, w64, b64) {
					s += r64[i] * v
				}
				return s
			}
			gradCheck(t, name+" weight", dw, w64, loss)
			gradCheck(t, name+" bias", db, b64, loss)
			gradCheck(t, name+" input", dx, x64, loss)
		}
	}
}

// TestConvBackwardMatchesDerivative checks Backward against refConvGrad: what the finite
// differences check, at the cost of one convolution, for the runs on every instruction
// set and blocking.
func TestConvBackwardMatchesDerivative(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, b := range impls() {
		for _, tc := range slices.Concat(convCases, winCases) {
			c := tc.c
			x, wt, bias, dy := drawConv(r, c, tc.n, tc.h, tc.w)
			dx, dw, db := make([]float32, len(x)), make([]float32, len(wt)), make([]float32, len(bias))
			c.Backward(b, x, tc.n, tc.h, tc.w, wt, prepared(c, wt, bias, tc.h, tc.w), dy, dx, dw, db, make([]float32, c.ColSize(tc.h, tc.w)))
			wdx, wdw, wdb := refConvGrad(c, to64(x), tc.n, tc.h, tc.w, to64(wt), to64(dy))
			mdx, mdw, mdb := refConvGrad(c, abs64(x), tc.n, tc.h, tc.w, abs64(wt), abs64(dy))
			for _, g := range []struct {
				name      string
				got       []float32
				want, mag []float64
			}{{"input", dx, wdx, mdx}, {"weight", dw, wdw, mdw}, {"bias", db, wdb, mdb}} {
				for i := range g.got {
					if math.Abs(float64(g.got[i])-g.want[i]) > 1e-5*(1+g.mag[i]) {
						t.Fatalf("%s %+v: %s gradient %d = %g, want %g", b.Name(), c, g.name, i, g.got[i], g.want[i])
					}
				}
			}
		}
	}
}

// Backward adds to the weight and bias gradients (a batch split in two accumulates to the
// whole batch's), and the same inputs give the same bits twice.
func TestConvBackwardAccumulatesAndRepeats(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	c := Conv2D{In: 2, Out: 3, K: 3, Stride: 1, Pad: 1}
	n, h, w := 4, 5, 5
	x := randSlice(r, n*c.In*h*w)
	wt := randSlice(r, c.Out*c.In*9)
	dy := randSlice(r, n*c.Out*h*w)
	col := make([]float32, c.ColSize(h, w))
	prep := prepared(c, wt, nil, h, w)
	b := blas.Gonum()
	whole := make([]float32, len(wt))
	c.Backward(b, x, n, h, w, wt, prep, dy, nil, whole, nil, col)
	halves := make([]float32, len(wt))
	half := n / 2 * c.In * h * w
	c.Backward(b, x[:half], n/2, h, w, wt, prep, dy[:n/2*c.Out*h*w], nil, halves, nil, col)
	c.Backward(b, x[half:], n/2, h, w, wt, prep, dy[n/2*c.Out*h*w:], nil, halves, nil, col)
	again := make([]float32, len(wt))
	c.Backward(b, x, n, h, w, wt, prep, dy, nil, again, nil, col)
	for i := range whole {
		if math.Abs(float64(whole[i]-halves[i])) > 1e-4*(1+math.Abs(float64(whole[i]))) {
			t.Fatalf("dweight[%d]: whole batch %g, two halves %g", i, whole[i], halves[i])
		}
		if whole[i] != again[i] {
			t.Fatalf("dweight[%d] differs between two identical calls: %g and %g", i, whole[i], again[i])
		}
	}
}

func TestMaxPool2(t *testing.T) {
	// Odd sizes drop the last row or column, as PyTorch's MaxPool2d(2) does (28×28 MNIST
	// pooled to 7×7 then 3×3).
	for _, sz := range [][2]int{{4, 6}, {5, 7}} {
		r := rand.New(rand.NewPCG(7, 8))
		n, c, h, w := 2, 3, sz[0], sz[1]
		oh, ow := h/2, w/2
		x := randSlice(r, n*c*h*w)
		y := make([]float32, n*c*oh*ow)
		arg := make([]int32, len(y))
		MaxPool2(x, n, c, h, w, y, arg)
		for p := range n * c {
			for oy := range oh {
				for ox := range ow {
					m := float32(math.Inf(-1))
					for dy := range 2 {
						for dx := range 2 {
							m = max(m, x[p*h*w+(2*oy+dy)*w+2*ox+dx])
						}
					}
					if got := y[(p*oh+oy)*ow+ox]; got != m {
						t.Fatalf("%d×%d: pool %d (%d,%d) = %g, want %g", h, w, p, oy, ox, got, m)
					}
				}
			}
		}
		dy := randSlice(r, len(y))
		dx := make([]float32, len(x))
		MaxPool2Backward(dy, arg, dx)
		x64, r64 := to64(x), to64(dy)
		loss := func() float64 {
			xs := make([]float32, len(x64))
			for i, v := range x64 {
				xs[i] = float32(v)
			}
			ys, as := make([]float32, len(y)), make([]int32, len(y))
			MaxPool2(xs, n, c, h, w, ys, as)
			s := 0.0
			for i, v := range ys {
				s += r64[i] * float64(v)
			}
			return s
		}
		gradCheck(t, "maxpool", dx, x64, loss)
	}
}

func TestGlobalAvgPool(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n, c, h, w := 2, 3, 3, 4
	x := randSlice(r, n*c*h*w)
	y := make([]float32, n*c)
	GlobalAvgPool(x, n, c, h, w, y)
	dy := randSlice(r, n*c)
	dx := make([]float32, len(x))
	GlobalAvgPoolBackward(dy, n, c, h, w, dx)
	x64, r64 := to64(x), to64(dy)
	loss := func() float64 {
		s := 0.0
		for p := range n * c {
			m := 0.0
			for _, v := range x64[p*h*w : (p+1)*h*w] {
				m += v
			}
			s += r64[p] * m / float64(h*w)
		}
		return s
	}
	for p := range n * c {
		var m float64
		for _, v := range x[p*h*w : (p+1)*h*w] {
			m += float64(v)
		}
		if math.Abs(float64(y[p])-m/float64(h*w)) > 1e-6 {
			t.Fatalf("avg %d = %g, want %g", p, y[p], m/float64(h*w))
		}
	}
	gradCheck(t, "avgpool", dx, x64, loss)
}

func TestShapesPanic(t *testing.T) {
	c := Conv2D{In: 1, Out: 1, K: 3, Stride: 1, Pad: 0}
	defer func() {
		if recover() != ErrShape {
			t.Error("a short input did not panic with ErrShape")
		}
	}()
	c.Forward(blas.Gonum(), make([]float32, 8), 1, 3, 3, make([]float32, 9), nil, nil, make([]float32, 1), make([]float32, 9))
}

// prepared is weight and bias prepared for h×w inputs, after any forceKernels.
func prepared(c Conv2D, weight, bias []float32, h, w int) []float32 {
	prep := make([]float32, c.PrepSize(h, w))
	c.Prepare(weight, bias, h, w, prep)
	return prep
}

// refNorm is ChannelNorm in float64.
func refNorm(x []float64, n, c, h, w int, gamma, beta []float64, eps float64) []float64 {
	hw := h * w
	y := make([]float64, len(x))
	for i := range n {
		for p := range hw {
			var s, ss float64
			for ch := range c {
				v := x[(i*c+ch)*hw+p]
				s += v
				ss += v * v
			}
			mean := s / float64(c)
			rstd := 1 / math.Sqrt(ss/float64(c)-mean*mean+eps)
			for ch := range c {
				j := (i*c+ch)*hw + p
				y[j] = gamma[ch]*(x[j]-mean)*rstd + beta[ch]
			}
		}
	}
	return y
}

func TestChannelNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n, c, h, w := 2, 5, 3, 2
	l := ChannelNorm{C: c, Eps: 1e-5}
	x := randSlice(r, n*c*h*w)
	gamma, beta := randSlice(r, c), randSlice(r, c)
	y := make([]float32, len(x))
	stats := make([]float32, l.StatsSize(n, h, w))
	l.Forward(x, n, h, w, gamma, beta, y, stats)
	want := refNorm(to64(x), n, c, h, w, to64(gamma), to64(beta), l.Eps)
	for i := range y {
		if math.Abs(float64(y[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Fatalf("y[%d] = %g, want %g", i, y[i], want[i])
		}
	}
	dy := randSlice(r, len(x))
	dx, dg, db := make([]float32, len(x)), make([]float32, c), make([]float32, c)
	l.Backward(x, n, h, w, gamma, stats, dy, dx, dg, db)
	x64, g64, b64, r64 := to64(x), to64(gamma), to64(beta), to64(dy)
	loss := func() float64 {
		s := 0.0
		for i, v := range refNorm(x64, n, c, h, w, g64, b64, l.Eps) {
			s += r64[i] * v
		}
		return s
	}
	gradCheck(t, "norm gamma", dg, g64, loss)
	gradCheck(t, "norm beta", db, b64, loss)
	gradCheck(t, "norm input", dx, x64, loss)
}

// refNormReLU is refNorm followed by a ReLU.
func refNormReLU(x []float64, n, c, h, w int, gamma, beta []float64, eps float64) []float64 {
	y := refNorm(x, n, c, h, w, gamma, beta, eps)
	for i, v := range y {
		y[i] = max(v, 0)
	}
	return y
}

// TestChannelNormReLU checks the fused norm and ReLU, and the plain norm, on more positions
// than a block of the kernels (64) and an odd channel count.
func TestChannelNormReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	n, c, h, w := 3, 7, 9, 9
	l := ChannelNorm{C: c, Eps: 1e-5}
	x := randSlice(r, n*c*h*w)
	gamma, beta := randSlice(r, c), randSlice(r, c)
	for _, relu := range []bool{false, true} {
		ref := refNorm
		if relu {
			ref = refNormReLU
		}
		y := make([]float32, len(x))
		stats := make([]float32, l.StatsSize(n, h, w))
		if relu {
			l.ForwardReLU(x, n, h, w, gamma, beta, y, stats)
		} else {
			l.Forward(x, n, h, w, gamma, beta, y, stats)
		}
		want := ref(to64(x), n, c, h, w, to64(gamma), to64(beta), l.Eps)
		for i := range y {
			if math.Abs(float64(y[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
				t.Fatalf("relu %v: y[%d] = %g, want %g", relu, i, y[i], want[i])
			}
		}
		dy := randSlice(r, len(x))
		keep := append([]float32(nil), dy...)
		dx, dg, db := make([]float32, len(x)), make([]float32, c), make([]float32, c)
		if relu {
			l.BackwardReLU(x, n, h, w, gamma, stats, y, dy, dx, dg, db)
		} else {
			l.Backward(x, n, h, w, gamma, stats, dy, dx, dg, db)
		}
		for i := range dy {
			if dy[i] != keep[i] {
				t.Fatalf("relu %v: backward changed dy[%d]", relu, i)
			}
		}
		x64, g64, b64, r64 := to64(x), to64(gamma), to64(beta), to64(dy)
		loss := func() float64 {
			s := 0.0
			for i, v := range ref(x64, n, c, h, w, g64, b64, l.Eps) {
				s += r64[i] * v
			}
			return s
		}
		name := fmt.Sprintf("relu %v: norm", relu)
		gradCheck(t, name+" gamma", dg, g64, loss)
		gradCheck(t, name+" beta", db, b64, loss)
		gradCheck(t, name+" input", dx, x64, loss)
	}
}

func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{0, 1, 7, 33, 100} {
		y, s := randSlice(r, n), randSlice(r, n)
		got := append([]float32(nil), y...)
		AddReLU(got, s)
		sum := append([]float32(nil), y...)
		Add(sum, s)
		for i := range y {
			if want := max(y[i]+s[i], 0); got[i] != want {
				t.Fatalf("AddReLU[%d] = %g, want %g", i, got[i], want)
			}
			if sum[i] != y[i]+s[i] {
				t.Fatalf("Add[%d] = %g, want %g", i, sum[i], y[i]+s[i])
			}
		}
	}
}

package conv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
)

// BenchmarkConv times one batch of 128 through the 3×3 convolutions of ResNet-20 at width
// 16 on 32×32 inputs (the first stage's 16→16, the third stage's 64→64 at 8×8) and VGG's
// first layer, forward and backward, on one core, and reports GFLOP/s (2·out·in·9 per
// output pixel, three GEMMs for forward plus backward).
//
//	go test -run '^$' -bench Conv ./nn/conv
func BenchmarkConv(b *testing.B) {
	for _, bc := range []struct {
		name    string
		c       Conv2D
		h, w, n int
	}{
		{"resnet-stage1-16x32x32", Conv2D{In: 16, Out: 16, K: 3, Stride: 1, Pad: 1}, 32, 32, 128},
		{"resnet-stage3-64x8x8", Conv2D{In: 64, Out: 64, K: 3, Stride: 1, Pad: 1}, 8, 8, 128},
		{"vgg-first-3to64x32x32", Conv2D{In: 3, Out: 64, K: 3, Stride: 1, Pad: 1}, 32, 32, 128},
	} {
		c, n, h, w := bc.c, bc.n, bc.h, bc.w
		oh, ow := c.OutSize(h, w)
		r := rand.New(rand.NewPCG(1, 1))
		x := randSlice(r, n*c.In*h*w)
		wt := randSlice(r, c.Out*c.In*c.K*c.K)
		bias := randSlice(r, c.Out)
		y := make([]float32, n*c.Out*oh*ow)
		dx, dw, db := make([]float32, len(x)), make([]float32, len(wt)), make([]float32, c.Out)
		col := make([]float32, c.ColSize(h, w))
		prep := prepared(c, wt, bias, h, w)
		impl := blas.Default().WithThreads(1)
		flops := 3 * 2 * float64(n*c.Out*oh*ow*c.In*c.K*c.K)
		b.Run(fmt.Sprintf("%s/%s", bc.name, impl.Name()), func(b *testing.B) {
			for b.Loop() {
				c.Forward(impl, x, n, h, w, wt, bias, prep, y, col)
				c.Backward(impl, x, n, h, w, wt, prep, y, dx, dw, db, col)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkNorm times ChannelNorm's forward (with the ReLU after it) and backward over one
// core's half of a batch of 128 at ResNet-20's three stage shapes (width 16): the norm
// reads and writes activations too large for the caches, several times per step.
//
//	go test -run '^$' -bench Norm ./nn/conv
func BenchmarkNorm(b *testing.B) {
	for _, bc := range []struct{ n, c, h, w int }{{64, 16, 32, 32}, {64, 32, 16, 16}, {64, 64, 8, 8}} {
		l := ChannelNorm{C: bc.c, Eps: 1e-5}
		r := rand.New(rand.NewPCG(1, 1))
		size := bc.n * bc.c * bc.h * bc.w
		x, dy := randSlice(r, size), randSlice(r, size)
		gamma, beta := randSlice(r, bc.c), randSlice(r, bc.c)
		y, dx := make([]float32, size), make([]float32, size)
		stats := make([]float32, l.StatsSize(bc.n, bc.h, bc.w))
		dg, db := make([]float32, bc.c), make([]float32, bc.c)
		name := fmt.Sprintf("%dx%dx%dx%d", bc.n, bc.c, bc.h, bc.w)
		b.Run(name+"/forward", func(b *testing.B) {
			for b.Loop() {
				l.ForwardReLU(x, bc.n, bc.h, bc.w, gamma, beta, y, stats)
			}
			b.ReportMetric(float64(8*size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run(name+"/backward", func(b *testing.B) {
			for b.Loop() {
				l.BackwardReLU(x, bc.n, bc.h, bc.w, gamma, stats, y, dy, dx, dg, db)
			}
			b.ReportMetric(float64(16*size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

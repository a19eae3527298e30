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
		impl := blas.Default().WithThreads(1)
		flops := 3 * 2 * float64(n*c.Out*oh*ow*c.In*c.K*c.K)
		b.Run(fmt.Sprintf("%s/%s", bc.name, impl.Name()), func(b *testing.B) {
			for b.Loop() {
				c.Forward(impl, x, n, h, w, wt, bias, y, col)
				c.Backward(impl, x, n, h, w, wt, y, dx, dw, db, col)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

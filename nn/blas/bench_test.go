package blas

import (
	"fmt"
	"testing"
)

// Shapes are named m×k×n: op(A) is m×k, op(B) is k×n, C is m×n, so
// 128x784x512 is an MLP layer's forward pass X·W for a batch of 128.
type benchShape struct {
	name    string
	tA, tB  bool
	m, k, n int
}

func benchImpls(b *testing.B) []Impl {
	impls := []Impl{Gonum()}
	if ob, err := openBLAS(); err == nil {
		impls = append([]Impl{ob}, impls...)
		b.Logf("openblas kernel %s, threads %d, %s", ob.Kernel(), ob.Threads(), ob.Config())
	} else {
		b.Logf("OpenBLAS not benchmarked: %v", err)
	}
	return impls
}

func benchSgemm(b *testing.B, impl Impl, s benchShape) {
	ar, ac := s.m, s.k
	if s.tA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if s.tB {
		br, bc = s.n, s.k
	}
	a, bm, c := make([]float32, ar*ac), make([]float32, br*bc), make([]float32, s.m*s.n)
	for i := range a {
		a[i] = float32(i%13) / 13
	}
	for i := range bm {
		bm[i] = float32(i%7) / 7
	}
	impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, ac, bm, bc, 0, c, s.n) // warm up threads and buffers
	b.ResetTimer()
	for b.Loop() {
		impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, ac, bm, bc, 0, c, s.n)
	}
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm compares the implementations at their default thread count
// on the MLP forward shape and two square sizes.
func BenchmarkSgemm(b *testing.B) {
	shapes := []benchShape{
		{name: "128x784x512", m: 128, k: 784, n: 512},
		{name: "512x512x512", m: 512, k: 512, n: 512},
		{name: "2048x2048x2048", m: 2048, k: 2048, n: 2048},
	}
	for _, impl := range benchImpls(b) {
		for _, s := range shapes {
			b.Run(impl.Name()+"/"+s.name, func(b *testing.B) { benchSgemm(b, impl, s) })
		}
	}
}

// BenchmarkSgemmMLP covers the three GEMMs of an MLP layer's training step
// (forward, weight gradient Xᵀ·dY, input gradient dY·Wᵀ) with 1 and 2
// threads, because OpenBLAS's thread wake-up can cost more than it saves on
// GEMMs this small.
func BenchmarkSgemmMLP(b *testing.B) {
	shapes := []benchShape{
		{name: "fwd-128x784x512", m: 128, k: 784, n: 512},
		{name: "wgrad-T-784x128x512", tA: true, m: 784, k: 128, n: 512},
		{name: "dgrad-NT-128x512x784", tB: true, m: 128, k: 512, n: 784},
		{name: "hidden-128x512x512", m: 128, k: 512, n: 512},
		{name: "wgrad-T-512x128x512", tA: true, m: 512, k: 128, n: 512},
		{name: "square-2048", m: 2048, k: 2048, n: 2048},
	}
	for _, impl := range benchImpls(b) {
		for _, s := range shapes {
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("%s/%s/threads=%d", impl.Name(), s.name, threads)
				b.Run(name, func(b *testing.B) { benchSgemm(b, impl.WithThreads(threads), s) })
			}
		}
	}
}

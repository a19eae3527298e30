//go:build cgo && linux

package blas

import (
	"fmt"
	"testing"
)

// BenchmarkOwnThreads compares a handle's threads (fixed blocks, each a
// single-threaded OpenBLAS call, on goroutines) with OpenBLAS's own threads on
// the whole product, for the square case, an MLP layer's three GEMMs and the
// forward pass of evaluation, 1,000 examples at a time. -count repeats the
// whole set, so that the two kinds of threads take turns; on a shared host
// compare the fastest of each (noise only ever adds time):
//
//	go test -run '^$' -bench OwnThreads -count 8 -benchtime 20x ./nn/blas
func BenchmarkOwnThreads(b *testing.B) {
	ob, err := openBLAS()
	if err != nil {
		b.Skipf("OpenBLAS not loaded: %v", err)
	}
	b.Logf("openblas kernel %s, %s", ob.Kernel(), ob.Config())
	shapes := []benchShape{
		{name: "2048x2048x2048", m: 2048, k: 2048, n: 2048},
		{name: "fwd-128x784x512", m: 128, k: 784, n: 512},
		{name: "wgrad-T-784x128x512", tA: true, m: 784, k: 128, n: 512},
		{name: "dgrad-NT-128x512x784", tB: true, m: 128, k: 512, n: 784},
		{name: "eval-NT-1000x784x512", tB: true, m: 1000, k: 784, n: 512},
	}
	for _, s := range shapes {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/handle/threads=%d", s.name, threads), func(b *testing.B) {
				benchSgemm(b, ob.WithThreads(threads), s)
			})
			b.Run(fmt.Sprintf("%s/openblas-own/threads=%d", s.name, threads), func(b *testing.B) {
				setLibThreads(threads)
				defer setLibThreads(1)
				benchSgemm(b, wholeCall{ob}, s)
			})
		}
	}
}

// wholeCall hands the whole product to OpenBLAS in one call, as modulo did
// before handles, so that OpenBLAS's own threads share it.
type wholeCall struct{ Impl }

func (wholeCall) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

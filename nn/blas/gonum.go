package blas

import (
	"runtime"
	"sync"
	"sync/atomic"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gonumImpl is the pure-Go fallback. It always builds, so modulo works with
// CGO_ENABLED=0 or without OpenBLAS, at 11-15 GFLOP/s instead of 200+.
type gonumImpl struct {
	// threads bounds parallelism; 0 means gonum's own choice (GOMAXPROCS).
	threads atomic.Int32
}

// theGonum is shared so that SetThreads on the value returned by Gonum or
// Default has the same process-wide effect as it has for OpenBLAS.
var theGonum = &gonumImpl{}

// Gonum returns the pure-Go implementation, whatever Default chose, so that
// tests and benchmarks can compare against it.
func Gonum() Impl { return theGonum }

func (*gonumImpl) Name() string   { return "gonum" }
func (*gonumImpl) Kernel() string { return "pure Go" }
func (*gonumImpl) Config() string {
	return "gonum.org/v1/gonum/blas/gonum (pure Go, " + runtime.GOARCH + ")"
}

// Threads reports the bound set with SetThreads, or GOMAXPROCS, which is what
// gonum's SGEMM uses when it is not bounded.
func (g *gonumImpl) Threads() int {
	if t := int(g.threads.Load()); t > 0 {
		return t
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads bounds the goroutines one Sgemm uses. Sgemm splits C into tiles
// small enough that gonum runs each one serially, and computes them on that
// many goroutines.
func (g *gonumImpl) SetThreads(n int) {
	if n < 1 {
		n = 0
	}
	g.threads.Store(int32(min(n, 1<<20)))
}

// Tile sizes for bounded parallelism. gonum goes parallel once C spans four
// of its 64×64 blocks, so a 64×192 (or 192×64) tile is the largest it will
// still compute on the calling goroutine.
const (
	gonumBlock    = 64
	gonumTileLong = 3 * gonumBlock
)

func (g *gonumImpl) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !checkSgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc) {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	// Always tiles, even with all the threads: gonum's own parallel SGEMM splits the
	// inner dimension and so rounds differently from its serial one, and a network's bits
	// must not depend on the threads it was trained with.
	g.tiled(g.Threads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// tiled computes the product tile by tile on at most t goroutines, each tile
// small enough that gonum does not fan out on its own.
func (g *gonumImpl) tiled(t int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	tm, tn := gonumBlock, gonumTileLong
	if m > n {
		tm, tn = gonumTileLong, gonumBlock
	}
	rows, cols := (m+tm-1)/tm, (n+tn-1)/tn
	tiles := rows * cols
	tile := func(idx int) {
		i0, j0 := (idx/cols)*tm, (idx%cols)*tn
		mm, nn := min(tm, m-i0), min(tn, n-j0)
		// Row i of op(A) starts at a[i*lda] unless A is stored transposed,
		// when it is column i; likewise column j of op(B).
		aOff, bOff := i0*lda, j0
		if transA {
			aOff = i0
		}
		if transB {
			bOff = j0 * ldb
		}
		gonum.Implementation{}.Sgemm(gonumTrans(transA), gonumTrans(transB), mm, nn, k, alpha,
			a[aOff:], lda, b[bOff:], ldb, beta, c[i0*ldc+j0:], ldc)
	}
	t = min(t, tiles)
	if t <= 1 {
		for idx := range tiles {
			tile(idx)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range t {
		wg.Go(func() {
			for {
				idx := int(next.Add(1) - 1)
				if idx >= tiles {
					return
				}
				tile(idx)
			}
		})
	}
	wg.Wait()
}

func gonumTrans(t bool) gblas.Transpose {
	if t {
		return gblas.Trans
	}
	return gblas.NoTrans
}

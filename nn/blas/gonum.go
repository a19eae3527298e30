package blas

import (
	"runtime"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gonumImpl is the pure-Go fallback. It always builds, so modulo works with
// CGO_ENABLED=0 or without OpenBLAS, at 11-15 GFLOP/s instead of 200+.
type gonumImpl struct {
	threads int // the most goroutines one Sgemm uses, ≥ 1
	probe   probe
}

// Gonum returns a handle on the pure-Go implementation, with one thread per
// CPU, whatever Default chose, so that tests and benchmarks can compare
// against it.
func Gonum() Impl { return &gonumImpl{threads: threadsOf(0)} }

func (*gonumImpl) Name() string   { return "gonum" }
func (*gonumImpl) Kernel() string { return "pure Go" }
func (*gonumImpl) Config() string {
	return "gonum.org/v1/gonum/blas/gonum (pure Go, " + runtime.GOARCH + ")"
}

func (g *gonumImpl) Threads() int { return g.threads }

// WithThreads returns a gonum handle whose Sgemm computes its tiles on at most
// n goroutines.
func (g *gonumImpl) WithThreads(n int) Impl { return &gonumImpl{threads: threadsOf(n)} }

func (g *gonumImpl) withProbe(p probe) Impl { return &gonumImpl{threads: g.threads, probe: p} }

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
	g.tiled(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// tiled computes the product tile by tile on at most g.threads goroutines,
// each tile small enough that gonum does not fan out on its own.
func (g *gonumImpl) tiled(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
	runTiles(g.threads, tiles, tile, g.probe)
}

func gonumTrans(t bool) gblas.Transpose {
	if t {
		return gblas.Trans
	}
	return gblas.NoTrans
}

package blas

import (
	"runtime"
	"sync/atomic"

	"github.com/modulo-ml/modulo/internal/safego"
)

// threadsOf is the thread count a handle made with n gets: n, or one per CPU
// when n < 1.
func threadsOf(n int) int {
	if n < 1 {
		return runtime.NumCPU()
	}
	return n
}

// probe, set on a handle by tests only (see withProbe), is called after each
// Sgemm that went through runTiles with the number of goroutines that took
// part (the caller's among them) and the most tiles that were being computed
// at once. A handle made by WithThreads from a probed one is not probed.
type probe func(goroutines, peak int)

// probed is implemented by every handle of this package, so that tests can
// watch what a handle's GEMMs do without a process-wide hook.
type probed interface {
	withProbe(p probe) Impl
}

// runTiles calls tile(i) for every i in [0, tiles) on at most t goroutines,
// the caller's among them, and returns when all are done. Goroutines take the
// next tile as they finish one, so a core that another process slows down
// simply computes fewer; which goroutine computes a tile never changes what it
// computes. It starts min(t, tiles) goroutines: every one of them takes part.
func runTiles(t, tiles int, tile func(int), p probe) {
	t = max(1, min(t, tiles))
	if p != nil {
		var running, peak atomic.Int64
		inner := tile
		tile = func(i int) {
			n := running.Add(1)
			for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
			}
			inner(i)
			running.Add(-1)
		}
		defer func() { p(t, int(peak.Load())) }()
	}
	if t == 1 {
		for i := range tiles {
			tile(i)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for i := int(next.Add(1) - 1); i < tiles; i = int(next.Add(1) - 1) {
			tile(i)
		}
	}
	// A panic in a tile comes back to the caller, whose node fails, instead of crashing
	// the process from a helper goroutine (see internal/safego).
	var wg safego.Group
	for range t - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// How an OpenBLAS handle cuts a GEMM: C is cut along its longer side, so that
// the operand every block packs again is the smaller one, into blocks whose
// edges fall on multiples of blockAlign. The cut depends on m, n and k only,
// never on the threads, so a result's bits do not depend on the threads it was
// computed with; the threads only decide how many blocks run at once.
//
// Every block costs some speed: OpenBLAS packs the operand it shares with the
// other blocks again, and a narrow block reuses what it packs less. Measured on
// one core of the 2-core Xeon (CPU time, best of 5, on a shared machine, so
// roughly), blocks 128 wide lost 20-35% against the whole product, 256 wide
// 5-20%, 512 wide 0-10%. So a product is cut in two as soon as both halves are
// worth a goroutine (minBlockVolume, and blockMinWidth wide), which is what two
// threads need, and into more only while every block stays wideBlock wide, for
// machines with more cores.
//
// Measured with Debian's OpenBLAS 0.3.21 (SkylakeX kernel), single-threaded:
// blocks cut this way give the same bits as the whole product, so handles
// change no result computed before they existed with one thread. Smaller
// blocks would not: products below 28·512·512 multiply-adds (alpha 1, beta 0,
// neither operand transposed) take OpenBLAS's "direct" SkylakeX path, and
// those below 100³ its small-matrix kernels, both of which round differently
// from its blocked path; a block must not fall into either when the whole
// product does not. minBlockVolume also keeps training's per-part products of
// a 512-wide MLP (64×512×512 and 256×512×128) whole, so they lose nothing.
const (
	minBlockVolume = 1 << 24 // multiply-adds; > 28·512·512 = 7,340,032
	blockMinWidth  = 128
	wideBlock      = 1024
	maxBlocks      = 16
	blockAlign     = 16
)

// plan is the cut of one GEMM's C into blocks: count blocks of rows (byRows)
// or of columns of a side of length side.
type plan struct {
	byRows bool
	count  int
	side   int
}

// planFor returns the cut of an m×n×k product (see minBlockVolume).
func planFor(m, n, k int) plan {
	p := plan{byRows: m >= n, count: 1, side: n}
	other := m
	if p.byRows {
		p.side, other = m, n
	}
	for count := maxBlocks; count >= 2; count /= 2 {
		q := p
		q.count = count
		// Blocks differ in width by blockAlign at most; the narrowest decides.
		narrowest := q.side
		for i := range count {
			lo, hi := q.block(i)
			narrowest = min(narrowest, hi-lo)
		}
		width := wideBlock
		if count == 2 {
			width = blockMinWidth
		}
		if narrowest >= width && float64(narrowest)*float64(other)*float64(k) >= minBlockVolume {
			return q
		}
	}
	return p
}

// block returns the rows (or columns) of block i: [lo, hi).
func (p plan) block(i int) (lo, hi int) {
	cut := func(j int) int {
		if j >= p.count {
			return p.side
		}
		return p.side * j / p.count / blockAlign * blockAlign
	}
	return cut(i), cut(i + 1)
}

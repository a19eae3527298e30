package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
)

func TestPlanFor(t *testing.T) {
	cases := []struct {
		m, n, k int
		byRows  bool
		count   int
	}{
		{64, 64, 64, true, 1},        // far too small to cut
		{64, 512, 512, false, 1},     // a training part's forward or input gradient: kept whole
		{256, 512, 128, false, 1},    // a training part's weight gradient: kept whole
		{128, 512, 784, false, 2},    // MLP forward: columns, so A (128×784) is packed again, not B
		{784, 512, 128, true, 2},     // weight gradient
		{128, 784, 512, false, 2},    // input gradient
		{1000, 512, 784, true, 2},    // evaluation's forward, 1,000 examples
		{2048, 2048, 2048, true, 2},  // four blocks would be narrower than wideBlock
		{4096, 64, 256, true, 4},     // four blocks of 1,024 rows
		{1 << 20, 1, 8, true, 1},     // one column: 8M multiply-adds in all
		{100000, 100, 100, true, 16}, // tall
	}
	for _, c := range cases {
		p := planFor(c.m, c.n, c.k)
		if p.byRows != c.byRows || p.count != c.count {
			t.Errorf("planFor(%d, %d, %d) = %d blocks, by rows %v; want %d, by rows %v", c.m, c.n, c.k, p.count, p.byRows, c.count, c.byRows)
		}
	}
	// Whatever the shape: the blocks tile the side in order, cut at multiples of
	// blockAlign, and a cut product has no block below minBlockVolume, or
	// narrower than blockMinWidth (two blocks) or wideBlock (more).
	r := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		m, n, k := 1+r.IntN(20000), 1+r.IntN(20000), 1+r.IntN(3000)
		p := planFor(m, n, k)
		other := m
		if p.byRows {
			other = n
		}
		if want := max(m, n); p.side != want || p.byRows != (m >= n) {
			t.Fatalf("planFor(%d, %d, %d) cuts a side of %d (by rows %v), want the longer, %d", m, n, k, p.side, p.byRows, want)
		}
		if p.count < 1 || p.count > maxBlocks || p.count&(p.count-1) != 0 {
			t.Fatalf("planFor(%d, %d, %d) has %d blocks, want a power of two up to %d", m, n, k, p.count, maxBlocks)
		}
		width := blockMinWidth
		if p.count > 2 {
			width = wideBlock
		}
		next := 0
		for i := range p.count {
			lo, hi := p.block(i)
			if lo != next || hi <= lo || (i < p.count-1 && hi%blockAlign != 0) {
				t.Fatalf("planFor(%d, %d, %d): block %d is [%d, %d) after %d", m, n, k, i, lo, hi, next)
			}
			if vol := float64(hi-lo) * float64(other) * float64(k); p.count > 1 && (vol < minBlockVolume || hi-lo < width) {
				t.Fatalf("planFor(%d, %d, %d): block %d of %d is %d wide with %g multiply-adds, want %d and %d at least", m, n, k, i, p.count, hi-lo, vol, width, minBlockVolume)
			}
			next = hi
		}
		if next != p.side {
			t.Fatalf("planFor(%d, %d, %d): blocks end at %d of %d", m, n, k, next, p.side)
		}
	}
}

func TestWithThreads(t *testing.T) {
	for _, v := range variants(t) {
		h := v.impl.WithThreads(2)
		if h.Threads() != 2 || h.Name() != v.impl.Name() || h.Kernel() != v.impl.Kernel() {
			t.Errorf("%s: WithThreads(2) made %s (%s) with %d threads", v.name, h.Name(), h.Kernel(), h.Threads())
		}
		if got := v.impl.WithThreads(0).Threads(); got != runtime.NumCPU() {
			t.Errorf("%s: WithThreads(0) has %d threads, want one per CPU (%d)", v.name, got, runtime.NumCPU())
		}
	}
	d := Default()
	before := d.Threads()
	d.WithThreads(before + 5)
	if got := Default().Threads(); got != before || got != runtime.NumCPU() {
		t.Errorf("after WithThreads, Default has %d threads, want %d (one per CPU)", got, before)
	}
}

// gemmCase is a product large enough to be cut into four blocks (OpenBLAS)
// and many tiles (gonum), with strides and transposes that make each block's
// offsets matter.
type gemmCase struct {
	tA, tB  bool
	m, n, k int
	beta    float32
}

var cutCases = []gemmCase{
	{false, false, 70, 4100, 240, 0},
	{true, false, 4100, 70, 240, 1},
	{false, true, 4110, 66, 250, 0.5},
	{true, true, 66, 4110, 250, 0},
}

// casesFor returns cutCases for impl: gonum's tiles depend on m and n only, so
// its cases are given a short k, which keeps the slow pure-Go products quick.
func casesFor(impl Impl) []gemmCase {
	cs := slices.Clone(cutCases)
	if impl.Name() == "gonum" {
		for i := range cs {
			cs[i].k = 17
		}
	}
	return cs
}

// operands are a gemmCase's A, B and C, with padded strides.
type operands struct {
	a, b, c       []float32
	lda, ldb, ldc int
}

// operands draws c's operands from seed. Drawing them takes longer than the product
// (much longer under -race), so tests draw them once and run the product often.
func (c gemmCase) operands(seed uint64) operands {
	r := rand.New(rand.NewPCG(seed, 7))
	ar, ac := c.m, c.k
	if c.tA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tB {
		br, bc = c.n, c.k
	}
	o := operands{lda: ac + 3, ldb: bc + 1, ldc: c.n + 2}
	o.a, o.b, o.c = operand(r, ar, ac, o.lda), operand(r, br, bc, o.ldb), operand(r, c.m, c.n, o.ldc)
	return o
}

// run computes c's product with impl on o and returns C, leaving o as it was.
func (c gemmCase) run(impl Impl, o operands) []float32 {
	out := slices.Clone(o.c)
	impl.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, o.a, o.lda, o.b, o.ldb, c.beta, out, o.ldc)
	return out
}

func (c gemmCase) String() string {
	return fmt.Sprintf("%dx%dx%d/tA=%v,tB=%v/beta=%g", c.m, c.n, c.k, c.tA, c.tB, c.beta)
}

// units is how many blocks (OpenBLAS) or tiles (gonum) impl cuts c into: the
// most goroutines a GEMM can use.
func (c gemmCase) units(impl Impl) int {
	if impl.Name() == "gonum" {
		tm, tn := gonumBlock, gonumTileLong
		if c.m > c.n {
			tm, tn = gonumTileLong, gonumBlock
		}
		return ((c.m + tm - 1) / tm) * ((c.n + tn - 1) / tn)
	}
	return planFor(c.m, c.n, c.k).count
}

// sameBits reports the first element where got and want differ, NaN padding
// included.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("%s: C[%d] = %v, want %v bit for bit", what, i, got[i], want[i])
			return
		}
	}
}

// TestSameBitsWhateverTheThreads: a handle's threads decide how many blocks run
// at once, never what they compute.
func TestSameBitsWhateverTheThreads(t *testing.T) {
	impls := []Impl{Gonum()}
	if ob, err := openBLAS(); err == nil {
		impls = append(impls, ob)
	}
	for _, impl := range impls {
		for _, c := range casesFor(impl) {
			if c.units(impl) < 4 {
				t.Fatalf("%s %v: %d blocks, too few to test threads", impl.Name(), c, c.units(impl))
			}
			o := c.operands(1)
			want := c.run(impl.WithThreads(1), o)
			for _, threads := range []int{2, 3, 16} {
				sameBits(t, fmt.Sprintf("%s %v with %d threads", impl.Name(), c, threads), c.run(impl.WithThreads(threads), o), want)
			}
		}
	}
}

// TestHandlesSideBySide is the reason handles exist: two goroutines, each with
// its own handle of a different thread count (as two pipeline nodes running in
// parallel), run GEMMs at the same time; each GEMM uses its own handle's
// goroutines, never more, and computes what one thread computes. Run it with
// -race.
func TestHandlesSideBySide(t *testing.T) {
	impls := []Impl{Gonum()}
	if ob, err := openBLAS(); err == nil {
		impls = append(impls, ob)
	}
	for _, impl := range impls {
		t.Run(impl.Name(), func(t *testing.T) {
			cases := casesFor(impl)
			ops := make([]operands, len(cases))
			want := make([][]float32, len(cases))
			for i, c := range cases {
				ops[i] = c.operands(uint64(i))
				want[i] = c.run(impl.WithThreads(1), ops[i])
			}
			var wg sync.WaitGroup
			for _, threads := range []int{2, 3} {
				wg.Go(func() {
					type call struct{ goroutines, peak int }
					var calls []call // only this goroutine's GEMMs report here
					h := impl.WithThreads(threads).(probed).withProbe(func(g, p int) { calls = append(calls, call{g, p}) })
					if h.Threads() != threads {
						t.Errorf("%d threads: handle reports %d", threads, h.Threads())
					}
					for round := range 3 {
						for i, c := range cases {
							calls = calls[:0]
							got := c.run(h, ops[i])
							sameBits(t, fmt.Sprintf("%s %v, %d threads, round %d", impl.Name(), c, threads, round), got, want[i])
							if len(calls) != 1 {
								t.Errorf("%v, %d threads: the probe saw %d GEMMs, want 1", c, threads, len(calls))
								continue
							}
							if g := calls[0].goroutines; g != min(threads, c.units(impl)) {
								t.Errorf("%v, %d threads: computed by %d goroutines, want %d", c, threads, g, min(threads, c.units(impl)))
							}
							if p := calls[0].peak; p < 1 || p > threads {
								t.Errorf("%v, %d threads: %d blocks computed at once, want 1 to %d", c, threads, p, threads)
							}
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

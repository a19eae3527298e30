package blas

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// variant is one handle under test.
type variant struct {
	name string
	impl Impl
}

// variants lists every code path worth checking: OpenBLAS (when it loads) and
// gonum, each with one thread per CPU and with one thread (blocks or tiles in
// turn) or three (more goroutines than this machine's cores).
func variants(t testing.TB) []variant {
	var vs []variant
	add := func(impl Impl) {
		vs = append(vs, variant{impl.Name(), impl},
			variant{impl.Name() + "/threads=1", impl.WithThreads(1)},
			variant{impl.Name() + "/threads=3", impl.WithThreads(3)})
	}
	if ob, err := openBLAS(); err == nil {
		add(ob)
	} else {
		t.Logf("OpenBLAS not tested: %v", err)
	}
	add(Gonum())
	return vs
}

// operand makes a rows×cols matrix with row stride ld whose padding is NaN,
// so a read outside the matrix poisons the result and fails the test.
func operand(r *rand.Rand, rows, cols, ld int) []float32 {
	if rows == 0 {
		return nil
	}
	x := make([]float32, (rows-1)*ld+cols)
	for i := range x {
		if i%ld < cols {
			x[i] = float32(r.NormFloat64())
		} else {
			x[i] = float32(math.NaN())
		}
	}
	return x
}

// reference computes alpha*op(A)*op(B) + beta*C in float64 with a triple
// loop, and for each element the magnitude sum that bounds rounding error.
func reference(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, scale []float64) {
	want, scale = make([]float64, m*n), make([]float64, m*n)
	for i := range m {
		for j := range n {
			var sum, abs float64
			for p := range k {
				ai, bi := i*lda+p, p*ldb+j
				if tA {
					ai = p*lda + i
				}
				if tB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				sum += float64(av) * float64(bv)
				abs += math.Abs(float64(av) * float64(bv))
			}
			w := float64(alpha) * sum
			s := math.Abs(float64(alpha)) * abs
			if beta != 0 {
				w += float64(beta) * float64(c[i*ldc+j])
				s += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], scale[i*n+j] = w, s
		}
	}
	return want, scale
}

func TestSgemm(t *testing.T) {
	type ab struct{ alpha, beta float32 }
	all := []ab{{1, 0}, {-0.5, 0}, {1, 1}, {2, -1.5}, {0, 0.5}, {0, 0}}
	shapes := []struct {
		m, n, k int
		ab      []ab
	}{
		{7, 5, 3, all},
		{1, 1, 1, all},
		{0, 5, 3, all},
		{5, 0, 3, all},
		{5, 3, 0, all},
		{33, 65, 17, all},
		{200, 130, 70, []ab{{1, 0}, {0.5, 2}}},
		{128, 512, 784, []ab{{1, 0}}},  // MLP forward: X·W
		{784, 512, 128, []ab{{1, 1}}},  // weight gradient: Xᵀ·dY, accumulated
		{128, 784, 512, []ab{{-1, 0}}}, // input gradient: dY·Wᵀ
	}
	const tol = 1e-5
	vs := variants(t)
	for _, s := range shapes {
		for _, trans := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			pads := []int{0, 3}
			if s.m*s.n*s.k > 1<<20 {
				pads = pads[1:] // the float64 reference is slow; padded is the harder case
			}
			for _, pad := range pads {
				for _, p := range s.ab {
					name := fmt.Sprintf("%dx%dx%d/tA=%v,tB=%v/pad=%d/alpha=%g,beta=%g",
						s.m, s.n, s.k, trans[0], trans[1], pad, p.alpha, p.beta)
					checkOne(t, name, vs, trans[0], trans[1], s.m, s.n, s.k, pad, p.alpha, p.beta, tol)
				}
			}
		}
	}
}

// fence fills C's padding, which must survive untouched.
const fence = 777

// checkOne checks one product with every variant against one float64
// reference (the slow part). It reports only each variant's first wrong
// element (with Errorf, so that it may run on any goroutine) rather than
// flooding the log.
func checkOne(t *testing.T, name string, vs []variant, tA, tB bool, m, n, k, pad int, alpha, beta float32, tol float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(m*1000003+n*1009+k), uint64(pad)))
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	lda, ldb, ldc := max(1, ac)+pad, max(1, bc)+pad, max(1, n)+pad
	a, b := operand(r, ar, ac, lda), operand(r, br, bc, ldb)
	c := operand(r, m, n, ldc)
	for i := range c {
		switch {
		case i%ldc >= n:
			c[i] = fence
		case beta == 0:
			c[i] = float32(math.NaN()) // BLAS must overwrite, not scale, C
		}
	}
	want, scale := reference(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	for _, v := range vs {
		checkVariant(t, v.name+" "+name, v.impl, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, slices.Clone(c), ldc, want, scale, tol)
	}
}

// checkVariant runs impl on C and compares it with want, within tol times the
// magnitude sums in scale, and C's padding with fence.
func checkVariant(t *testing.T, name string, impl Impl, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, want, scale []float64, tol float64) {
	t.Helper()
	impl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	for i := range m {
		for j := range ldc {
			if i*ldc+j >= len(c) {
				break // the last row has no padding
			}
			got := c[i*ldc+j]
			if j >= n {
				if got != fence {
					t.Errorf("%s: padding C[%d][%d] = %v, want untouched", name, i, j, got)
					return
				}
				continue
			}
			w := want[i*n+j]
			if d := math.Abs(float64(got) - w); !(d <= tol*scale[i*n+j]+1e-30) {
				t.Errorf("%s: C[%d][%d] = %v, want %v (|diff| %g > %g)", name, i, j, got, w, d, tol*scale[i*n+j])
				return
			}
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	buf := make([]float32, 100)
	cases := []struct {
		name    string
		tA, tB  bool
		m, n, k int
		a       []float32
		lda     int
		b       []float32
		ldb     int
		c       []float32
		ldc     int
		want    error
	}{
		{"m<0", false, false, -1, 2, 2, buf, 2, buf, 2, buf, 2, ErrNegativeDim},
		{"n<0", false, false, 2, -1, 2, buf, 2, buf, 2, buf, 2, ErrNegativeDim},
		{"k<0", false, false, 2, 2, -1, buf, 2, buf, 2, buf, 2, ErrNegativeDim},
		{"lda<k", false, false, 2, 2, 3, buf, 2, buf, 2, buf, 2, ErrBadLdA},
		{"lda<m trans", true, false, 3, 2, 2, buf, 2, buf, 2, buf, 2, ErrBadLdA},
		{"lda=0 empty", false, false, 0, 0, 0, nil, 0, nil, 1, nil, 1, ErrBadLdA},
		{"ldb<n", false, false, 2, 3, 2, buf, 2, buf, 2, buf, 3, ErrBadLdB},
		{"ldb<k trans", false, true, 2, 2, 3, buf, 3, buf, 2, buf, 2, ErrBadLdB},
		{"ldc<n", false, false, 2, 3, 2, buf, 2, buf, 3, buf, 2, ErrBadLdC},
		{"short a", false, false, 4, 2, 3, buf[:11], 3, buf, 2, buf, 2, ErrShortA},
		{"short a trans", true, false, 4, 2, 3, buf[:11], 4, buf, 2, buf, 2, ErrShortA},
		{"short b", false, false, 2, 4, 3, buf, 3, buf[:11], 4, buf, 4, ErrShortB},
		{"short b trans", false, true, 2, 4, 3, buf, 3, buf[:11], 3, buf, 4, ErrShortB},
		{"short c", false, false, 3, 3, 1, buf, 1, buf, 3, buf[:8], 3, ErrShortC},
		{"short c k=0", false, false, 3, 3, 0, nil, 1, nil, 3, buf[:8], 3, ErrShortC},
	}
	for _, v := range variants(t) {
		for _, tc := range cases {
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				defer func() {
					got := recover()
					if err, ok := got.(error); !ok || !errors.Is(err, tc.want) {
						t.Fatalf("panic value %v, want %v", got, tc.want)
					}
				}()
				v.impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, tc.a, tc.lda, tc.b, tc.ldb, 0, tc.c, tc.ldc)
			})
		}
	}
}

// Empty products are legal with nil slices, as in BLAS, and must not panic.
func TestSgemmEmptyNil(t *testing.T) {
	for _, v := range variants(t) {
		v.impl.Sgemm(false, false, 0, 0, 0, 1, nil, 1, nil, 1, 0, nil, 1)
		v.impl.Sgemm(true, true, 0, 4, 3, 1, nil, 1, nil, 3, 0, nil, 4)
		c := []float32{float32(math.NaN()), 5}
		v.impl.Sgemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
		if c[0] != 0 || c[1] != 0 {
			t.Errorf("%s: k=0, beta=0 left C = %v, want zeros", v.name, c)
		}
	}
}

// TestSgemmConcurrent checks that goroutines may share an Impl: the nn
// package runs independent GEMMs in parallel, and OpenBLAS's thread pool must
// cope with calls arriving from several OS threads at once.
func TestSgemmConcurrent(t *testing.T) {
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 5 {
						name := fmt.Sprintf("goroutine %d call %d", g, i)
						checkOne(t, name, []variant{v}, g%2 == 1, i%2 == 1, 96+g, 80+i, 64, 1, 1, 0, 1e-5)
					}
				})
			}
			wg.Wait()
		})
	}
}

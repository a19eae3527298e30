// Package blas gives modulo a float32 matrix multiply (SGEMM) that is as fast
// as this machine allows, while the binary still builds and runs everywhere.
//
// GEMM dominates MLP training, so the choice here decides whether modulo beats
// PyTorch. Two implementations sit behind the [Impl] interface:
//
//   - "openblas": the system OpenBLAS (Debian's libopenblas0-pthread), loaded
//     at run time with dlopen. Only -ldl is linked, so building needs neither
//     OpenBLAS headers nor the library: a binary built here runs on a machine
//     without OpenBLAS and simply falls back. This needs cgo on Linux.
//   - "gonum": gonum's pure-Go SGEMM, which always builds (CGO_ENABLED=0 too)
//     but is 10-15x slower than a tuned kernel.
//
// [Default] picks OpenBLAS when it loads and gonum otherwise; MODULO_BLAS=gonum
// forces the fallback for tests and comparisons, and [LoadError] says why
// OpenBLAS is not in use.
//
// Measured on the 2-core AVX-512 AMD EPYC (Zen 5) development machine, 2048³,
// 2 threads: OpenBLAS with the SkylakeX kernel 470 GFLOP/s, Haswell 250,
// Prescott (SSE3) 90, gonum 32; the MLP shapes (128×784×512 and its gradients)
// reach 300-370 GFLOP/s with OpenBLAS. Training does better still with two
// single-threaded GEMMs side by side (400+ GFLOP/s together; see nn's stepParts).
//
// # Threads belong to a handle
//
// An [Impl] is a handle: its thread count is fixed when it is made
// ([Impl.WithThreads]) and nothing about it is process-wide, so two nodes of a
// pipeline running side by side with different thread counts each get their
// own, and a handle is safe for concurrent use. OpenBLAS's own thread count is
// process-wide and Debian's 0.3.21 has no per-call one, so this package sets
// it to one, once, when the library loads, and never again; a handle with n
// threads cuts a large GEMM into a fixed set of blocks (see planFor), which
// depends on the GEMM's shape only, and computes them with single-threaded
// calls on up to n goroutines. The threads therefore never change a result's
// bits, which OpenBLAS's own threads do: with 2 threads, 80% of the elements
// of a 512×512 product over k = 784 (any transposes) differ in their last bits
// from 1 thread's, and so did match, interpolate and merge_three, whose
// threads are not part of the cache key. gonum's fallback works the same way,
// with its own fixed tiles.
//
// What it costs (BenchmarkOwnThreads, best of 5-6 on the 2-core Xeon, whose
// other jobs add ±10%): on one thread a cut product runs 0-8% below the whole
// one (each block packs the shared operand again); on two, 2048³ ran at
// 295-323 GFLOP/s against 320-331 with OpenBLAS's own two threads, but short
// products lose more: 128×784×512 (0.3 ms) at 150-180 against 213-218, and a
// 1000×784×512 evaluation step at 210-250 against 296-317. The goroutine each
// GEMM starts needs a sleeping thread woken (0.1 ms here) while OpenBLAS's
// threads spin between calls; a pool of helpers spinning 50 µs between tasks
// did not change the figures. So callers with many short products give their
// threads to coarser work, each piece with a handle of its share: nn's
// training runs the two parts of a step side by side, and its evaluation
// chunks of examples.
//
// # Why dlopen: the OPENBLAS_CORETYPE trap
//
// OpenBLAS is built with DYNAMIC_ARCH and chooses its kernel from CPUID when
// the library initialises. Debian 12's 0.3.21 predates recent CPUs and has
// been seen to settle for the SSE3 "Prescott" kernel on them, 5x slower than
// "SkylakeX", without a word. The only cure that needs no rebuild is the
// environment variable OPENBLAS_CORETYPE, which the library's constructor
// reads once, during loading. A library linked with -lopenblas initialises
// before any Go code runs; loading it with dlopen lets this package set the
// variable first. So, if the user has not set it, the core type is picked from
// the CPU features (AVX-512 F/BW/DQ/VL: "SkylakeX"; AVX2+FMA: "Haswell";
// otherwise none) and set in the C environment, and removed again once the
// library is loaded so that child processes (a PyTorch baseline, say) see
// exactly the user's environment. Where 0.3.21 does recognise the CPU the
// pick matches it: on the Zen 5 machine it falls back, by features, to
// "Cooperlake", whose SGEMM is SkylakeX's and measured the same.
//
// A value the user set is always obeyed, even a slower one; Config then notes
// which kernel the CPU could use, for `modulo doctor` to point out.
//
// Matrices are row-major and strides are row strides, as with cblas and
// CblasRowMajor. Misuse (negative sizes, bad strides, short slices) panics
// with one of the exported Err* sentinel values, as gonum's BLAS does, so that
// the panic points at the caller and never reaches C.
package blas

import (
	"errors"
	"os"
	"sync"
	"time"
)

// Impl is a float32 BLAS handle. Matrices are row-major; lda, ldb and ldc are
// row strides (like cblas with CblasRowMajor). A handle never changes once
// made and is safe for concurrent use by any number of goroutines.
type Impl interface {
	// Sgemm computes C = alpha*op(A)*op(B) + beta*C, where op(X) is X or Xᵀ.
	// op(A) is m×k, op(B) is k×n and C is m×n. When beta is zero C is only
	// written, never read, so it may hold garbage (even NaN). It uses at most
	// Threads goroutines (the caller's among them), and its result has the same
	// bits whatever the threads. It panics with one of the Err* sentinel values
	// on bad shapes, strides or short slices.
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	// Name is "openblas" or "gonum".
	Name() string
	// Kernel is the OpenBLAS core name in use (e.g. "SkylakeX") or "pure Go".
	Kernel() string
	// Threads is the most goroutines one Sgemm of this handle uses.
	Threads() int
	// WithThreads returns a handle on the same implementation whose Sgemm
	// uses at most n goroutines (n < 1: one per CPU), leaving this one as it
	// is. A type that wraps an Impl must wrap the handle this returns too, or
	// its wrapping is lost wherever a caller asks for fewer threads (nn's
	// training does).
	WithThreads(n int) Impl
	// Config describes the build, e.g. openblas_get_config(), for diagnostics.
	Config() string
}

// Sentinel panic values for misuse of Sgemm. They mirror gonum's messages so
// that either implementation reports a mistake the same way.
var (
	ErrNegativeDim = errors.New("blas: negative matrix dimension")
	ErrBadLdA      = errors.New("blas: bad leading dimension of a")
	ErrBadLdB      = errors.New("blas: bad leading dimension of b")
	ErrBadLdC      = errors.New("blas: bad leading dimension of c")
	ErrShortA      = errors.New("blas: insufficient length of a")
	ErrShortB      = errors.New("blas: insufficient length of b")
	ErrShortC      = errors.New("blas: insufficient length of c")
)

// EnvSelect is the environment variable that, set to "gonum", makes Default
// use the pure-Go fallback even when OpenBLAS would load.
const EnvSelect = "MODULO_BLAS"

var (
	defaultOnce sync.Once
	defaultImpl Impl
	defaultErr  error
)

// Default returns a handle on the implementation modulo should use, chosen
// once per process: OpenBLAS when it loads, else gonum (MODULO_BLAS=gonum forces
// gonum). It has one thread per CPU; WithThreads makes a handle with fewer.
func Default() Impl {
	defaultOnce.Do(func() {
		defaultImpl, defaultErr = choose(os.Getenv(EnvSelect), openBLAS)
	})
	return defaultImpl
}

// LoadError tells why OpenBLAS is not in use (nil if it is), so that
// `modulo doctor` can explain a slow machine.
func LoadError() error {
	Default()
	return defaultErr
}

// choose is Default's decision, separated so tests can drive it without
// touching the process environment or loading a library.
func choose(sel string, load func() (Impl, error)) (Impl, error) {
	if sel == "gonum" {
		return Gonum(), errors.New("blas: OpenBLAS not used: " + EnvSelect + "=gonum forces the pure-Go fallback")
	}
	impl, err := load()
	if err != nil {
		return Gonum(), err
	}
	return impl, nil
}

// checkSgemm validates Sgemm's arguments with gonum's rules and reports
// whether there is any work; both implementations call it first so misuse
// panics with our sentinels before reaching gonum or C.
func checkSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) bool {
	if m < 0 || n < 0 || k < 0 {
		panic(ErrNegativeDim)
	}
	// Stored shapes: A is m×k (or k×m when transposed), B is k×n (or n×k).
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) {
		panic(ErrBadLdA)
	}
	if ldb < max(1, bc) {
		panic(ErrBadLdB)
	}
	if ldc < max(1, n) {
		panic(ErrBadLdC)
	}
	if m == 0 || n == 0 {
		return false
	}
	if k > 0 {
		if len(a) < (ar-1)*lda+ac {
			panic(ErrShortA)
		}
		if len(b) < (br-1)*ldb+bc {
			panic(ErrShortB)
		}
	}
	if len(c) < (m-1)*ldc+n {
		panic(ErrShortC)
	}
	return true
}

// GFLOPS is a quick probe for `modulo doctor`: it runs n×n×n SGEMMs with impl
// for about d (at least one, after a warm-up) and returns GFLOP/s.
func GFLOPS(impl Impl, n int, d time.Duration) float64 {
	if n < 1 {
		n = 1
	}
	a := make([]float32, n*n)
	b := make([]float32, n*n)
	c := make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%7) - 3
		b[i] = float32(i%5) - 2
	}
	impl.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	var runs int
	start := time.Now()
	for runs == 0 || time.Since(start) < d {
		impl.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		runs++
	}
	secs := time.Since(start).Seconds()
	return 2 * float64(n) * float64(n) * float64(n) * float64(runs) / secs / 1e9
}

//go:build cgo && linux

package blas

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

// Function pointer types for the few OpenBLAS entry points modulo needs.
// They are declared here, not taken from cblas.h, so that building needs no
// OpenBLAS headers; the ABI (int enums, 32-bit blasint) is that of every
// LP64 OpenBLAS, including Debian's.
typedef void (*modulo_sgemm_fn)(int order, int ta, int tb, int m, int n, int k,
	float alpha, const float *a, int lda, const float *b, int ldb,
	float beta, float *c, int ldc);
typedef void (*modulo_setint_fn)(int);
typedef int (*modulo_getint_fn)(void);
typedef char *(*modulo_getstr_fn)(void);

static modulo_sgemm_fn modulo_sgemm;
static modulo_setint_fn modulo_set_threads;
static modulo_getint_fn modulo_get_threads;
static modulo_getstr_fn modulo_corename;
static modulo_getstr_fn modulo_config;

// modulo_blas_open loads the library and resolves every symbol, returning
// NULL on success or a description of what failed. It is called once. On
// success OpenBLAS is left with one thread, for good (see the package doc).
static const char *modulo_blas_open(const char *name) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		return e != NULL ? e : "dlopen failed";
	}
	modulo_sgemm = (modulo_sgemm_fn)dlsym(h, "cblas_sgemm");
	modulo_set_threads = (modulo_setint_fn)dlsym(h, "openblas_set_num_threads");
	modulo_get_threads = (modulo_getint_fn)dlsym(h, "openblas_get_num_threads");
	modulo_corename = (modulo_getstr_fn)dlsym(h, "openblas_get_corename");
	modulo_config = (modulo_getstr_fn)dlsym(h, "openblas_get_config");
	if (!modulo_sgemm || !modulo_set_threads || !modulo_get_threads ||
	    !modulo_corename || !modulo_config) {
		// Not OpenBLAS (some other libblas under the same name): give up,
		// leaving the handle open since its constructor has already run.
		modulo_sgemm = NULL;
		return "library lacks cblas_sgemm or the openblas_* entry points";
	}
	modulo_set_threads(1);
	return NULL;
}

static void modulo_call_sgemm(int ta, int tb, int m, int n, int k, float alpha,
	const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
	modulo_sgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); // 101: CblasRowMajor
}
static void modulo_call_set_threads(int n) { modulo_set_threads(n); }
static int modulo_call_get_threads(void) { return modulo_get_threads(); }
static const char *modulo_call_corename(void) { return modulo_corename(); }
static const char *modulo_call_config(void) { return modulo_config(); }
*/
import "C"

import (
	"errors"
	"math"
	"os"
	"strings"
	"sync"
	"unsafe"
)

// libNames are tried in order: the runtime soname Debian's libopenblas0
// installs first, then the development symlink.
var libNames = []string{"libopenblas.so.0", "libopenblas.so"}

var (
	openOnce sync.Once
	openImpl *openBLASImpl
	openErr  error
)

// openBLAS loads OpenBLAS once per process (dlopen of a library whose
// constructor starts threads is not something to repeat) and returns a handle
// with one thread per CPU.
func openBLAS() (Impl, error) {
	openOnce.Do(func() { openImpl, openErr = loadOpenBLAS() })
	if openErr != nil {
		return nil, openErr
	}
	return openImpl.WithThreads(0), nil
}

func loadOpenBLAS() (*openBLASImpl, error) {
	pick := pickCoreType(hostFeatures())
	inherited, hadInherited := os.LookupEnv(EnvCoreType)
	forced := pick
	if v := os.Getenv(EnvModuloCoreType); v != "" {
		forced = v
	}
	if forced != "" {
		// With cgo, os.Setenv also calls C setenv, which is what the library's
		// constructor will getenv; restore the inherited value once loaded so that
		// child processes see the environment they were given.
		os.Setenv(EnvCoreType, forced)
		defer func() {
			if hadInherited {
				os.Setenv(EnvCoreType, inherited)
			} else {
				os.Unsetenv(EnvCoreType)
			}
		}()
	}
	var errs []string
	for _, name := range libNames {
		cname := C.CString(name)
		msg := C.modulo_blas_open(cname)
		C.free(unsafe.Pointer(cname))
		if msg == nil {
			impl := &openBLASImpl{
				kernel:  strings.TrimSpace(C.GoString(C.modulo_call_corename())),
				config:  strings.TrimSpace(C.GoString(C.modulo_call_config())),
				forced:  forced,
				threads: threadsOf(0),
			}
			if hadInherited && forced != "" && !strings.EqualFold(inherited, forced) {
				impl.ignored = inherited
			}
			return impl, nil
		}
		errs = append(errs, C.GoString(msg))
	}
	return nil, errors.New("blas: OpenBLAS not loaded: " + strings.Join(errs, "; "))
}

// openBLASImpl is a handle on the loaded library, which it calls through a
// function pointer, single-threaded, on up to threads goroutines (see planFor).
type openBLASImpl struct {
	kernel string // openblas_get_corename() at load time
	config string // openblas_get_config()
	forced string // OPENBLAS_CORETYPE value set by this package, or ""
	// ignored is an inherited OPENBLAS_CORETYPE that differed from forced.
	ignored string
	threads int // the most goroutines one Sgemm uses, ≥ 1
	probe   probe
}

func (*openBLASImpl) Name() string     { return "openblas" }
func (o *openBLASImpl) Kernel() string { return o.kernel }

// Config is OpenBLAS's build description, plus a note on where the core type
// came from, because that is the first thing to check on a slow machine.
func (o *openBLASImpl) Config() string {
	c := o.config
	if o.forced != "" {
		c += " (kernel " + o.forced + " chosen by modulo"
		if o.ignored != "" {
			c += "; the inherited " + EnvCoreType + "=" + o.ignored + " was ignored, set " + EnvModuloCoreType + " to force a kernel"
		}
		c += ")"
	}
	return c
}

func (o *openBLASImpl) Threads() int { return o.threads }

// WithThreads returns a handle whose Sgemm computes its blocks on at most n
// goroutines; OpenBLAS itself stays single-threaded.
func (o *openBLASImpl) WithThreads(n int) Impl {
	h := *o
	h.threads, h.probe = threadsOf(n), nil
	return &h
}

func (o *openBLASImpl) withProbe(p probe) Impl {
	h := *o
	h.probe = p
	return &h
}

func (o *openBLASImpl) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !checkSgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc) {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	// cblas takes 32-bit sizes; anything larger (never an MLP) goes to gonum
	// rather than being silently truncated.
	if max(m, n, k, lda, ldb, ldc) > math.MaxInt32 {
		(&gonumImpl{threads: o.threads, probe: o.probe}).Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	p := planFor(m, n, k)
	if p.count == 1 && o.probe == nil {
		// Most of training's products are one block: calling straight through keeps the
		// tile closure, and its heap allocation, off the hot path.
		sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	runTiles(o.threads, p.count, func(i int) {
		lo, hi := p.block(i)
		// Rows [lo, hi) of C need rows lo.. of op(A), which start at row lo of A
		// or, when A is stored transposed, at its column lo; columns likewise.
		if p.byRows {
			aOff := lo * lda
			if transA {
				aOff = lo
			}
			sgemm(transA, transB, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc)
			return
		}
		bOff := lo
		if transB {
			bOff = lo * ldb
		}
		sgemm(transA, transB, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], ldc)
	}, o.probe)
}

// sgemm calls cblas_sgemm, which runs on the calling thread: OpenBLAS has one.
// The arguments have been checked, and the sizes fit in a C int.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	C.modulo_call_sgemm(cblasTrans(transA), cblasTrans(transB), C.int(m), C.int(n), C.int(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(unsafe.SliceData(a))), C.int(lda),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(b))), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(unsafe.SliceData(c))), C.int(ldc))
}

// libThreads is OpenBLAS's own, process-wide thread count, which tests check
// stays 1 whatever the handles do.
func libThreads() int { return int(C.modulo_call_get_threads()) }

// setLibThreads sets OpenBLAS's own thread count, process-wide. Only
// BenchmarkOwnThreads calls it, to compare handles with OpenBLAS's threads,
// and it puts back 1 when done; modulo itself never does.
func setLibThreads(n int) { C.modulo_call_set_threads(C.int(n)) }

// cblasTrans maps to CblasNoTrans (111) or CblasTrans (112).
func cblasTrans(t bool) C.int {
	if t {
		return 112
	}
	return 111
}

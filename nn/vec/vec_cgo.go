//go:build cgo && amd64

package vec

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
// No errno from sqrtf, so its loop vectorises; no fused multiply-adds, so each operation
// rounds as the Go fallback's does and both give the same bits.
#pragma GCC optimize("no-math-errno", "fp-contract=off")
#include <float.h>
#include <math.h>
#include <stddef.h>

// flush is x, or 0 when x is subnormal (see vec.SGDAdded).
static inline float flush(float x) { return fabsf(x) < FLT_MIN ? 0.0f : x; }

#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

CLONES static void k_sgd(float *w, const float *g, float *buf, size_t n, float lr, float mu, float wd, int nesterov) {
	if (buf == NULL) {
		for (size_t i = 0; i < n; i++) w[i] -= lr * (g[i] + wd * w[i]);
		return;
	}
	if (nesterov) {
		for (size_t i = 0; i < n; i++) {
			float d = g[i] + wd * w[i];
			float b = mu * buf[i] + d;
			buf[i] = flush(b);
			w[i] -= lr * (d + mu * b);
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		float b = mu * buf[i] + (g[i] + wd * w[i]);
		buf[i] = flush(b);
		w[i] -= lr * b;
	}
}

CLONES static void k_sgd_added(float *w, float *buf, size_t n, float lr, float mu, float wd) {
	if (wd == 0) {
		for (size_t i = 0; i < n; i++) {
			float b = buf[i];
			w[i] -= lr * b;
			buf[i] = flush(mu * b);
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		float b = buf[i] + wd * w[i];
		w[i] -= lr * b;
		buf[i] = flush(mu * b);
	}
}

CLONES static void k_adam(float *w, const float *g, float *m, float *v, size_t n, float lr, float step, float b1, float b2, float eps, float wd, float sqrtc2, int decoupled) {
	for (size_t i = 0; i < n; i++) {
		float d = g[i];
		if (decoupled) w[i] -= lr * wd * w[i]; else d += wd * w[i];
		float mi = b1 * m[i] + (1 - b1) * d;
		float vi = b2 * v[i] + (1 - b2) * d * d;
		m[i] = mi;
		v[i] = vi;
		w[i] -= step * mi / (sqrtf(vi) / sqrtc2 + eps);
	}
}

CLONES static void k_relu(const float *y, float *h, size_t n) {
	for (size_t i = 0; i < n; i++) h[i] = y[i] > 0 ? y[i] : 0;
}

CLONES static void k_relu_backward(const float *y, const float *dh, float *dy, size_t n) {
	for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0 ? dh[i] : 0;
}

CLONES static void k_bias_relu(float *z, const float *b, float *h, size_t rows, size_t cols, size_t ld) {
	for (size_t r = 0; r < rows; r++) {
		float *zr = z + r * ld, *hr = h + r * ld;
		for (size_t j = 0; j < cols; j++) {
			float v = zr[j] + b[j];
			zr[j] = v;
			hr[j] = v > 0 ? v : 0;
		}
	}
}

CLONES static void k_relu_backward_sum(const float *y, const float *a, const float *b, float *dy, size_t rows, size_t cols, size_t ld) {
	for (size_t r = 0; r < rows; r++) {
		const float *yr = y + r * ld, *ar = a + r * ld, *br = b ? b + r * ld : NULL;
		float *dr = dy + r * ld;
		if (br) {
			for (size_t j = 0; j < cols; j++) dr[j] = yr[j] > 0 ? ar[j] + br[j] : 0;
		} else {
			for (size_t j = 0; j < cols; j++) dr[j] = yr[j] > 0 ? ar[j] : 0;
		}
	}
}

// Columns are added 64 at a time in float64 accumulators, in row order, as in Go.
CLONES static void k_col_sums(const float *m, size_t rows, size_t cols, size_t j0, size_t j1, float *dst) {
	for (size_t b0 = j0; b0 < j1; b0 += 64) {
		size_t w = j1 - b0 < 64 ? j1 - b0 : 64;
		double acc[64] = {0};
		for (size_t r = 0; r < rows; r++) {
			const float *row = m + r * cols + b0;
			for (size_t j = 0; j < w; j++) acc[j] += (double)row[j];
		}
		for (size_t j = 0; j < w; j++) dst[b0 + j] = (float)acc[j];
	}
}

CLONES static void k_mul(float *x, const float *m, size_t n) {
	for (size_t i = 0; i < n; i++) x[i] *= m[i];
}

static void c_sgd(float *w, const float *g, float *buf, size_t n, float lr, float mu, float wd, int nesterov) { k_sgd(w, g, buf, n, lr, mu, wd, nesterov); }
static void c_sgd_added(float *w, float *buf, size_t n, float lr, float mu, float wd) { k_sgd_added(w, buf, n, lr, mu, wd); }
static void c_adam(float *w, const float *g, float *m, float *v, size_t n, float lr, float step, float b1, float b2, float eps, float wd, float sqrtc2, int decoupled) { k_adam(w, g, m, v, n, lr, step, b1, b2, eps, wd, sqrtc2, decoupled); }
static void c_relu(const float *y, float *h, size_t n) { k_relu(y, h, n); }
static void c_relu_backward(const float *y, const float *dh, float *dy, size_t n) { k_relu_backward(y, dh, dy, n); }
static void c_mul(float *x, const float *m, size_t n) { k_mul(x, m, n); }
static void c_bias_relu(float *z, const float *b, float *h, size_t rows, size_t cols, size_t ld) { k_bias_relu(z, b, h, rows, cols, ld); }
static void c_relu_backward_sum(const float *y, const float *a, const float *b, float *dy, size_t rows, size_t cols, size_t ld) { k_relu_backward_sum(y, a, b, dy, rows, cols, ld); }
static void c_col_sums(const float *m, size_t rows, size_t cols, size_t j0, size_t j1, float *dst) { k_col_sums(m, rows, cols, j0, j1, dst); }
*/
import "C"

import "unsafe"

// Go memory may be passed to C for the duration of a call (cgo pointer rules): none of
// these keep a pointer, and the slices hold no Go pointers.

func ptr(x []float32) *C.float {
	if len(x) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&x[0]))
}

func sgdAdded(w, buf []float32, lr, mu, wd float32) {
	if len(w) == 0 {
		return
	}
	C.c_sgd_added(ptr(w), ptr(buf), C.size_t(len(w)), C.float(lr), C.float(mu), C.float(wd))
}

func sgd(w, g, buf []float32, lr, mu, wd float32, nesterov bool) {
	if len(w) == 0 {
		return
	}
	C.c_sgd(ptr(w), ptr(g), ptr(buf), C.size_t(len(w)), C.float(lr), C.float(mu), C.float(wd), cbool(nesterov))
}

func adam(w, g, m, v []float32, lr, step, b1, b2, eps, wd, sqrtC2 float32, decoupled bool) {
	if len(w) == 0 {
		return
	}
	C.c_adam(ptr(w), ptr(g), ptr(m), ptr(v), C.size_t(len(w)), C.float(lr), C.float(step), C.float(b1), C.float(b2), C.float(eps), C.float(wd), C.float(sqrtC2), cbool(decoupled))
}

func relu(y, h []float32) {
	if len(y) > 0 {
		C.c_relu(ptr(y), ptr(h), C.size_t(len(y)))
	}
}

func reluBackward(y, dh, dy []float32) {
	if len(y) > 0 {
		C.c_relu_backward(ptr(y), ptr(dh), ptr(dy), C.size_t(len(y)))
	}
}

func biasRelu(z, b, h []float32, rows, cols, ld int) {
	if rows > 0 && cols > 0 {
		C.c_bias_relu(ptr(z), ptr(b), ptr(h), C.size_t(rows), C.size_t(cols), C.size_t(ld))
	}
}

func reluBackwardSum(y, a, b, dy []float32, rows, cols, ld int) {
	if rows > 0 && cols > 0 {
		C.c_relu_backward_sum(ptr(y), ptr(a), ptr(b), ptr(dy), C.size_t(rows), C.size_t(cols), C.size_t(ld))
	}
}

func colSums(m []float32, rows, cols, j0, j1 int, dst []float32) {
	if j0 < j1 {
		C.c_col_sums(ptr(m), C.size_t(rows), C.size_t(cols), C.size_t(j0), C.size_t(j1), ptr(dst))
	}
}

func mul(x, m []float32) {
	if len(m) > 0 {
		C.c_mul(ptr(x), ptr(m), C.size_t(len(m)))
	}
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

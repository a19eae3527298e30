//go:build cgo && amd64

package vec

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
// No errno from sqrtf, so its loop vectorises; no fused multiply-adds, so each operation
// rounds as the Go fallback's does and both give the same bits.
#pragma GCC optimize("no-math-errno", "fp-contract=off")
#include <math.h>
#include <stddef.h>

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
			buf[i] = b;
			w[i] -= lr * (d + mu * b);
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		float b = mu * buf[i] + (g[i] + wd * w[i]);
		buf[i] = b;
		w[i] -= lr * b;
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

CLONES static void k_mul(float *x, const float *m, size_t n) {
	for (size_t i = 0; i < n; i++) x[i] *= m[i];
}

static void c_sgd(float *w, const float *g, float *buf, size_t n, float lr, float mu, float wd, int nesterov) { k_sgd(w, g, buf, n, lr, mu, wd, nesterov); }
static void c_adam(float *w, const float *g, float *m, float *v, size_t n, float lr, float step, float b1, float b2, float eps, float wd, float sqrtc2, int decoupled) { k_adam(w, g, m, v, n, lr, step, b1, b2, eps, wd, sqrtc2, decoupled); }
static void c_relu(const float *y, float *h, size_t n) { k_relu(y, h, n); }
static void c_relu_backward(const float *y, const float *dh, float *dy, size_t n) { k_relu_backward(y, dh, dy, n); }
static void c_mul(float *x, const float *m, size_t n) { k_mul(x, m, n); }
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

//go:build cgo && amd64

package sparse

/*
#cgo CFLAGS: -O3
// No fused multiply-adds: each product is rounded before it is added, as in the Go fallback.
#pragma GCC optimize("fp-contract=off")
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

// The AVX-512 kernel keeps a row's 128-column block in 8 registers while it adds the row's
// entries, so each entry costs 8 loads, multiplies and adds; the block of b it reads
// (Cols×128 floats, 400 KB for MNIST) stays in the core's L2 cache across the rows.
__attribute__((target("avx512f")))
static void k_mul_avx512(const int32_t *ptr, const int32_t *idx, const float *val, int rows,
		const float *b, int n, const float *init, float *out, int c0, int c1, int acc) {
	int c = c0;
	for (; c + 128 <= c1; c += 128) {
		for (int r = 0; r < rows; r++) {
			__m512 a0, a1, a2, a3, a4, a5, a6, a7;
			const float *from = acc ? out + (size_t)r * n + c : init ? init + c : NULL;
			if (from) {
				a0 = _mm512_loadu_ps(from);
				a1 = _mm512_loadu_ps(from + 16);
				a2 = _mm512_loadu_ps(from + 32);
				a3 = _mm512_loadu_ps(from + 48);
				a4 = _mm512_loadu_ps(from + 64);
				a5 = _mm512_loadu_ps(from + 80);
				a6 = _mm512_loadu_ps(from + 96);
				a7 = _mm512_loadu_ps(from + 112);
			} else {
				a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _mm512_setzero_ps();
			}
			for (int32_t p = ptr[r]; p < ptr[r + 1]; p++) {
				__m512 v = _mm512_set1_ps(val[p]);
				const float *x = b + (size_t)idx[p] * n + c;
				a0 = _mm512_add_ps(a0, _mm512_mul_ps(v, _mm512_loadu_ps(x)));
				a1 = _mm512_add_ps(a1, _mm512_mul_ps(v, _mm512_loadu_ps(x + 16)));
				a2 = _mm512_add_ps(a2, _mm512_mul_ps(v, _mm512_loadu_ps(x + 32)));
				a3 = _mm512_add_ps(a3, _mm512_mul_ps(v, _mm512_loadu_ps(x + 48)));
				a4 = _mm512_add_ps(a4, _mm512_mul_ps(v, _mm512_loadu_ps(x + 64)));
				a5 = _mm512_add_ps(a5, _mm512_mul_ps(v, _mm512_loadu_ps(x + 80)));
				a6 = _mm512_add_ps(a6, _mm512_mul_ps(v, _mm512_loadu_ps(x + 96)));
				a7 = _mm512_add_ps(a7, _mm512_mul_ps(v, _mm512_loadu_ps(x + 112)));
			}
			float *o = out + (size_t)r * n + c;
			_mm512_storeu_ps(o, a0);
			_mm512_storeu_ps(o + 16, a1);
			_mm512_storeu_ps(o + 32, a2);
			_mm512_storeu_ps(o + 48, a3);
			_mm512_storeu_ps(o + 64, a4);
			_mm512_storeu_ps(o + 80, a5);
			_mm512_storeu_ps(o + 96, a6);
			_mm512_storeu_ps(o + 112, a7);
		}
	}
	// The last columns, 16 (or fewer, masked) at a time.
	for (; c < c1; c += 16) {
		__mmask16 k = c1 - c >= 16 ? 0xffff : (__mmask16)((1u << (c1 - c)) - 1);
		for (int r = 0; r < rows; r++) {
			const float *from = acc ? out + (size_t)r * n + c : init ? init + c : NULL;
			__m512 a = from ? _mm512_maskz_loadu_ps(k, from) : _mm512_setzero_ps();
			for (int32_t p = ptr[r]; p < ptr[r + 1]; p++) {
				__m512 x = _mm512_maskz_loadu_ps(k, b + (size_t)idx[p] * n + c);
				a = _mm512_add_ps(a, _mm512_mul_ps(_mm512_set1_ps(val[p]), x));
			}
			_mm512_mask_storeu_ps(out + (size_t)r * n + c, k, a);
		}
	}
}

// The portable kernel, vectorised by gcc for the CPU it finds (the same arithmetic).
__attribute__((target_clones("arch=x86-64-v3", "default")))
static void k_mul_plain(const int32_t *ptr, const int32_t *idx, const float *val, int rows,
		const float *b, int n, const float *init, float *out, int c0, int c1, int acc) {
	for (int r = 0; r < rows; r++) {
		float *o = out + (size_t)r * n;
		if (!acc)
			for (int c = c0; c < c1; c++) o[c] = init ? init[c] : 0;
		for (int32_t p = ptr[r]; p < ptr[r + 1]; p++) {
			float v = val[p];
			const float *x = b + (size_t)idx[p] * n;
			for (int c = c0; c < c1; c++) o[c] += v * x[c];
		}
	}
}

// compress writes the non-zero entries of rows which[0], which[1], … of the cols-wide x
// (rows 0, 1, … when which is NULL) into ptr, idx and val, which have room for rows×cols +
// 16 entries (whole vectors are stored past the last entry).
__attribute__((target("avx512f,avx512vl,popcnt")))
static void k_compress_avx512(const float *x, const int64_t *which, int rows, int cols, int32_t *ptr, int32_t *idx, float *val) {
	const __m512i step = _mm512_set1_epi32(16);
	int32_t n = 0;
	ptr[0] = 0;
	for (int r = 0; r < rows; r++) {
		const float *row = x + (size_t)(which ? which[r] : r) * cols;
		__m512i k = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
		int c = 0;
		for (; c + 16 <= cols; c += 16) {
			__m512 v = _mm512_loadu_ps(row + c);
			__mmask16 nz = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
			_mm512_storeu_ps(val + n, _mm512_maskz_compress_ps(nz, v));
			_mm512_storeu_si512(idx + n, _mm512_maskz_compress_epi32(nz, k));
			n += __builtin_popcount(nz);
			k = _mm512_add_epi32(k, step);
		}
		for (; c < cols; c++) {
			idx[n] = c;
			val[n] = row[c];
			n += row[c] != 0;
		}
		ptr[r + 1] = n;
	}
}

static void k_compress_plain(const float *x, const int64_t *which, int rows, int cols, int32_t *ptr, int32_t *idx, float *val) {
	int32_t n = 0;
	ptr[0] = 0;
	for (int r = 0; r < rows; r++) {
		const float *row = x + (size_t)(which ? which[r] : r) * cols;
		for (int c = 0; c < cols; c++) {
			idx[n] = c;
			val[n] = row[c];
			n += row[c] != 0;
		}
		ptr[r + 1] = n;
	}
}

// transpose sets (tptr, tidx, tval), with trows rows, to the transpose of (ptr, idx, val).
static void c_transpose(const int32_t *ptr, const int32_t *idx, const float *val, int rows,
		int32_t *tptr, int32_t *tidx, float *tval, int trows) {
	for (int k = 0; k <= trows; k++) tptr[k] = 0;
	for (int32_t p = ptr[0]; p < ptr[rows]; p++) tptr[idx[p] + 1]++;
	for (int k = 0; k < trows; k++) tptr[k + 1] += tptr[k];
	// Rows in ascending order fill each row of the transpose in ascending column order;
	// tptr[k] is where row k is filled up to, shifted back at the end.
	for (int r = 0; r < rows; r++) {
		for (int32_t p = ptr[r]; p < ptr[r + 1]; p++) {
			int32_t q = tptr[idx[p]]++;
			tidx[q] = r;
			tval[q] = val[p];
		}
	}
	for (int k = trows; k > 0; k--) tptr[k] = tptr[k - 1];
	tptr[0] = 0;
}

static int has_avx512;

__attribute__((constructor)) static void find_avx512(void) {
	__builtin_cpu_init();
	has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}

static void c_compress(const float *x, const int64_t *which, int rows, int cols, int32_t *ptr, int32_t *idx, float *val) {
	if (has_avx512) k_compress_avx512(x, which, rows, cols, ptr, idx, val);
	else k_compress_plain(x, which, rows, cols, ptr, idx, val);
}

static void c_mul(const int32_t *ptr, const int32_t *idx, const float *val, int rows,
		const float *b, int n, const float *init, float *out, int c0, int c1, int acc) {
	if (has_avx512) k_mul_avx512(ptr, idx, val, rows, b, n, init, out, c0, c1, acc);
	else k_mul_plain(ptr, idx, val, rows, b, n, init, out, c0, c1, acc);
}
*/
import "C"

import "unsafe"

// Go memory may be passed to C for the duration of a call (cgo pointer rules): the kernel
// keeps no pointer, and the slices hold no Go pointers.

// compress sets m to the non-zero entries of rows which of x (all when nil); its slices
// have room for every entry plus one vector.
func compress(m *Matrix, x []float32, which []int) {
	if m.Rows == 0 || m.Cols == 0 {
		clear(m.Ptr)
		return
	}
	var w *C.int64_t
	if which != nil {
		w = (*C.int64_t)(unsafe.Pointer(&which[0]))
	}
	C.c_compress((*C.float)(unsafe.Pointer(&x[0])), w, C.int(m.Rows), C.int(m.Cols),
		(*C.int32_t)(unsafe.Pointer(&m.Ptr[0])), (*C.int32_t)(unsafe.Pointer(&m.Idx[0])), (*C.float)(unsafe.Pointer(&m.Val[0])))
}

func transpose(m, t *Matrix) {
	if m.NNZ() == 0 || t.Rows == 0 {
		clear(t.Ptr)
		return
	}
	C.c_transpose((*C.int32_t)(unsafe.Pointer(&m.Ptr[0])), (*C.int32_t)(unsafe.Pointer(&m.Idx[0])), (*C.float)(unsafe.Pointer(&m.Val[0])), C.int(m.Rows),
		(*C.int32_t)(unsafe.Pointer(&t.Ptr[0])), (*C.int32_t)(unsafe.Pointer(&t.Idx[0])), (*C.float)(unsafe.Pointer(&t.Val[0])), C.int(t.Rows))
}

func mul(m *Matrix, b []float32, n int, init, out []float32, c0, c1 int, acc bool) {
	if c0 >= c1 || m.Rows == 0 {
		return
	}
	var idx *C.int32_t
	var val *C.float
	if len(m.Idx) > 0 {
		idx = (*C.int32_t)(unsafe.Pointer(&m.Idx[0]))
		val = (*C.float)(unsafe.Pointer(&m.Val[0]))
	}
	var in *C.float
	if init != nil {
		in = (*C.float)(unsafe.Pointer(&init[0]))
	}
	C.c_mul((*C.int32_t)(unsafe.Pointer(&m.Ptr[0])), idx, val, C.int(m.Rows),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(n), in, (*C.float)(unsafe.Pointer(&out[0])), C.int(c0), C.int(c1), cbool(acc))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

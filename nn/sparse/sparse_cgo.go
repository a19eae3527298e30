//go:build cgo && amd64

package sparse

/*
#cgo CFLAGS: -O3
// No fused multiply-adds: each product is rounded before it is added, as in the Go fallback.
#pragma GCC optimize("fp-contract=off")
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// A kernel adds to rows of out (ldo apart, the w ≤ 64 columns of one panel) the
// products of their entries with rows of b (row k at b + 64k): the entries from cur[r]
// (ptr[r] when cur is NULL) whose column is below k1, advancing cur[r] past them. Each row
// starts from out when acc, else from init (zero when NULL). A product is split into
// blocks of columns this way so that the block of b the rows read stays in cache; the
// sums still run in column order, through out.
//
// The AVX-512 kernel keeps two rows' sums in eight registers and interleaves their
// entries, so that two rows' loads are in flight at once.
__attribute__((target("avx512f")))
static void k_panel_avx512(const int32_t *ptr, const int32_t *idx, const float *val, int rows, int32_t *cur,
		int k1, const float *b, const float *init, int acc, float *out, int ldo, int w) {
	__mmask16 m0 = w >= 16 ? 0xffff : (__mmask16)((1u << w) - 1);
	__mmask16 m1 = w >= 32 ? 0xffff : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
	__mmask16 m2 = w >= 48 ? 0xffff : w <= 32 ? 0 : (__mmask16)((1u << (w - 32)) - 1);
	__mmask16 m3 = w >= 64 ? 0xffff : w <= 48 ? 0 : (__mmask16)((1u << (w - 48)) - 1);
#define LOAD(a, from) \
	__m512 a##0 = _mm512_maskz_loadu_ps(m0, from), a##1 = _mm512_maskz_loadu_ps(m1, (from) + 16), \
	       a##2 = _mm512_maskz_loadu_ps(m2, (from) + 32), a##3 = _mm512_maskz_loadu_ps(m3, (from) + 48)
#define START(a, o) LOAD(a, acc ? (o) : init ? init : zeros)
#define ADD(a, v, x) \
	a##0 = _mm512_add_ps(a##0, _mm512_mul_ps(v, _mm512_loadu_ps(x))); \
	a##1 = _mm512_add_ps(a##1, _mm512_mul_ps(v, _mm512_loadu_ps((x) + 16))); \
	a##2 = _mm512_add_ps(a##2, _mm512_mul_ps(v, _mm512_loadu_ps((x) + 32))); \
	a##3 = _mm512_add_ps(a##3, _mm512_mul_ps(v, _mm512_loadu_ps((x) + 48)))
#define STORE(o, a) \
	_mm512_mask_storeu_ps(o, m0, a##0); _mm512_mask_storeu_ps((o) + 16, m1, a##1); \
	_mm512_mask_storeu_ps((o) + 32, m2, a##2); _mm512_mask_storeu_ps((o) + 48, m3, a##3)
	static const float zeros[64];
	int r = 0;
	for (; r + 1 < rows; r += 2) {
		int32_t pa = cur ? cur[r] : ptr[r], ea = ptr[r + 1], pb = cur ? cur[r + 1] : ptr[r + 1], eb = ptr[r + 2];
		int more_a = pa < ea && idx[pa] < k1, more_b = pb < eb && idx[pb] < k1;
		if (acc && !more_a && !more_b) continue; // nothing to add
		float *oa = out + (size_t)r * ldo, *ob = oa + ldo;
		START(a, oa);
		START(c, ob);
		for (; pa < ea && pb < eb && idx[pa] < k1 && idx[pb] < k1; pa++, pb++) {
			__m512 v = _mm512_set1_ps(val[pa]), u = _mm512_set1_ps(val[pb]);
			const float *x = b + (size_t)idx[pa] * 64, *y = b + (size_t)idx[pb] * 64;
			ADD(a, v, x);
			ADD(c, u, y);
		}
		for (; pa < ea && idx[pa] < k1; pa++) {
			__m512 v = _mm512_set1_ps(val[pa]);
			ADD(a, v, b + (size_t)idx[pa] * 64);
		}
		for (; pb < eb && idx[pb] < k1; pb++) {
			__m512 u = _mm512_set1_ps(val[pb]);
			ADD(c, u, b + (size_t)idx[pb] * 64);
		}
		if (cur) cur[r] = pa, cur[r + 1] = pb;
		STORE(oa, a);
		STORE(ob, c);
	}
	if (r < rows) {
		float *oa = out + (size_t)r * ldo;
		START(a, oa);
		int32_t p = cur ? cur[r] : ptr[r];
		for (; p < ptr[r + 1] && idx[p] < k1; p++) {
			__m512 v = _mm512_set1_ps(val[p]);
			ADD(a, v, b + (size_t)idx[p] * 64);
		}
		if (cur) cur[r] = p;
		STORE(oa, a);
	}
#undef LOAD
#undef START
#undef ADD
#undef STORE
}

// The portable kernel, vectorised by gcc for the CPU it finds (the same arithmetic).
__attribute__((target_clones("arch=x86-64-v3", "default")))
static void k_panel_plain(const int32_t *ptr, const int32_t *idx, const float *val, int rows, int32_t *cur,
		int k1, const float *b, const float *init, int acc, float *out, int ldo, int w) {
	for (int r = 0; r < rows; r++) {
		float *o = out + (size_t)r * ldo;
		float a[64];
		for (int c = 0; c < 64; c++) a[c] = c >= w ? 0 : acc ? o[c] : init ? init[c] : 0;
		int32_t p = cur ? cur[r] : ptr[r];
		for (; p < ptr[r + 1] && idx[p] < k1; p++) {
			float v = val[p];
			const float *x = b + (size_t)idx[p] * 64;
			for (int c = 0; c < 64; c++) a[c] += v * x[c];
		}
		if (cur) cur[r] = p;
		for (int c = 0; c < w; c++) o[c] = a[c];
	}
}

static int has_avx512;

static int set_avx512(int on) {
	int was = has_avx512;
	has_avx512 = on;
	return was;
}

static void c_panel(const int32_t *ptr, const int32_t *idx, const float *val, int rows, int32_t *cur,
		int k1, const float *b, const float *init, int acc, float *out, int ldo, int w) {
	if (has_avx512) k_panel_avx512(ptr, idx, val, rows, cur, k1, b, init, acc, out, ldo, w);
	else k_panel_plain(ptr, idx, val, rows, cur, k1, b, init, acc, out, ldo, w);
}

// panelBlock is how many rows of a panel of b the forward product reads while it goes
// through every row of m: 64 KB. On MNIST's first layer (one core, 64 rows, 784→512)
// blocks of 200-400 rows take the product from 113 µs to 83 µs; a whole panel is 200 KB.
enum { panelBlock = 256 };

// c_mul_panels sets the row-major rows×n out (rows ldo apart) to init + m·b, b in panels
// of 64 columns with k rows each. It returns 0 when it cannot allocate the rows' cursors.
static int c_mul_panels(const int32_t *ptr, const int32_t *idx, const float *val, int rows, int k,
		const float *b, int n, const float *init, float *out, int ldo) {
	int32_t *cur = malloc(sizeof(int32_t) * (size_t)rows);
	if (!cur) return 0;
	for (int p = 0; p * 64 < n; p++) {
		int w = n - p * 64 < 64 ? n - p * 64 : 64;
		memcpy(cur, ptr, sizeof(int32_t) * (size_t)rows);
		for (int k0 = 0; k0 < k; k0 += panelBlock)
			c_panel(ptr, idx, val, rows, cur, k0 + panelBlock, b + (size_t)p * k * 64, init ? init + p * 64 : NULL, k0 > 0, out + p * 64, ldo, w);
	}
	free(cur);
	return 1;
}

// c_mul_to_panels sets (or adds to, acc) out, rows×n in panels, the product of m by the
// k×n b (rows ldb apart), copying each panel's columns of b to a contiguous block first.
// It returns 0 when it cannot allocate that block.
static int c_mul_to_panels(const int32_t *ptr, const int32_t *idx, const float *val, int rows, int k,
		const float *b, int ldb, int n, float *out, int acc) {
	float *pack = aligned_alloc(64, ((size_t)k * 64 * sizeof(float) + 63) / 64 * 64);
	if (!pack) return 0;
	for (int p = 0; p * 64 < n; p++) {
		int w = n - p * 64 < 64 ? n - p * 64 : 64;
		for (int r = 0; r < k; r++) {
			memcpy(pack + (size_t)r * 64, b + (size_t)r * ldb + p * 64, w * sizeof(float));
			memset(pack + (size_t)r * 64 + w, 0, (64 - w) * sizeof(float));
		}
		c_panel(ptr, idx, val, rows, NULL, k, pack, NULL, acc, out + (size_t)p * rows * 64, 64, 64);
	}
	free(pack);
	return 1;
}

// prefetch_row asks for the cache lines of row which[r] of x, if r < rows. Training
// compresses rows drawn at random from a data set far larger than the caches, and each
// row's first lines wait on memory; asking for the row two ahead overlaps those waits.
// 64 random MNIST rows: 25 µs → 16 µs (a little slower when the rows are cached).
static inline void prefetch_row(const float *x, const int64_t *which, int rows, int cols, int r) {
	if (r >= rows) return;
	const char *row = (const char *)(x + (size_t)which[r] * cols);
	for (size_t b = 0; b < (size_t)cols * sizeof(float); b += 64) __builtin_prefetch(row + b);
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
		if (which) prefetch_row(x, which, rows, cols, r + 2);
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
		if (which) prefetch_row(x, which, rows, cols, r + 2);
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

__attribute__((constructor)) static void find_avx512(void) {
	__builtin_cpu_init();
	has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}

static void c_compress(const float *x, const int64_t *which, int rows, int cols, int32_t *ptr, int32_t *idx, float *val) {
	if (has_avx512) k_compress_avx512(x, which, rows, cols, ptr, idx, val);
	else k_compress_plain(x, which, rows, cols, ptr, idx, val);
}

*/
import "C"

import (
	"fmt"
	"unsafe"
)

// The C kernels are written for panels of 64 columns (four AVX-512 vectors); these fail to
// compile if PanelWidth changes.
const (
	_ = uint(PanelWidth - 64)
	_ = uint(64 - PanelWidth)
)

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

func mulPanels(m *Matrix, b Panels, init, out []float32, ldo int) {
	if m.Rows == 0 || b.Cols == 0 {
		return
	}
	if m.Cols == 0 {
		// No rows of b: every row of out is init.
		mulPanelsGo(m, b, init, out, ldo)
		return
	}
	idx, val := entries(m)
	var in *C.float
	if init != nil {
		in = (*C.float)(unsafe.Pointer(&init[0]))
	}
	if C.c_mul_panels((*C.int32_t)(unsafe.Pointer(&m.Ptr[0])), idx, val, C.int(m.Rows), C.int(m.Cols),
		(*C.float)(unsafe.Pointer(&b.Data[0])), C.int(b.Cols), in, (*C.float)(unsafe.Pointer(&out[0])), C.int(ldo)) == 0 {
		panic(fmt.Sprintf("sparse: out of memory for %d rows' cursors", m.Rows))
	}
}

func mulToPanels(m *Matrix, b []float32, ldb int, out Panels, acc bool) {
	if m.Rows == 0 || out.Cols == 0 {
		return
	}
	if m.Cols == 0 {
		// No rows of b: the product is zero.
		mulToPanelsGo(m, b, ldb, out, acc)
		return
	}
	idx, val := entries(m)
	if C.c_mul_to_panels((*C.int32_t)(unsafe.Pointer(&m.Ptr[0])), idx, val, C.int(m.Rows), C.int(m.Cols),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(ldb), C.int(out.Cols), (*C.float)(unsafe.Pointer(&out.Data[0])), cbool(acc)) == 0 {
		panic(fmt.Sprintf("sparse: out of memory for a %d×%d block of b", m.Cols, PanelWidth))
	}
}

// entries returns m's column indices and values for C (nil when m stores none).
func entries(m *Matrix) (*C.int32_t, *C.float) {
	if len(m.Idx) == 0 {
		return nil, nil
	}
	return (*C.int32_t)(unsafe.Pointer(&m.Idx[0])), (*C.float)(unsafe.Pointer(&m.Val[0]))
}

// withoutAVX512 runs f with the portable kernels, for tests on a CPU with AVX-512.
func withoutAVX512(f func()) {
	was := C.set_avx512(0)
	defer C.set_avx512(was)
	f()
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

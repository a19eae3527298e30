//go:build cgo && amd64

package conv

/*
#cgo CFLAGS: -O3 -Wno-psabi
#cgo LDFLAGS: -lm
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NB 64 // positions per block of the norm

__attribute__((target("avx512f"))) static void transpose16_avx512(const float *a, size_t lda, float *t, size_t ldt);

// The 3×3 kernels, once per instruction set; dispatch picks one at run time.
#define VL 16
#define SUFFIX _avx512
#define TARGET __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define FOB 8
#define FR 3
#define OPB 12
#define OPB1 24
#define WOV 2
#include "kernels.h"

#define VL 8
#define SUFFIX _avx2
#define TARGET __attribute__((target("avx2,fma")))
#define FOB 4
#define FR 3
#define OPB 6
#define OPB1 12
#define WOV 1
#include "kernels.h"

#define VL 4
#define SUFFIX _sse
#define TARGET
#define FOB 4
#define FR 2
#define OPB 6
#define OPB1 12
#define WOV 1
#include "kernels.h"

static void *xmalloc(size_t n);

#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

// force_isa and force_mode, when not −1, override the choice of instruction set
// (2 AVX-512, 1 AVX2, 0 SSE) and of blocking (1 along channels, 0 along positions, 2
// Winograd's F(2×2, 3×3), 3 dense and 4 F(4×4, 3×3) (with F(2×2)'s weight gradient) where
// they fit, along channels elsewhere), for tests.
static int force_isa = -1, force_mode = -1;

static void c_force(int isa, int mode) {
	force_isa = isa;
	force_mode = mode;
}

static int c_isa_supported(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? 2 :
		__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

static int isa(void) {
	static int level = -1;
	if (force_isa >= 0) return force_isa;
	if (level < 0) level = c_isa_supported();
	return level;
}

// use_o says whether a convolution of c_in to c_out channels on hw positions runs blocked
// along the channels (fwdo): with channels enough to fill two vectors of outputs and to pay
// for its scattered stores. Single core, AVX-512, loaded host, GFLOP/s fwd3 → fwdo: 16→16
// at 32×32 97 → 48; 32→32 at 16×16 93 → 133; 64→64 at 8×8 101 → 129; 128→128 at 4×4
// 59 → 100, at 2×2 33 → 68; 1→16 at 32×32 50 → 5.
static int use_o(int c_in, int c_out, int hw) {
	if (force_mode >= 0) return force_mode >= 1; // modes 2 to 4 (Winograd, dense) block the rest along channels
	return c_in >= 8 && c_out >= 32;
}

static void fwdo(const float *xp, int c_in, int ps, const int *base, int hw, int wp, const float *wr, int op, const float *bias, float *y, int c_out) {
	switch (isa()) {
	case 2: fwdo_avx512(xp, c_in, ps, base, hw, wp, wr, op, bias, y, c_out); break;
	case 1: fwdo_avx2(xp, c_in, ps, base, hw, wp, wr, op, bias, y, c_out); break;
	default: fwdo_sse(xp, c_in, ps, base, hw, wp, wr, op, bias, y, c_out);
	}
}

static void wgto(const float *xp, int g, int c_in, int ps, const int *base, int hw, int wp, const float *dyt, int op, int c_out, float *dw) {
	switch (isa()) {
	case 2: wgto_avx512(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw); break;
	case 1: wgto_avx2(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw); break;
	default: wgto_sse(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw);
	}
}

static void fwdo_any(const float *xp, int c_in, int ps, const int *base, int hw, int wp, const float *wr, int op, const float *bias, float *y, int c_out) {
	switch (isa()) {
	case 2: fwdo_any_avx512(xp, c_in, ps, base, hw, wp, wr, op, bias, y, c_out); break;
	case 1: fwdo_any_avx2(xp, c_in, ps, base, hw, wp, wr, op, bias, y, c_out); break;
	default: fwdo_any_sse(xp, c_in, ps, base, hw, wp, wr, op, bias, y, c_out);
	}
}

static void wgto_any(const float *xp, int g, int c_in, int ps, const int *base, int hw, int wp, const float *dyt, int op, int c_out, float *dw) {
	switch (isa()) {
	case 2: wgto_any_avx512(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw); break;
	case 1: wgto_any_avx2(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw); break;
	default: wgto_any_sse(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw);
	}
}

static int round16(int v) { return (v + 15) / 16 * 16; }

// pad writes c planes of h×w to padded planes of ps.
CLONES static void pad(const float *x, int c, int h, int w, float *xp, int ps) {
	int wp = w + 2;
	for (int ch = 0; ch < c; ch++) {
		float *p = xp + (size_t)ch * ps;
		const float *s = x + (size_t)ch * h * w;
		for (int j = 0; j <= wp; j++) p[j] = 0;
		for (int y = 0; y < h; y++) {
			float *row = p + (size_t)(y + 1) * wp + 1;
			const float *src = s + (size_t)y * w;
			for (int x = 0; x < w; x++) row[x] = src[x]; // short rows: a loop, not memcpy's call
			row[w] = 0;
			row[w + 1] = 0;
		}
		memset(p + (size_t)(h + 1) * wp + 1, 0, (size_t)(ps - (h + 1) * wp - 1) * sizeof(float));
	}
}

// unpad copies the valid outputs of c flat planes of ls to planes of h×w.
CLONES static void unpad(const float *yf, int c, int h, int w, int ls, float *y) {
	int wp = w + 2;
	for (int ch = 0; ch < c; ch++)
		for (int r = 0; r < h; r++) {
			float *dst = y + ((size_t)ch * h + r) * w;
			const float *src = yf + (size_t)ch * ls + (size_t)r * wp;
			for (int x = 0; x < w; x++) dst[x] = src[x];
		}
}

// fwd3 writes the output to y, or to yf and then unpads it to y (see fwd3 in kernels.h).
static void fwd3(const float *xp, int c_in, int ps, int h, int wp, int c_out, const float *w, const float *bias, float *yf, int ls, float *y) {
	int direct;
	switch (isa()) {
	case 2: direct = fwd3_avx512(xp, c_in, ps, h, wp, c_out, w, bias, yf, ls, y); break;
	case 1: direct = fwd3_avx2(xp, c_in, ps, h, wp, c_out, w, bias, yf, ls, y); break;
	default: direct = fwd3_sse(xp, c_in, ps, h, wp, c_out, w, bias, yf, ls, y);
	}
	if (!direct) unpad(yf, c_out, h, wp - 2, ls, y);
}

// transpose16_avx512 writes the 16×16 block at a (rows of stride lda) transposed to t (rows
// of stride ldt): sixteen loads, three rounds of shuffles, sixteen stores. GCC compiles the
// scalar loop of transpose to one float per load and store, which was 4.7% of a ResNet-20
// step (weight gradients read dy position by position).
__attribute__((target("avx512f"))) static void transpose16_avx512(const float *a, size_t lda, float *t, size_t ldt) {
	__m512 r[16], u[16];
	for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(a + i * lda);
	for (int i = 0; i < 16; i += 2) { // interleave rows 2k and 2k+1 element by element
		u[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
		u[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
	}
	for (int i = 0; i < 16; i += 4) { // then in pairs: 4×4 blocks transposed within each 128-bit lane
		r[i] = _mm512_shuffle_ps(u[i], u[i + 2], 0x44);
		r[i + 1] = _mm512_shuffle_ps(u[i], u[i + 2], 0xee);
		r[i + 2] = _mm512_shuffle_ps(u[i + 1], u[i + 3], 0x44);
		r[i + 3] = _mm512_shuffle_ps(u[i + 1], u[i + 3], 0xee);
	}
	for (int h = 0; h < 16; h += 8) // then the lanes: first between rows i and i+4
		for (int i = 0; i < 4; i++) {
			u[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
			u[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
		}
	for (int i = 0; i < 8; i++) { // and between rows i and i+8
		r[i] = _mm512_shuffle_f32x4(u[i], u[i + 8], 0x88);
		r[i + 8] = _mm512_shuffle_f32x4(u[i], u[i + 8], 0xdd);
	}
	for (int i = 0; i < 16; i++) _mm512_storeu_ps(t + i * ldt, r[i]);
}

// transpose writes the rows×cols matrix a to t, cols×rows with rows of stride ld, in
// blocks of 16×16: whole blocks with AVX-512 where there is, the edges element by element.
CLONES static void transpose(const float *a, int rows, int cols, float *t, int ld) {
	int fast = isa() >= 2;
	for (int r0 = 0; r0 < rows; r0 += 16)
		for (int c0 = 0; c0 < cols; c0 += 16) {
			int r1 = r0 + 16 < rows ? r0 + 16 : rows, c1 = c0 + 16 < cols ? c0 + 16 : cols;
			if (fast && r1 - r0 == 16 && c1 - c0 == 16) {
				transpose16_avx512(a + (size_t)r0 * cols + c0, cols, t + (size_t)c0 * ld + r0, ld);
				continue;
			}
			for (int c = c0; c < c1; c++)
				for (int r = r0; r < r1; r++) t[(size_t)c * ld + r] = a[(size_t)r * cols + c];
		}
}

// sum_rows adds to s[o], o < n, the sum of column o of the rows×ld matrix t, row by row
// (a bias's gradient: dy summed over one image's positions in order, as conv.go does).
CLONES static void sum_rows(const float *t, int rows, int ld, int n, float *s) {
	float acc[n];
	for (int o = 0; o < n; o++) acc[o] = 0;
	for (int p = 0; p < rows; p++)
		for (int o = 0; o < n; o++) acc[o] += t[(size_t)p * ld + o];
	for (int o = 0; o < n; o++) s[o] += acc[o];
}

// GROUP is how many images the weight gradient sums in registers before it adds to dw.
#define GROUP 8

// The Winograd path (see kernels.h): 3×3 convolutions of stride 1 between channels that are
// multiples of 16, on even h×w images whose positions come in sixteens. Eight images (a
// pass), one core, AVX-512 (AMD EPYC Zen 5), µs of the best direct blocking → Winograd,
// forward | backward (both gradients): 16→16 at 32×32 222 → 243 | 502 → 532; 16→32 at
// 16×16 103 → 80 | 212 → 196; 32→32 at 16×16 213 → 144 | 424 → 293; 64→64 at 8×8
// 186 → 123 | 387 → 293; 128→128 at 4×4 177 → 108 | 404 → 416. So it runs unless both
// sides have 16 channels (ResNet-20's first stage, at 32×32, stays direct).
static int win_fits(int c_in, int c_out, int h, int w) {
	return c_in % 16 == 0 && c_out % 16 == 0 && c_in > 0 && c_out > 0 && h % 2 == 0 && w % 2 == 0 && h * w % 16 == 0 && h * w > 0;
}

// use_w says whether the weight gradient runs on F(2×2, 3×3), and the forward pass and the
// input gradient too where F(4×4, 3×3) does not take them (use_w4).
static int use_w(int c_in, int c_out, int h, int w) {
	if (!win_fits(c_in, c_out, h, w)) return 0;
	if (force_mode >= 0) return force_mode == 2 || force_mode == 4;
	return c_in + c_out >= 48;
}

// use_w4 says whether the forward pass and the input gradient run on Winograd's F(4×4, 3×3)
// (kernels.h's win4_*): channels in sixteens, h and w multiples of 4. One core, AVX-512 (AMD
// EPYC, two 512-bit FMAs a cycle), µs of the forward pass, the best of the direct kernels
// and F(2×2) → F(4×4): 16→16 at 32×32, 8 images, 207 (direct) → 166; 32→32 at 16×16, 8
// images, 126 → 90; 64→64 at 8×8, 16 images, 210 → 135; 128→128 at 4×4, 8 images,
// 103 → 77 (32 images: 409 → 265). The input gradient is the same computation. It rounds
// worse (up to 2.5e-6 of a sum's Σ|term|, the others 4e-7; see conv_test.go's abs64), as
// the F(4×4, 3×3) that oneDNN and cuDNN train with does. Not beyond 64×64 channels: the
// transformed weight, 36 planes of c_in×c_out laid out once a batch per core and read by
// every group's GEMM, outgrows the L2 cache (4.7 MB for 128×128, F(2×2)'s 2.1); VGG-11's
// step (width 16, 128 channels at 4×4), best of 4 alternating runs, ms: F(2×2) 32.0, F(4×4)
// on every layer 33.6, up to 64×64 channels 31.2.
static int use_w4(int c_in, int c_out, int h, int w) {
	if (!win_fits(c_in, c_out, h, w) || h % 4 != 0 || w % 4 != 0) return 0;
	if (force_mode >= 0) return force_mode == 4;
	return c_in * c_out <= 64 * 64;
}

#define BY_ISA(f, ...)                                   \
	do {                                                 \
		switch (isa()) {                                 \
		case 2: f##_avx512(__VA_ARGS__); break;          \
		case 1: f##_avx2(__VA_ARGS__); break;            \
		default: f##_sse(__VA_ARGS__);                   \
		}                                                \
	} while (0)

// win_group is how many images a GEMM takes together (at least 64 tiles of s×s outputs,
// s 2 for F(2×2, 3×3) and 4 for F(4×4, 3×3)) and win_rows its rows of tiles per ξ, one
// more than the tiles (see kernels.h's layouts).
static int win_group(int h, int w, int s) { return h * w / (s * s) >= 64 ? 1 : 64 / (h * w / (s * s)); }
static size_t win_rows(int h, int w, int s) { return (size_t)win_group(h, w, s) * (h * w / (s * s)) + 1; }

// use_d says whether a 3×3 convolution runs as a dense layer: on planes of 2×2 or less,
// where every output position sees every input position through one of the taps, so
// that the convolution of an image is one product of its c_in·hw values by a matrix of
// (c_in·hw) × (c_out·hw), with none of the padding's zeros that the direct kernels
// multiply (VGG's last layers: 4 of 9 taps fall inside a 2×2 plane). Both sides must fill
// whole vectors of the widest instruction set.
static int use_d(int c_in, int c_out, int h, int w) {
	int hw = h * w;
	if (h > 2 || w > 2 || hw < 1 || c_in < 1 || c_out < 1 || c_in * hw % 16 != 0 || c_out * hw % 16 != 0) return 0;
	return force_mode < 0 || force_mode == 3;
}

// c_dense_scratch is the scratch of the dense path (0 where it does not run): a group's
// weight gradient in the dense layout, (c_out·hw) × (c_in·hw), its images transposed and
// an output channel's sums (dense_backward).
static size_t c_dense_scratch(int c_in, int c_out, int h, int w) {
	if (!use_d(c_in, c_out, h, w)) return 0;
	size_t kin = (size_t)c_in * h * w;
	return kin * c_out * h * w + GROUP * kin + (size_t)9 * c_in;
}

// c_win_scratch is the scratch the Winograd path needs (0 where it does not run): a group's
// blocked images, transformed windows and sums, and one image's blocked outputs, for each
// direction; for the weight gradient also its transformed output gradients and their sums.
static size_t c_win_scratch(int c_in, int c_out, int h, int w) {
	if (!use_w(c_in, c_out, h, w)) return 0;
	size_t g = win_group(h, w, 2), tp = win_rows(h, w, 2), pp = (size_t)(h + 2) * (w + 2), hw = (size_t)h * w;
	int cm = c_in > c_out ? c_in : c_out;
	size_t pass = g * cm * pp + 16 * tp * (c_in + c_out) + (size_t)cm * hw; // forward, and dx
	size_t wgrad = g * c_in * pp + 16 * tp * (c_in + c_out) + (size_t)c_out * hw + 16 * (size_t)c_in * c_out + (size_t)28 * c_out + (size_t)18 * c_in * c_out;
	return pass > wgrad ? pass : wgrad;
}

// c_win4_scratch is the scratch of F(4×4, 3×3)'s forward pass and input gradient (0 where
// it does not run): a group's blocked images, transformed windows and sums, and one image's
// blocked outputs.
static size_t c_win4_scratch(int c_in, int c_out, int h, int w) {
	if (!use_w4(c_in, c_out, h, w)) return 0;
	size_t g = win_group(h, w, 4), tp = win_rows(h, w, 4), pp = (size_t)(h + 2) * (w + 2), hw = (size_t)h * w;
	int cm = c_in > c_out ? c_in : c_out;
	return g * cm * pp + 36 * tp * (c_in + c_out) + (size_t)cm * hw;
}

// win_weight writes U[ξ][c][k] = (G g Gᵀ)[ξ] for the weight g of input channel c and output
// k, G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]: of wt (c_out×c_in×3×3), or, with
// flip, of the input gradient's weight (c_in from c_out, wt flipped), c_in×c_out. Each
// input channel's 16 rows are formed in t and then copied to their planes: storing each
// kernel's 16 values straight to 16 planes (16 KiB apart for 64×64 channels, so in one set
// of the L1 cache) took 0.55 ms for 64×64 channels, 70 µs so; it runs once a batch per core.
static void win_weight(const float *wt, int c_in, int c_out, int flip, float *u) {
	int ci = flip ? c_out : c_in, ko = flip ? c_in : c_out;
	size_t xs = (size_t)ci * ko; // from one ξ to the next
	float *t = xmalloc((size_t)16 * ko * sizeof(float));
	for (int c = 0; c < ci; c++) {
		for (int k = 0; k < ko; k++) {
			const float *src = flip ? wt + ((size_t)c * c_in + k) * 9 : wt + ((size_t)k * c_in + c) * 9;
			float g[9], r[4][3];
			for (int e = 0; e < 9; e++) g[e] = src[flip ? 8 - e : e];
			for (int j = 0; j < 3; j++) {
				r[0][j] = g[j];
				r[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
				r[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
				r[3][j] = g[6 + j];
			}
			for (int i = 0; i < 4; i++) {
				t[(4 * i + 0) * ko + k] = r[i][0];
				t[(4 * i + 1) * ko + k] = 0.5f * (r[i][0] + r[i][1] + r[i][2]);
				t[(4 * i + 2) * ko + k] = 0.5f * (r[i][0] - r[i][1] + r[i][2]);
				t[(4 * i + 3) * ko + k] = r[i][2];
			}
		}
		for (int x = 0; x < 16; x++) memcpy(u + x * xs + (size_t)c * ko, t + (size_t)x * ko, (size_t)ko * sizeof(float));
	}
	free(t);
}

// g6_rows is G·(a0, a1, a2) for F(4×4, 3×3) along n columns, to o0..o5: G = [[¼, 0, 0],
// [−⅙, −⅙, −⅙], [−⅙, ⅙, −⅙], [1/24, 1/12, ⅙], [1/24, −1/12, ⅙], [0, 0, 1]], with
// divisions (correctly rounded) for the fractions that floats do not hold (restrict: the
// rows do not overlap, so the loop, divisions and all, is vectorised).
static void g6_rows(const float *restrict a0, const float *restrict a1, const float *restrict a2, float *restrict o0,
	float *restrict o1, float *restrict o2, float *restrict o3, float *restrict o4, float *restrict o5, int n) {
	for (int k = 0; k < n; k++) {
		float s = a0[k] + a2[k], q = a0[k] + 4.0f * a2[k];
		o0[k] = 0.25f * a0[k];
		o1[k] = -(s + a1[k]) / 6.0f;
		o2[k] = -(s - a1[k]) / 6.0f;
		o3[k] = (q + 2.0f * a1[k]) / 24.0f;
		o4[k] = (q - 2.0f * a1[k]) / 24.0f;
		o5[k] = a2[k];
	}
}

// win4_weight is win_weight for F(4×4, 3×3): U[ξ][c][k] = (G g Gᵀ)[ξ], 36 planes, G as
// g6_rows's, computed along the output channels k: each input channel's nine taps are
// gathered into rows of k (g), G·g down the kernel's columns gives 18 rows (r), and G
// across each of r's six rows writes U's rows straight to their planes. One scalar kernel
// at a time (with F(4×4) on VGG's 128-channel layers too), c_conv3_prepare took 8.5% of a
// VGG-11 step, against 3.8% on F(2×2).
static void win4_weight(const float *wt, int c_in, int c_out, int flip, float *u) {
	int ci = flip ? c_out : c_in, ko = flip ? c_in : c_out;
	size_t xs = (size_t)ci * ko, n = ko;
	float *g = xmalloc((size_t)27 * ko * sizeof(float)), *r = g + 9 * n;
	for (int c = 0; c < ci; c++) {
		for (int k = 0; k < ko; k++) {
			const float *src = flip ? wt + ((size_t)c * c_in + k) * 9 : wt + ((size_t)k * c_in + c) * 9;
			for (int e = 0; e < 9; e++) g[e * n + k] = src[flip ? 8 - e : e];
		}
		for (int j = 0; j < 3; j++) // column j of g, down: (G g)[i][j] in row 3i + j of r
			g6_rows(g + j * n, g + (3 + j) * n, g + (6 + j) * n, r + j * n, r + (3 + j) * n, r + (6 + j) * n, r + (9 + j) * n,
				r + (12 + j) * n, r + (15 + j) * n, ko);
		float *uc = u + (size_t)c * n;
		for (int i = 0; i < 6; i++) // row i of G g, across, to U[6i + x]
			g6_rows(r + 3 * i * n, r + (3 * i + 1) * n, r + (3 * i + 2) * n, uc + 6 * i * xs, uc + (6 * i + 1) * xs, uc + (6 * i + 2) * xs,
				uc + (6 * i + 3) * xs, uc + (6 * i + 4) * xs, uc + (6 * i + 5) * xs, ko);
	}
	free(g);
}

// wg_rows is one step of Gᵀ · G along n columns: o0 = a0 + ½(a1 + a2), o1 = ½(a1 − a2),
// o2 = ½(a1 + a2) + a3 (restrict: the rows do not overlap, so the loop is vectorised).
static void wg_rows(const float *restrict a0, const float *restrict a1, const float *restrict a2, const float *restrict a3,
	float *restrict o0, float *restrict o1, float *restrict o2, int n) {
	for (int k = 0; k < n; k++) {
		float a = a1[k] + a2[k];
		o0[k] = a0[k] + 0.5f * a;
		o1[k] = 0.5f * (a1[k] - a2[k]);
		o2[k] = 0.5f * a + a3[k];
	}
}

// win_weight_grad adds Gᵀ du G, du[ξ][c][k] (c_in×c_out), to the weight's gradient dw
// (c_out×c_in×3×3). The transform runs along k, one input channel at a time (q: its 16
// rows of du, copied out so that they are not read as 16 streams 16 planes apart, which
// evict each other from the L1 cache; then 12 rows down the tiles), into o (c_in×9×c_out),
// which one transpose turns into dw's layout (t) to be added: added element by element in
// dw's order, the 9·c_out scattered additions of each channel were a tenth of a VGG-11 step.
static void win_weight_grad(const float *du, int c_in, int c_out, float *dw, float *q, float *o, float *t) {
	size_t xs = (size_t)c_in * c_out, n = c_out;
	float *p = q + 16 * n;
	for (int c = 0; c < c_in; c++) {
		for (int e = 0; e < 16; e++) memcpy(q + e * n, du + e * xs + (size_t)c * n, n * sizeof(float));
		for (int j = 0; j < 4; j++) // down the tile, column j
			wg_rows(q + j * n, q + (4 + j) * n, q + (8 + j) * n, q + (12 + j) * n, p + j * n, p + (4 + j) * n, p + (8 + j) * n, c_out);
		float *oc = o + (size_t)c * 9 * n;
		for (int i = 0; i < 3; i++) // then across row i
			wg_rows(p + 4 * i * n, p + (4 * i + 1) * n, p + (4 * i + 2) * n, p + (4 * i + 3) * n, oc + 3 * i * n, oc + (3 * i + 1) * n,
				oc + (3 * i + 2) * n, c_out);
	}
	int rows = 9 * c_in;
	transpose(o, rows, c_out, t, rows);
	for (size_t j = 0; j < (size_t)rows * c_out; j++) dw[j] += t[j];
}

// win_forward is the Winograd forward pass of n images x (c_in planes of h×w) by the
// transformed weight u, to y (c_out planes), adding bias (if any): on F(s×s, 3×3), s 2
// (u win_weight's) or 4 (win4_weight's).
static void win_forward(const float *x, int n, int c_in, int h, int w, int c_out, const float *u, const float *bias, float *y, float *scratch,
	int s) {
	int hw = h * w, T = hw / (s * s), g = win_group(h, w, s), nx = (s + 2) * (s + 2);
	size_t tp = win_rows(h, w, s), pp = (size_t)(h + 2) * (w + 2);
	float *xb = scratch, *v = xb + (size_t)g * c_in * pp, *m = v + nx * tp * c_in, *ob = m + nx * tp * c_out;
	for (int i0 = 0; i0 < n; i0 += g) {
		int gg = n - i0 < g ? n - i0 : g;
		for (int j = 0; j < gg; j++) {
			float *xbj = xb + j * c_in * pp;
			BY_ISA(wblock, x + (size_t)(i0 + j) * c_in * hw, c_in, h, w, xbj);
			if (s == 4)
				BY_ISA(win4_in, xbj, c_in, h, w, v, tp, j * T);
			else
				BY_ISA(win_in, xbj, c_in, h, w, v, tp, j * T);
		}
		BY_ISA(win_gemm, v, c_in, u, c_out, m, tp, gg * T, nx);
		for (int j = 0; j < gg; j++) {
			float *yj = y + (size_t)(i0 + j) * c_out * hw;
			if (s == 4)
				BY_ISA(win4_out, m, c_out, tp, j * T, h, w, bias, ob, yj);
			else
				BY_ISA(win_out, m, c_out, tp, j * T, h, w, bias, ob, yj);
		}
	}
}

// win_backward adds the weight's gradient (and the bias's, if db) of n images to dw and
// writes the input's gradient to dx (if any), by the forward pass of dy with the flipped
// weight's transform ub. Each GROUP of images is summed by itself (its tiles in order) and
// added to dw, as the direct kernels add theirs, so that a batch run in passes of GROUP
// images gives the bits of one pass.
static void win_backward(const float *x, int n, int c_in, int h, int w, int c_out, const float *ub, const float *dy, float *dx, float *dw,
	float *db, float *scratch) {
	int hw = h * w, T = hw / 4, g = win_group(h, w, 2) < GROUP ? win_group(h, w, 2) : GROUP;
	size_t tp = win_rows(h, w, 2), pp = (size_t)(h + 2) * (w + 2);
	float *xb = scratch, *v = xb + (size_t)g * c_in * pp, *wm = v + 16 * tp * c_in, *dyb = wm + 16 * tp * c_out;
	float *du = dyb + (size_t)c_out * hw, *dt = du + (size_t)16 * c_in * c_out;
	for (int i0 = 0; i0 < n; i0 += GROUP) {
		int gn = n - i0 < GROUP ? n - i0 : GROUP;
		for (int j0 = 0; j0 < gn; j0 += g) {
			int gg = gn - j0 < g ? gn - j0 : g;
			for (int j = 0; j < gg; j++) {
				int i = i0 + j0 + j;
				const float *dyi = dy + (size_t)i * c_out * hw;
				BY_ISA(wblock, x + (size_t)i * c_in * hw, c_in, h, w, xb + j * c_in * pp);
				BY_ISA(win_in, xb + j * c_in * pp, c_in, h, w, v, tp, j * T);
				BY_ISA(win_dy, dyi, c_out, h, w, dyb, wm, tp, j * T);
				// The bias's gradient from dy as win_dy blocked it: each block is its 16
				// channels' positions in rows, what transpose would give grad_image.
				for (int kb = 0; db && kb < c_out / 16; kb++) sum_rows(dyb + (size_t)kb * hw * 16, hw, 16, 16, db + kb * 16);
			}
			BY_ISA(win_gemm_w, v, c_in, wm, c_out, du, tp, gg * T, j0 == 0);
		}
		win_weight_grad(du, c_in, c_out, dw, dt, dt + (size_t)28 * c_out, dt + (size_t)28 * c_out + (size_t)9 * c_in * c_out);
	}
	if (dx) win_forward(dy, n, c_out, h, w, c_in, ub, NULL, dx, scratch, 2);
}

static void *xmalloc(size_t n) {
	void *p = calloc(n, 1);
	if (!p) abort();
	return p;
}

// The dense path (use_d). Image i's c_in·hw values in NCHW order, input channel c at
// position p at c·hw + p, times the dense weight wf ((c_in·hw) × (c_out·hw), wf[c·hw + p]
// [k·hw + o] = wt[k][c][tap(o, p)]) are its outputs in NCHW order; the input gradient is
// dy times wb, wf transposed; the weight gradient of a group of images is xᵀ·dy in wf's
// layout, each tap's sum then added to dw.

// dense_taps writes to taps[o·hw + p] the tap of the 3×3 kernel that joins input position
// p to output position o of an h×w plane (both row-major), which use_d makes sure exists.
static void dense_taps(int h, int w, int *taps) {
	int hw = h * w;
	for (int o = 0; o < hw; o++)
		for (int p = 0; p < hw; p++) taps[o * hw + p] = (p / w - o / w + 1) * 3 + (p % w - o % w + 1);
}

// dense_weight writes wf and, after it, wb: wb in order, reading wt in order too; wf by
// the transpose.
static void dense_weight(const float *wt, int c_in, int c_out, int h, int w, float *prep) {
	int hw = h * w, kin = c_in * hw, kout = c_out * hw;
	float *wf = prep, *wb = prep + (size_t)kin * kout;
	int taps[16];
	dense_taps(h, w, taps);
	for (int k = 0; k < c_out; k++)
		for (int c = 0; c < c_in; c++) {
			const float *g = wt + ((size_t)k * c_in + c) * 9;
			for (int o = 0; o < hw; o++)
				for (int p = 0; p < hw; p++) wb[((size_t)k * hw + o) * kin + c * hw + p] = g[taps[o * hw + p]];
		}
	transpose(wb, kout, kin, wf, kout);
}

// dense_forward: y = bias + x·wf, the sum over the input's values in order.
static void dense_forward(const float *x, int n, int c_in, int h, int w, int c_out, const float *prep, const float *bias, float *y) {
	int hw = h * w, kin = c_in * hw, kout = c_out * hw;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < c_out; k++)
			for (int o = 0; o < hw; o++) y[(size_t)i * kout + k * hw + o] = bias ? bias[k] : 0;
	BY_ISA(dense_gemm, x, kin, 1, prep, kout, kin, y, n, 1);
}

// dense_fold adds to dw (c_out×c_in×3×3) a group's weight gradient in the dense layout,
// g: for each output channel, each tap's sum over the pairs of positions it joins (output
// positions in order, then input positions) in t (9 rows of c_in), whole rows at a time,
// then added to dw (a tap that joins no pair adds zero).
CLONES static void dense_fold(const float *g, const int *taps, int hw, int c_in, int c_out, float *restrict t, float *restrict dw) {
	size_t kin = (size_t)c_in * hw;
	for (int k = 0; k < c_out; k++) {
		memset(t, 0, (size_t)9 * c_in * sizeof(float));
		for (int o = 0; o < hw; o++) {
			const float *row = g + ((size_t)k * hw + o) * kin;
			for (int p = 0; p < hw; p++) {
				float *restrict tt = t + (size_t)taps[o * hw + p] * c_in;
				const float *restrict src = row + (size_t)p * c_in;
				for (int c = 0; c < c_in; c++) tt[c] += src[c];
			}
		}
		float *d = dw + (size_t)k * c_in * 9;
		for (int c = 0; c < c_in; c++)
			for (int tap = 0; tap < 9; tap++) d[c * 9 + tap] += t[(size_t)tap * c_in + c];
	}
}

// dense_backward writes dx = dy·wb and adds the weight's (and bias's) gradient over groups of
// GROUP images, as the direct kernels do: the group's images with their positions outermost
// (xt: p·c_in + c), dyᵀ·xt in g ((c_out·hw) × (hw·c_in), the images in order), then for
// each output channel the sums of each tap over the pairs of positions it joins (output
// positions in order, then input positions), whole rows of input channels at a time,
// added to dw.
static void dense_backward(const float *x, int n, int c_in, int h, int w, int c_out, const float *prep, const float *dy, float *dx,
	float *dw, float *db, float *scratch) {
	int hw = h * w, kin = c_in * hw, kout = c_out * hw, taps[16];
	dense_taps(h, w, taps);
	float *g = scratch, *xt = g + (size_t)kout * kin, *t = xt + (size_t)GROUP * kin;
	if (dx) BY_ISA(dense_gemm, dy, kout, 1, prep + (size_t)kin * kout, kin, kout, dx, n, 0);
	for (int i0 = 0; i0 < n; i0 += GROUP) {
		int gn = n - i0 < GROUP ? n - i0 : GROUP;
		for (int j = 0; j < gn; j++) transpose(x + (size_t)(i0 + j) * kin, c_in, hw, xt + (size_t)j * kin, c_in);
		BY_ISA(dense_gemm, dy + (size_t)i0 * kout, 1, kout, xt, kin, gn, g, kout, 0);
		dense_fold(g, taps, hw, c_in, c_out, t, dw);
		if (db)
			for (int k = 0; k < c_out; k++) {
				float s = 0;
				for (int i = i0; i < i0 + gn; i++)
					for (int o = 0; o < hw; o++) s += dy[(size_t)i * kout + k * hw + o];
				db[k] += s;
			}
	}
}

// positions writes to base the offsets in a padded plane (rows of w+2) of an h×w image's
// pixels.
static int *positions(int h, int w, float *at) {
	int *base = (int *)at;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) base[y * w + x] = y * (w + 2) + x;
	return base;
}

// The layouts c_conv3_prepare writes for a 3×3 convolution of c_in to c_out channels on
// h×w images: the forward's weight and bias along the channels, when it runs blocked so
// (prep_fwd floats, none otherwise), then the backward's flipped, transposed weight.
static size_t prep_fwd(int c_in, int c_out, int hw) {
	return use_o(c_in, c_out, hw) ? (size_t)9 * c_in * round16(c_out) + round16(c_out) : 0;
}

static size_t c_prep_size(int c_in, int c_out, int h, int w) {
	if (use_d(c_in, c_out, h, w)) return (size_t)2 * c_in * c_out * h * w * h * w; // the dense weight, forward and transposed
	if (use_w4(c_in, c_out, h, w)) return (size_t)72 * c_in * c_out; // win4_weight's, forward and flipped
	if (use_w(c_in, c_out, h, w)) return (size_t)32 * c_in * c_out;  // win_weight's, forward and flipped
	return prep_fwd(c_in, c_out, h * w) + (size_t)9 * c_out * round16(c_in);
}

// prep_wr writes fwdo's layout of the weight wt (c_out×c_in×3×3) to wr: c_in×9×op with the
// output channels fastest, rounded up to op = round16(c_out), and the bias (if any) after
// it. The loop writes in order and reads across the weight: scattered stores were most of
// the cost.
static void prep_wr(const float *wt, const float *bias, int c_in, int c_out, float *wr) {
	int op = round16(c_out);
	for (int c = 0; c < c_in; c++)
		for (int k = 0; k < 9; k++)
			for (int o = 0; o < c_out; o++) wr[((size_t)c * 9 + k) * op + o] = wt[((size_t)o * c_in + c) * 9 + k];
	if (bias) memcpy(wr + (size_t)9 * c_in * op, bias, (size_t)c_out * sizeof(float));
}

// c_conv3_prepare writes to prep the layouts of the weight wt (c_out×c_in×3×3) and bias
// that the kernels read: wr, c_in×9×op with the output channels fastest, rounded up to op,
// and the bias after it, for fwdo; wb, the weight flipped and transposed, for the input
// gradient (o×9×cp along the input channels for fwdo, or c_in×c_out×9 for fwd3). Both
// blockings are chosen by use_o, as the kernels' calls choose them.
static void c_conv3_prepare(const float *wt, const float *bias, int c_in, int c_out, int h, int w, float *prep) {
	int hw = h * w, cp = round16(c_in);
	if (use_d(c_in, c_out, h, w)) {
		dense_weight(wt, c_in, c_out, h, w, prep);
		return;
	}
	if (use_w4(c_in, c_out, h, w)) {
		win4_weight(wt, c_in, c_out, 0, prep);
		win4_weight(wt, c_in, c_out, 1, prep + (size_t)36 * c_in * c_out);
		return;
	}
	if (use_w(c_in, c_out, h, w)) {
		win_weight(wt, c_in, c_out, 0, prep);
		win_weight(wt, c_in, c_out, 1, prep + (size_t)16 * c_in * c_out);
		return;
	}
	memset(prep, 0, c_prep_size(c_in, c_out, h, w) * sizeof(float));
	float *wb = prep + prep_fwd(c_in, c_out, hw);
	// Each loop writes in order and reads across the weight, as prep_wr's does.
	if (use_o(c_in, c_out, hw)) prep_wr(wt, bias, c_in, c_out, prep);
	if (use_o(c_out, c_in, hw))
		for (int o = 0; o < c_out; o++)
			for (int k = 0; k < 9; k++)
				for (int c = 0; c < c_in; c++) wb[((size_t)o * 9 + k) * cp + c] = wt[((size_t)o * c_in + c) * 9 + 8 - k];
	else
		for (int c = 0; c < c_in; c++)
			for (int o = 0; o < c_out; o++)
				for (int k = 0; k < 9; k++) wb[((size_t)c * c_out + o) * 9 + k] = wt[((size_t)o * c_in + c) * 9 + 8 - k];
}

static void c_conv3_forward(const float *x, int n, int c_in, int h, int w, int c_out, const float *wt, const float *bias,
	const float *prep, float *y, float *scratch) {
	if (use_d(c_in, c_out, h, w)) {
		dense_forward(x, n, c_in, h, w, c_out, prep, bias, y);
		return;
	}
	if (use_w4(c_in, c_out, h, w)) {
		win_forward(x, n, c_in, h, w, c_out, prep, bias, y, scratch, 4);
		return;
	}
	if (use_w(c_in, c_out, h, w)) {
		win_forward(x, n, c_in, h, w, c_out, prep, bias, y, scratch, 2);
		return;
	}
	int wp = w + 2, ps = round16((h + 2) * wp + 32), ls = round16(h * wp), hw = h * w;
	float *xp = scratch, *yf = scratch + (size_t)c_in * ps;
	if (use_o(c_in, c_out, hw)) {
		// The positions take yf's place.
		int op = round16(c_out);
		const float *wr = prep, *bp = wr + (size_t)9 * c_in * op;
		int *base = positions(h, w, yf);
		for (int i = 0; i < n; i++) {
			pad(x + (size_t)i * c_in * hw, c_in, h, w, xp, ps);
			fwdo(xp, c_in, ps, base, hw, wp, wr, op, bias ? bp : NULL, y + (size_t)i * c_out * hw, c_out);
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		pad(x + (size_t)i * c_in * hw, c_in, h, w, xp, ps);
		fwd3(xp, c_in, ps, h, wp, c_out, wt, bias, yf, ls, y + (size_t)i * c_out * hw);
	}
}

// grad_image lays out image i for the weight gradient: x's c_in planes of h×w padded into
// xp (planes of ps), dy's c_out planes of ohw positions transposed into dt (rows of op), and
// their sums added to the bias's gradient db (if any).
static void grad_image(const float *x, const float *dy, int c_in, int c_out, int h, int w, int ps, int ohw, int op,
	float *xp, float *dt, float *db) {
	pad(x, c_in, h, w, xp, ps);
	transpose(dy, c_out, ohw, dt, op);
	if (db) sum_rows(dt, ohw, op, c_out, db);
}

// direct_backward sums the weight gradient over groups of GROUP images (fixed, so the
// order of the sums is too), blocked along the output channels; dx (if any) is the forward
// convolution of dy by the flipped, transposed weight.
static void direct_backward(const float *x, int n, int c_in, int h, int w, int c_out, const float *prep, const float *dy,
	float *dx, float *dw, float *db, float *scratch) {
	int wp = w + 2, ps = round16((h + 2) * wp + 32), ls = round16(h * wp), hw = h * w;
	int op = round16(c_out), cp = round16(c_in);
	float *xpg = scratch, *dyt = xpg + (size_t)GROUP * c_in * ps, *dyp = dyt + (size_t)GROUP * hw * op, *dxf = dyp + (size_t)c_out * ps;
	const float *wb = dx ? prep + prep_fwd(c_in, c_out, hw) : NULL;
	int byo = use_o(c_out, c_in, hw);
	int *base = positions(h, w, dxf + (size_t)c_in * ls);
	// The channels that round c_out up to op are lanes whose sums are never stored; they
	// are cleared only so that they hold no garbage (a subnormal slows some CPUs' FMAs).
	if (op != c_out) memset(dyt, 0, (size_t)GROUP * hw * op * sizeof(float));
	for (int i0 = 0; i0 < n; i0 += GROUP) {
		int g = n - i0 < GROUP ? n - i0 : GROUP;
		for (int j = 0; j < g; j++) {
			int i = i0 + j;
			const float *dyi = dy + (size_t)i * c_out * hw;
			grad_image(x + (size_t)i * c_in * hw, dyi, c_in, c_out, h, w, ps, hw, op, xpg + (size_t)j * c_in * ps,
				dyt + (size_t)j * hw * op, db);
			if (dx) {
				pad(dyi, c_out, h, w, dyp, ps);
				if (byo)
					fwdo(dyp, c_out, ps, base, hw, wp, wb, cp, NULL, dx + (size_t)i * c_in * hw, c_in);
				else
					fwd3(dyp, c_out, ps, h, wp, c_in, wb, NULL, dxf, ls, dx + (size_t)i * c_in * hw);
			}
		}
		wgto(xpg, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw);
	}
}

// c_conv3_backward adds the weight's gradient (and the bias's, if db) to dw and writes the
// input's gradient to dx (if any), each on the path use_d, use_w4 and use_w choose.
static void c_conv3_backward(const float *x, int n, int c_in, int h, int w, int c_out, const float *prep, const float *dy,
	float *dx, float *dw, float *db, float *scratch) {
	if (use_d(c_in, c_out, h, w)) {
		dense_backward(x, n, c_in, h, w, c_out, prep, dy, dx, dw, db, scratch);
		return;
	}
	if (use_w4(c_in, c_out, h, w)) {
		if (use_w(c_in, c_out, h, w))
			win_backward(x, n, c_in, h, w, c_out, NULL, dy, NULL, dw, db, scratch);
		else
			direct_backward(x, n, c_in, h, w, c_out, NULL, dy, NULL, dw, db, scratch);
		if (dx) win_forward(dy, n, c_out, h, w, c_in, prep + (size_t)36 * c_in * c_out, NULL, dx, scratch, 4);
		return;
	}
	if (use_w(c_in, c_out, h, w)) {
		win_backward(x, n, c_in, h, w, c_out, prep + (size_t)16 * c_in * c_out, dy, dx, dw, db, scratch);
		return;
	}
	direct_backward(x, n, c_in, h, w, c_out, prep, dy, dx, dw, db, scratch);
}

// The 3×3 convolutions of stride 2 and padding 1 (the first of ResNet's stages 2 and 3):
// outputs oh×ow = ((h−1)/2+1)×((w−1)/2+1), output (oy, ox) reading the padded plane from
// 2·oy·wp + 2·ox. The forward pass and the weight gradient are fwdo's and wgto's tiles on
// those positions; the input gradient is the GEMM's (conv.go).

// positions2 writes to base the windows of an h×w image's stride-2 outputs.
static int *positions2(int h, int w, float *at) {
	int *base = (int *)at, oh = (h - 1) / 2 + 1, ow = (w - 1) / 2 + 1;
	for (int y = 0; y < oh; y++)
		for (int x = 0; x < ow; x++) base[y * ow + x] = 2 * y * (w + 2) + 2 * x;
	return base;
}

static size_t c_prep2_size(int c_in, int c_out) { return (size_t)9 * c_in * round16(c_out) + round16(c_out); }

// c_conv3s2_prepare writes fwdo's layout of the weight and the bias (c_conv3_prepare's wr).
static void c_conv3s2_prepare(const float *wt, const float *bias, int c_in, int c_out, float *prep) {
	memset(prep, 0, c_prep2_size(c_in, c_out) * sizeof(float));
	prep_wr(wt, bias, c_in, c_out, prep);
}

static void c_conv3s2_forward(const float *x, int n, int c_in, int h, int w, int c_out, const float *bias, const float *prep,
	float *y, float *scratch) {
	int wp = w + 2, ps = round16((h + 2) * wp + 32), hw = h * w, ohw = ((h - 1) / 2 + 1) * ((w - 1) / 2 + 1);
	int op = round16(c_out);
	const float *wr = prep, *bp = wr + (size_t)9 * c_in * op;
	float *xp = scratch;
	int *base = positions2(h, w, xp + (size_t)c_in * ps);
	for (int i = 0; i < n; i++) {
		pad(x + (size_t)i * c_in * hw, c_in, h, w, xp, ps);
		fwdo_any(xp, c_in, ps, base, ohw, wp, wr, op, bias ? bp : NULL, y + (size_t)i * c_out * ohw, c_out);
	}
}

// c_conv3s2_grads adds the weight gradient, summed over groups of GROUP images as
// c_conv3_backward sums it, and the bias's.
static void c_conv3s2_grads(const float *x, int n, int c_in, int h, int w, int c_out, const float *dy, float *dw, float *db,
	float *scratch) {
	int wp = w + 2, ps = round16((h + 2) * wp + 32), hw = h * w, ohw = ((h - 1) / 2 + 1) * ((w - 1) / 2 + 1);
	int op = round16(c_out);
	float *xpg = scratch, *dyt = xpg + (size_t)GROUP * c_in * ps;
	int *base = positions2(h, w, dyt + (size_t)GROUP * ohw * op);
	if (op != c_out) memset(dyt, 0, (size_t)GROUP * ohw * op * sizeof(float));
	for (int i0 = 0; i0 < n; i0 += GROUP) {
		int g = n - i0 < GROUP ? n - i0 : GROUP;
		for (int j = 0; j < g; j++) {
			int i = i0 + j;
			grad_image(x + (size_t)i * c_in * hw, dy + (size_t)i * c_out * ohw, c_in, c_out, h, w, ps, ohw, op,
				xpg + (size_t)j * c_in * ps, dyt + (size_t)j * ohw * op, db);
		}
		wgto_any(xpg, g, c_in, ps, base, ohw, wp, dyt, op, c_out, dw);
	}
}

// im2col and col2im as conv.go's, for one image.
CLONES static void c_im2col(const float *img, int c_in, int h, int w, int k, int stride, int padding, float *col) {
	int oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1;
	float *dst = col;
	for (int ch = 0; ch < c_in; ch++) {
		const float *plane = img + (size_t)ch * h * w;
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				// Output columns whose input column is inside the image: ox in [lo, hi).
				int lo = 0, hi = ow;
				while (lo < ow && lo * stride + kx - padding < 0) lo++;
				while (hi > lo && (hi - 1) * stride + kx - padding >= w) hi--;
				for (int oy = 0; oy < oh; oy++, dst += ow) {
					int iy = oy * stride + ky - padding;
					if (iy < 0 || iy >= h) {
						memset(dst, 0, (size_t)ow * sizeof(float));
						continue;
					}
					const float *src = plane + (size_t)iy * w + kx - padding;
					for (int ox = 0; ox < lo; ox++) dst[ox] = 0;
					if (stride == 1)
						memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(float));
					else if (stride == 2)
						for (int ox = lo; ox < hi; ox++) dst[ox] = src[2 * ox];
					else
						for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * stride];
					for (int ox = hi; ox < ow; ox++) dst[ox] = 0;
				}
			}
	}
}

CLONES static void c_col2im(const float *col, int c_in, int h, int w, int k, int stride, int padding, float *img) {
	int oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1;
	memset(img, 0, (size_t)c_in * h * w * sizeof(float));
	const float *src = col;
	for (int ch = 0; ch < c_in; ch++) {
		float *plane = img + (size_t)ch * h * w;
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				int lo = 0, hi = ow;
				while (lo < ow && lo * stride + kx - padding < 0) lo++;
				while (hi > lo && (hi - 1) * stride + kx - padding >= w) hi--;
				for (int oy = 0; oy < oh; oy++, src += ow) {
					int iy = oy * stride + ky - padding;
					if (iy < 0 || iy >= h) continue;
					float *dst = plane + (size_t)iy * w + kx - padding;
					if (stride == 1)
						for (int ox = lo; ox < hi; ox++) dst[ox] += src[ox];
					else
						for (int ox = lo; ox < hi; ox++) dst[ox * stride] += src[ox];
				}
			}
	}
}


// norm_stats_* turn the sums s and ss over c channels of nb positions into their means and
// reciprocal standard deviations. GCC leaves this loop scalar, since sqrt may set errno
// (cgo refuses -fno-math-errno, and GCC 12's optimize attribute and pragma leave it), and
// four divisions and a square root per position, each waiting for the last, took three
// fifths of the forward pass at 32×32 with 16 channels. The vector versions compute what
// the scalar loop computed in c_norm_forward's clone for the same instruction set, bit for
// bit: IEEE division and square root, q − m² fused where there is FMA (GCC contracts it),
// the variance clamped at 0 with a NaN kept.
static void norm_stats_scalar(const double *s, const double *ss, int c, int nb, double eps, double *mean, double *rstd) {
	for (int j = 0; j < nb; j++) {
		double m = s[j] / c, v = ss[j] / c - m * m;
		if (v < 0) v = 0;
		mean[j] = m;
		rstd[j] = 1 / sqrt(v + eps);
	}
}

__attribute__((target("avx2,fma"))) static void norm_stats_avx2(const double *s, const double *ss, int c, int nb,
	double eps, double *mean, double *rstd) {
	const __m256d vc = _mm256_set1_pd(c), ve = _mm256_set1_pd(eps), one = _mm256_set1_pd(1), zero = _mm256_setzero_pd();
	int j = 0;
	for (; j + 4 <= nb; j += 4) {
		__m256d m = _mm256_div_pd(_mm256_loadu_pd(s + j), vc);
		__m256d v = _mm256_fnmadd_pd(m, m, _mm256_div_pd(_mm256_loadu_pd(ss + j), vc));
		v = _mm256_blendv_pd(v, zero, _mm256_cmp_pd(v, zero, _CMP_LT_OQ));
		_mm256_storeu_pd(mean + j, m);
		_mm256_storeu_pd(rstd + j, _mm256_div_pd(one, _mm256_sqrt_pd(_mm256_add_pd(v, ve))));
	}
	for (; j < nb; j++) {
		double m = s[j] / c, v = fma(-m, m, ss[j] / c);
		if (v < 0) v = 0;
		mean[j] = m;
		rstd[j] = 1 / sqrt(v + eps);
	}
}

__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))) static void norm_stats_avx512(const double *s,
	const double *ss, int c, int nb, double eps, double *mean, double *rstd) {
	const __m512d vc = _mm512_set1_pd(c), ve = _mm512_set1_pd(eps), one = _mm512_set1_pd(1), zero = _mm512_setzero_pd();
	for (int j = 0; j < nb; j += 8) {
		__mmask8 k = nb - j >= 8 ? 0xff : (__mmask8)((1u << (nb - j)) - 1);
		__m512d m = _mm512_div_pd(_mm512_maskz_loadu_pd(k, s + j), vc);
		__m512d v = _mm512_fnmadd_pd(m, m, _mm512_div_pd(_mm512_maskz_loadu_pd(k, ss + j), vc));
		v = _mm512_mask_mov_pd(v, _mm512_cmp_pd_mask(v, zero, _CMP_LT_OQ), zero);
		_mm512_mask_storeu_pd(mean + j, k, m);
		_mm512_mask_storeu_pd(rstd + j, k, _mm512_div_pd(one, _mm512_sqrt_pd(_mm512_add_pd(v, ve))));
	}
}

typedef void (*norm_stats_fn)(const double *, const double *, int, int, double, double *, double *);

// norm_stats_for picks the version for the instruction set whose clone of c_norm_forward
// runs here: target_clones chooses among x86-64-v4, -v3 and the default the same way.
static norm_stats_fn norm_stats_for(void) {
	__builtin_cpu_init();
	if (__builtin_cpu_supports("x86-64-v4")) return norm_stats_avx512;
	if (__builtin_cpu_supports("x86-64-v3")) return norm_stats_avx2;
	return norm_stats_scalar;
}

// c_norm_stats_level is the version norm_stats_for picks here (2 AVX-512, 1 AVX2, 0 scalar),
// and c_norm_stats runs the one of a level, for tests.
static int c_norm_stats_level(void) {
	norm_stats_fn f = norm_stats_for();
	return f == norm_stats_avx512 ? 2 : f == norm_stats_avx2 ? 1 : 0;
}

static void c_norm_stats(int level, const double *s, const double *ss, int c, int nb, double eps, double *mean, double *rstd) {
	(level == 2 ? norm_stats_avx512 : level == 1 ? norm_stats_avx2 : norm_stats_scalar)(s, ss, c, nb, eps, mean, rstd);
}

// The norm's sums over channels run in float64, channel by channel, for NB positions at a
// time; the output y = γ·((x − mean)·rstd) + β in float32 from the float32 statistics that
// the backward pass reads (in float64 it took twice as long at 8×8 and 16×16 planes, for
// the conversions and half-width vectors); with relu the output is max(y, 0).
CLONES static void c_norm_forward(const float *x, int n, int c, int hw, const float *gamma, const float *beta, double eps,
	float *y, float *stats, int relu) {
	double s[NB], ss[NB], mean[NB], rstd[NB];
	norm_stats_fn norm_stats = norm_stats_for();
	for (int i = 0; i < n; i++)
		for (int p0 = 0; p0 < hw; p0 += NB) {
			int nb = hw - p0 < NB ? hw - p0 : NB;
			const float *xi = x + (size_t)i * c * hw + p0;
			float *yi = y + (size_t)i * c * hw + p0;
			for (int j = 0; j < nb; j++) s[j] = ss[j] = 0;
			for (int ch = 0; ch < c; ch++) {
				const float *xc = xi + (size_t)ch * hw;
				for (int j = 0; j < nb; j++) {
					double v = xc[j];
					s[j] += v;
					ss[j] += v * v;
				}
			}
			float *st = stats + 2 * ((size_t)i * hw + p0);
			norm_stats(s, ss, c, nb, eps, mean, rstd);
			float mf[NB], rf[NB];
			for (int j = 0; j < nb; j++) {
				st[2 * j] = mf[j] = (float)mean[j];
				st[2 * j + 1] = rf[j] = (float)rstd[j];
			}
			for (int ch = 0; ch < c; ch++) {
				const float *xc = xi + (size_t)ch * hw;
				float *yc = yi + (size_t)ch * hw;
				float g = gamma[ch], b = beta[ch];
				if (relu)
					for (int j = 0; j < nb; j++) {
						float v = g * ((xc[j] - mf[j]) * rf[j]) + b;
						yc[j] = v > 0 ? v : 0;
					}
				else
					for (int j = 0; j < nb; j++) yc[j] = g * ((xc[j] - mf[j]) * rf[j]) + b;
			}
		}
}

// norm_lanes is how many lanes the backward pass sums the gradients of γ and β in, per
// channel: a block's positions, or a smaller plane's.
static int norm_lanes(int hw) { return hw < NB ? hw : NB; }

// The backward pass runs in float32, 16 positions to a vector (the forward's statistics
// are float32 already). The gradients of γ and β are summed per channel and lane of a
// block, over one image's blocks in float32, then over the images in float64 (acc: 2·c·L,
// kept across the calls of a batch run in passes), then, by c_norm_flush, over the lanes in
// order. A plane smaller than a block has as many lanes as positions: the others would only
// ever hold zeros, and clearing and summing them cost 16 times the work of a 2×2 plane.
// With y, the output's gradient dy is taken as zero where y ≤ 0 (a ReLU after the norm).
CLONES static void c_norm_backward_any(const float *x, int n, int c, int hw, const float *gamma, const float *stats,
	const float *y, const float *dy, float *dx, double *acc) {
	float mean[NB], rstd[NB], sd[NB], sdx[NB];
	const int L = norm_lanes(hw);
	size_t cn = (size_t)c * L;
	float *img = xmalloc(2 * cn * sizeof(float));
	double *dg = acc, *db = acc + cn;
	float *ig = img, *ib = img + cn;
	float invc = 1.0f / c;
	for (int i = 0; i < n; i++) {
		memset(img, 0, 2 * cn * sizeof(float));
		for (int p0 = 0; p0 < hw; p0 += NB) {
			int nb = hw - p0 < NB ? hw - p0 : NB;
			size_t base = (size_t)i * c * hw + p0;
			const float *st = stats + 2 * ((size_t)i * hw + p0);
			for (int j = 0; j < nb; j++) {
				mean[j] = st[2 * j];
				rstd[j] = st[2 * j + 1];
				sd[j] = sdx[j] = 0;
			}
			for (int ch = 0; ch < c; ch++) {
				const float *xc = x + base + (size_t)ch * hw, *gc = dy + base + (size_t)ch * hw;
				const float *yc = y ? y + base + (size_t)ch * hw : NULL;
				float *dgc = ig + (size_t)ch * L, *dbc = ib + (size_t)ch * L, g = gamma[ch];
				for (int j = 0; j < nb; j++) {
					float xhat = (xc[j] - mean[j]) * rstd[j];
					float d = (yc && !(yc[j] > 0)) ? 0 : gc[j];
					dgc[j] += d * xhat;
					dbc[j] += d;
					float dxhat = d * g;
					sd[j] += dxhat;
					sdx[j] += dxhat * xhat;
				}
			}
			for (int j = 0; j < nb; j++) {
				sd[j] *= invc;
				sdx[j] *= invc;
			}
			for (int ch = 0; ch < c; ch++) {
				const float *xc = x + base + (size_t)ch * hw, *gc = dy + base + (size_t)ch * hw;
				const float *yc = y ? y + base + (size_t)ch * hw : NULL;
				float *dxc = dx + base + (size_t)ch * hw;
				float g = gamma[ch];
				for (int j = 0; j < nb; j++) {
					float xhat = (xc[j] - mean[j]) * rstd[j];
					float d = (yc && !(yc[j] > 0)) ? 0 : gc[j];
					dxc[j] = rstd[j] * (d * g - sd[j] - xhat * sdx[j]);
				}
			}
		}
		for (size_t j = 0; j < cn; j++) {
			dg[j] += ig[j];
			db[j] += ib[j];
		}
	}
	free(img);
}

// isa_lanes is the floats per vector of an instruction set's kernels.
static int isa_lanes(int level) { return level == 2 ? 16 : level == 1 ? 8 : 4; }

// force_norm_any, when set, keeps the norm's backward pass on its loops, for tests.
static int force_norm_any = 0;

static void c_force_norm_any(int any) { force_norm_any = any; }

// c_norm_backward runs the vector kernel (kernels.h) where the plane is a multiple of a
// vector, the loops elsewhere: the same bits.
static void c_norm_backward(const float *x, int n, int c, int hw, const float *gamma, const float *stats,
	const float *y, const float *dy, float *dx, double *acc) {
	const int vl = isa_lanes(isa());
	if (force_norm_any || hw % vl != 0) {
		c_norm_backward_any(x, n, c, hw, gamma, stats, y, dy, dx, acc);
		return;
	}
	const int L = norm_lanes(hw);
	float *img = xmalloc((2 * (size_t)c * L + 4 * (size_t)c * vl) * sizeof(float));
	BY_ISA(norm_backward, x, n, c, hw, gamma, stats, y, dy, dx, acc, img, img + 2 * (size_t)c * L, L);
	free(img);
}

// c_norm_flush adds the sums in acc, c_norm_backward's, to dgamma and dbeta and clears acc.
static void c_norm_flush(double *acc, int c, int hw, float *dgamma, float *dbeta) {
	const int L = norm_lanes(hw);
	size_t cn = (size_t)c * L;
	const double *dg = acc, *db = acc + cn;
	for (int ch = 0; ch < c; ch++) {
		double a = 0, b = 0;
		for (int j = 0; j < L; j++) {
			a += dg[(size_t)ch * L + j];
			b += db[(size_t)ch * L + j];
		}
		dgamma[ch] += (float)a;
		dbeta[ch] += (float)b;
	}
	memset(acc, 0, 2 * cn * sizeof(double));
}

CLONES static void c_add_relu(float *y, const float *s, size_t n) {
	for (size_t i = 0; i < n; i++) {
		float v = y[i] + s[i];
		y[i] = v > 0 ? v : 0;
	}
}

CLONES static void c_add(float *dst, const float *src, size_t n) {
	for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

// MaxPool2 as pool.go's: of equal values the first in reading order wins.
CLONES static void c_maxpool2(const float *x, int planes, int h, int w, float *y, int *arg) {
	int oh = h / 2, ow = w / 2;
	size_t o = 0;
	for (int p = 0; p < planes; p++) {
		size_t base = (size_t)p * h * w;
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++, o++) {
				size_t j = base + (size_t)2 * oy * w + 2 * ox, best = j;
				if (x[j + 1] > x[best]) best = j + 1;
				if (x[j + w] > x[best]) best = j + w;
				if (x[j + w + 1] > x[best]) best = j + w + 1;
				y[o] = x[best];
				arg[o] = (int)best;
			}
	}
}
*/
import "C"

import "unsafe"

// Go memory may be passed to C for the duration of a call (cgo pointer rules): none of
// these keep a pointer, and the slices hold no Go pointers.

// direct3 says whether the 3×3 stride-1 convolutions run on the direct kernels.
const direct3 = true

// The kernels' GROUP is GradGroup (a build fails otherwise: a negative uint constant).
const (
	_ uint = GradGroup - C.GROUP
	_ uint = C.GROUP - GradGroup
)

func ptr(x []float32) *C.float {
	if len(x) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&x[0]))
}

// round16 and paddedPlane are the C side's round16 and ps (see pad): the length of an h×w
// image's padded plane.
func round16(v int) int { return (v + 15) / 16 * 16 }

func paddedPlane(h, w int) int { return round16((h+2)*(w+2) + 32) }

// direct3Size is the scratch conv3Forward and conv3Backward need (see c_conv3_forward and
// c_conv3_backward): padded images, dy transposed and the positions, so that no call
// allocates.
func direct3Size(in, out, h, w int) int {
	ps, ls, op := paddedPlane(h, w), round16(h*(w+2)), round16(out)
	fwd := in*ps + max(out*ls, h*w)
	bwd := C.GROUP*(in*ps+h*w*op) + out*ps + in*ls + h*w
	return max(fwd, bwd, int(C.c_win_scratch(C.int(in), C.int(out), C.int(h), C.int(w))),
		int(C.c_win4_scratch(C.int(in), C.int(out), C.int(h), C.int(w))),
		int(C.c_dense_scratch(C.int(in), C.int(out), C.int(h), C.int(w))))
}

// direct3PrepSize is the length of conv3Prepare's layouts.
func direct3PrepSize(in, out, h, w int) int {
	return int(C.c_prep_size(C.int(in), C.int(out), C.int(h), C.int(w)))
}

func conv3Prepare(in, out, h, w int, weight, bias, prep []float32) {
	C.c_conv3_prepare(ptr(weight), ptr(bias), C.int(in), C.int(out), C.int(h), C.int(w), ptr(prep))
}

// forceKernels makes the direct kernels use instruction set isa (2 AVX-512, 1 AVX2, 0 SSE)
// and blocking mode (1 along channels, 0 along positions); −1 restores the automatic
// choice. For tests, which must not run in parallel with it.
func forceKernels(isa, mode int) { C.c_force(C.int(isa), C.int(mode)) }

// isaSupported is the best instruction set of this CPU, as forceKernels numbers them.
func isaSupported() int { return int(C.c_isa_supported()) }

// forceNormAny keeps the norm on its scalar loops (any) or lets it take the vector kernels
// where they fit, for tests.
func forceNormAny(any bool) { C.c_force_norm_any(cbool(any)) }

// normStatsLevel is the version of the norm's statistics this CPU runs (2 AVX-512, 1 AVX2,
// 0 scalar), and normStats runs the version of a level at most that, for tests.
func normStatsLevel() int { return int(C.c_norm_stats_level()) }

// transposeForTest is transpose: the rows×cols matrix a, transposed into rows of stride ld.
func transposeForTest(a []float32, rows, cols, ld int) []float32 {
	t := make([]float32, cols*ld)
	if rows*cols > 0 {
		C.transpose(ptr(a), C.int(rows), C.int(cols), ptr(t), C.int(ld))
	}
	return t
}

func normStats(level int, s, ss []float64, c int, eps float64, mean, rstd []float64) {
	if len(s) == 0 {
		return
	}
	C.c_norm_stats(C.int(level), (*C.double)(&s[0]), (*C.double)(&ss[0]), C.int(c), C.int(len(s)), C.double(eps),
		(*C.double)(&mean[0]), (*C.double)(&rstd[0]))
}

func conv3Forward(x []float32, n, in, h, w, out int, weight, bias, prep, y, scratch []float32) {
	if n == 0 {
		return
	}
	C.c_conv3_forward(ptr(x), C.int(n), C.int(in), C.int(h), C.int(w), C.int(out), ptr(weight), ptr(bias), ptr(prep), ptr(y), ptr(scratch))
}

func conv3Backward(x []float32, n, in, h, w, out int, prep, dy, dx, dweight, dbias, scratch []float32) {
	if n == 0 {
		return
	}
	C.c_conv3_backward(ptr(x), C.int(n), C.int(in), C.int(h), C.int(w), C.int(out), ptr(prep), ptr(dy), ptr(dx), ptr(dweight), ptr(dbias), ptr(scratch))
}

// direct3s2Size is the scratch conv3s2Forward and conv3s2Grads need.
func direct3s2Size(in, out, h, w int) int {
	ps, op := paddedPlane(h, w), round16(out)
	ohw := ((h-1)/2 + 1) * ((w-1)/2 + 1)
	return max(in*ps+ohw, C.GROUP*(in*ps+ohw*op)+ohw)
}

func direct3s2PrepSize(in, out int) int { return int(C.c_prep2_size(C.int(in), C.int(out))) }

func conv3s2Prepare(in, out int, weight, bias, prep []float32) {
	C.c_conv3s2_prepare(ptr(weight), ptr(bias), C.int(in), C.int(out), ptr(prep))
}

func conv3s2Forward(x []float32, n, in, h, w, out int, bias, prep, y, scratch []float32) {
	if n == 0 {
		return
	}
	C.c_conv3s2_forward(ptr(x), C.int(n), C.int(in), C.int(h), C.int(w), C.int(out), ptr(bias), ptr(prep), ptr(y), ptr(scratch))
}

func conv3s2Grads(x []float32, n, in, h, w, out int, dy, dweight, dbias, scratch []float32) {
	if n == 0 {
		return
	}
	C.c_conv3s2_grads(ptr(x), C.int(n), C.int(in), C.int(h), C.int(w), C.int(out), ptr(dy), ptr(dweight), ptr(dbias), ptr(scratch))
}

func (c Conv2D) im2col(img []float32, h, w int, col []float32) {
	C.c_im2col(ptr(img), C.int(c.In), C.int(h), C.int(w), C.int(c.K), C.int(c.Stride), C.int(c.Pad), ptr(col))
}

func (c Conv2D) col2im(col []float32, h, w int, img []float32) {
	C.c_col2im(ptr(col), C.int(c.In), C.int(h), C.int(w), C.int(c.K), C.int(c.Stride), C.int(c.Pad), ptr(img))
}

func normForward(x []float32, n, c, hw int, gamma, beta []float32, eps float64, y, stats []float32, relu bool) {
	if n*hw == 0 {
		return
	}
	C.c_norm_forward(ptr(x), C.int(n), C.int(c), C.int(hw), ptr(gamma), ptr(beta), C.double(eps), ptr(y), ptr(stats), cbool(relu))
}

// normSumsSize is the length of normBackward's sums for c channels of hw positions: per
// channel and lane, γ's and β's.
func normSumsSize(c, hw int) int { return 2 * c * int(C.norm_lanes(C.int(hw))) }

func normBackward(x []float32, n, c, hw int, gamma, stats, y, dy, dx []float32, sums []float64) {
	if n*hw == 0 {
		return
	}
	C.c_norm_backward(ptr(x), C.int(n), C.int(c), C.int(hw), ptr(gamma), ptr(stats), ptr(y), ptr(dy), ptr(dx), (*C.double)(&sums[0]))
}

func normFlush(sums []float64, c, hw int, dgamma, dbeta []float32) {
	C.c_norm_flush((*C.double)(&sums[0]), C.int(c), C.int(hw), ptr(dgamma), ptr(dbeta))
}

func addReLU(y, s []float32) {
	if len(y) > 0 {
		C.c_add_relu(ptr(y), ptr(s), C.size_t(len(y)))
	}
}

func add(dst, src []float32) {
	if len(dst) > 0 {
		C.c_add(ptr(dst), ptr(src), C.size_t(len(dst)))
	}
}

func maxPool2(x []float32, planes, h, w int, y []float32, arg []int32) {
	if len(y) > 0 {
		C.c_maxpool2(ptr(x), C.int(planes), C.int(h), C.int(w), ptr(y), (*C.int)(unsafe.Pointer(&arg[0])))
	}
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

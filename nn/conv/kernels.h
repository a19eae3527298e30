// The convolution and norm kernels of kernels_cgo.go, written once and compiled once per
// instruction set: the includer defines VL (floats per vector), SUFFIX, TARGET (a GCC
// target attribute, or nothing) and the tile sizes FOB×FR (output channels × vectors of
// positions held in registers by the 3×3 kernel) and WOB (output channels per tile of the
// weight gradient).
//
// Layouts (see direct3 in kernels_cgo.go). A padded plane is an h×w image with a border of
// one zero on every side, rows of wp = w+2, followed by zeros to a length ps (a multiple of
// 16, at least (h+2)·wp + 32, so that vectors read past the last row stay in the plane). A
// flat output plane holds output (oy, ox) at oy·wp + ox: the two last columns of each row
// are garbage, as is everything from h·wp to its length ls = round16(h·wp).

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUFFIX)

typedef float CAT(vf, SUFFIX) __attribute__((vector_size(VL * 4), aligned(4), may_alias));
#define V CAT(vf, SUFFIX)

TARGET static inline __attribute__((always_inline)) V FN(ld)(const float *p) { return *(const V *)p; }
TARGET static inline __attribute__((always_inline)) void FN(st)(float *p, V v) { *(V *)p = v; }

// fwd_tile computes outputs o0..o0+OB−1 at flat positions p0..p0+R·VL−1 of one image:
// y[o][p] = bias[o] + Σ_c Σ_k w[o][c][k] · xp[c][p + (k/3)·wp + k%3], c in order, then k.
TARGET static inline __attribute__((always_inline)) void FN(fwd_tile)(const float *xp, int c_in, int ps, int wp,
	const float *w, const float *bias, float *y, int ls, int o0, int p0, const int OB, const int R) {
	V acc[OB][R];
#pragma GCC unroll 16
	for (int ob = 0; ob < OB; ob++) {
		float b = bias ? bias[o0 + ob] : 0.0f;
#pragma GCC unroll 16
		for (int r = 0; r < R; r++) acc[ob][r] = (V){} + b;
	}
	const int wstride = c_in * 9;
	for (int c = 0; c < c_in; c++) {
		const float *xc = xp + (size_t)c * ps + p0;
		const float *wc = w + (size_t)o0 * wstride + c * 9;
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) {
			const float *xk = xc + (k / 3) * wp + k % 3;
			V xv[R];
#pragma GCC unroll 16
			for (int r = 0; r < R; r++) xv[r] = FN(ld)(xk + r * VL);
#pragma GCC unroll 16
			for (int ob = 0; ob < OB; ob++) {
				float s = wc[ob * wstride + k];
#pragma GCC unroll 16
				for (int r = 0; r < R; r++) acc[ob][r] += xv[r] * s;
			}
		}
	}
#pragma GCC unroll 16
	for (int ob = 0; ob < OB; ob++)
#pragma GCC unroll 16
		for (int r = 0; r < R; r++) FN(st)(y + (size_t)(o0 + ob) * ls + p0 + r * VL, acc[ob][r]);
}

// fwd3 is a 3×3 convolution, stride 1, of one padded image xp (c_in planes of ps) into
// flat planes y (c_out of ls), for an h×w image with rows of wp.
TARGET static void FN(fwd3)(const float *xp, int c_in, int ps, int h, int wp, int c_out,
	const float *w, const float *bias, float *y, int ls) {
	int lr = (h * wp + VL - 1) / VL * VL; // positions computed
	int o0 = 0;
	for (; o0 + FOB <= c_out; o0 += FOB) {
		int p0 = 0;
		for (; p0 + FR * VL <= lr; p0 += FR * VL) FN(fwd_tile)(xp, c_in, ps, wp, w, bias, y, ls, o0, p0, FOB, FR);
		for (; p0 < lr; p0 += VL) FN(fwd_tile)(xp, c_in, ps, wp, w, bias, y, ls, o0, p0, FOB, 1);
	}
	for (; o0 < c_out; o0++) {
		int p0 = 0;
		for (; p0 + FR * VL <= lr; p0 += FR * VL) FN(fwd_tile)(xp, c_in, ps, wp, w, bias, y, ls, o0, p0, 1, FR);
		for (; p0 < lr; p0 += VL) FN(fwd_tile)(xp, c_in, ps, wp, w, bias, y, ls, o0, p0, 1, 1);
	}
}

// hsum adds a vector's lanes pairwise, in a fixed order.
TARGET static inline __attribute__((always_inline)) float FN(hsum)(V v) {
	float t[VL];
	FN(st)(t, v);
	for (int s = VL / 2; s > 0; s /= 2)
		for (int i = 0; i < s; i++) t[i] += t[i + s];
	return t[0];
}

// wgt_tile adds to dw[o][c][k], o in o0..o0+OB−1, the sum over the image's positions q < lr
// of dy[o][q] · xp[c][q + (k/3)·wp + k%3], per lane in position order, then the lanes.
TARGET static inline __attribute__((always_inline)) void FN(wgt_tile)(const float *xp, int c_in, int ps, int wp,
	const float *dy, int dps, int lr, float *dw, int o0, int c, const int OB) {
	V acc[OB][9];
#pragma GCC unroll 16
	for (int ob = 0; ob < OB; ob++)
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) acc[ob][k] = (V){};
	const float *xc = xp + (size_t)c * ps;
	for (int q = 0; q < lr; q += VL) {
		V d[OB];
#pragma GCC unroll 16
		for (int ob = 0; ob < OB; ob++) d[ob] = FN(ld)(dy + (size_t)(o0 + ob) * dps + q);
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) {
			V xv = FN(ld)(xc + q + (k / 3) * wp + k % 3);
#pragma GCC unroll 16
			for (int ob = 0; ob < OB; ob++) acc[ob][k] += d[ob] * xv;
		}
	}
#pragma GCC unroll 16
	for (int ob = 0; ob < OB; ob++)
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) dw[((size_t)(o0 + ob) * c_in + c) * 9 + k] += FN(hsum)(acc[ob][k]);
}

// wgt3 adds one image's contribution to the weight gradient of a 3×3 stride-1 convolution:
// xp its padded input, dy the output's gradient as flat planes of stride dps whose garbage
// positions are zero (a padded plane of dy, offset by wp+1).
TARGET static void FN(wgt3)(const float *xp, int c_in, int ps, int h, int wp, int c_out,
	const float *dy, int dps, float *dw) {
	int lr = (h * wp + VL - 1) / VL * VL;
	int o0 = 0;
	for (; o0 + WOB <= c_out; o0 += WOB)
		for (int c = 0; c < c_in; c++) FN(wgt_tile)(xp, c_in, ps, wp, dy, dps, lr, dw, o0, c, WOB);
	for (; o0 < c_out; o0++)
		for (int c = 0; c < c_in; c++) FN(wgt_tile)(xp, c_in, ps, wp, dy, dps, lr, dw, o0, c, 1);
}

#undef V
#undef FN

// The convolution and norm kernels of kernels_cgo.go, written once and compiled once per
// instruction set: the includer defines VL (floats per vector), SUFFIX, TARGET (a GCC
// target attribute, or nothing) and the tile sizes: FOB×FR (output channels × vectors of
// positions held in registers by fwd3), OPB and OPB1 (positions × two or one vectors of
// channels, fwdo) and WOV (vectors of channels per tile of the weight gradient, wgto).
//
// Layouts (see direct3 in kernels_cgo.go). A padded plane is an h×w image with a border of
// one zero on every side, rows of wp = w+2, followed by zeros to a length ps (a multiple of
// 16, at least (h+2)·wp + 32, so that vectors read past the last row stay in the plane). A
// flat output plane holds output (oy, ox) at oy·wp + ox: the two last columns of each row
// are garbage, as is everything from h·wp to its length ls = round16(h·wp).

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUFFIX)

// V is a vector in registers; U the same in memory, unaligned and aliasing floats.
typedef float CAT(vf, SUFFIX) __attribute__((vector_size(VL * 4)));
typedef float CAT(uf, SUFFIX) __attribute__((vector_size(VL * 4), aligned(4), may_alias));
#define V CAT(vf, SUFFIX)
#define U CAT(uf, SUFFIX)

TARGET static inline __attribute__((always_inline)) V FN(ld)(const float *p) { return *(const U *)p; }
TARGET static inline __attribute__((always_inline)) void FN(st)(float *p, V v) { *(U *)p = v; }

// st_channels writes the first n (at most VL) lanes of a, one position's output channels,
// to planes hw apart from y.
TARGET static inline __attribute__((always_inline)) void FN(st_channels)(V a, float *y, int hw, int n) {
	float t[VL];
	FN(st)(t, a);
	if (n > VL) n = VL;
	for (int l = 0; l < n; l++) y[(size_t)l * hw] = t[l];
}

// add_tap adds the first n (at most VL) lanes of a, one tap's gradient for consecutive
// output channels, to dw, stride apart.
TARGET static inline __attribute__((always_inline)) void FN(add_tap)(V a, float *dw, int stride, int n) {
	float t[VL];
	FN(st)(t, a);
	if (n > VL) n = VL;
	for (int l = 0; l < n; l++) dw[(size_t)l * stride] += t[l];
}

// fwd_tile computes outputs o0..o0+OB−1 at flat positions p0..p0+R·VL−1 of one image:
// y[o][p] = bias[o] + Σ_c Σ_k w[o][c][k] · xp[c][p + (k/3)·wp + k%3], c in order, then k.
// With DIRECT, positions are an h×w plane's own (p = oy·w + ox, w a multiple of VL, so that
// no vector crosses a row), read at oy·wp + ox, and y holds planes of ls = h·w: the output
// needs no unpad, and the two border columns of each row are not computed.
TARGET static inline __attribute__((always_inline)) void FN(fwd_tile)(const float *xp, int c_in, int ps, int wp,
	const float *w, const float *bias, float *y, int ls, int o0, int p0, const int OB, const int R, const int DIRECT) {
	int xo[FR];
#pragma GCC unroll 16
	for (int r = 0; r < R; r++) {
		int q = p0 + r * VL;
		xo[r] = DIRECT ? q + 2 * (q / (wp - 2)) : q;
	}
	V acc[FOB][FR]; // fixed sizes, not OB×R: an array of variable length stays in memory
#pragma GCC unroll 16
	for (int ob = 0; ob < OB; ob++) {
		float b = bias ? bias[o0 + ob] : 0.0f;
#pragma GCC unroll 16
		for (int r = 0; r < R; r++) acc[ob][r] = (V){} + b;
	}
	const int wstride = c_in * 9;
	for (int c = 0; c < c_in; c++) {
		const float *xc = xp + (size_t)c * ps;
		const float *wc = w + (size_t)o0 * wstride + c * 9;
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) {
			const float *xk = xc + (k / 3) * wp + k % 3;
			V xv[FR];
#pragma GCC unroll 16
			for (int r = 0; r < R; r++) xv[r] = FN(ld)(xk + xo[r]);
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

// fwd3_tiles runs fwd_tile over the first lr positions of c_out planes of ls.
TARGET static inline __attribute__((always_inline)) void FN(fwd3_tiles)(const float *xp, int c_in, int ps, int wp,
	int c_out, const float *w, const float *bias, float *y, int ls, int lr, const int DIRECT) {
	int o0 = 0;
	for (; o0 + FOB <= c_out; o0 += FOB) {
		int p0 = 0;
		for (; p0 + FR * VL <= lr; p0 += FR * VL) FN(fwd_tile)(xp, c_in, ps, wp, w, bias, y, ls, o0, p0, FOB, FR, DIRECT);
		for (; p0 < lr; p0 += VL) FN(fwd_tile)(xp, c_in, ps, wp, w, bias, y, ls, o0, p0, FOB, 1, DIRECT);
	}
	for (; o0 < c_out; o0++) {
		int p0 = 0;
		for (; p0 + FR * VL <= lr; p0 += FR * VL) FN(fwd_tile)(xp, c_in, ps, wp, w, bias, y, ls, o0, p0, 1, FR, DIRECT);
		for (; p0 < lr; p0 += VL) FN(fwd_tile)(xp, c_in, ps, wp, w, bias, y, ls, o0, p0, 1, 1, DIRECT);
	}
}

// fwd3 is a 3×3 convolution, stride 1, of one padded image xp (c_in planes of ps), for an
// h×w image with rows of wp. When w is a multiple of VL it writes the output's planes of
// h·w to y and returns 1; otherwise flat planes (c_out of ls) to yf, for unpad, and returns 0.
TARGET static int FN(fwd3)(const float *xp, int c_in, int ps, int h, int wp, int c_out,
	const float *w, const float *bias, float *yf, int ls, float *y) {
	int hw = h * (wp - 2);
	if ((wp - 2) % VL == 0) {
		FN(fwd3_tiles)(xp, c_in, ps, wp, c_out, w, bias, y, hw, hw, 1);
		return 1;
	}
	FN(fwd3_tiles)(xp, c_in, ps, wp, c_out, w, bias, yf, ls, (h * wp + VL - 1) / VL * VL, 0);
	return 0;
}

// fwdo_tile is the other blocking of fwd3, for many channels or small images: the vectors
// run along the output channels (wr is the weight as c×9×op, op the output channels
// rounded up to vectors), the tile is PB positions (valid ones only: base[p] is position
// p's offset in a padded plane) × OV vectors of channels, and y is written in place
// (planes of hw). The sums run in fwd3's order: c, then k.
TARGET static inline __attribute__((always_inline)) void FN(fwdo_tile)(const float *xp, int c_in, int ps,
	const int *base, int wp, const float *wr, int op, const float *bias, float *y, int hw, int c_out, int o0, int p0,
	const int PB, const int OV) {
	V acc[OPB1 > 2 * OPB ? OPB1 : 2 * OPB][2];
	int bp[OPB1 > 2 * OPB ? OPB1 : 2 * OPB];
#pragma GCC unroll 32
	for (int pb = 0; pb < PB; pb++) bp[pb] = base[p0 + pb];
#pragma GCC unroll 4
	for (int ov = 0; ov < OV; ov++) {
		V b = bias ? FN(ld)(bias + o0 + ov * VL) : (V){};
#pragma GCC unroll 32
		for (int pb = 0; pb < PB; pb++) acc[pb][ov] = b;
	}
	for (int c = 0; c < c_in; c++) {
		const float *xc = xp + (size_t)c * ps;
		const float *wc = wr + (size_t)c * 9 * op + o0;
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) {
			const int off = (k / 3) * wp + k % 3;
			V wv[2];
#pragma GCC unroll 4
			for (int ov = 0; ov < OV; ov++) wv[ov] = FN(ld)(wc + k * op + ov * VL);
#pragma GCC unroll 32
			for (int pb = 0; pb < PB; pb++) {
				float s = xc[bp[pb] + off];
#pragma GCC unroll 4
				for (int ov = 0; ov < OV; ov++) acc[pb][ov] += wv[ov] * s;
			}
		}
	}
#pragma GCC unroll 32
	for (int pb = 0; pb < PB; pb++)
#pragma GCC unroll 4
		for (int ov = 0; ov < OV; ov++)
			FN(st_channels)(acc[pb][ov], y + (size_t)(o0 + ov * VL) * hw + p0 + pb, hw, c_out - (o0 + ov * VL));
}

#if VL == 16
// fwdw_tile is fwdo_tile for images W wide, W known when compiled: the tile's PB positions
// from p0 are whole rows (PB a multiple of W, p0 of PB) or part of one row (W a multiple of
// PB), so every input the tile reads lies at a constant offset from one pointer, and the
// positions need no registers of their own (fwdo_tile's base offsets, one per position,
// spill). A tile of whole rows also knows which of its taps read the zero border: the first
// and last column's, and, when TOP or BOT says the tile holds the image's first or last row,
// that row's; it skips them (a third of the taps of a 4×4 image, over half of a 2×2's).
// Otherwise the sums are fwdo_tile's, in its order; skipping adds of w·0 changes no result
// but the sign of an exact zero (and a product of ±Inf by the border's zero is no NaN).
TARGET static inline __attribute__((always_inline)) void FN(fwdw_tile)(const float *xp, int c_in, int ps, const int W,
	const float *wr, int op, const float *bias, float *y, int hw, int c_out, int o0, int p0, const int PB, const int OV,
	const int TOP, const int BOT) {
	const int wp = W + 2;
	V acc[16][4];
#pragma GCC unroll 4
	for (int ov = 0; ov < OV; ov++) {
		V b = bias ? FN(ld)(bias + o0 + ov * VL) : (V){};
#pragma GCC unroll 16
		for (int pb = 0; pb < PB; pb++) acc[pb][ov] = b;
	}
	const float *x0 = xp + (p0 / W) * wp + p0 % W;
	for (int c = 0; c < c_in; c++) {
		const float *xc = x0 + (size_t)c * ps;
		const float *wc = wr + (size_t)c * 9 * op + o0;
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) {
			const int off = (k / 3) * wp + k % 3;
			V wv[4];
#pragma GCC unroll 4
			for (int ov = 0; ov < OV; ov++) wv[ov] = FN(ld)(wc + k * op + ov * VL);
#pragma GCC unroll 16
			for (int pb = 0; pb < PB; pb++) {
				const int x = pb % W, row = pb / W, kx = k % 3, ky = k / 3;
				if (PB >= W && ((kx == 0 && x == 0) || (kx == 2 && x == W - 1) || (TOP && row == 0 && ky == 0) ||
						(BOT && row == PB / W - 1 && ky == 2)))
					continue;
				float s = xc[row * wp + x + off];
#pragma GCC unroll 4
				for (int ov = 0; ov < OV; ov++) acc[pb][ov] += wv[ov] * s;
			}
		}
	}
#pragma GCC unroll 16
	for (int pb = 0; pb < PB; pb++)
#pragma GCC unroll 4
		for (int ov = 0; ov < OV; ov++)
			FN(st_channels)(acc[pb][ov], y + (size_t)(o0 + ov * VL) * hw + p0 + pb, hw, c_out - (o0 + ov * VL));
}

// fwdw is fwdo for images W wide, in tiles of PB2 positions × 2 vectors of channels and
// PB1 × 1 (see fwdw_tile; hw must be a multiple of both).
TARGET static inline __attribute__((always_inline)) void FN(fwdw)(const float *xp, int c_in, int ps, const int W,
	const float *wr, int op, const float *bias, float *y, int hw, int c_out, const int PB2, const int PB1) {
// TILE runs the tile of PB positions from p0 with OV vectors of channels from o0, told
// whether it holds the image's first or last row (only a tile of whole rows uses that, so
// for pieces of a row the other variants fold away).
#define TILE(PB, OV)                                                                                         \
	do {                                                                                                 \
		int top = (PB) >= W && p0 == 0, bot = (PB) >= W && p0 + (PB) == hw;                          \
		if (top && bot)                                                                              \
			FN(fwdw_tile)(xp, c_in, ps, W, wr, op, bias, y, hw, c_out, o0, p0, PB, OV, 1, 1);   \
		else if (top)                                                                                \
			FN(fwdw_tile)(xp, c_in, ps, W, wr, op, bias, y, hw, c_out, o0, p0, PB, OV, 1, 0);   \
		else if (bot)                                                                                \
			FN(fwdw_tile)(xp, c_in, ps, W, wr, op, bias, y, hw, c_out, o0, p0, PB, OV, 0, 1);   \
		else                                                                                         \
			FN(fwdw_tile)(xp, c_in, ps, W, wr, op, bias, y, hw, c_out, o0, p0, PB, OV, 0, 0);   \
	} while (0)
	for (int o0 = 0; o0 < c_out;) {
		if (c_out - o0 > VL) {
			for (int p0 = 0; p0 < hw; p0 += PB2) TILE(PB2, 2);
			o0 += 2 * VL;
		} else {
			for (int p0 = 0; p0 < hw; p0 += PB1) TILE(PB1, 1);
			o0 += VL;
		}
	}
#undef TILE
}
#endif

// fwdo_any is fwdo on any positions: base[p], p < hw, is output p's window in the padded
// plane (its top left tap), whatever the stride.
TARGET static void FN(fwdo_any)(const float *xp, int c_in, int ps, const int *base, int hw, int wp, const float *wr,
	int op, const float *bias, float *y, int c_out) {
	for (int o0 = 0; o0 < c_out;) {
		if (c_out - o0 > VL) {
			int p0 = 0;
			for (; p0 + OPB <= hw; p0 += OPB) FN(fwdo_tile)(xp, c_in, ps, base, wp, wr, op, bias, y, hw, c_out, o0, p0, OPB, 2);
			for (; p0 + 4 <= hw; p0 += 4) FN(fwdo_tile)(xp, c_in, ps, base, wp, wr, op, bias, y, hw, c_out, o0, p0, 4, 2);
			for (; p0 < hw; p0++) FN(fwdo_tile)(xp, c_in, ps, base, wp, wr, op, bias, y, hw, c_out, o0, p0, 1, 2);
			o0 += 2 * VL;
		} else {
			int p0 = 0;
			for (; p0 + OPB1 <= hw; p0 += OPB1) FN(fwdo_tile)(xp, c_in, ps, base, wp, wr, op, bias, y, hw, c_out, o0, p0, OPB1, 1);
			for (; p0 + 4 <= hw; p0 += 4) FN(fwdo_tile)(xp, c_in, ps, base, wp, wr, op, bias, y, hw, c_out, o0, p0, 4, 1);
			for (; p0 < hw; p0++) FN(fwdo_tile)(xp, c_in, ps, base, wp, wr, op, bias, y, hw, c_out, o0, p0, 1, 1);
			o0 += VL;
		}
	}
}

TARGET static void FN(fwdo)(const float *xp, int c_in, int ps, const int *base, int hw, int wp, const float *wr, int op,
	const float *bias, float *y, int c_out) {
#if VL == 16
	// The widths of VGG's and ResNet's planes on 32×32 inputs.
	switch (wp - 2) {
	case 32: if (hw % 16 == 0) { FN(fwdw)(xp, c_in, ps, 32, wr, op, bias, y, hw, c_out, 8, 16); return; } break;
	case 16: if (hw % 16 == 0) { FN(fwdw)(xp, c_in, ps, 16, wr, op, bias, y, hw, c_out, 8, 16); return; } break;
	case 8: if (hw % 16 == 0) { FN(fwdw)(xp, c_in, ps, 8, wr, op, bias, y, hw, c_out, 8, 16); return; } break;
	case 4: if (hw % 16 == 0) { FN(fwdw)(xp, c_in, ps, 4, wr, op, bias, y, hw, c_out, 8, 16); return; } break;
	case 2: if (hw % 4 == 0) { FN(fwdw)(xp, c_in, ps, 2, wr, op, bias, y, hw, c_out, 4, 4); return; } break;
	}
#endif
	FN(fwdo_any)(xp, c_in, ps, base, hw, wp, wr, op, bias, y, c_out);
}

// wgto_tile adds to dw[o][c][k], for OV vectors of output channels from o0, the sum over g
// images (xp: g×c_in planes of ps) and their valid positions p of dyt[i][p][o] ·
// xp[i][c][base[p] + (k/3)·wp + k%3], in image then position order, per channel.
TARGET static inline __attribute__((always_inline)) void FN(wgto_tile)(const float *xp, int g, int c_in, int ps,
	const int *base, int hw, int wp, const float *dyt, int op, int c_out, float *dw, int o0, int c, const int OV) {
	V acc[2][9];
#pragma GCC unroll 4
	for (int ov = 0; ov < OV; ov++)
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) acc[ov][k] = (V){};
	for (int i = 0; i < g; i++) {
		const float *xc = xp + ((size_t)i * c_in + c) * ps;
		const float *di = dyt + (size_t)i * hw * op + o0;
		for (int p = 0; p < hw; p++) {
			const float *b = xc + base[p];
			V d[2];
#pragma GCC unroll 4
			for (int ov = 0; ov < OV; ov++) d[ov] = FN(ld)(di + (size_t)p * op + ov * VL);
#pragma GCC unroll 9
			for (int k = 0; k < 9; k++) {
				float s = b[(k / 3) * wp + k % 3];
#pragma GCC unroll 4
				for (int ov = 0; ov < OV; ov++) acc[ov][k] += d[ov] * s;
			}
		}
	}
#pragma GCC unroll 4
	for (int ov = 0; ov < OV; ov++)
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) FN(add_tap)(acc[ov][k], dw + ((size_t)(o0 + ov * VL) * c_in + c) * 9 + k, c_in * 9, c_out - (o0 + ov * VL));
}

// wgtr_tile is wgto_tile for images at least 2×2, walked by rows: the first and last
// position of each row, and the first and last row, are separate code, which skips the
// taps that read the zero border (kx = 0 at x = 0, kx = 2 at x = w−1, ky = 0 in the first
// row, ky = 2 in the last): a sixth of the taps at 8×8, a third at 4×4, over half at 2×2.
// Otherwise the sums are wgto_tile's, in its order; skipping adds of d·0 changes no result
// but the sign of an exact zero.
TARGET static inline __attribute__((always_inline)) void FN(wgtr_tile)(const float *xp, int g, int c_in, int ps, int h,
	int w, const float *dyt, int op, int c_out, float *dw, int o0, int c, const int OV) {
	const int wp = w + 2, hw = h * w;
	V acc[2][9];
#pragma GCC unroll 4
	for (int ov = 0; ov < OV; ov++)
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) acc[ov][k] = (V){};
// POS adds position X of the row (input at b, gradient at dr), without the taps that
// L(eft), R(ight), T(op) and B(ottom), constants, say are on the border.
#define POS(X, L, R, T, B)                                                                           \
	do {                                                                                         \
		V d[2];                                                                              \
		_Pragma("GCC unroll 4") for (int ov = 0; ov < OV; ov++) d[ov] = FN(ld)(dr + (size_t)(X) * op + ov * VL); \
		_Pragma("GCC unroll 9") for (int k = 0; k < 9; k++) {                                \
			const int kx = k % 3, ky = k / 3;                                            \
			if (((L) && kx == 0) || ((R) && kx == 2) || ((T) && ky == 0) || ((B) && ky == 2)) \
				continue;                                                            \
			float s = b[(X) + ky * wp + kx];                                             \
			_Pragma("GCC unroll 4") for (int ov = 0; ov < OV; ov++) acc[ov][k] += d[ov] * s; \
		}                                                                                    \
	} while (0)
#define ROW(T, B)                                                                                    \
	do {                                                                                         \
		POS(0, 1, 0, T, B);                                                                  \
		for (int x = 1; x < w - 1; x++) POS(x, 0, 0, T, B);                                  \
		POS(w - 1, 0, 1, T, B);                                                              \
	} while (0)
	for (int i = 0; i < g; i++) {
		const float *xc = xp + ((size_t)i * c_in + c) * ps;
		const float *di = dyt + (size_t)i * hw * op + o0;
		const float *b = xc, *dr = di;
		ROW(1, 0);
		for (int y = 1; y < h - 1; y++) {
			b = xc + (size_t)y * wp;
			dr = di + (size_t)y * w * op;
			ROW(0, 0);
		}
		b = xc + (size_t)(h - 1) * wp;
		dr = di + (size_t)(h - 1) * w * op;
		ROW(0, 1);
	}
#undef ROW
#undef POS
#pragma GCC unroll 4
	for (int ov = 0; ov < OV; ov++)
#pragma GCC unroll 9
		for (int k = 0; k < 9; k++) FN(add_tap)(acc[ov][k], dw + ((size_t)(o0 + ov * VL) * c_in + c) * 9 + k, c_in * 9, c_out - (o0 + ov * VL));
}

// wgto_any is wgto on any positions (base as fwdo_any's), with no skipped taps.
TARGET static void FN(wgto_any)(const float *xp, int g, int c_in, int ps, const int *base, int hw, int wp,
	const float *dyt, int op, int c_out, float *dw) {
	for (int o0 = 0; o0 < c_out;) {
		if (WOV == 2 && c_out - o0 > VL) {
			for (int c = 0; c < c_in; c++) FN(wgto_tile)(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw, o0, c, 2);
			o0 += 2 * VL;
		} else {
			for (int c = 0; c < c_in; c++) FN(wgto_tile)(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw, o0, c, 1);
			o0 += VL;
		}
	}
}

TARGET static void FN(wgto)(const float *xp, int g, int c_in, int ps, const int *base, int hw, int wp,
	const float *dyt, int op, int c_out, float *dw) {
	int w = wp - 2, h = hw / w, rows = h >= 2 && w >= 2;
	for (int o0 = 0; o0 < c_out;) {
		if (WOV == 2 && c_out - o0 > VL) {
			for (int c = 0; c < c_in; c++)
				if (rows)
					FN(wgtr_tile)(xp, g, c_in, ps, h, w, dyt, op, c_out, dw, o0, c, 2);
				else
					FN(wgto_tile)(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw, o0, c, 2);
			o0 += 2 * VL;
		} else {
			for (int c = 0; c < c_in; c++)
				if (rows)
					FN(wgtr_tile)(xp, g, c_in, ps, h, w, dyt, op, c_out, dw, o0, c, 1);
				else
					FN(wgto_tile)(xp, g, c_in, ps, base, hw, wp, dyt, op, c_out, dw, o0, c, 1);
			o0 += VL;
		}
	}
}

#undef V
#undef U
#undef FN

// The includer's parameters end here too, so that the next instruction set defines its own.
#undef VL
#undef SUFFIX
#undef TARGET
#undef FOB
#undef FR
#undef OPB
#undef OPB1
#undef WOV

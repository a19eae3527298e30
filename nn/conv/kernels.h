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

// Winograd's F(2×2, 3×3) (Lavin and Gray, 2016) on channel blocks. A 3×3 convolution of
// stride 1 is computed on tiles of 2×2 outputs, each reading a 4×4 window of the padded
// input: y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 16 products where the direct sum takes 36. The
// windows are read from the image laid out in blocks of 16 channels (wblock: padded, each
// position's 16 channels side by side), so that the transforms, sums and differences,
// run along the channels, whole vectors at any image size. For each of the 16 elements ξ
// of the transformed tile, the products summed over the input channels are a GEMM of the
// transformed windows (v[ξ][t][c]) by the transformed weight (u[ξ][c][k], kernels_cgo.go's
// win_weight); Aᵀ m A turns each tile's 16 sums back into 2×2 outputs, which are laid
// out as planes again. The weight gradient is the same GEMM's adjoint: du[ξ][c][k] +=
// Σ_t v[ξ][t][c]·w[ξ][t][k] with w = A dY Aᵀ per tile (win_dy), turned into the 3×3
// gradient by Gᵀ du G. Every sum's order is fixed by the shapes and each lane computes
// alone, so the bits do not depend on the vector width (only on whether there is FMA).
// Channels are multiples of 16, h and w even, h·w a multiple of 16 (use_w).
//
// Layouts: xb[cb][(h+2)·(w+2)][16]; v[ξ][t][cp] and m[ξ][t][kp] with tp rows per ξ (tp
// is the tiles of a group of images plus one, so that the 16 planes are not 4 KiB apart,
// which made the transforms' 16 streams of stores evict each other from the L1 cache).

#define WNB (16 / VL) // vectors per block of 16 channels
#if VL == 16
#define WREGS 32
#else
#define WREGS 16
#endif

// wtrans16 writes the 16×16 block at a (rows of stride la) transposed to t (rows of lt).
TARGET static inline void FN(wtrans16)(const float *a, size_t la, float *t, size_t lt) {
#if VL == 16
	transpose16_avx512(a, la, t, lt);
#else
	for (int r = 0; r < 16; r++)
		for (int c = 0; c < 16; c++) t[(size_t)c * lt + r] = a[(size_t)r * la + c];
#endif
}

// wblock lays out one image x (c planes of h×w) as xb: c/16 blocks of (h+2)×(w+2)
// positions of 16 channels, with a border of zeros.
TARGET static void FN(wblock)(const float *x, int c, int h, int w, float *xb) {
	int wp = w + 2, hw = h * w;
	size_t bs = (size_t)(h + 2) * wp * 16;
	float t[256] __attribute__((aligned(64)));
	for (int cb = 0; cb < c / 16; cb++) {
		float *b = xb + cb * bs;
		memset(b, 0, (size_t)wp * 16 * sizeof(float));
		memset(b + (size_t)(h + 1) * wp * 16, 0, (size_t)wp * 16 * sizeof(float));
		for (int y = 1; y <= h; y++) {
			memset(b + (size_t)y * wp * 16, 0, 16 * sizeof(float));
			memset(b + ((size_t)y * wp + wp - 1) * 16, 0, 16 * sizeof(float));
		}
		for (int p0 = 0; p0 < hw; p0 += 16) {
			FN(wtrans16)(x + (size_t)cb * 16 * hw + p0, hw, t, 16);
			for (int q = 0; q < 16; q++) {
				int p = p0 + q;
				float *d = b + ((size_t)(p / w + 1) * wp + p % w + 1) * 16;
				for (int j = 0; j < WNB; j++) FN(st)(d + j * VL, FN(ld)(t + q * 16 + j * VL));
			}
		}
	}
}

// win_in writes the transformed windows Bᵀ d B of a blocked image xb (cp channels) to v,
// its tiles from t0: Bᵀ's rows are d0 − d2, d1 + d2, d2 − d1, d1 − d3, down and across.
TARGET static void FN(win_in)(const float *xb, int cp, int h, int w, float *v, size_t tp, int t0) {
	int wp = w + 2, tw = w / 2;
	size_t bs = (size_t)(h + 2) * wp * 16, xs = tp * cp;
	for (int cb = 0; cb < cp / 16; cb++)
		for (int ty = 0; ty < h / 2; ty++)
			for (int tx = 0; tx < tw; tx++)
				for (int j = 0; j < WNB; j++) {
					const float *p = xb + cb * bs + ((size_t)2 * ty * wp + 2 * tx) * 16 + j * VL;
					V d[4][4], r[4][4];
#pragma GCC unroll 4
					for (int a = 0; a < 4; a++)
#pragma GCC unroll 4
						for (int b = 0; b < 4; b++) d[a][b] = FN(ld)(p + ((size_t)a * wp + b) * 16);
#pragma GCC unroll 4
					for (int b = 0; b < 4; b++) {
						r[0][b] = d[0][b] - d[2][b];
						r[1][b] = d[1][b] + d[2][b];
						r[2][b] = d[2][b] - d[1][b];
						r[3][b] = d[1][b] - d[3][b];
					}
					float *o = v + (size_t)(t0 + ty * tw + tx) * cp + cb * 16 + j * VL;
#pragma GCC unroll 4
					for (int a = 0; a < 4; a++) {
						FN(st)(o + (4 * a + 0) * xs, r[a][0] - r[a][2]);
						FN(st)(o + (4 * a + 1) * xs, r[a][1] + r[a][2]);
						FN(st)(o + (4 * a + 2) * xs, r[a][2] - r[a][1]);
						FN(st)(o + (4 * a + 3) * xs, r[a][1] - r[a][3]);
					}
				}
}

// win_mtile is the register tile of both of Winograd's GEMMs: for R rows and KV vectors of
// columns from k0, out[r][k] (rows kp apart) gets the sum over the steps s in order of
// a[r·ars + s·ass] · b[s][k] (b's rows kp apart), added to what out holds when add is set.
// The forward GEMM's rows are tiles and its steps channels (ars = cp, ass = 1); the weight
// gradient's rows are channels and its steps tiles (ars = 1, ass = cp).
TARGET static inline __attribute__((always_inline)) void FN(win_mtile)(const float *a, size_t ars, size_t ass, const float *b, int kp,
	int steps, float *out, int k0, int add, const int R, const int KV) {
	V acc[WREGS][4];
#pragma GCC unroll 32
	for (int r = 0; r < R; r++)
#pragma GCC unroll 4
		for (int q = 0; q < KV; q++) acc[r][q] = add ? FN(ld)(out + (size_t)r * kp + k0 + q * VL) : (V){};
	for (int st = 0; st < steps; st++) {
		V bk[4];
#pragma GCC unroll 4
		for (int q = 0; q < KV; q++) bk[q] = FN(ld)(b + (size_t)st * kp + k0 + q * VL);
#pragma GCC unroll 32
		for (int r = 0; r < R; r++) {
			V s = (V){} + a[r * ars + st * ass];
#pragma GCC unroll 4
			for (int q = 0; q < KV; q++) acc[r][q] += s * bk[q];
		}
	}
#pragma GCC unroll 32
	for (int r = 0; r < R; r++)
#pragma GCC unroll 4
		for (int q = 0; q < KV; q++) FN(st)(out + (size_t)r * kp + k0 + q * VL, acc[r][q]);
}

// WIN_BLOCKS runs TILE(R, KV) over the nt rows (tiles, or channels for the weight
// gradient) from 0 for each group of KV vectors of the kp columns: KV up to 4 vectors and
// as many rows as the registers hold beside them, then the rest in 8, 4, 2 and 1.
#define WIN_ROWS(TILE, KV, R)                                                        \
	do {                                                                             \
		int t = 0;                                                                   \
		for (; t + (R) <= nt; t += (R)) TILE(t, R, KV);                              \
		if ((R) > 8) for (; t + 8 <= nt; t += 8) TILE(t, 8, KV);                     \
		if ((R) > 4) for (; t + 4 <= nt; t += 4) TILE(t, 4, KV);                     \
		for (; t + 2 <= nt; t += 2) TILE(t, 2, KV);                                  \
		for (; t < nt; t++) TILE(t, 1, KV);                                          \
	} while (0)
#define WIN_BLOCKS(TILE)                                                                         \
	do {                                                                                         \
		int kv = kp / VL, k0 = 0;                                                                \
		for (; kv - k0 / VL >= 4 && WREGS >= 32; k0 += 4 * VL) WIN_ROWS(TILE, 4, WREGS / 4 - 2); \
		for (; kv - k0 / VL >= 2; k0 += 2 * VL) WIN_ROWS(TILE, 2, WREGS / 2 - 4);                \
		for (; k0 < kp; k0 += VL) WIN_ROWS(TILE, 1, WREGS / 2 - 2);                                 \
	} while (0)

// mgemm is the GEMM of Winograd's products and of the dense path, on win_mtile's tiles over
// nt rows: out[r][k] (rows kp apart) gets the sum over the steps s in order of
// a[r·ars + s·ass] · b[s][k] (b's rows kp apart), added to what out holds when add is set.
// Inlined, its strides are constants where the caller's are.
TARGET static inline __attribute__((always_inline)) void FN(mgemm)(const float *a, size_t ars, size_t ass, const float *b, int kp,
	int steps, float *out, int nt, int add) {
#define TILE(t, R, KV) FN(win_mtile)(a + (size_t)(t) * ars, ars, ass, b, kp, steps, out + (size_t)(t) * kp, k0, add, R, KV)
	WIN_BLOCKS(TILE);
#undef TILE
}

// win_gemm computes m[ξ] = v[ξ]·u[ξ], ξ < nx (16 for F(2×2, 3×3), 36 for F(4×4, 3×3)), for
// the first nt tiles: c channels to kp.
TARGET static void FN(win_gemm)(const float *v, int cp, const float *u, int kp, float *m, size_t tp, int nt, int nx) {
	for (int xi = 0; xi < nx; xi++)
		FN(mgemm)(v + (size_t)xi * tp * cp, cp, 1, u + (size_t)xi * cp * kp, kp, cp, m + (size_t)xi * tp * kp, nt, 0);
}

// win_out writes one image's outputs, the tiles from t0 of m, as planes to y (kp planes of
// h×w), through ob (kp/16 blocks of h·w positions of 16 channels): Aᵀ's rows m0 + m1 + m2
// and m1 − m2 − m3 down the tile, then across, and the bias (if any) last.
TARGET static void FN(win_out)(const float *m, int kp, size_t tp, int t0, int h, int w, const float *bias, float *ob, float *y) {
	int tw = w / 2, hw = h * w;
	size_t xs = tp * kp;
	for (int kb = 0; kb < kp / 16; kb++) {
		float *obk = ob + (size_t)kb * hw * 16;
		for (int j = 0; j < WNB; j++) {
			V b = bias ? FN(ld)(bias + kb * 16 + j * VL) : (V){};
			for (int ty = 0; ty < h / 2; ty++)
				for (int tx = 0; tx < tw; tx++) {
					const float *p = m + (size_t)(t0 + ty * tw + tx) * kp + kb * 16 + j * VL;
					V q[4][4], g[2][4];
#pragma GCC unroll 4
					for (int a = 0; a < 4; a++)
#pragma GCC unroll 4
						for (int e = 0; e < 4; e++) q[a][e] = FN(ld)(p + (4 * a + e) * xs);
#pragma GCC unroll 4
					for (int e = 0; e < 4; e++) {
						g[0][e] = q[0][e] + q[1][e] + q[2][e];
						g[1][e] = q[1][e] - q[2][e] - q[3][e];
					}
#pragma GCC unroll 2
					for (int a = 0; a < 2; a++) {
						float *row = obk + ((size_t)(2 * ty + a) * w + 2 * tx) * 16 + j * VL;
						FN(st)(row, g[a][0] + g[a][1] + g[a][2] + b);
						FN(st)(row + 16, g[a][1] - g[a][2] - g[a][3] + b);
					}
				}
		}
		for (int p0 = 0; p0 < hw; p0 += 16) FN(wtrans16)(obk + (size_t)p0 * 16, 16, y + (size_t)kb * 16 * hw + p0, hw);
	}
}

// win_dy writes the transformed output gradients A dY Aᵀ of one image (dy: kp planes of
// h×w) to wm, its tiles from t0, through dyb (kp/16 blocks of h·w positions of 16
// channels): A's rows are y0, y0 + y1, y0 − y1, −y1, down and across.
TARGET static void FN(win_dy)(const float *dy, int kp, int h, int w, float *dyb, float *wm, size_t tp, int t0) {
	int tw = w / 2, hw = h * w;
	size_t xs = tp * kp;
	for (int kb = 0; kb < kp / 16; kb++) {
		float *b = dyb + (size_t)kb * hw * 16;
		for (int p0 = 0; p0 < hw; p0 += 16) FN(wtrans16)(dy + (size_t)kb * 16 * hw + p0, hw, b + (size_t)p0 * 16, 16);
		for (int ty = 0; ty < h / 2; ty++)
			for (int tx = 0; tx < tw; tx++)
				for (int j = 0; j < WNB; j++) {
					const float *p = b + ((size_t)2 * ty * w + 2 * tx) * 16 + j * VL;
					V a00 = FN(ld)(p), a01 = FN(ld)(p + 16), a10 = FN(ld)(p + (size_t)w * 16), a11 = FN(ld)(p + (size_t)w * 16 + 16);
					V r[4][2] = {{a00, a01}, {a00 + a10, a01 + a11}, {a00 - a10, a01 - a11}, {-a10, -a11}};
					float *o = wm + (size_t)(t0 + ty * tw + tx) * kp + kb * 16 + j * VL;
#pragma GCC unroll 4
					for (int a = 0; a < 4; a++) {
						FN(st)(o + (4 * a + 0) * xs, r[a][0]);
						FN(st)(o + (4 * a + 1) * xs, r[a][0] + r[a][1]);
						FN(st)(o + (4 * a + 2) * xs, r[a][0] - r[a][1]);
						FN(st)(o + (4 * a + 3) * xs, -r[a][1]);
					}
				}
	}
}

// win_gemm_w adds v[ξ]ᵀ·wm[ξ] over the first nt tiles to du[ξ] (cp×kp), or, first,
// writes it there (du need not be cleared): rows are channels, steps tiles.
TARGET static void FN(win_gemm_w)(const float *v, int cp, const float *wm, int kp, float *du, size_t tp, int nt_tiles, int first) {
	for (int xi = 0; xi < 16; xi++)
		FN(mgemm)(v + (size_t)xi * tp * cp, 1, cp, wm + (size_t)xi * tp * kp, kp, nt_tiles, du + (size_t)xi * cp * kp, cp, !first);
}

// Winograd's F(4×4, 3×3), for the forward pass and the input gradient: tiles of 4×4
// outputs, each reading a 6×6 window of the padded input (from 4·ty, 4·tx), 36 products
// where the direct sum takes 144 and F(2×2, 3×3) 64. The interpolation points are 0, ±1,
// ±2 and ∞ (Lavin and Gray's matrices, kernels_cgo.go's win4_weight for G); the layouts are
// F(2×2)'s with 36 planes of tp rows in place of 16. Each lane computes alone and every
// sum's order is fixed, so the bits do not depend on the vector width (only on FMA).

// win4_in writes the transformed windows Bᵀ d B of a blocked image xb (cp channels) to v,
// its tiles from t0. Bᵀ d, for a column d0..d5: 4d0 − 5d2 + d4, (d3 + d4) − 4(d1 + d2),
// (d4 − d3) + 4(d1 − d2), (d4 − d2) + 2(d3 − d1), (d4 − d2) − 2(d3 − d1), 4d1 − 5d3 + d5;
// down the window's columns, then across its rows.
#define W4_B(d0, d1, d2, d3, d4, d5, r0, r1, r2, r3, r4, r5) \
	do {                                                  \
		V s12 = (d1) + (d2), d12 = (d1) - (d2);           \
		V s34 = (d3) + (d4), d43 = (d4) - (d3);           \
		V d42 = (d4) - (d2), d31 = (d3) - (d1);           \
		r0 = 4.0f * (d0) - 5.0f * (d2) + (d4);            \
		r1 = s34 - 4.0f * s12;                            \
		r2 = d43 + 4.0f * d12;                            \
		r3 = d42 + 2.0f * d31;                            \
		r4 = d42 - 2.0f * d31;                            \
		r5 = 4.0f * (d1) - 5.0f * (d3) + (d5);            \
	} while (0)
TARGET static void FN(win4_in)(const float *xb, int cp, int h, int w, float *v, size_t tp, int t0) {
	int wp = w + 2, tw = w / 4;
	size_t bs = (size_t)(h + 2) * wp * 16, xs = tp * cp;
	for (int cb = 0; cb < cp / 16; cb++)
		for (int ty = 0; ty < h / 4; ty++)
			for (int tx = 0; tx < tw; tx++)
				for (int j = 0; j < WNB; j++) {
					const float *p = xb + cb * bs + ((size_t)4 * ty * wp + 4 * tx) * 16 + j * VL;
					V r[6][6];
#pragma GCC unroll 6
					for (int b = 0; b < 6; b++) {
						const float *q = p + (size_t)b * 16;
						size_t rs = (size_t)wp * 16;
						W4_B(FN(ld)(q), FN(ld)(q + rs), FN(ld)(q + 2 * rs), FN(ld)(q + 3 * rs), FN(ld)(q + 4 * rs), FN(ld)(q + 5 * rs),
							r[0][b], r[1][b], r[2][b], r[3][b], r[4][b], r[5][b]);
					}
					float *o = v + (size_t)(t0 + ty * tw + tx) * cp + cb * 16 + j * VL;
#pragma GCC unroll 6
					for (int a = 0; a < 6; a++) {
						V e0, e1, e2, e3, e4, e5;
						W4_B(r[a][0], r[a][1], r[a][2], r[a][3], r[a][4], r[a][5], e0, e1, e2, e3, e4, e5);
						FN(st)(o + (6 * a + 0) * xs, e0);
						FN(st)(o + (6 * a + 1) * xs, e1);
						FN(st)(o + (6 * a + 2) * xs, e2);
						FN(st)(o + (6 * a + 3) * xs, e3);
						FN(st)(o + (6 * a + 4) * xs, e4);
						FN(st)(o + (6 * a + 5) * xs, e5);
					}
				}
}
#undef W4_B

// win4_out writes one image's outputs, the tiles from t0 of m, as planes to y (kp planes of
// h×w), through ob (kp/16 blocks of h·w positions of 16 channels). Aᵀ m, for a column
// m0..m5: m0 + (m1 + m2) + (m3 + m4), (m1 − m2) + 2(m3 − m4), (m1 + m2) + 4(m3 + m4),
// ((m1 − m2) + 8(m3 − m4)) + m5; down the tile, then across, and the bias (if any) last.
#define W4_A(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3) \
	do {                                          \
		V s12 = (m1) + (m2), d12 = (m1) - (m2);   \
		V s34 = (m3) + (m4), d34 = (m3) - (m4);   \
		o0 = (m0) + s12 + s34;                    \
		o1 = d12 + 2.0f * d34;                    \
		o2 = s12 + 4.0f * s34;                    \
		o3 = (d12 + 8.0f * d34) + (m5);           \
	} while (0)
TARGET static void FN(win4_out)(const float *m, int kp, size_t tp, int t0, int h, int w, const float *bias, float *ob, float *y) {
	int tw = w / 4, hw = h * w;
	size_t xs = tp * kp;
	for (int kb = 0; kb < kp / 16; kb++) {
		float *obk = ob + (size_t)kb * hw * 16;
		for (int j = 0; j < WNB; j++) {
			V b = bias ? FN(ld)(bias + kb * 16 + j * VL) : (V){};
			for (int ty = 0; ty < h / 4; ty++)
				for (int tx = 0; tx < tw; tx++) {
					const float *p = m + (size_t)(t0 + ty * tw + tx) * kp + kb * 16 + j * VL;
					V g[4][6];
#pragma GCC unroll 6
					for (int e = 0; e < 6; e++)
						W4_A(FN(ld)(p + (0 + e) * xs), FN(ld)(p + (6 + e) * xs), FN(ld)(p + (12 + e) * xs), FN(ld)(p + (18 + e) * xs),
							FN(ld)(p + (24 + e) * xs), FN(ld)(p + (30 + e) * xs), g[0][e], g[1][e], g[2][e], g[3][e]);
#pragma GCC unroll 4
					for (int a = 0; a < 4; a++) {
						V o0, o1, o2, o3;
						W4_A(g[a][0], g[a][1], g[a][2], g[a][3], g[a][4], g[a][5], o0, o1, o2, o3);
						float *row = obk + ((size_t)(4 * ty + a) * w + 4 * tx) * 16 + j * VL;
						FN(st)(row, o0 + b);
						FN(st)(row + 16, o1 + b);
						FN(st)(row + 32, o2 + b);
						FN(st)(row + 48, o3 + b);
					}
				}
		}
		for (int p0 = 0; p0 < hw; p0 += 16) FN(wtrans16)(obk + (size_t)p0 * 16, 16, y + (size_t)kb * 16 * hw + p0, hw);
	}
}
#undef W4_A

// The norm's backward pass for planes of a multiple of VL positions (c_norm_backward in
// kernels_cgo.go calls it there): the arithmetic of c_norm_backward_any's loops, position
// by position in the same order, on vectors held in registers, so that the bits are the
// loops' compiled for the same instruction set (GCC fuses the same products into FMAs in
// both). The loops, left to GCC's vectorizer, kept the per-position sums on the stack and
// tested the block's length at every channel.

// VI is V's lanes as integers, for masks.
typedef int CAT(vi, SUFFIX) __attribute__((vector_size(VL * 4)));
#define VI CAT(vi, SUFFIX)

// norm_bwd_vecs is c_norm_backward_any's work on NV vectors of positions from x, one image's
// (planes hw apart; dy, y and dx alike), whose means and reciprocal deviations are mean and
// rstd: γ's and β's gradients added to ig and ib (planes L apart), then dx. The first pass
// keeps each channel's x̂ and masked dy in tmp (2·NV vectors a channel) for the second:
// planes of 1,024 positions put every channel's vector in one set of the L1 cache, which
// holds 12 of the 48 (x, dy and y of 16 channels) the second pass would read again.
TARGET static inline __attribute__((always_inline)) void FN(norm_bwd_vecs)(const float *x, int c, int hw, const float *gamma,
	const float *mean, const float *rstd, const float *y, const float *dy, float *dx, float *ig, float *ib, int L,
	float invc, float *tmp, const int NV) {
	V m[2], r[2], sd[2], sdx[2];
#pragma GCC unroll 2
	for (int k = 0; k < NV; k++) {
		m[k] = FN(ld)(mean + k * VL);
		r[k] = FN(ld)(rstd + k * VL);
		sd[k] = sdx[k] = (V){};
	}
	for (int ch = 0; ch < c; ch++) {
		size_t o = (size_t)ch * hw;
		float g = gamma[ch];
#pragma GCC unroll 2
		for (int k = 0; k < NV; k++) {
			V xhat = (FN(ld)(x + o + k * VL) - m[k]) * r[k];
			V d = FN(ld)(dy + o + k * VL);
			if (y) d = (V)((VI)d & (VI)(FN(ld)(y + o + k * VL) > (V){}));
			float *t = tmp + ((size_t)ch * NV + k) * 2 * VL;
			FN(st)(t, xhat);
			FN(st)(t + VL, d);
			float *dg = ig + (size_t)ch * L + k * VL, *db = ib + (size_t)ch * L + k * VL;
			FN(st)(dg, FN(ld)(dg) + d * xhat);
			FN(st)(db, FN(ld)(db) + d);
			V dxhat = d * g;
			sd[k] += dxhat;
			sdx[k] += dxhat * xhat;
		}
	}
#pragma GCC unroll 2
	for (int k = 0; k < NV; k++) {
		sd[k] *= invc;
		sdx[k] *= invc;
	}
	for (int ch = 0; ch < c; ch++) {
		size_t o = (size_t)ch * hw;
		float g = gamma[ch];
#pragma GCC unroll 2
		for (int k = 0; k < NV; k++) {
			const float *t = tmp + ((size_t)ch * NV + k) * 2 * VL;
			V xhat = FN(ld)(t), d = FN(ld)(t + VL);
			FN(st)(dx + o + k * VL, r[k] * (d * g - sd[k] - xhat * sdx[k]));
		}
	}
}

// norm_backward is c_norm_backward_any for hw a multiple of VL, with its lanes and order of
// sums: blocks of NB positions, per channel and lane over one image's blocks in float32
// (img, 2·c·L, cleared per image), then over the images in float64 (acc). tmp holds 4·c
// vectors.
TARGET static void FN(norm_backward)(const float *x, int n, int c, int hw, const float *gamma, const float *stats,
	const float *y, const float *dy, float *dx, double *acc, float *img, float *tmp, int L) {
	float mean[NB], rstd[NB];
	size_t cn = (size_t)c * L;
	float *ig = img, *ib = img + cn, invc = 1.0f / c;
	for (int i = 0; i < n; i++) {
		memset(img, 0, 2 * cn * sizeof(float));
		for (int p0 = 0; p0 < hw; p0 += NB) {
			int nb = hw - p0 < NB ? hw - p0 : NB;
			size_t base = (size_t)i * c * hw + p0;
			const float *st = stats + 2 * ((size_t)i * hw + p0);
			for (int j = 0; j < nb; j++) {
				mean[j] = st[2 * j];
				rstd[j] = st[2 * j + 1];
			}
			const float *yb = y ? y + base : NULL;
			int j = 0;
			for (; j + 2 * VL <= nb; j += 2 * VL)
				FN(norm_bwd_vecs)(x + base + j, c, hw, gamma, mean + j, rstd + j, yb ? yb + j : NULL, dy + base + j, dx + base + j, ig + j, ib + j, L, invc, tmp, 2);
			for (; j < nb; j += VL)
				FN(norm_bwd_vecs)(x + base + j, c, hw, gamma, mean + j, rstd + j, yb ? yb + j : NULL, dy + base + j, dx + base + j, ig + j, ib + j, L, invc, tmp, 1);
		}
		double *dg = acc, *db = acc + cn;
		for (size_t j = 0; j < cn; j++) {
			dg[j] += ig[j];
			db[j] += ib[j];
		}
	}
}

#undef VI

// dense_gemm is mgemm for the dense path's three products (c_dense_* in kernels_cgo.go).
TARGET static void FN(dense_gemm)(const float *a, size_t ars, size_t ass, const float *b, int kp, int steps, float *out, int nt,
	int add) {
	FN(mgemm)(a, ars, ass, b, kp, steps, out, nt, add);
}

#undef WIN_ROWS
#undef WIN_BLOCKS
#undef WNB
#undef WREGS

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

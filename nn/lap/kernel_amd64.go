//go:build amd64 && !purego

package lap

import "math"

// haveAVX512: the CPU has AVX-512F and the OS saves its registers. useAVX512 selects the
// AVX-512 scan; tests switch it off to compare with the pure Go scan.
var (
	haveAVX512 = hasAVX512()
	useAVX512  = haveAVX512
)

func hasAVX512() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&(1<<27) == 0 { // OSXSAVE
		return false
	}
	// XCR0: SSE, AVX, opmask, ZMM_Hi256 and Hi16_ZMM state enabled by the OS.
	if xcr0, _ := xgetbv(); xcr0&0xe6 != 0xe6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<16) != 0 // AVX512F
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// scanChunks is kernel.scanGo with AVX-512 on n ≥ 1 columns, using and updating the chunk
// minima; row32 may be nil. It returns the early-exit column j ≥ 0, or −(2c+f)−1 for the
// chunk c holding the answer, to be found among its free columns when f is 1.
//
//go:noescape
func scanChunks(row *float64, row32 *float32, v, d *float64, path *int, free *uint8, cmin, cfmin *float64, n, i int, h, minVal, sgn float64) int

func (k *kernel) scanAVX512(i int, h, minVal float64) (float64, int) {
	d := k.d
	n := len(d)
	row := k.cost[i*n : i*n+n]
	var row32 *float32
	if k.c32 != nil {
		row32 = &k.c32[i*n : i*n+n][0]
	}
	_, _, _, _ = k.v[n-1], k.path[n-1], k.free[(n-1)>>3], k.cfmin[(n-1)>>3]
	res := scanChunks(&row[0], row32, &k.v[0], &d[0], &k.path[0], &k.free[0], &k.cmin[0], &k.cfmin[0], n, i, h, minVal, k.sgn)
	if res >= 0 {
		return d[res], res
	}
	res = -res - 1
	c, onlyFree := res>>1, res&1 != 0
	want := k.cmin[c]
	if onlyFree {
		want = k.cfmin[c]
	}
	for j := c * 8; j < min(c*8+8, n); j++ {
		if d[j] == want && (!onlyFree || k.free[j>>3]&(1<<(j&7)) != 0) {
			return d[j], j
		}
	}
	return math.Inf(1), -1 // unreachable
}

// roundDown8 sets dst[j] to sgn*src[j] rounded down to float32 for j < n, n a multiple of 8.
//
//go:noescape
func roundDown8(dst *float32, src *float64, n int, sgn float64)

// roundDown32 sets dst[j] to the largest float32 ≤ sgn*src[j] (−Inf below −MaxFloat32).
func roundDown32(dst []float32, src []float64, sgn float64) {
	n := len(src)
	dst = dst[:n]
	m := n &^ 7
	if m > 0 {
		roundDown8(&dst[0], &src[0], m, sgn)
	}
	for j := m; j < n; j++ {
		x := sgn * src[j]
		f := float32(x)
		if float64(f) > x {
			f = math.Nextafter32(f, float32(math.Inf(-1)))
		}
		dst[j] = f
	}
}

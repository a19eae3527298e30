//go:build amd64 && !purego

package lap

import "math"

// haveAVX512: the CPU has AVX-512 F, DQ and VL, and the OS saves the AVX-512 registers. useAVX512 selects the
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
	const f, dq, vl = 1 << 16, 1 << 17, 1 << 31
	return ebx7&(f|dq|vl) == f|dq|vl
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// scanBlocks is kernel.scanGo with AVX-512 on n ≥ 1 columns; bmin and bfmin hold 8 per
// block of 64 columns. It returns the column scanGo returns, or −1 if every distance
// is +Inf.
//
//go:noescape
func scanBlocks(row, v, d *float64, path *int32, free *uint8, bmin, bfmin *float64, n, i int, h, sgn float64) int

func (k *kernel) scanAVX512(i int, h float64) (float64, int) {
	d := k.d
	n := len(d)
	row := k.cost[i*n : i*n+n]
	_, _, _, _, _ = k.v[n-1], k.path[n-1], k.free[(n-1)>>3], k.bmin[(n-1)>>3], k.bfmin[(n-1)>>3]
	j := scanBlocks(&row[0], &k.v[0], &d[0], &k.path[0], &k.free[0], &k.bmin[0], &k.bfmin[0], n, i, h, k.sgn)
	if j < 0 {
		return math.Inf(1), -1
	}
	return d[j], j
}

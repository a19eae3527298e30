//go:build !amd64 || purego

package lap

// No AVX-512 scan on this architecture (or with the purego tag).
var haveAVX512, useAVX512 = false, false

func (k *kernel) scanAVX512(i int, h float64) (float64, int) {
	return k.scanGo(i, h)
}

//go:build !cgo || !amd64

package sparse

func compress(m *Matrix, x []float32, which []int) { compressGo(m, x, which) }

func transpose(m, t *Matrix) { transposeGo(m, t) }

func mulPanels(m *Matrix, b Panels, init, out []float32, ldo int) {
	mulPanelsGo(m, b, init, out, ldo)
}

func mulToPanels(m *Matrix, b []float32, ldb int, out Panels, acc bool) {
	mulToPanelsGo(m, b, ldb, out, acc)
}

// withoutAVX512 runs f: the Go kernels are the only ones.
func withoutAVX512(f func()) { f() }

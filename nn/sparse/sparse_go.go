//go:build !cgo || !amd64

package sparse

func compress(m *Matrix, x []float32, which []int) { compressGo(m, x, which) }

func transpose(m, t *Matrix) { transposeGo(m, t) }

func mul(m *Matrix, b []float32, n int, init, out []float32, c0, c1 int, acc bool) {
	mulGo(m, b, n, init, out, c0, c1, acc)
}

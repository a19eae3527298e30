//go:build !cgo || !amd64

package vec

import "math"

func sgd(w, g, buf []float32, lr, mu, wd float32, nesterov bool) {
	g = g[:len(w)]
	if buf == nil {
		for i := range w {
			w[i] -= lr * (g[i] + wd*w[i])
		}
		return
	}
	buf = buf[:len(w)]
	for i := range w {
		d := g[i] + wd*w[i]
		b := mu*buf[i] + d
		buf[i] = flush(b)
		if nesterov {
			w[i] -= lr * (d + mu*b)
		} else {
			w[i] -= lr * b
		}
	}
}

func sgdAdded(w, buf []float32, lr, mu, wd float32) {
	buf = buf[:len(w)]
	for i := range w {
		b := buf[i]
		if wd != 0 {
			b += wd * w[i]
		}
		w[i] -= lr * b
		buf[i] = flush(mu * b)
	}
}

func adam(w, g, m, v []float32, lr, step, b1, b2, eps, wd, sqrtC2 float32, decoupled bool) {
	for i := range w {
		d := g[i]
		if decoupled {
			w[i] -= lr * wd * w[i]
		} else {
			d += wd * w[i]
		}
		mi := b1*m[i] + (1-b1)*d
		vi := b2*v[i] + (1-b2)*d*d
		m[i], v[i] = mi, vi
		w[i] -= step * mi / (float32(math.Sqrt(float64(vi)))/sqrtC2 + eps)
	}
}

func relu(y, h []float32) {
	h = h[:len(y)]
	for i, v := range y {
		h[i] = max(v, 0)
	}
}

func reluBackward(y, dh, dy []float32) {
	dh, dy = dh[:len(y)], dy[:len(y)]
	for i, v := range y {
		if v > 0 {
			dy[i] = dh[i]
		} else {
			dy[i] = 0
		}
	}
}

func mul(x, m []float32) {
	x = x[:len(m)]
	for i, k := range m {
		x[i] *= k
	}
}

func biasRelu(z, b, h []float32, rows, cols, ld int) {
	for r := 0; r < rows; r++ {
		zr, hr := z[r*ld:r*ld+cols], h[r*ld:r*ld+cols]
		for j, v := range b[:cols] {
			v += zr[j]
			zr[j] = v
			hr[j] = max(v, 0)
		}
	}
}

func reluBackwardSum(y, a, b, dy []float32, rows, cols, ld int) {
	for r := 0; r < rows; r++ {
		yr, ar, dr := y[r*ld:r*ld+cols], a[r*ld:r*ld+cols], dy[r*ld:r*ld+cols]
		var br []float32
		if b != nil {
			br = b[r*ld : r*ld+cols]
		}
		for j, v := range yr {
			switch {
			case v <= 0 || v != v:
				dr[j] = 0
			case br != nil:
				dr[j] = ar[j] + br[j]
			default:
				dr[j] = ar[j]
			}
		}
	}
}

// sumBlock is how many columns colSums adds up at a time, in float64 accumulators on the
// stack (the cgo kernel has the same).
const sumBlock = 64

func colSums(m []float32, rows, cols, j0, j1 int, dst []float32) {
	for b0 := j0; b0 < j1; b0 += sumBlock {
		b1 := min(b0+sumBlock, j1)
		var acc [sumBlock]float64
		for r := 0; r < rows; r++ {
			for j, v := range m[r*cols+b0 : r*cols+b1] {
				acc[j] += float64(v)
			}
		}
		for j := b0; j < b1; j++ {
			dst[j] = float32(acc[j-b0])
		}
	}
}

// flush is x, or 0 when x is subnormal (see SGDAdded).
func flush(x float32) float32 {
	if x > -minNormal && x < minNormal {
		return 0
	}
	return x
}

// minNormal is the smallest positive normal float32, 2⁻¹²⁶.
const minNormal = 0x1p-126

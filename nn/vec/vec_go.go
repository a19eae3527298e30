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
		buf[i] = b
		if nesterov {
			w[i] -= lr * (d + mu*b)
		} else {
			w[i] -= lr * b
		}
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

//go:build !cgo || !amd64

package conv

import "math"

// Without cgo the 3×3 convolutions stay on im2col and the GEMM, and the other
// kernels are these loops.
const direct3 = false

func direct3Size(in, out, h, w int) int { return 0 }

func direct3PrepSize(in, out, h, w int) int { return 0 }

func conv3Prepare(in, out, h, w int, weight, bias, prep []float32) {
	panic("conv: no direct kernels without cgo")
}

func conv3Forward(x []float32, n, in, h, w, out int, weight, bias, prep, y, scratch []float32) {
	panic("conv: no direct kernels without cgo")
}

func conv3Backward(x []float32, n, in, h, w, out int, prep, dy, dx, dweight, dbias, scratch []float32) {
	panic("conv: no direct kernels without cgo")
}

func direct3s2Size(in, out, h, w int) int { return 0 }

func direct3s2PrepSize(in, out int) int { return 0 }

func conv3s2Prepare(in, out int, weight, bias, prep []float32) {
	panic("conv: no direct kernels without cgo")
}

func conv3s2Forward(x []float32, n, in, h, w, out int, bias, prep, y, scratch []float32) {
	panic("conv: no direct kernels without cgo")
}

func conv3s2Grads(x []float32, n, in, h, w, out int, dy, dweight, dbias, scratch []float32) {
	panic("conv: no direct kernels without cgo")
}

// im2col unfolds one image (In×h×w) into col: row (ch·K + ky)·K + kx holds, for every
// output position, the input pixel under kernel position (ky, kx) of channel ch (zero in
// the padding).
func (c Conv2D) im2col(img []float32, h, w int, col []float32) {
	oh, ow := c.OutSize(h, w)
	r := 0
	for ch := range c.In {
		plane := img[ch*h*w : (ch+1)*h*w]
		for ky := range c.K {
			for kx := range c.K {
				dst := col[r*oh*ow : (r+1)*oh*ow]
				for oy := range oh {
					iy := oy*c.Stride + ky - c.Pad
					row := dst[oy*ow : (oy+1)*ow]
					if iy < 0 || iy >= h {
						clear(row)
						continue
					}
					src := plane[iy*w : (iy+1)*w]
					for ox := range ow {
						ix := ox*c.Stride + kx - c.Pad
						if ix < 0 || ix >= w {
							row[ox] = 0
						} else {
							row[ox] = src[ix]
						}
					}
				}
				r++
			}
		}
	}
}

// col2im is im2col's adjoint: it writes to img (In×h×w) the sum, for every pixel, of the
// column entries that im2col copied from it.
func (c Conv2D) col2im(col []float32, h, w int, img []float32) {
	oh, ow := c.OutSize(h, w)
	clear(img)
	r := 0
	for ch := range c.In {
		plane := img[ch*h*w : (ch+1)*h*w]
		for ky := range c.K {
			for kx := range c.K {
				src := col[r*oh*ow : (r+1)*oh*ow]
				for oy := range oh {
					iy := oy*c.Stride + ky - c.Pad
					if iy < 0 || iy >= h {
						continue
					}
					dst := plane[iy*w : (iy+1)*w]
					for ox := range ow {
						if ix := ox*c.Stride + kx - c.Pad; ix >= 0 && ix < w {
							dst[ix] += src[oy*ow+ox]
						}
					}
				}
				r++
			}
		}
	}
}

func normForward(x []float32, n, c, hw int, gamma, beta []float32, eps float64, y, stats []float32, relu bool) {
	for i := range n {
		img, out := x[i*c*hw:(i+1)*c*hw], y[i*c*hw:(i+1)*c*hw]
		for p := range hw {
			var s, ss float64
			for ch := range c {
				v := float64(img[ch*hw+p])
				s += v
				ss += v * v
			}
			mean := s / float64(c)
			v := max(ss/float64(c)-mean*mean, 0)
			rstd := 1 / math.Sqrt(v+eps)
			stats[2*(i*hw+p)], stats[2*(i*hw+p)+1] = float32(mean), float32(rstd)
			for ch := range c {
				xhat := (float64(img[ch*hw+p]) - mean) * rstd
				o := float32(float64(gamma[ch])*xhat + float64(beta[ch]))
				if relu && !(o > 0) {
					o = 0
				}
				out[ch*hw+p] = o
			}
		}
	}
}

// normSumsSize is the length of normBackward's sums for c channels: γ's and β's.
func normSumsSize(c, hw int) int { return 2 * c }

func normBackward(x []float32, n, c, hw int, gamma, stats, y, dy, dx []float32, sums []float64) {
	dg, db := sums[:c], sums[c:2*c]
	grad := func(j int) float64 {
		if y != nil && !(y[j] > 0) {
			return 0
		}
		return float64(dy[j])
	}
	for i := range n {
		img, out := x[i*c*hw:(i+1)*c*hw], dx[i*c*hw:(i+1)*c*hw]
		for p := range hw {
			mean, rstd := float64(stats[2*(i*hw+p)]), float64(stats[2*(i*hw+p)+1])
			// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), with dx̂ = dy·γ.
			var sd, sdx float64
			for ch := range c {
				xhat := (float64(img[ch*hw+p]) - mean) * rstd
				d := grad(i*c*hw + ch*hw + p)
				dg[ch] += d * xhat
				db[ch] += d
				dxhat := d * float64(gamma[ch])
				sd += dxhat
				sdx += dxhat * xhat
			}
			sd /= float64(c)
			sdx /= float64(c)
			for ch := range c {
				xhat := (float64(img[ch*hw+p]) - mean) * rstd
				dxhat := grad(i*c*hw+ch*hw+p) * float64(gamma[ch])
				out[ch*hw+p] = float32(rstd * (dxhat - sd - xhat*sdx))
			}
		}
	}
}

func normFlush(sums []float64, c, hw int, dgamma, dbeta []float32) {
	for ch := range c {
		dgamma[ch] += float32(sums[ch])
		dbeta[ch] += float32(sums[c+ch])
	}
	clear(sums)
}

func addReLU(y, s []float32) {
	s = s[:len(y)]
	for i, v := range y {
		v += s[i]
		if !(v > 0) {
			v = 0
		}
		y[i] = v
	}
}

func add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

func maxPool2(x []float32, planes, h, w int, y []float32, arg []int32) {
	oh, ow := h/2, w/2
	o := 0
	for p := range planes {
		base := p * h * w
		for oy := range oh {
			for ox := range ow {
				best := base + 2*oy*w + 2*ox
				for _, d := range [3]int{1, w, w + 1} {
					if j := base + 2*oy*w + 2*ox + d; x[j] > x[best] {
						best = j
					}
				}
				y[o], arg[o] = x[best], int32(best)
				o++
			}
		}
	}
}

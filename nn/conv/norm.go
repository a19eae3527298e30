package conv

import "math"

// ChannelNorm is LayerNorm as the seed's code applies it to convolutions: at every spatial
// position of every image, the C channels are normalised to mean 0 and variance 1 (biased,
// as PyTorch's), then scaled and shifted per channel, y = γ[c]·x̂ + β[c] (Git Re-Basin's
// flax LayerNorm on NHWC; open_lth's fork's OutputAffineLayerNorm). Its affine parameters
// belong to the channels, so a permutation of the channels moves them with the conv's.
//
// Means and variances are accumulated in float64.
type ChannelNorm struct {
	C   int
	Eps float64 // added to the variance; PyTorch's default is 1e-5
}

// StatsSize is the length of the stats buffer for n images of h×w: a mean and a reciprocal
// standard deviation per position, which Backward reuses.
func (l ChannelNorm) StatsSize(n, h, w int) int { return 2 * n * h * w }

// Forward normalises x (n×C×h×w) into y and records the statistics in stats.
func (l ChannelNorm) Forward(x []float32, n, h, w int, gamma, beta, y, stats []float32) {
	l.check(x, n, h, w, gamma, y, stats)
	if len(beta) != l.C {
		panic(ErrShape)
	}
	hw := h * w
	for i := range n {
		img, out := x[i*l.C*hw:(i+1)*l.C*hw], y[i*l.C*hw:(i+1)*l.C*hw]
		for p := range hw {
			var s, ss float64
			for c := range l.C {
				v := float64(img[c*hw+p])
				s += v
				ss += v * v
			}
			mean := s / float64(l.C)
			v := max(ss/float64(l.C)-mean*mean, 0)
			rstd := 1 / math.Sqrt(v+l.Eps)
			stats[2*(i*hw+p)], stats[2*(i*hw+p)+1] = float32(mean), float32(rstd)
			for c := range l.C {
				xhat := (float64(img[c*hw+p]) - mean) * rstd
				out[c*hw+p] = float32(float64(gamma[c])*xhat + float64(beta[c]))
			}
		}
	}
}

// Backward adds the gradients with respect to γ and β to dgamma and dbeta and writes the
// gradient with respect to x to dx, given dy and Forward's x and stats.
func (l ChannelNorm) Backward(x []float32, n, h, w int, gamma, stats, dy, dx, dgamma, dbeta []float32) {
	l.check(x, n, h, w, gamma, dy, stats)
	if len(dx) != len(x) || len(dgamma) != l.C || len(dbeta) != l.C {
		panic(ErrShape)
	}
	hw := h * w
	dg, db := make([]float64, l.C), make([]float64, l.C)
	for i := range n {
		img, g, out := x[i*l.C*hw:(i+1)*l.C*hw], dy[i*l.C*hw:(i+1)*l.C*hw], dx[i*l.C*hw:(i+1)*l.C*hw]
		for p := range hw {
			mean, rstd := float64(stats[2*(i*hw+p)]), float64(stats[2*(i*hw+p)+1])
			// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), with dx̂ = dy·γ.
			var sd, sdx float64
			for c := range l.C {
				xhat := (float64(img[c*hw+p]) - mean) * rstd
				d := float64(g[c*hw+p])
				dg[c] += d * xhat
				db[c] += d
				dxhat := d * float64(gamma[c])
				sd += dxhat
				sdx += dxhat * xhat
			}
			sd /= float64(l.C)
			sdx /= float64(l.C)
			for c := range l.C {
				xhat := (float64(img[c*hw+p]) - mean) * rstd
				dxhat := float64(g[c*hw+p]) * float64(gamma[c])
				out[c*hw+p] = float32(rstd * (dxhat - sd - xhat*sdx))
			}
		}
	}
	for c := range l.C {
		dgamma[c] += float32(dg[c])
		dbeta[c] += float32(db[c])
	}
}

func (l ChannelNorm) check(x []float32, n, h, w int, gamma, y, stats []float32) {
	if l.C < 1 || n < 0 || len(x) != n*l.C*h*w || len(y) != len(x) || len(gamma) != l.C || len(stats) != l.StatsSize(n, h, w) {
		panic(ErrShape)
	}
}

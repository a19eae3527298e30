package conv

// ChannelNorm is LayerNorm as the seed's code applies it to convolutions: at every spatial
// position of every image, the C channels are normalised to mean 0 and variance 1 (biased,
// as PyTorch's), then scaled and shifted per channel, y = γ[c]·x̂ + β[c] (Git Re-Basin's
// flax LayerNorm on NHWC; open_lth's fork's OutputAffineLayerNorm). Its affine parameters
// belong to the channels, so a permutation of the channels moves them with the conv's.
//
// Means and variances are accumulated in float64, channel by channel.
type ChannelNorm struct {
	C   int
	Eps float64 // added to the variance; PyTorch's default is 1e-5
}

// StatsSize is the length of the stats buffer for n images of h×w: a mean and a reciprocal
// standard deviation per position, which Backward reuses.
func (l ChannelNorm) StatsSize(n, h, w int) int { return 2 * n * h * w }

// Forward normalises x (n×C×h×w) into y and records the statistics in stats.
func (l ChannelNorm) Forward(x []float32, n, h, w int, gamma, beta, y, stats []float32) {
	l.forward(x, n, h, w, gamma, beta, y, stats, false)
}

// ForwardReLU is Forward followed by a ReLU on y, in one pass.
func (l ChannelNorm) ForwardReLU(x []float32, n, h, w int, gamma, beta, y, stats []float32) {
	l.forward(x, n, h, w, gamma, beta, y, stats, true)
}

func (l ChannelNorm) forward(x []float32, n, h, w int, gamma, beta, y, stats []float32, relu bool) {
	l.check(x, n, h, w, gamma, y, stats)
	if len(beta) != l.C {
		panic(ErrShape)
	}
	normForward(x, n, l.C, h*w, gamma, beta, l.Eps, y, stats, relu)
}

// Backward adds the gradients with respect to γ and β to dgamma and dbeta and writes the
// gradient with respect to x to dx, given dy and Forward's x and stats.
func (l ChannelNorm) Backward(x []float32, n, h, w int, gamma, stats, dy, dx, dgamma, dbeta []float32) {
	sums := make([]float64, l.SumsSize(h, w))
	l.PassBackward(x, n, h, w, gamma, stats, nil, dy, dx, sums)
	l.Flush(sums, h, w, dgamma, dbeta)
}

// BackwardReLU is Backward for ForwardReLU, whose output y it takes: dy, the gradient
// with respect to y, counts as zero where y is not positive. dy is left as it is.
func (l ChannelNorm) BackwardReLU(x []float32, n, h, w int, gamma, stats, y, dy, dx, dgamma, dbeta []float32) {
	sums := make([]float64, l.SumsSize(h, w))
	l.PassBackward(x, n, h, w, gamma, stats, y, dy, dx, sums)
	l.Flush(sums, h, w, dgamma, dbeta)
}

// A batch whose backward pass runs in several calls (passes of a few images, so that the
// activations stay in the cache) gets the gradients of γ and β one call would give, to the
// bit: each pass adds to sums with PassBackward, and Flush adds them to dgamma and dbeta
// once, after the last. The sums are float64, per channel and, with the C kernels, per
// lane of a block of positions; one call sums its images into them in the same order.

// SumsSize is the length of PassBackward's sums for h×w planes.
func (l ChannelNorm) SumsSize(h, w int) int { return normSumsSize(l.C, h*w) }

// PassBackward is Backward (y nil) or BackwardReLU (y, ForwardReLU's output) for n images of
// a batch, adding the gradients of γ and β to sums (SumsSize, zero before the first pass).
func (l ChannelNorm) PassBackward(x []float32, n, h, w int, gamma, stats, y, dy, dx []float32, sums []float64) {
	l.check(x, n, h, w, gamma, dy, stats)
	if len(dx) != len(x) || y != nil && len(y) != len(x) || len(sums) != l.SumsSize(h, w) {
		panic(ErrShape)
	}
	normBackward(x, n, l.C, h*w, gamma, stats, y, dy, dx, sums)
}

// Flush adds sums, PassBackward's, to dgamma and dbeta and clears them for the next batch.
func (l ChannelNorm) Flush(sums []float64, h, w int, dgamma, dbeta []float32) {
	if len(sums) != l.SumsSize(h, w) || len(dgamma) != l.C || len(dbeta) != l.C {
		panic(ErrShape)
	}
	normFlush(sums, l.C, h*w, dgamma, dbeta)
}

func (l ChannelNorm) check(x []float32, n, h, w int, gamma, y, stats []float32) {
	if l.C < 1 || n < 0 || len(x) != n*l.C*h*w || len(y) != len(x) || len(gamma) != l.C || len(stats) != l.StatsSize(n, h, w) {
		panic(ErrShape)
	}
}

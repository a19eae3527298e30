package perm

import (
	"context"
	"fmt"
	"math"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/lap"
)

// AMOptions configures ActivationMatch.
type AMOptions struct {
	// Kernel is the similarity of two units' activations over the examples: "linear" (the
	// inner product, as in Git Re-Basin), "cosine" (inner product of the normalised
	// vectors) or "correlation" (Pearson, as in Li et al. 2016 and Entezari et al. 2022).
	Kernel string
	// Batch is how many examples go through the networks at once, ≥ 1. The cross products
	// are summed per batch in float32, so it changes the last bits of the result: the
	// match stage uses ActivationBatch.
	Batch int
	// BLAS runs the forward passes and the cross products (blas.Default() when nil).
	BLAS blas.Impl
	// Progress, if set, is called after each batch of examples with unit "example" and
	// the examples run so far of n, then after each layer's assignment with unit "layer"
	// and the layers solved of the hidden layers.
	Progress func(unit string, done, total int)
}

// ActivationBatch is the Batch the match stage uses: the forward passes' buffers grow with
// it, and 1,000 examples make GEMMs large enough to run at full speed.
const ActivationBatch = 1000

// Kernels lists the similarities ActivationMatch knows.
var Kernels = []string{"linear", "cosine", "correlation"}

// kernelEps keeps the cosine and correlation of a dead unit (constant over the examples)
// finite: its similarity to every unit is then 0, and the assignment places it anywhere.
const kernelEps = 1e-12

// ActivationMatch aligns b to a by activation matching: it runs both MLPs on the n
// examples of x (n×Input, row-major), and for each hidden layer pairs every unit of a with
// the unit of b whose post-activation outputs are most similar, as one maximum-weight
// assignment on the similarity matrix. The layers are matched independently: the
// activations of b are those of b unpermuted, and permuting b's earlier layers only
// relabels, never changes, a unit's outputs.
//
// The cross statistic Σ_x h_a(x)ᵀ h_b(x) is computed per batch with a float32 GEMM and
// accumulated over batches in float64, as are the per-unit sums and sums of squares.
//
// Units whose outputs are identical on every example (dead ReLUs, typically) cannot be told
// apart by them, so they may be paired in any order among themselves; on the examples
// given, that makes no difference to what the aligned network computes.
//
// ctx is checked before each batch, before each layer's assignment and within it before
// each row (see lap.Solve): once it is done, ActivationMatch returns an error wrapping
// ctx.Err().
//
// Only MLPs have their hidden activations exposed (nn.Model.Hidden); for other kinds it is an
// error that points to weight matching.
func ActivationMatch(ctx context.Context, a, b *nn.Network, x []float32, n int, opt AMOptions) (Result, error) {
	if a == nil {
		return Result{}, fmt.Errorf("activation matching: first network is nil")
	}
	arch := a.Arch
	// viewOf checks that each network has arch's parameters, with their shapes.
	if _, err := viewOf(a, arch); err != nil {
		return Result{}, fmt.Errorf("activation matching: first network: %v", err)
	}
	if _, err := viewOf(b, arch); err != nil {
		return Result{}, fmt.Errorf("activation matching: second network: %v", err)
	}
	kernel := opt.Kernel
	if kernel != "linear" && kernel != "cosine" && kernel != "correlation" {
		return Result{}, fmt.Errorf("activation matching: unknown kernel %q; the kernels are: linear, cosine, correlation", opt.Kernel)
	}
	if n < 1 || n > len(x)/arch.Input {
		return Result{}, fmt.Errorf("activation matching: need at least one example of %d features, got %d examples in %d values", arch.Input, n, len(x))
	}
	if opt.Batch < 1 {
		return Result{}, fmt.Errorf("activation matching: the batch must be at least 1 example, got %d (%d is usual)", opt.Batch, ActivationBatch)
	}
	batch := min(opt.Batch, n)
	impl := opt.BLAS
	if impl == nil {
		impl = blas.Default()
	}

	progress := opt.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	var stats []*crossStats
	var err error
	if arch.Conv() {
		stats, err = convCrossStats(ctx, a, b, x, n, min(batch, convActivationBatch), kernel != "linear", impl, progress)
	} else {
		stats, err = mlpCrossStats(ctx, a, b, x, n, batch, kernel != "linear", impl, progress)
	}
	if err != nil {
		return Result{}, err
	}

	p := Identity(arch)
	var solver lap.Solver
	total := 0.0
	for l, st := range stats {
		w := st.w
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		cost := st.similarity(kernel, st.samples)
		g, obj, err := solver.Solve(ctx, cost, w, w, true)
		if err != nil {
			return Result{}, fmt.Errorf("activation matching: layer %d: %w", l, err)
		}
		p.Groups[l] = g
		total += obj
		progress("layer", l+1, len(stats))
	}
	return Result{Perm: p, Objective: total}, nil
}

// convActivationBatch bounds the images a convolutional network runs at once: its models
// keep every layer's activations (1.3 MB an image for ResNet-20 on 32×32 images).
const convActivationBatch = 100

// mlpCrossStats runs both MLPs over the n examples of x and accumulates each hidden layer's
// statistics.
func mlpCrossStats(ctx context.Context, a, b *nn.Network, x []float32, n, batch int, moments bool, impl blas.Impl, progress func(string, int, int)) ([]*crossStats, error) {
	arch := a.Arch
	ma, mb := nn.NewModel(a, batch, impl), nn.NewModel(b, batch, impl)
	stats := make([]*crossStats, len(arch.Hidden))
	maxSq := 0
	for l, w := range arch.Hidden {
		stats[l] = newCrossStats(w)
		maxSq = max(maxSq, w*w)
	}
	s32 := make([]float32, maxSq)
	for lo := 0; lo < n; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows := min(batch, n-lo)
		xb := x[lo*arch.Input : (lo+rows)*arch.Input]
		ma.Forward(xb, rows)
		mb.Forward(xb, rows)
		for l, w := range arch.Hidden {
			ha, hb := ma.Hidden(l, rows), mb.Hidden(l, rows)
			impl.Sgemm(true, false, w, w, rows, 1, ha, w, hb, w, 0, s32[:w*w], w)
			stats[l].add(s32[:w*w], ha, hb, rows, moments)
		}
		progress("example", lo+rows, n)
	}
	return stats, nil
}

// convCrossStats is mlpCrossStats for VGGs and ResNets: every image position is a sample of
// a group's channels, in every tap of the group (a residual stream is seen after each of
// its blocks), so the statistics sum over images, positions and taps. Each image's cross
// product is a GEMM over its positions, added in float32 within a batch and in float64
// across batches.
func convCrossStats(ctx context.Context, a, b *nn.Network, x []float32, n, batch int, moments bool, impl blas.Impl, progress func(string, int, int)) ([]*crossStats, error) {
	arch := a.Arch
	ma, mb := nn.NewConvModel(a, batch, impl, false), nn.NewConvModel(b, batch, impl, false)
	groups := arch.Spec().Groups
	stats := make([]*crossStats, len(groups))
	maxSq := 0
	for g, gr := range groups {
		stats[g] = newCrossStats(gr.Size)
		maxSq = max(maxSq, gr.Size*gr.Size)
	}
	s32 := make([]float32, maxSq)
	for lo := 0; lo < n; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows := min(batch, n-lo)
		xb := x[lo*arch.Input : (lo+rows)*arch.Input]
		ma.Forward(xb, rows)
		mb.Forward(xb, rows)
		ta, tb := ma.Taps(rows), mb.Taps(rows)
		for g, st := range stats {
			w := st.w
			s := s32[:w*w]
			clear(s)
			for k, t := range ta[g] {
				P, per := t.Positions, t.Channels*t.Positions
				for i := range rows {
					ia, ib := t.Data[i*per:(i+1)*per], tb[g][k].Data[i*per:(i+1)*per]
					impl.Sgemm(false, true, w, w, P, 1, ia, P, ib, P, 1, s, w)
					if moments {
						accumulateChannels(st.sumA, st.sqA, ia, P)
						accumulateChannels(st.sumB, st.sqB, ib, P)
					}
				}
				st.samples += rows * P
			}
			st.add(s, nil, nil, 0, false)
		}
		progress("example", lo+rows, n)
	}
	return stats, nil
}

// accumulateChannels adds the row sums and sums of squares of the channels×positions
// matrix h.
func accumulateChannels(sum, sq []float64, h []float32, positions int) {
	for c := range sum {
		var s, q float64
		for _, v := range h[c*positions : (c+1)*positions] {
			f := float64(v)
			s += f
			q += f * f
		}
		sum[c] += s
		sq[c] += q
	}
}

// crossStats accumulates, over examples x, the statistics of one hidden layer of width w
// that the kernels need: cross[i][j] = Σ h_a,i(x)·h_b,j(x), and each unit's sum and sum of
// squares in both networks.
type crossStats struct {
	w          int
	samples    int // examples for an MLP; image positions over every tap for a conv net
	cross      []float64
	sumA, sumB []float64
	sqA, sqB   []float64
}

func newCrossStats(w int) *crossStats {
	return &crossStats{w: w, cross: make([]float64, w*w),
		sumA: make([]float64, w), sumB: make([]float64, w), sqA: make([]float64, w), sqB: make([]float64, w)}
}

// add folds in one batch: s is that batch's float32 cross product, ha and hb its
// rows×w activations, whose per-unit moments only the normalised kernels need.
func (c *crossStats) add(s []float32, ha, hb []float32, rows int, moments bool) {
	c.samples += rows
	for i, v := range s {
		c.cross[i] += float64(v)
	}
	if !moments {
		return
	}
	accumulate(c.sumA, c.sqA, ha, rows, c.w)
	accumulate(c.sumB, c.sqB, hb, rows, c.w)
}

// accumulate adds the column sums and sums of squares of the rows×w matrix h.
func accumulate(sum, sq []float64, h []float32, rows, w int) {
	for r := 0; r < rows; r++ {
		for j, v := range h[r*w : (r+1)*w] {
			f := float64(v)
			sum[j] += f
			sq[j] += f * f
		}
	}
}

// similarity returns the w×w matrix the assignment maximises, for n examples; it reuses
// c.cross, which it overwrites.
func (c *crossStats) similarity(kernel string, n int) []float64 {
	w, s := c.w, c.cross
	switch kernel {
	case "cosine":
		for i := range w {
			na := math.Sqrt(c.sqA[i])
			for j := range w {
				s[i*w+j] /= na*math.Sqrt(c.sqB[j]) + kernelEps
			}
		}
	case "correlation":
		fn := float64(n)
		sdA, sdB := make([]float64, w), make([]float64, w)
		for i := range w {
			sdA[i] = math.Sqrt(max(c.sqA[i]/fn-sq(c.sumA[i]/fn), 0))
			sdB[i] = math.Sqrt(max(c.sqB[i]/fn-sq(c.sumB[i]/fn), 0))
		}
		for i := range w {
			ma := c.sumA[i] / fn
			for j := range w {
				cov := s[i*w+j]/fn - ma*c.sumB[j]/fn
				s[i*w+j] = cov / (sdA[i]*sdB[j] + kernelEps)
			}
		}
	}
	return s
}

func sq(x float64) float64 { return x * x }

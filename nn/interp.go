package nn

import (
	"context"
	"fmt"
	"math"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// Combine sets dst to Σ wᵢ·netᵢ, parameter by parameter (accumulated in float64, rounded
// once): the straight line between two networks for weights (1−α, α), or a point of the
// simplex among three. dst must have the networks' architecture; it may be nil, and a new
// network is returned then. It panics if the architectures differ (callers check first).
func Combine(dst *Network, weights []float64, nets ...*Network) *Network {
	if len(nets) == 0 || len(weights) != len(nets) {
		panic(fmt.Errorf("%w: %d weights for %d networks", ErrShape, len(weights), len(nets)))
	}
	for _, n := range nets[1:] {
		if !n.Arch.Equal(nets[0].Arch) {
			panic(fmt.Errorf("%w: combining %s with %s", ErrShape, nets[0].Arch, n.Arch))
		}
	}
	if dst == nil {
		dst = NewNetwork(nets[0].Arch)
	}
	for pi, p := range dst.Params {
		for j := range p.Data {
			var s float64
			for k, n := range nets {
				s += weights[k] * float64(n.Params[pi].Data[j])
			}
			p.Data[j] = float32(s)
		}
	}
	return dst
}

// Point is a network's loss and error on the train subset and the test set.
type Point struct {
	TrainLoss, TrainErr, TestLoss, TestErr float64
}

// Get returns the metric ("loss" or "error") on split ("train" or "test").
func (p Point) Get(metric, split string) float64 {
	switch {
	case metric == "loss" && split == "train":
		return p.TrainLoss
	case metric == "loss":
		return p.TestLoss
	case split == "train":
		return p.TrainErr
	}
	return p.TestErr
}

// Measure evaluates net on the first trainN training examples and the whole test set. It
// returns ctx.Err() once ctx is done, checked before each chunk of examples (see Evaluate).
func Measure(ctx context.Context, net *Network, train, test *data.Set, trainN int, b blas.Impl) (Point, error) {
	var p Point
	var acc float64
	var err error
	if p.TrainLoss, acc, err = Evaluate(ctx, net, train, trainN, b); err != nil {
		return Point{}, err
	}
	p.TrainErr = 1 - acc
	if p.TestLoss, acc, err = Evaluate(ctx, net, test, 0, b); err != nil {
		return Point{}, err
	}
	p.TestErr = 1 - acc
	return p, nil
}

// Alphas returns r points evenly spaced on [0, 1], both ends included.
func Alphas(r int) []float64 {
	if r < 2 {
		return []float64{0, 1}[:max(r, 0)]
	}
	out := make([]float64, r)
	for i := range out {
		out[i] = float64(i) / float64(r-1)
	}
	return out
}

// Curve measures the networks on the line between a and b at each α. progress, if set, is
// called with the number of points measured after each one. It returns ctx.Err() once ctx
// is done, checked before each chunk of examples of every point (see Evaluate).
func Curve(ctx context.Context, a, b *Network, alphas []float64, train, test *data.Set, trainN int, impl blas.Impl, progress func(done int)) ([]Point, error) {
	return curve(ctx, a, b, alphas, nil, train, test, trainN, impl, progress)
}

// RepairedCurve is Curve with every point between the ends reset by REPAIR (see Repair):
// the endpoints' preactivation statistics are measured once on the first repairN training
// examples, and each interpolated network gets (1−α)·stats(a) + α·stats(b), measured on
// the same examples. The ends are left as they are.
func RepairedCurve(ctx context.Context, a, b *Network, alphas []float64, repairN int, train, test *data.Set, trainN int, impl blas.Impl, progress func(done int)) ([]Point, error) {
	n := min(repairN, train.N)
	x := train.X[:n*train.D]
	sa, err := PreactivationStats(ctx, a, x, n, impl)
	if err != nil {
		return nil, err
	}
	sb, err := PreactivationStats(ctx, b, x, n, impl)
	if err != nil {
		return nil, err
	}
	fix := func(net *Network, al float64) error {
		if al == 0 || al == 1 {
			return nil
		}
		return Repair(ctx, net, MixStats([]float64{1 - al, al}, sa, sb), x, n, impl)
	}
	return curve(ctx, a, b, alphas, fix, train, test, trainN, impl, progress)
}

// curve is Curve, with fix (if set) applied to each interpolated network before it is
// measured.
func curve(ctx context.Context, a, b *Network, alphas []float64, fix func(*Network, float64) error, train, test *data.Set, trainN int, impl blas.Impl, progress func(done int)) ([]Point, error) {
	out := make([]Point, len(alphas))
	buf := NewNetwork(a.Arch)
	for i, al := range alphas {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		Combine(buf, []float64{1 - al, al}, a, b)
		if fix != nil {
			if err := fix(buf, al); err != nil {
				return nil, err
			}
		}
		p, err := Measure(ctx, buf, train, test, trainN, impl)
		if err != nil {
			return nil, err
		}
		out[i] = p
		if progress != nil {
			progress(i + 1)
		}
	}
	return out, nil
}

// Barrier returns max over the curve of f(α) − ((1−α)·f(0) + α·f(1)), the height of the
// metric above the straight line between the end points; alphas must start at 0 and end at 1.
func Barrier(alphas, f []float64) float64 {
	n := len(f)
	if n == 0 || len(alphas) != n {
		return math.NaN()
	}
	best := math.Inf(-1)
	for i, al := range alphas {
		best = max(best, f[i]-((1-al)*f[0]+al*f[n-1]))
	}
	return best
}

// SimplexPoints returns the barycentric points (i, j, k)/r with i+j+k = r, in order of i
// then j: the triangular grid of resolution r among three networks.
func SimplexPoints(r int) [][3]float64 {
	var out [][3]float64
	for i := 0; i <= r; i++ {
		for j := 0; j <= r-i; j++ {
			k := r - i - j
			out = append(out, [3]float64{float64(i) / float64(r), float64(j) / float64(r), float64(k) / float64(r)})
		}
	}
	return out
}

// SimplexBarrier returns max over the grid of f(Σλᵢθᵢ) − Σλᵢ·f(θᵢ), where f at the corners
// is read from the grid itself (the points (1,0,0), (0,1,0), (0,0,1)).
func SimplexBarrier(points [][3]float64, f []float64) float64 {
	var corner [3]float64
	for i, p := range points {
		for c := 0; c < 3; c++ {
			if p[c] == 1 {
				corner[c] = f[i]
			}
		}
	}
	best := math.Inf(-1)
	for i, p := range points {
		best = max(best, f[i]-(p[0]*corner[0]+p[1]*corner[1]+p[2]*corner[2]))
	}
	return best
}

package perm

import (
	"context"
	"fmt"
	"slices"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/lap"
)

// axisRef is one parameter axis that follows a group: the parameter's index in the spec,
// and the axis. For a parameter with other moving axes it keeps its last product A·B'ᵀ and
// the versions of the other axes' groups it was computed at, so that a visit after only
// some neighbours moved recomputes only the products they touch.
type axisRef struct {
	param, axis int
	product     [][]float32 // per pair of the sequence
	stamp       []int
}

// matchSpec is WeightMatch's descent for any architecture, read from its spec alone (Git
// Re-Basin's weight_matching), on arguments WeightMatch has checked. For group g of n units,
// the cost is
//
//	C = Σ over the axes (k, ax) that follow g of  A_k · B'_kᵀ
//
// where A_k is a's parameter k with axis ax moved first and the rest flattened (n × rest),
// and B'_k is b's parameter k with every other axis permuted by the current permutation,
// laid out alike. Each product is one float32 GEMM, added into the float64 cost.
//
// A group's cost depends only on the permutations of the groups it shares a parameter with,
// so a group none of whose neighbours moved since it was last solved would get the same
// answer and is not solved again, and a product none of whose other axes' groups moved is
// not computed again (products are deterministic, so reusing one changes no bit of the
// cost): the descent is the same as computing everything afresh, only cheaper. The kept
// products take n² values per axis of a weight, no more than the weights themselves while
// a layer's widths are within a factor of 3 of each other.
func matchSpec(ctx context.Context, arch nn.Arch, a, b []map[string][]float32, opt WMOptions) (Permutation, int, error) {
	spec := arch.Spec()
	G := len(spec.Groups)
	axes := make([][]*axisRef, G)
	neighbours := make([][]int, G)
	maxLen, maxSq := 0, 0
	for k, s := range spec.Params {
		maxLen = max(maxLen, s.Len())
		for ax, g := range s.Axes {
			if g < 0 {
				continue
			}
			axes[g] = append(axes[g], &axisRef{param: k, axis: ax})
			for other, h := range s.Axes {
				// A group on two axes of one parameter would be its own neighbour.
				if h >= 0 && other != ax && !slices.Contains(neighbours[g], h) {
					neighbours[g] = append(neighbours[g], h)
				}
			}
		}
	}
	for _, g := range spec.Groups {
		maxSq = max(maxSq, g.Size*g.Size)
	}
	m := &specMatcher{impl: opt.BLAS, spec: spec, a: a, b: b, axes: axes, version: make([]int, G),
		ga: make([]float32, maxLen), gb: make([]float32, maxLen), c32: make([]float32, maxSq), cost: make([]float64, maxSq)}

	p := Identity(arch)
	if opt.Init != nil {
		for g, v := range opt.Init.Groups {
			copy(p.Groups[g], v)
		}
	}
	dirty := make([]bool, G)
	for g := range dirty {
		dirty[g] = true
	}
	sweeps, err := descend(ctx, G, opt, func(g int) (float64, error) {
		if !dirty[g] {
			return 0, nil
		}
		dirty[g] = false
		d, err := m.update(ctx, p, g)
		if err != nil {
			return 0, fmt.Errorf("weight matching: group %d (%s): %w", g, spec.Groups[g].Name, err)
		}
		if d > 0 {
			for _, h := range neighbours[g] {
				dirty[h] = true
			}
		}
		return d, nil
	})
	if err != nil {
		return Permutation{}, 0, err
	}
	return p, sweeps, nil
}

// specMatcher holds matchSpec's networks and buffers: ga and gb hold one parameter of a and
// of b with an axis moved first, c32 one product, cost the float64 sum.
type specMatcher struct {
	impl    blas.Impl
	spec    nn.Spec
	a, b    []map[string][]float32 // the pairs of a sequence (one for WeightMatch)
	axes    [][]*axisRef
	version []int // version[g] counts the moves of group g
	ga, gb  []float32
	c32     []float32
	cost    []float64
	solver  lap.Solver
}

// update solves for group g with the other groups of p fixed, takes the solution if it
// raises the objective, and returns the gain (0 if the group stays).
func (m *specMatcher) update(ctx context.Context, p Permutation, g int) (float64, error) {
	c, err := m.costOf(ctx, p, g)
	if err != nil {
		return 0, err
	}
	next, gain, err := solveGroup(ctx, m.solver, c, p.Groups[g])
	if err != nil || gain <= 0 {
		return 0, err
	}
	copy(p.Groups[g], next)
	m.version[g]++
	return gain, nil
}

// costOf returns group g's n×n cost for the current p, in m.cost. ctx is checked before
// each product it computes. After an error the matcher must not be used again.
func (m *specMatcher) costOf(ctx context.Context, p Permutation, g int) ([]float64, error) {
	n := m.spec.Groups[g].Size
	cost := m.cost[:n*n]
	clear(cost)
	c32 := m.c32[:n*n]
	for _, r := range m.axes[g] {
		s := m.spec.Params[r.param]
		var stamp []int
		if len(s.Shape) > 1 {
			stamp = m.stampOf(s, r.axis)
			if r.product != nil && slices.Equal(stamp, r.stamp) {
				for _, pr := range r.product {
					addTo(cost, pr)
				}
				continue
			}
		}
		if stamp != nil {
			if r.product == nil {
				r.product = make([][]float32, len(m.a))
				for t := range r.product {
					r.product[t] = make([]float32, n*n)
				}
			}
			r.stamp = stamp
		}
		size := s.Len()
		rest := size / n
		order := axisFirst(len(s.Shape), r.axis)
		for t := range m.a {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			product := c32
			if stamp != nil {
				product = r.product[t]
			}
			ga := m.a[t][s.Name]
			if r.axis != 0 {
				ga = m.ga[:size]
				gather(ga, m.a[t][s.Name], s.Shape, make([][]int, len(s.Shape)), order)
			}
			gb := m.gb[:size]
			gather(gb, m.b[t][s.Name], s.Shape, p.maps(s, r.axis), order)
			m.impl.Sgemm(false, true, n, n, rest, 1, ga, rest, gb, rest, 0, product, n)
			addTo(cost, product)
		}
	}
	return cost, nil
}

// stampOf returns the versions of the groups that the axes of s other than except follow.
func (m *specMatcher) stampOf(s nn.ParamSpec, except int) []int {
	stamp := make([]int, len(s.Axes))
	for ax, g := range s.Axes {
		if g >= 0 && ax != except {
			stamp[ax] = m.version[g]
		}
	}
	return stamp
}

// addTo adds the float32 values x to the float64 sum.
func addTo(sum []float64, x []float32) {
	for i, v := range x {
		sum[i] += float64(v)
	}
}

// axisFirst returns the order of k axes with axis ax moved first (numpy's moveaxis(ax, 0)).
func axisFirst(k, ax int) []int {
	order := []int{ax}
	for i := range k {
		if i != ax {
			order = append(order, i)
		}
	}
	return order
}

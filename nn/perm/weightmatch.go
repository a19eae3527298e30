package perm

import (
	"context"
	"fmt"
	"math"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/lap"
)

// streamWM separates weight matching's sweep orders from every other use of a seed.
const streamWM = 0x776d6174 // "wmat"

// streamMerge separates MergeMany's visiting orders.
const streamMerge = 0x6d657267 // "merg"

// WMOptions configures WeightMatch.
type WMOptions struct {
	// Seed draws the order in which each sweep visits the groups: coordinate descent finds a
	// local optimum, and which one can depend on the order.
	Seed uint64
	// MaxSweeps bounds the sweeps, ≥ 1 (SweepLimit is Git Re-Basin's).
	MaxSweeps int
	// Tol stops the descent once a sweep gains no more than Tol in the objective, ≥ 0
	// (GainTol is Git Re-Basin's).
	Tol float64
	// Init, if set, is the starting permutation (a warm start, e.g. the result of activation
	// matching); the identity otherwise.
	Init *Permutation
	// BLAS computes the cost matrices (blas.Default() when nil).
	BLAS blas.Impl
	// Progress, if set, is called after each sweep with its number (from 1) and what it
	// gained in the objective.
	Progress func(sweep int, gain float64)
}

// The stopping rule of Git Re-Basin's weight matching (its max_iter, and the 1e-12 a sweep
// must gain to go on): the match stage's default max_sweeps, and what the stages that do not
// expose the rule (merge_three, interpolate's rematch) use. WeightMatch fills in neither.
const (
	SweepLimit = 100
	GainTol    = 1e-12
)

// Result is an alignment: Perm applied to the second network aligns it with the first.
type Result struct {
	Perm Permutation
	// Objective is what the method maximised. For weight matching it is ⟨a, Perm(b)⟩ over
	// all parameters, computed exactly in float64 (see Inner); for activation matching the
	// summed similarity of the matched units over all hidden layers.
	Objective float64
	// Sweeps is the number of coordinate-descent sweeps weight matching ran; unless
	// MaxSweeps cut the descent short, the last one gained nothing. It is 0 for a network
	// without groups (an MLP without hidden layers) and for activation matching, which
	// solves each layer once.
	Sweeps int
}

// layers holds a network's parameters by layer: w[i] is layers.i.weight (out×in), b[i] its
// bias (nil without biases), g[l] and beta[l] the LayerNorm of hidden layer l (nil without).
type layers struct {
	w, b, g, beta [][]float32
}

// viewOf checks n against arch a, an MLP, and splits its parameters by layer.
func viewOf(n *nn.Network, a nn.Arch) (layers, error) {
	byName, err := params(n, a)
	if err != nil {
		return layers{}, err
	}
	return layersOf(a, byName), nil
}

// layersOf splits the parameters of an MLP of arch a, checked by params, by layer.
func layersOf(a nn.Arch, byName map[string][]float32) layers {
	var v layers
	for i := 0; i < a.Layers(); i++ {
		v.w = append(v.w, byName[nn.WeightName(i)])
		v.b = append(v.b, byName[nn.BiasName(i)])
		if i < len(a.Hidden) {
			v.g = append(v.g, byName[nn.NormWeightName(i)])
			v.beta = append(v.beta, byName[nn.NormBiasName(i)])
		}
	}
	return v
}

// WeightMatch aligns b to a by weight matching (Git Re-Basin, Ainsworth et al. 2023): it
// looks for the permutation P maximising ⟨a, P(b)⟩, the sum over all parameters of their
// Frobenius inner products, which is minimising ‖a − P(b)‖. The problem couples the groups
// that share a parameter, so it runs coordinate descent: a sweep visits the groups in a
// seeded random order, and for group g solves exactly (a linear assignment) for P_g with the
// other groups fixed. The cost of putting unit j of b at position i is the sum, over every
// parameter axis that follows g, of the inner product of a's slice i along that axis with
// b's slice j, b's other axes permuted by the current P. For an MLP's hidden layer l that is
//
//	C[i][j] = ⟨a.W_l[i,:], b.W_l[j, P_{l−1}]⟩ + ⟨a.W_{l+1}[:,i], b.W_{l+1}[P_{l+1}, j]⟩
//	        + a.b_l[i]·b.b_l[j] + a.γ_l[i]·b.γ_l[j] + a.β_l[i]·b.β_l[j],
//
// computed with float32 GEMMs and solved in float64. Descent stops when a sweep gains at
// most opt.Tol, or after opt.MaxSweeps. A step is taken only if it raises the objective,
// so the descent cannot cycle. The reported Objective is recomputed exactly (Inner).
//
// MLPs have a matcher of their own that keeps every cost matrix up to date as the
// permutation changes (see matcher); other architectures recompute a group's cost from the
// spec each time it is visited and may have changed (see matchSpec).
//
// ctx is checked before each group's products and assignment, and within the assignment
// before each row (see lap.Solve): once it is done, WeightMatch returns an error wrapping
// ctx.Err().
func WeightMatch(ctx context.Context, a, b *nn.Network, opt WMOptions) (Result, error) {
	return WeightMatchSequence(ctx, []*nn.Network{a}, []*nn.Network{b}, opt)
}

// WeightMatchSequence is weight matching of two sequences of networks (the checkpoints of
// two runs, the levels of two pruning runs) with ONE permutation: it maximises the summed
// objective Σ_t ⟨a_t, P(b_t)⟩, whose cost for a group is the sum of the pairs' costs, by
// the same coordinate descent. For a single pair it is WeightMatch, bit for bit; for a
// sequence of one pair repeated it finds WeightMatch's permutation. The Objective is the
// sum of the pairs' exact inner products.
func WeightMatchSequence(ctx context.Context, as, bs []*nn.Network, opt WMOptions) (Result, error) {
	if len(as) == 0 || len(as) != len(bs) {
		return Result{}, fmt.Errorf("weight matching: %d networks against %d; sequences are matched pair by pair and need the same length", len(as), len(bs))
	}
	if as[0] == nil {
		return Result{}, fmt.Errorf("weight matching: first network is nil")
	}
	arch := as[0].Arch
	pas, pbs := make([]map[string][]float32, len(as)), make([]map[string][]float32, len(bs))
	for t := range as {
		var err error
		what := ""
		if len(as) > 1 {
			what = fmt.Sprintf(" %d", t)
		}
		if pas[t], err = params(as[t], arch); err != nil {
			return Result{}, fmt.Errorf("weight matching: first network%s: %v", what, err)
		}
		if pbs[t], err = params(bs[t], arch); err != nil {
			return Result{}, fmt.Errorf("weight matching: second network%s: %v", what, err)
		}
	}
	if opt.Init != nil {
		if !opt.Init.Arch.Equal(arch) {
			return Result{}, fmt.Errorf("weight matching: initial permutation is for %s, not %s", opt.Init.Arch, arch)
		}
		if err := opt.Init.Validate(); err != nil {
			return Result{}, fmt.Errorf("weight matching: initial permutation: %v", err)
		}
	}
	if opt.MaxSweeps < 1 {
		return Result{}, fmt.Errorf("weight matching: max_sweeps must be at least 1, got %d (%d is usual)", opt.MaxSweeps, SweepLimit)
	}
	if tol := opt.Tol; !(tol >= 0) || math.IsInf(tol, 0) {
		return Result{}, fmt.Errorf("weight matching: the tolerance must be a finite number ≥ 0, got %g (%g is usual)", tol, GainTol)
	}
	if opt.BLAS == nil {
		opt.BLAS = blas.Default()
	}
	var p Permutation
	var sweeps int
	var err error
	if arch.Kind == "mlp" {
		la, lb := make([]layers, len(as)), make([]layers, len(bs))
		for t := range as {
			la[t], lb[t] = layersOf(arch, pas[t]), layersOf(arch, pbs[t])
		}
		p, sweeps, err = matchMLP(ctx, arch, la, lb, opt)
	} else {
		p, sweeps, err = matchSpec(ctx, arch, pas, pbs, opt)
	}
	if err != nil {
		return Result{}, err
	}
	obj := 0.0
	for t := range as {
		o, err := Inner(as[t], bs[t], p)
		if err != nil {
			return Result{}, err
		}
		obj += o
	}
	return Result{Perm: p, Objective: obj, Sweeps: sweeps}, nil
}

// matchMLP is WeightMatch's descent for an MLP, on arguments WeightMatch has checked.
func matchMLP(ctx context.Context, arch nn.Arch, va, vb []layers, opt WMOptions) (Permutation, int, error) {
	p := Identity(arch)
	m, err := newMatcher(ctx, opt.BLAS, arch, va, vb)
	if err != nil {
		return Permutation{}, 0, err
	}
	if opt.Init != nil {
		for l, g := range opt.Init.Groups {
			m.move(p, l, g)
		}
	}
	sweeps, err := descend(ctx, len(arch.Hidden), opt, func(l int) (float64, error) {
		g, err := m.update(ctx, p, l)
		if err != nil {
			return 0, fmt.Errorf("weight matching: layer %d: %w", l, err)
		}
		return g, nil
	})
	return p, sweeps, err
}

// descend is the coordinate descent of weight matching over groups groups: each sweep
// visits them in an order drawn from opt.Seed and calls step, which solves one group and
// returns what it gained; it stops once a sweep gains at most opt.Tol, or after
// opt.MaxSweeps, and returns the sweeps run. ctx is checked before each step.
func descend(ctx context.Context, groups int, opt WMOptions, step func(g int) (float64, error)) (int, error) {
	rng := nn.NewRand(opt.Seed, streamWM)
	order := make([]int, groups)
	for i := range order {
		order[i] = i
	}
	sweeps := 0
	for len(order) > 0 && sweeps < opt.MaxSweeps {
		sweeps++
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		gain := 0.0
		for _, g := range order {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			d, err := step(g)
			if err != nil {
				return 0, err
			}
			gain += d
		}
		if opt.Progress != nil {
			opt.Progress(sweeps, gain)
		}
		if gain <= opt.Tol {
			break
		}
	}
	return sweeps, nil
}

// matcher keeps, for the current permutation, every group's cost matrix in float64. A
// step changes one group, and only its two neighbours' costs depend on it, through the
// units that moved: with R the positions of group l that changed, group l+1's cost changes
// by a.W_{l+1}[:, R] · (b.W_{l+1}[:, new R] − b.W_{l+1}[:, old R])ᵀ, a GEMM with inner
// dimension |R|, and group l−1's likewise through the rows of layer l. The first sweep
// moves nearly every unit, later ones a few, so after the initial products (one sweep's
// worth of GEMMs) the descent costs little more than its assignment problems. Nothing is
// transposed or copied whole: the moved rows and columns are gathered into small buffers.
type matcher struct {
	impl   blas.Impl
	widths []int
	a, b   []layers    // the pairs of a sequence (one for WeightMatch); costs are their sums
	cost   [][]float64 // cost[l]: C_l for the current permutation, widths[l+1]² entries
	dirty  []bool      // cost[l] changed since group l was last solved
	moved  []int
	ga, gb []float32 // moved rows or columns of a, and the change in those of b
	delta  []float32
	solver lap.Solver
}

// newMatcher computes every group's cost at the identity permutation: for group l,
// a.W_l·b.W_lᵀ + a.W_{l+1}ᵀ·b.W_{l+1} plus the outer products of the vectors. It returns
// ctx.Err() once ctx is done, checked before a group's products, after them and before
// each row of their conversion to float64: for a 4096-wide layer each of those takes about
// a tenth of a second.
func newMatcher(ctx context.Context, impl blas.Impl, arch nn.Arch, a, b []layers) (*matcher, error) {
	L := len(arch.Hidden)
	w := arch.Widths()
	m := &matcher{impl: impl, widths: w, a: a, b: b, cost: make([][]float64, L), dirty: make([]bool, L)}
	maxSq, maxGather := 0, 0
	for l := 0; l < L; l++ {
		maxSq = max(maxSq, w[l+1]*w[l+1])
		maxGather = max(maxGather, w[l]*w[l+1], w[l+1]*w[l+2])
	}
	m.delta = make([]float32, maxSq)
	m.ga, m.gb = make([]float32, maxGather), make([]float32, maxGather)
	for l := 0; l < L; l++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := w[l+1]
		c := m.delta[:n*n]
		cost := make([]float64, n*n)
		for t := range a {
			a, b := a[t], b[t]
			impl.Sgemm(false, true, n, n, w[l], 1, a.w[l], w[l], b.w[l], w[l], 0, c, n)
			impl.Sgemm(true, false, n, n, w[l+2], 1, a.w[l+1], n, b.w[l+1], n, 1, c, n)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for _, v := range [][2][]float32{{a.b[l], b.b[l]}, {a.g[l], b.g[l]}, {a.beta[l], b.beta[l]}} {
				if v[0] != nil {
					addOuter(c, v[0], v[1])
				}
			}
			for r := range n {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				for j, v := range c[r*n : (r+1)*n] {
					cost[r*n+j] += float64(v)
				}
			}
		}
		m.cost[l] = cost
		m.dirty[l] = true
	}
	return m, nil
}

// update solves for group l with the other groups of p fixed, takes the solution if it
// raises the objective, and returns the gain (0 if the group stays). A group whose cost has
// not changed since it was last solved would get the same answer, so it is not solved again.
func (m *matcher) update(ctx context.Context, p Permutation, l int) (float64, error) {
	if !m.dirty[l] {
		return 0, nil
	}
	m.dirty[l] = false
	next, gain, err := solveGroup(ctx, m.solver, m.cost[l], p.Groups[l])
	if err != nil || gain <= 0 {
		return 0, err
	}
	m.move(p, l, next)
	return gain, nil
}

// solveGroup solves the assignment of one group, whose n×n cost c scores unit i of a
// against unit j of b, and returns the solution with its gain over the current one, cur.
// Both matchers' coordinate steps take the solution only if the gain is positive, so that
// the objective rises strictly and the descent ends.
func solveGroup(ctx context.Context, solver lap.Solver, c []float64, cur []int) ([]int, float64, error) {
	n := len(cur)
	next, _, err := solver.Solve(ctx, c, n, n, true)
	if err != nil {
		return nil, 0, err
	}
	gain := 0.0
	for i := range n {
		gain += c[i*n+next[i]] - c[i*n+cur[i]]
	}
	return next, gain, nil
}

// move sets p.Groups[l] to next and brings the neighbouring groups' costs up to date.
func (m *matcher) move(p Permutation, l int, next []int) {
	cur, w := p.Groups[l], m.widths
	m.moved = m.moved[:0]
	for i := range cur {
		if next[i] != cur[i] {
			m.moved = append(m.moved, i)
		}
	}
	k := len(m.moved)
	if k == 0 {
		return
	}
	for pair := range m.a {
		a, b := m.a[pair], m.b[pair]
		if l > 0 {
			// Group l−1 sees the rows of layer l: row r of b.W_l is now row next[r].
			n := w[l]
			ga, gb := m.ga[:k*n], m.gb[:k*n]
			for t, r := range m.moved {
				copy(ga[t*n:(t+1)*n], a.w[l][r*n:(r+1)*n])
				bn, bo, d := b.w[l][next[r]*n:(next[r]+1)*n], b.w[l][cur[r]*n:(cur[r]+1)*n], gb[t*n:(t+1)*n]
				for j := range d {
					d[j] = bn[j] - bo[j]
				}
			}
			m.impl.Sgemm(true, false, n, n, k, 1, ga, n, gb, n, 0, m.delta[:n*n], n)
			m.add(l-1, n)
		}
		if l < len(p.Groups)-1 {
			// Group l+1 sees the columns of layer l+1: column r of b.W_{l+1} is now next[r].
			n, in := w[l+2], w[l+1]
			ga, gb := m.ga[:n*k], m.gb[:n*k]
			for i := range n {
				arow, brow := a.w[l+1][i*in:(i+1)*in], b.w[l+1][i*in:(i+1)*in]
				ra, rb := ga[i*k:(i+1)*k], gb[i*k:(i+1)*k]
				for t, r := range m.moved {
					ra[t] = arow[r]
					rb[t] = brow[next[r]] - brow[cur[r]]
				}
			}
			m.impl.Sgemm(false, true, n, n, k, 1, ga, k, gb, k, 0, m.delta[:n*n], n)
			m.add(l+1, n)
		}
	}
	copy(cur, next)
}

// add adds m.delta (n×n) to the cost of group l, which then needs solving again.
func (m *matcher) add(l, n int) {
	c := m.cost[l]
	for i, v := range m.delta[:n*n] {
		c[i] += float64(v)
	}
	m.dirty[l] = true
}

// addOuter adds the outer product x·yᵀ to the len(x)×len(y) matrix f.
func addOuter(f, x, y []float32) {
	n := len(y)
	for i, xi := range x {
		row := f[i*n : (i+1)*n]
		for j, yj := range y {
			row[j] += xi * yj
		}
	}
}

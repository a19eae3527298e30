package perm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modulo-ml/modulo/nn"
)

// specByName indexes the parameters of a's spec by name.
func specByName(a nn.Arch) map[string]nn.ParamSpec {
	params := specOf(a).Params
	m := make(map[string]nn.ParamSpec, len(params))
	for _, s := range params {
		m[s.Name] = s
	}
	return m
}

// maps returns, for each axis of s, the indices that axis follows under p, or nil for an
// axis that does not move (or, for except, that the caller moves itself).
func (p Permutation) maps(s nn.ParamSpec, except int) [][]int {
	idx := make([][]int, len(s.Axes))
	for ax, g := range s.Axes {
		if g >= 0 && ax != except {
			idx[ax] = p.Groups[g]
		}
	}
	return idx
}

// permuteInto sets dst to src (laid out as s says) with p applied on every axis.
func (p Permutation) permuteInto(dst, src []float32, s nn.ParamSpec) {
	gather(dst, src, s.Shape, p.maps(s, -1), nil)
}

// gather writes into dst the tensor src of the given shape, row-major, with the index map
// idx[ax] applied on each axis (nil: the identity) and its axes in the given order (nil:
// unchanged): with j = (i_order[0], i_order[1], …) the position in dst,
//
//	dst[j] = src[idx_0[i_0], …, idx_k[i_k]].
//
// Trailing axes that neither move nor change place are copied as one contiguous block, so
// the rows of a weight whose columns stay put are copied whole.
func gather(dst, src []float32, shape []int, idx [][]int, order []int) {
	k := len(shape)
	if order == nil {
		order = make([]int, k)
		for i := range order {
			order[i] = i
		}
	}
	stride := make([]int, k)
	s := 1
	for ax := k - 1; ax >= 0; ax-- {
		stride[ax] = s
		s *= shape[ax]
	}
	// t is the first output position from which the axes are in place and unpermuted.
	t, block := k, 1
	for t > 0 && order[t-1] == t-1 && idx[t-1] == nil {
		t--
		block *= shape[t]
	}
	if t == 0 {
		copy(dst[:block], src[:block])
		return
	}
	g := gatherer{dst: dst, src: src, shape: shape, idx: idx, order: order[:t], stride: stride, block: block}
	g.walk(0, 0)
}

// gatherer carries gather's loop over the output axes that move.
type gatherer struct {
	dst, src      []float32
	shape, stride []int
	idx           [][]int
	order         []int
	block, out    int
}

// walk visits output position pos of the moving axes with source offset off, and writes the
// blocks below it in output order.
func (g *gatherer) walk(pos, off int) {
	ax := g.order[pos]
	m, st, n := g.idx[ax], g.stride[ax], g.shape[ax]
	last := pos == len(g.order)-1
	for i := range n {
		si := i
		if m != nil {
			si = m[i]
		}
		o := off + si*st
		if !last {
			g.walk(pos+1, o)
			continue
		}
		if g.block == 1 {
			g.dst[g.out] = g.src[o]
		} else {
			copy(g.dst[g.out:g.out+g.block], g.src[o:o+g.block])
		}
		g.out += g.block
	}
}

// params checks that n has exactly the parameters of arch a's spec, with their shapes, and
// returns their data by name. Networks come from files and other packages, so a mismatch is
// an error naming the parameter, not an index panic.
func params(n *nn.Network, a nn.Arch) (map[string][]float32, error) {
	if n == nil {
		return nil, fmt.Errorf("network is nil")
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if !n.Arch.Equal(a) {
		return nil, fmt.Errorf("network is %s, not %s", n.Arch, a)
	}
	want := specByName(a)
	got := make(map[string][]float32, len(n.Params))
	for i, q := range n.Params {
		if q == nil {
			return nil, fmt.Errorf("network's parameter %d is nil", i)
		}
		s, ok := want[q.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("network has unexpected parameter %q for %s", q.Name, a)
		case got[q.Name] != nil:
			return nil, fmt.Errorf("network has parameter %q twice", q.Name)
		case len(q.Data) != s.Len() || !slices.Equal(q.Shape, s.Shape):
			return nil, fmt.Errorf("parameter %q has shape %v and %d values, want shape %v", q.Name, q.Shape, len(q.Data), s.Shape)
		}
		got[q.Name] = q.Data
	}
	if len(got) != len(want) {
		var missing []string
		for name := range want {
			if got[name] == nil {
				missing = append(missing, name)
			}
		}
		slices.Sort(missing)
		return nil, fmt.Errorf("network lacks parameters %s", strings.Join(missing, ", "))
	}
	return got, nil
}

// Apply returns a new network: n with its units relabelled by p. It computes the same
// function as n (up to float32 rounding in the order of sums). n is not modified; the result
// keeps n's parameter order. It is an error if n's architecture differs from p's, if p is
// invalid, or if n's parameters do not fit its architecture.
func (p Permutation) Apply(n *nn.Network) (*nn.Network, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if _, err := params(n, p.Arch); err != nil {
		return nil, err
	}
	want := specByName(p.Arch)
	out := &nn.Network{Arch: n.Arch.Clone(), Params: make([]*nn.Param, len(n.Params))}
	for i, q := range n.Params {
		d := make([]float32, len(q.Data))
		p.permuteInto(d, q.Data, want[q.Name])
		out.Params[i] = &nn.Param{Name: q.Name, Shape: slices.Clone(q.Shape), Data: d}
	}
	return out, nil
}

// ApplyMasks moves pruning masks (0/1 per weight, keyed by parameter name, the layout of
// nn.TrainConfig.Masks) exactly as Apply moves the weights, so a mask found on one network
// stays attached to the same weights after alignment. Masks may cover any subset of the
// parameters; an unknown name or a wrong length is an error. The input is not modified.
func (p Permutation) ApplyMasks(masks map[string][]float32) (map[string][]float32, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	want := specByName(p.Arch)
	out := make(map[string][]float32, len(masks))
	for name, m := range masks {
		s, ok := want[name]
		if !ok {
			return nil, fmt.Errorf("mask %q names no parameter of %s", name, p.Arch)
		}
		if len(m) != s.Len() {
			return nil, fmt.Errorf("mask of %s has %d values for %d weights", name, len(m), s.Len())
		}
		d := make([]float32, len(m))
		p.permuteInto(d, m, s)
		out[name] = d
	}
	return out, nil
}

// Inner returns ⟨a, p(b)⟩, the Frobenius inner product over all parameters of a and b with
// p applied, accumulated in float64 in the order of a's parameters and entries. It is the
// objective weight matching maximises; since ‖a − p(b)‖² = ‖a‖² + ‖b‖² − 2⟨a, p(b)⟩, a
// larger value means p brings b closer to a.
func Inner(a, b *nn.Network, p Permutation) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if _, err := params(a, p.Arch); err != nil {
		return 0, fmt.Errorf("first network: %v", err)
	}
	bp, err := params(b, p.Arch)
	if err != nil {
		return 0, fmt.Errorf("second network: %v", err)
	}
	want := specByName(p.Arch)
	var buf []float32
	var total float64
	for _, q := range a.Params {
		if cap(buf) < len(q.Data) {
			buf = make([]float32, len(q.Data))
		}
		moved := buf[:len(q.Data)]
		p.permuteInto(moved, bp[q.Name], want[q.Name])
		for k, v := range q.Data {
			total += float64(v) * float64(moved[k])
		}
	}
	return total, nil
}

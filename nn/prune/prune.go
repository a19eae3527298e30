// Package prune finds sparse subnetworks by iterative magnitude pruning with rewinding
// (IMP; Frankle & Carbin 2019, Frankle et al. 2020), following open_lth's conventions:
// train a dense network; prune the smallest-magnitude fraction of the weights that are
// still there; rewind the survivors to their values at an early step of the dense run; train
// again with the pruned weights held at zero; repeat.
//
// Only the weights of linear and convolutional layers (the parameters nn.Arch.Spec gives
// nn.RoleWeight: "layers.i.weight" of an MLP, every "….conv….weight" and "fc.weight" of a
// VGG or ResNet, open_lth's prunable layers) are prunable. Biases and LayerNorm parameters
// are never pruned, and the output layer may be exempted (Options.ExemptOutput). A Mask holds a 0/1 float32 per prunable weight, keyed by
// parameter name, the layout of nn.TrainConfig.Masks and perm.Permutation.ApplyMasks;
// a parameter the map does not name is dense.
//
// Counting rule. At each level, with r weights left, round(Fraction·r) of them are pruned
// (math.Round: halves away from zero): of all prunable weights together with Scope "global"
// (one magnitude threshold for the whole network), or of each layer separately with Scope
// "layer". Exactly that many are pruned: among weights of equal magnitude at the threshold
// the one that comes first (in Prunable order, then row-major index) goes first. After k
// levels about (1−Fraction)^k of the prunable weights are left. (open_lth's code takes
// ceil(Fraction·r) instead, and its global strategy keeps only weights strictly above the
// sorted magnitude at that index, pruning one more; rounding keeps the count nearest
// (1−Fraction)^k and does not jump by one when Fraction·r lands a rounding error above an
// integer.)
//
// As in package nn, misuse by the programmer (a mask that does not fit the network passed
// to Apply or Rewind) panics with nn.ErrShape; data that does not fit (a mask from a file,
// a network from another run) is an error.
package prune

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/perm"
)

// Scope says over which weights one pruning threshold is chosen.
type Scope string

const (
	// Global ranks all prunable weights of the network together (open_lth's sparse_global).
	Global Scope = "global"
	// Layer prunes the same fraction of each prunable layer (open_lth's sparse_layerwise).
	Layer Scope = "layer"
)

// DefaultFraction is open_lth's fraction pruned per level, the prune stage's default.
// Options never fills it in.
const DefaultFraction = 0.2

// Options configures a pruning step. Every field is used as given.
type Options struct {
	// Fraction of the remaining prunable weights pruned at each level, in (0, 1).
	Fraction float64
	// Scope is Global or Layer.
	Scope Scope
	// ExemptOutput leaves the output layer's weights dense: they are not prunable and do not
	// count towards the number pruned.
	ExemptOutput bool
}

// validate reports options that cannot work.
func (o Options) validate() error {
	if !(o.Fraction > 0 && o.Fraction < 1) {
		return fmt.Errorf("pruning fraction %g is outside (0, 1); open_lth prunes %g of the remaining weights per level", o.Fraction, DefaultFraction)
	}
	switch o.Scope {
	case Global, Layer:
	default:
		return fmt.Errorf("unknown pruning scope %q; the scopes are: global, layer", o.Scope)
	}
	return nil
}

// Mask is a 0/1 mask per prunable parameter, keyed by name ("layers.i.weight"), each as
// long as the parameter: 1 keeps a weight, 0 prunes it. Parameters absent from the map are
// dense.
type Mask map[string][]float32

// specOf returns a's spec. Spec needs a valid convolutional architecture (it indexes the
// plan), so an invalid one has an empty spec here, and nothing is prunable.
func specOf(a nn.Arch) nn.Spec {
	if a.Conv() && a.Validate() != nil {
		return nn.Spec{}
	}
	return a.Spec()
}

// Prunable returns the names of the prunable weights of arch a under opt, in the spec's
// order (an MLP's layer order): every linear or convolutional weight, but the output
// layer's when opt.ExemptOutput.
func Prunable(a nn.Arch, opt Options) []string {
	var names []string
	for _, s := range specOf(a).Params {
		if s.Role == nn.RoleWeight && !(opt.ExemptOutput && s.Output) {
			names = append(names, s.Name)
		}
	}
	return names
}

// weightShapes returns the shape of every linear or convolutional weight of a, by name,
// without allocating the network (a forged architecture may be huge).
func weightShapes(a nn.Arch) map[string][]int {
	s := map[string][]int{}
	for _, p := range specOf(a).Params {
		if p.Role == nn.RoleWeight {
			s[p.Name] = p.Shape
		}
	}
	return s
}

// size returns the number of values a tensor of shape holds.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Dense returns the mask of level 0: all ones for every prunable weight of a under opt.
func Dense(a nn.Arch, opt Options) Mask {
	shapes := weightShapes(a)
	m := Mask{}
	for _, name := range Prunable(a, opt) {
		ones := make([]float32, size(shapes[name]))
		for i := range ones {
			ones[i] = 1
		}
		m[name] = ones
	}
	return m
}

// Count returns how many weights the mask keeps and how many it covers.
func (m Mask) Count() (kept, total int) {
	for _, v := range m {
		total += len(v)
		for _, x := range v {
			if x != 0 {
				kept++
			}
		}
	}
	return kept, total
}

// Sparsity returns the fraction of the covered weights that the mask prunes, 1 − kept/total
// (0 for a mask that covers nothing).
func (m Mask) Sparsity() float64 {
	kept, total := m.Count()
	if total == 0 {
		return 0
	}
	return 1 - float64(kept)/float64(total)
}

// Clone returns a deep copy of m.
func (m Mask) Clone() Mask {
	if m == nil {
		return nil
	}
	c := make(Mask, len(m))
	for k, v := range m {
		c[k] = slices.Clone(v)
	}
	return c
}

// Equal reports whether m and o cover the same parameters with the same values.
func (m Mask) Equal(o Mask) bool {
	if len(m) != len(o) {
		return false
	}
	for k, v := range m {
		w, ok := o[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// check reports whether m fits: every name in shapes, every length that of its shape, every
// value 0 or 1.
func (m Mask) check(a nn.Arch, shapes map[string][]int, what string) error {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		s, ok := shapes[name]
		if !ok {
			return fmt.Errorf("mask %q names no %s of %s", name, what, a)
		}
		v := m[name]
		if len(v) != size(s) {
			return fmt.Errorf("mask of %s has %d values for %d weights", name, len(v), size(s))
		}
		for i, x := range v {
			if x != 0 && x != 1 {
				return fmt.Errorf("mask of %s has value %g at %d; masks hold 0 or 1", name, x, i)
			}
		}
	}
	return nil
}

// candidate is a surviving weight: its magnitude and its position (layer in the group, then
// index), which breaks ties.
type candidate struct {
	abs          float32
	layer, index int32
}

// Next returns the mask of the next level: of the weights of n that m keeps, it prunes the
// round(Fraction·r) smallest in magnitude, among all r prunable ones (Global) or among the r
// of each layer (Layer), breaking ties by position. Weights m has pruned stay pruned, so
// masks only ever lose ones. m may be nil or omit a prunable layer, which is then dense; it
// may not name a parameter that is not prunable under opt. The result names every prunable
// weight; m is not modified.
func Next(n *nn.Network, m Mask, opt Options) (Mask, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if n == nil {
		return nil, fmt.Errorf("network is nil")
	}
	if err := n.Arch.Validate(); err != nil {
		return nil, err
	}
	names := Prunable(n.Arch, opt)
	all := weightShapes(n.Arch)
	shapes := make(map[string][]int, len(names))
	for _, name := range names {
		shapes[name] = all[name]
	}
	if err := m.check(n.Arch, shapes, "prunable weight"); err != nil {
		return nil, err
	}
	next := Dense(n.Arch, opt)
	weights := make([][]float32, len(names))
	for l, name := range names {
		p := n.Param(name)
		if p == nil || !slices.Equal(p.Shape, shapes[name]) || len(p.Data) != len(next[name]) {
			return nil, fmt.Errorf("network lacks parameter %s of shape %v", name, shapes[name])
		}
		for i, w := range p.Data {
			if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
				return nil, fmt.Errorf("weight %d of %s is %v; a network must be finite to be pruned", i, name, w)
			}
		}
		weights[l] = p.Data
		if old, ok := m[name]; ok {
			copy(next[name], old)
		}
	}
	masks := make([][]float32, len(names))
	for l, name := range names {
		masks[l] = next[name]
	}
	if opt.Scope == Global {
		pruneSmallest(weights, masks, opt.Fraction)
	} else {
		for l := range names {
			pruneSmallest(weights[l:l+1], masks[l:l+1], opt.Fraction)
		}
	}
	return next, nil
}

// pruneSmallest sets to zero, in masks, the round(fraction·r) weights of smallest magnitude
// among the r that masks keep, taking the earlier position first among equal magnitudes.
func pruneSmallest(weights, masks [][]float32, fraction float64) {
	var c []candidate
	for l, w := range weights {
		for i, x := range w {
			if masks[l][i] != 0 {
				c = append(c, candidate{float32(math.Abs(float64(x))), int32(l), int32(i)})
			}
		}
	}
	k := min(int(math.Round(fraction*float64(len(c)))), len(c))
	if k == 0 {
		return
	}
	slices.SortFunc(c, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.abs, b.abs), cmp.Compare(a.layer, b.layer), cmp.Compare(a.index, b.index))
	})
	for _, x := range c[:k] {
		masks[x.layer][x.index] = 0
	}
}

// Apply returns a copy of n with the weights m prunes set to +0 (whatever their sign), so
// equal sparse networks give equal bytes. n is not modified. It panics with nn.ErrShape if m
// names a parameter n lacks or has the wrong length.
func Apply(n *nn.Network, m Mask) *nn.Network {
	c := n.Clone()
	for name, v := range m {
		p := c.Param(name)
		if p == nil || len(p.Data) != len(v) {
			panic(fmt.Errorf("%w: mask of %s (%d values) does not fit network %s", nn.ErrShape, name, len(v), n.Arch))
		}
		for i, x := range v {
			if x == 0 {
				p.Data[i] = 0
			}
		}
	}
	return c
}

// Rewind returns the network a level of IMP starts from: a copy of rewind (the dense run's
// checkpoint at the rewind step) with the weights m prunes set to zero and every other
// parameter exactly as in rewind. It panics like Apply.
func Rewind(rewind *nn.Network, m Mask) *nn.Network { return Apply(rewind, m) }

// Transport moves m into the coordinates of another network: if p aligns network b to
// network a (p.Apply(b) is close to a), Transport(mask of b, p) is the mask of p.Apply(b),
// attached to the same weights. m is not modified.
func Transport(m Mask, p perm.Permutation) (Mask, error) {
	moved, err := p.ApplyMasks(m)
	if err != nil {
		return nil, err
	}
	return Mask(moved), nil
}

// canonicalZeros replaces −0 by +0 in every parameter of n. nn.Train keeps masked weights
// at zero by multiplying by the mask, which leaves −0 where the weight was negative; the
// sign bit changes nothing the network computes but costs compression.
func canonicalZeros(n *nn.Network) {
	for _, p := range n.Params {
		for i, x := range p.Data {
			if x == 0 {
				p.Data[i] = 0
			}
		}
	}
}

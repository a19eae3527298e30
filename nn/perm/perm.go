// Package perm holds the permutation symmetry of networks: the units of a permutation group
// (the hidden units of an MLP layer, the channels a convolution writes, a ResNet stage's
// residual stream) can be reordered, together with every weight that touches them, without
// changing the function the network computes. Two networks trained from different seeds are
// therefore compared "modulo permutation": first one is aligned to the other (weight or
// activation matching, as in Git Re-Basin, Ainsworth et al. 2023), then they are
// interpolated, merged or pruned together.
//
// Which axes move together is nn.Arch.Spec's to say, and this package reads nothing else: a
// Permutation has one group per group of the spec, in the spec's order (for an MLP, one per
// hidden layer). Groups[g][i] is the index, in the original network, of the unit that lands
// at position i of group g. Applying it moves every parameter axis that follows group g: for
// a parameter of shape [d0, …, dk] whose axes follow groups [g0, …, gk],
//
//	dst[i0, …, ik] = src[P_g0[i0], …, P_gk[ik]]
//
// with the identity on axes that follow no group. For hidden layer l of an MLP that moves the
// rows of layers.l.weight and the entries of layers.l.bias, norms.l.weight and norms.l.bias,
// and the columns of layers.(l+1).weight. Inputs, logits and kernel positions have a meaning
// of their own and are never permuted.
//
// Alignments follow one convention: WeightMatch(a, b, …) and ActivationMatch(a, b, …)
// return the P for which P.Apply(b) is as close to a as the method can make it, so for
// b = q.Apply(a) the answer is q.Inverse(), and P.Apply(b) is a again, bit for bit.
//
// Misuse by the programmer (composing permutations of different architectures) panics with
// nn.ErrShape, as in package nn; data from outside (a network, a mask, a file) that does not
// fit is an error.
package perm

import (
	"fmt"
	"math"
	"slices"

	"github.com/modulo-ml/modulo/nn"
)

// streamRandom separates the draws of Random from every other use of a seed.
const streamRandom = 0x7065726d // "perm"

// Permutation relabels the units of networks of architecture Arch, one group per group of
// Arch.Spec(); see the package comment for the convention.
type Permutation struct {
	Arch   nn.Arch
	Groups [][]int
}

// specOf returns a's spec. Spec needs a valid convolutional architecture (it indexes the
// plan), so an invalid one has an empty spec here; an MLP's spec is defined whatever its
// widths, as Identity always was.
func specOf(a nn.Arch) nn.Spec {
	if a.Conv() && a.Validate() != nil {
		return nn.Spec{}
	}
	return a.Spec()
}

// Identity returns the permutation that leaves every network of arch a unchanged.
func Identity(a nn.Arch) Permutation {
	groups := specOf(a).Groups
	p := Permutation{Arch: a.Clone(), Groups: make([][]int, len(groups))}
	for l, g := range groups {
		p.Groups[l] = make([]int, max(g.Size, 0))
		for i := range p.Groups[l] {
			p.Groups[l][i] = i
		}
	}
	return p
}

// Random returns a uniformly random permutation of arch a, the same for the same seed on
// every machine (nn.NewRand), so experiments that permute a network are reproducible. The
// groups are shuffled in the spec's order, one after the other from one stream.
func Random(a nn.Arch, seed uint64) Permutation {
	p := Identity(a)
	rng := nn.NewRand(seed, streamRandom)
	for _, g := range p.Groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
	}
	return p
}

// Validate reports whether p fits its architecture: a valid one, one group per group of its
// spec, each a permutation of 0..size−1. Every operation that trusts indices checks this
// first, so a forged permutation is an error rather than an index panic.
func (p Permutation) Validate() error {
	if err := p.Arch.Validate(); err != nil {
		return fmt.Errorf("permutation of an invalid architecture: %v", err)
	}
	groups := p.Arch.Spec().Groups
	if len(p.Groups) != len(groups) {
		return fmt.Errorf("permutation has %d groups but architecture %s has %d (%s); build it with Identity or Random of that architecture", len(p.Groups), p.Arch, len(groups), groupsNoun(p.Arch))
	}
	for l, g := range p.Groups {
		if err := checkGroup(g, groups[l].Size); err != nil {
			return fmt.Errorf("group %d (%s): %v", l, groups[l].Name, err)
		}
	}
	return nil
}

// groupsNoun says what the groups of a are, in the words of its kind.
func groupsNoun(a nn.Arch) string {
	if a.Kind == "mlp" {
		return "one per hidden layer"
	}
	return "one per convolution's channels or residual stream"
}

// checkGroup reports whether g is a permutation of 0..w−1.
func checkGroup(g []int, w int) error {
	if len(g) != w {
		return fmt.Errorf("has %d entries for a layer of width %d", len(g), w)
	}
	seen := make([]bool, w)
	for i, v := range g {
		if v < 0 || v >= w {
			return fmt.Errorf("entry %d is %d, outside 0..%d", i, v, w-1)
		}
		if seen[v] {
			return fmt.Errorf("unit %d appears twice", v)
		}
		seen[v] = true
	}
	return nil
}

// Compose returns the permutation that has the effect of applying q first and then p:
//
//	Compose(q).Apply(n) == p.Apply(q.Apply(n))
//
// Applying q puts unit q[i] of n at position i; applying p then puts position p[i] of that
// at i, so the result's group is r[i] = q[p[i]]. It panics with nn.ErrShape if the
// architectures differ or either permutation is invalid, which is a programming error.
func (p Permutation) Compose(q Permutation) Permutation {
	mustMatch(p, q)
	r := Permutation{Arch: p.Arch.Clone(), Groups: make([][]int, len(p.Groups))}
	for l, g := range p.Groups {
		r.Groups[l] = make([]int, len(g))
		for i, v := range g {
			r.Groups[l][i] = q.Groups[l][v]
		}
	}
	return r
}

// Inverse returns the permutation that undoes p: p.Compose(p.Inverse()) and
// p.Inverse().Compose(p) are the identity. It panics with nn.ErrShape if p is invalid.
func (p Permutation) Inverse() Permutation {
	mustMatch(p, p)
	r := Permutation{Arch: p.Arch.Clone(), Groups: make([][]int, len(p.Groups))}
	for l, g := range p.Groups {
		r.Groups[l] = make([]int, len(g))
		for i, v := range g {
			r.Groups[l][v] = i
		}
	}
	return r
}

// Equal reports whether p and q have the same architecture and the same groups.
func (p Permutation) Equal(q Permutation) bool {
	return p.Arch.Equal(q.Arch) && slices.EqualFunc(p.Groups, q.Groups, slices.Equal)
}

// FixedPointFraction returns the fraction of units, over all groups, that p and q
// send to the same place. It measures how much of an alignment two methods (or two seeds)
// agree on: 1 for equal permutations, about 1/width for unrelated random ones. It is NaN
// when the permutations do not fit one architecture, and 1 for a network without groups (an
// MLP without hidden layers), where they agree vacuously.
func FixedPointFraction(p, q Permutation) float64 {
	if !p.Arch.Equal(q.Arch) || p.Validate() != nil || q.Validate() != nil {
		return math.NaN()
	}
	same, total := 0, 0
	for l, g := range p.Groups {
		for i, v := range g {
			if q.Groups[l][i] == v {
				same++
			}
		}
		total += len(g)
	}
	if total == 0 {
		return 1
	}
	return float64(same) / float64(total)
}

// mustMatch panics unless p and q are valid permutations of one architecture.
func mustMatch(p, q Permutation) {
	if !p.Arch.Equal(q.Arch) {
		panic(fmt.Errorf("%w: composing permutations of %s and %s", nn.ErrShape, p.Arch, q.Arch))
	}
	for _, r := range []Permutation{p, q} {
		if err := r.Validate(); err != nil {
			panic(fmt.Errorf("%w: %v", nn.ErrShape, err))
		}
	}
}

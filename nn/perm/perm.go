// Package perm holds the permutation symmetry of MLPs: the hidden units of a layer can be
// reordered, together with the weights that touch them, without changing the function the
// network computes. Two networks trained from different seeds are therefore compared
// "modulo permutation": first one is aligned to the other (weight or activation matching,
// as in Git Re-Basin, Ainsworth et al. 2023), then they are interpolated, merged or pruned
// together.
//
// A Permutation has one group per hidden layer. Groups[l][i] is the index, in the original
// network, of the unit that lands at position i of hidden layer l. Applying it moves, for
// hidden layer l, the rows of layers.l.weight and the entries of layers.l.bias,
// norms.l.weight and norms.l.bias, and the columns of layers.(l+1).weight. Inputs and
// logits have a meaning of their own and are never permuted.
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

// Permutation relabels the hidden units of networks of architecture Arch; see the package
// comment for the convention.
type Permutation struct {
	Arch   nn.Arch
	Groups [][]int
}

// Identity returns the permutation that leaves every network of arch a unchanged.
func Identity(a nn.Arch) Permutation {
	p := Permutation{Arch: cloneArch(a), Groups: make([][]int, len(a.Hidden))}
	for l, w := range a.Hidden {
		p.Groups[l] = make([]int, max(w, 0))
		for i := range p.Groups[l] {
			p.Groups[l][i] = i
		}
	}
	return p
}

// Random returns a uniformly random permutation of arch a, the same for the same seed on
// every machine (nn.NewRand), so experiments that permute a network are reproducible.
func Random(a nn.Arch, seed uint64) Permutation {
	p := Identity(a)
	rng := nn.NewRand(seed, streamRandom)
	for _, g := range p.Groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
	}
	return p
}

// Validate reports whether p fits its architecture: a valid one, one group per hidden layer, each a
// permutation of 0..width−1. Every operation that trusts indices checks this first, so a
// forged permutation is an error rather than an index panic.
func (p Permutation) Validate() error {
	if err := p.Arch.Validate(); err != nil {
		return fmt.Errorf("permutation of an invalid architecture: %v", err)
	}
	if len(p.Groups) != len(p.Arch.Hidden) {
		return fmt.Errorf("permutation has %d groups but architecture %s has %d hidden layers", len(p.Groups), p.Arch, len(p.Arch.Hidden))
	}
	for l, g := range p.Groups {
		if err := checkGroup(g, p.Arch.Hidden[l]); err != nil {
			return fmt.Errorf("group %d: %v", l, err)
		}
	}
	return nil
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
	r := Permutation{Arch: cloneArch(p.Arch), Groups: make([][]int, len(p.Groups))}
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
	r := Permutation{Arch: cloneArch(p.Arch), Groups: make([][]int, len(p.Groups))}
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

// FixedPointFraction returns the fraction of hidden units, over all groups, that p and q
// send to the same place. It measures how much of an alignment two methods (or two seeds)
// agree on: 1 for equal permutations, about 1/width for unrelated random ones. It is NaN
// when the permutations do not fit one architecture, and 1 for a network without hidden
// units, where they agree vacuously.
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

// cloneArch copies a so that a permutation never shares the Hidden slice of the network or
// permutation it was built from.
func cloneArch(a nn.Arch) nn.Arch {
	a.Hidden = slices.Clone(a.Hidden)
	return a
}

package perm

import (
	"context"
	"fmt"
	"slices"

	"github.com/modulo-ml/modulo/nn"
)

// MergeMany aligns N networks to a common frame (Git Re-Basin's MergeMany, Ainsworth et
// al. 2023): network 0 stays as it is and fixes the frame, and every other network is first
// weight-matched to it (the frame of merge_three's via-reference comparison); then each
// round visits networks 1 … N−1 in a seeded order and re-aligns each by weight matching to
// the mean of all the others as currently aligned; rounds stop when one changes no
// permutation, or after maxRounds.
// Keeping network 0 fixed removes the freedom of permuting all of them at once, so for two
// networks the result is weight matching of the second to the first. It returns each
// network's permutation (the identity for network 0) and the rounds run after the first
// alignment.
func MergeMany(ctx context.Context, nets []*nn.Network, maxRounds int, opt WMOptions) ([]Permutation, int, error) {
	if len(nets) < 2 {
		return nil, 0, fmt.Errorf("merging needs at least two networks, got %d", len(nets))
	}
	if maxRounds < 1 {
		return nil, 0, fmt.Errorf("merging: rounds must be at least 1, got %d", maxRounds)
	}
	arch := nets[0].Arch
	for i, n := range nets[1:] {
		if !n.Arch.Equal(arch) {
			return nil, 0, fmt.Errorf("merging: network %d is %s, network 0 is %s", i+1, n.Arch, arch)
		}
	}
	perms := make([]Permutation, len(nets))
	aligned := make([]*nn.Network, len(nets))
	perms[0], aligned[0] = Identity(arch), nets[0]
	for i := 1; i < len(nets); i++ {
		r, err := WeightMatch(ctx, nets[0], nets[i], opt)
		if err != nil {
			return nil, 0, fmt.Errorf("merging: network %d: %w", i, err)
		}
		perms[i] = r.Perm
		if aligned[i], err = r.Perm.Apply(nets[i]); err != nil {
			return nil, 0, err
		}
	}
	rng := nn.NewRand(opt.Seed, streamMerge)
	order := make([]int, len(nets)-1)
	for i := range order {
		order[i] = i + 1
	}
	rounds := 0
	for rounds < maxRounds {
		rounds++
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		changed := false
		for _, i := range order {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
			others := make([]*nn.Network, 0, len(nets)-1)
			for j, a := range aligned {
				if j != i {
					others = append(others, a)
				}
			}
			w := make([]float64, len(others))
			for k := range w {
				w[k] = 1 / float64(len(others))
			}
			mean := nn.Combine(nil, w, others...)
			r, err := WeightMatch(ctx, mean, nets[i], opt)
			if err != nil {
				return nil, 0, fmt.Errorf("merging: network %d: %w", i, err)
			}
			if !samePerm(r.Perm, perms[i]) {
				changed = true
				perms[i] = r.Perm
				if aligned[i], err = r.Perm.Apply(nets[i]); err != nil {
					return nil, 0, err
				}
			}
		}
		if !changed {
			break
		}
	}
	return perms, rounds, nil
}

func samePerm(p, q Permutation) bool {
	for g := range p.Groups {
		if !slices.Equal(p.Groups[g], q.Groups[g]) {
			return false
		}
	}
	return true
}

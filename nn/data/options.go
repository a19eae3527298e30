package data

import (
	"fmt"
	"math"
	"sync"

	"github.com/modulo-ml/modulo/internal/hugeheap"
)

// Options are applied to a dataset after loading. Subsets come first, so standardisation
// uses the statistics of the training examples actually trained on.
type Options struct {
	// TrainSubset and TestSubset keep only the first k examples of a split (0: all).
	// "First" rather than random keeps a subset deterministic without a seed, and MNIST's
	// order is already mixed.
	TrainSubset int `json:"train_subset"`
	TestSubset  int `json:"test_subset"`
	// Standardize subtracts each pixel's mean over the training split and divides by its
	// standard deviation, for both splits: the test split must be transformed as the model
	// saw its training data. A pixel whose training std is below StdFloor (MNIST's corners
	// are always 0) is only centred, as scikit-learn does: dividing by a tiny std would turn
	// a faint test pixel there into a value near a million.
	Standardize bool `json:"standardize"`
	// Pad adds Pad rows and columns of zeros on every side of each image (MNIST's 28×28 to
	// VGG's 32×32 with 2), before standardisation, as Git Re-Basin does for MNIST. It is an
	// error on a set that holds no images. Left out of JSON when zero, so the descriptions
	// of datasets without it are what they were before it existed.
	Pad int `json:"pad,omitempty"`
}

// StdFloor is the smallest standard deviation Standardize divides by; below it, by 1.
const StdFloor = 1e-6

// WithOptions returns d with o applied, leaving d untouched: subsets share d's slices
// (capped, so appending cannot write into them) and standardisation makes new ones. It is
// the way to derive a variant of a memoised, shared dataset; for a memoised d the result
// is memoised too. Zero options return d itself.
func (d *Dataset) WithOptions(o Options) (*Dataset, error) {
	if o == (Options{}) {
		return d, nil
	}
	return derivedFor(d, o, func() (*Dataset, error) {
		train, err := subset(d.Train, o.TrainSubset, "train_subset", "training")
		if err != nil {
			return nil, err
		}
		test, err := subset(d.Test, o.TestSubset, "test_subset", "test")
		if err != nil {
			return nil, err
		}
		if o.Pad != 0 {
			if train, err = pad(train, o.Pad); err != nil {
				return nil, err
			}
			if test, err = pad(test, o.Pad); err != nil {
				return nil, err
			}
		}
		if o.Standardize {
			mean, std := Moments(train)
			var wg sync.WaitGroup
			wg.Go(func() { train = standardize(train, mean, std) })
			test = standardize(test, mean, std)
			wg.Wait()
		}
		return &Dataset{Name: d.Name, Train: train, Test: test, Files: d.Files}, nil
	})
}

// Apply applies o to d in place. It replaces d.Train and d.Test with new sets and never
// writes into the old ones, so it is safe on a copy of a shared dataset:
//
//	c := *shared
//	err := c.Apply(o)
//
// but calling it on a memoised *Dataset itself would change what every other holder sees;
// use WithOptions for that.
func (d *Dataset) Apply(o Options) error {
	r, err := d.WithOptions(o)
	if err != nil {
		return err
	}
	d.Train, d.Test, d.memo = r.Train, r.Test, nil
	return nil
}

// subset returns the first k examples of s (all of them for k = 0) as a view.
func subset(s *Set, k int, option, split string) (*Set, error) {
	switch {
	case k < 0:
		return nil, fmt.Errorf("%s must be ≥ 0, got %d", option, k)
	case k > s.N:
		return nil, fmt.Errorf("%s is %d but the %s split has only %d examples", option, k, split, s.N)
	case k == 0 || k == s.N:
		return s, nil
	}
	return &Set{X: s.X[: k*s.D : k*s.D], Y: s.Y[:k:k], N: k, D: s.D, Classes: s.Classes, C: s.C, H: s.H, W: s.W}, nil
}

// Moments returns the per-feature mean and standard deviation (population, i.e. divided
// by N) of s, accumulated in float64 in two passes: one pass of sums of squares loses
// digits when the mean is large relative to the spread.
func Moments(s *Set) (mean, std []float64) {
	mean = make([]float64, s.D)
	std = make([]float64, s.D)
	if s.N == 0 {
		return mean, std
	}
	for i := range s.N {
		for j, x := range s.X[i*s.D : (i+1)*s.D] {
			mean[j] += float64(x)
		}
	}
	for j := range mean {
		mean[j] /= float64(s.N)
	}
	for i := range s.N {
		for j, x := range s.X[i*s.D : (i+1)*s.D] {
			d := float64(x) - mean[j]
			std[j] += d * d
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(s.N))
	}
	return mean, std
}

// standardize returns a copy of s with (x-mean)/std per feature, or x-mean where the std
// is below StdFloor.
func standardize(s *Set, mean, std []float64) *Set {
	inv := make([]float64, len(std))
	for j, v := range std {
		inv[j] = 1
		if v >= StdFloor {
			inv[j] = 1 / v
		}
	}
	x := hugeheap.Slice[float32](len(s.X))
	for i := range s.N {
		row := s.X[i*s.D : (i+1)*s.D]
		out := x[i*s.D : (i+1)*s.D]
		for j, v := range row {
			out[j] = float32((float64(v) - mean[j]) * inv[j])
		}
	}
	return &Set{X: x, Y: s.Y, N: s.N, D: s.D, Classes: s.Classes, C: s.C, H: s.H, W: s.W}
}

// MaxPad bounds Options.Pad: more than enough to bring 28×28 to any size a network needs.
const MaxPad = 64

// pad returns s with p zero pixels added on every side of each image channel.
func pad(s *Set, p int) (*Set, error) {
	switch {
	case p < 0 || p > MaxPad:
		return nil, fmt.Errorf("pad must be from 0 to %d, got %d", MaxPad, p)
	case !s.IsImage():
		return nil, fmt.Errorf("pad applies to images, but this set holds vectors of %d features", s.D)
	}
	h, w := s.H+2*p, s.W+2*p
	d := s.C * h * w
	x := hugeheap.Slice[float32](s.N * d)
	for i := range s.N {
		src := s.X[i*s.D : (i+1)*s.D]
		dst := x[i*d : (i+1)*d]
		for c := range s.C {
			for r := range s.H {
				copy(dst[c*h*w+(r+p)*w+p:], src[c*s.H*s.W+r*s.W:c*s.H*s.W+(r+1)*s.W])
			}
		}
	}
	return &Set{X: x, Y: s.Y, N: s.N, D: d, Classes: s.Classes, C: s.C, H: h, W: w}, nil
}

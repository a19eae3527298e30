package data

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// SyntheticConfig describes a Gaussian-mixture classification problem: one isotropic
// Gaussian cluster per class, squashed into [0,1] so that it looks like pixels to a model
// built for MNIST.
type SyntheticConfig struct {
	Examples     int    `json:"examples"`      // training examples, ≥ 1
	TestExamples int    `json:"test_examples"` // test examples, ≥ 1
	Dims         int    `json:"dims"`          // features, ≥ 1
	Classes      int    `json:"classes"`       // 1 to 256 (1 is degenerate, but valid)
	Seed         uint64 `json:"seed"`
	// Spread is each cluster's standard deviation relative to the distance between
	// centres (the root-mean-square distance over pairs of classes), > 0. It sets the
	// difficulty independently of Dims: two clusters at that distance overlap with a Bayes
	// error of Φ(−1/(2·Spread)): 16% at 0.5, 2.3% at 0.25, 0.6% at 0.2. It used to be 0.5
	// when 0, so a recorded 0 is refused rather than read differently.
	Spread float64 `json:"spread"`
}

// maxSyntheticFloats bounds a synthetic dataset (4 GiB of float32), so that a typo in a
// size is an error, not an out-of-memory kill.
const maxSyntheticFloats = 1 << 30

// synthBlock is how many examples share one random stream. Fixed blocks let generation
// run in parallel while the result stays independent of the number of cores.
const synthBlock = 1024

// squashGain scales features to a standard deviation of 1.5 before the logistic
// function, which then spreads them over most of (0,1) without saturating at 0 or 1.
const squashGain = 1.5

// Random streams: centres, then each split's label order, then each split's blocks.
const (
	streamCentres = 0x63656e7472657300 // "centres\0"
	streamLabels  = 0x6c6162656c730000 // "labels\0\0"
	streamBlocks  = 0x626c6f636b000000 // "block\0\0\0"; + split<<32 + block
)

// validate reports a configuration that cannot be generated.
func (cfg SyntheticConfig) validate() error {
	switch {
	case cfg.Examples < 1:
		return fmt.Errorf("synthetic data needs at least 1 training example, got %d", cfg.Examples)
	case cfg.TestExamples < 1:
		return fmt.Errorf("synthetic data needs at least 1 test example, got %d", cfg.TestExamples)
	case cfg.Dims < 1:
		return fmt.Errorf("synthetic data needs at least 1 dimension, got %d", cfg.Dims)
	case cfg.Classes < 1 || cfg.Classes > 256:
		return fmt.Errorf("synthetic data needs between 1 and 256 classes (labels are bytes), got %d", cfg.Classes)
	case !(cfg.Spread > 0) || math.IsInf(cfg.Spread, 0):
		return fmt.Errorf("synthetic spread must be a finite number > 0, got %g; it is each cluster's spread relative to the distance between centres (0.5: a Bayes error of 16%%)", cfg.Spread)
	}
	if n := cfg.Examples + cfg.TestExamples; n > maxSyntheticFloats/cfg.Dims {
		return fmt.Errorf("synthetic data of %d examples × %d dims is too large (at most %d floats)", n, cfg.Dims, maxSyntheticFloats)
	}
	return nil
}

// Synthetic generates the dataset cfg describes. The same configuration gives the same
// float32 bytes on a given platform (math/rand/v2's PCG; math.Exp may differ in the last
// bit between architectures). The centres are drawn once and shared by both splits; the
// test split depends only on the seed and its own size, not on Examples. Results are
// memoised per configuration and must be treated as read-only.
func Synthetic(cfg SyntheticConfig) (*Dataset, error) {
	return SyntheticContext(context.Background(), cfg)
}

// SyntheticContext is Synthetic that stops, with ctx's error, when ctx is done: a large
// dataset takes seconds to draw. A stopped generation is not remembered.
func SyntheticContext(ctx context.Context, cfg SyntheticConfig) (*Dataset, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return memoised(fmt.Sprintf("synthetic\x00%+v", cfg), "", func() (*Dataset, error) { return synthetic(ctx, cfg) })
}

// synthetic generates a valid configuration, without the memo.
func synthetic(ctx context.Context, cfg SyntheticConfig) (*Dataset, error) {
	K, D := cfg.Classes, cfg.Dims
	rng := rand.New(rand.NewPCG(cfg.Seed, streamCentres))
	centres := make([]float64, K*D)
	for i := range centres {
		centres[i] = rng.NormFloat64()
	}
	// Centre the cloud of centres on the origin, so features average about 0.5.
	for j := range D {
		var m float64
		for k := range K {
			m += centres[k*D+j]
		}
		m /= float64(K)
		for k := range K {
			centres[k*D+j] -= m
		}
	}
	// Scale to an RMS distance of 1 between centres. For centred points the mean squared
	// distance over pairs is 2K/(K-1) times the mean squared norm: O(KD), not O(K²D).
	// A single class has no distance to scale by: its centre is the origin, and Spread is
	// the noise's standard deviation itself.
	var sq float64
	for _, c := range centres {
		sq += c * c
	}
	if K > 1 {
		scale := 1 / math.Sqrt(2*sq/float64(K-1))
		for i := range centres {
			centres[i] *= scale
		}
		sq *= scale * scale
	}
	// Each feature then has variance (spread of the centres) + (noise); normalise it.
	featVar := sq/float64(K*D) + cfg.Spread*cfg.Spread
	gain := squashGain / math.Sqrt(featVar)

	train := sample(ctx, cfg, centres, gain, 0, cfg.Examples)
	test := sample(ctx, cfg, centres, gain, 1, cfg.TestExamples)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Dataset{Name: "synthetic", Train: train, Test: test}, nil
}

// sample draws n examples of one split: exactly balanced labels (n/K each, give or take
// one) in a seeded random order, so any prefix subset is balanced too, then features.
//
// It stops drawing, leaving the rest of the set zero, when ctx is done; the caller checks.
func sample(ctx context.Context, cfg SyntheticConfig, centres []float64, gain float64, split uint64, n int) *Set {
	K, D := cfg.Classes, cfg.Dims
	s := &Set{X: make([]float32, n*D), Y: make([]uint8, n), N: n, D: D, Classes: K}
	for i := range s.Y {
		s.Y[i] = uint8(i % K)
	}
	rand.New(rand.NewPCG(cfg.Seed, streamLabels+split)).Shuffle(n, func(i, j int) { s.Y[i], s.Y[j] = s.Y[j], s.Y[i] })

	blocks := (n + synthBlock - 1) / synthBlock
	next := make(chan int, blocks)
	for b := range blocks {
		next <- b
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), blocks) {
		wg.Go(func() {
			for b := range next {
				if ctx.Err() != nil {
					continue
				}
				rng := rand.New(rand.NewPCG(cfg.Seed, streamBlocks+split<<32+uint64(b)))
				for i := b * synthBlock; i < min(n, (b+1)*synthBlock); i++ {
					c := centres[int(s.Y[i])*D : (int(s.Y[i])+1)*D]
					row := s.X[i*D : (i+1)*D]
					for j := range row {
						z := gain * (c[j] + cfg.Spread*rng.NormFloat64())
						row[j] = float32(1 / (1 + math.Exp(-z)))
					}
				}
			}
		})
	}
	wg.Wait()
	return s
}

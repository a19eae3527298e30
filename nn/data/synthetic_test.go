package data

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

func TestSyntheticDeterminism(t *testing.T) {
	cfg := SyntheticConfig{Examples: 3000, TestExamples: 500, Dims: 16, Classes: 5, Seed: 7, Spread: 0.5}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	norm := cfg
	// Generate without the memo, so the comparison is of two real generations.
	a, b := mustSynthetic(t, norm), mustSynthetic(t, norm)
	if a.Digest() != b.Digest() {
		t.Error("the same seed gave different data")
	}
	// Parallel generation does not make the data depend on the number of cores.
	procs := runtime.GOMAXPROCS(1)
	serial := mustSynthetic(t, norm)
	runtime.GOMAXPROCS(procs)
	if serial.Digest() != a.Digest() {
		t.Error("GOMAXPROCS=1 gave different data")
	}
	other := norm
	other.Seed = 8
	if mustSynthetic(t, other).Digest() == a.Digest() {
		t.Error("different seeds gave the same data")
	}
	// The test split does not depend on the size of the training split.
	bigger := norm
	bigger.Examples = 4000
	if mustSynthetic(t, bigger).Test.Digest() != a.Test.Digest() {
		t.Error("changing Examples changed the test split")
	}
	// The memoised entry point returns one dataset, equal to a fresh generation.
	m1, err := Synthetic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m2, _ := Synthetic(cfg); m2 != m1 {
		t.Error("Synthetic is not memoised")
	}
	if m1.Digest() != a.Digest() {
		t.Error("Synthetic differs from a fresh generation")
	}
}

func TestSyntheticShapes(t *testing.T) {
	tests := []SyntheticConfig{
		{Examples: 2000, TestExamples: 1000, Dims: 20, Classes: 4, Spread: 0.5},
		{Examples: 5000, TestExamples: 100, Dims: 784, Classes: 10, Seed: 1, Spread: 0.2},
		{Examples: 700, TestExamples: 300, Dims: 1, Classes: 2, Seed: 3, Spread: 0.5},
		{Examples: 2560, TestExamples: 256, Dims: 2, Classes: 256, Seed: 4, Spread: 0.5},
		{Examples: 10, TestExamples: 3, Dims: 5, Classes: 1, Seed: 5, Spread: 0.5},
	}
	for _, cfg := range tests {
		ds, err := Synthetic(cfg)
		if err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		for _, s := range []*Set{ds.Train, ds.Test} {
			if err := s.Check(); err != nil {
				t.Errorf("%+v: %v", cfg, err)
			}
			if s.D != cfg.Dims || s.Classes != cfg.Classes {
				t.Errorf("%+v: got D=%d classes=%d", cfg, s.D, s.Classes)
			}
			for _, x := range s.X {
				if !(x >= 0 && x <= 1) {
					t.Fatalf("%+v: feature %v outside [0,1]", cfg, x)
				}
			}
			// Labels are balanced to within one example per class.
			counts := make([]int, s.Classes)
			for _, y := range s.Y {
				counts[y]++
			}
			for c, n := range counts {
				if n < s.N/s.Classes || n > s.N/s.Classes+1 {
					t.Errorf("%+v: class %d has %d of %d examples", cfg, c, n, s.N)
				}
			}
		}
		if ds.Train.N != cfg.Examples || ds.Test.N != cfg.TestExamples {
			t.Errorf("%+v: got %d and %d examples", cfg, ds.Train.N, ds.Test.N)
		}
	}
}

// TestSyntheticDifficulty checks that Spread means what it says: a nearest-centroid
// classifier (the class means of the training split) does well on tight clusters, worse
// on spread ones, and better than chance on both.
func TestSyntheticDifficulty(t *testing.T) {
	acc := func(spread float64) float64 {
		ds, err := Synthetic(SyntheticConfig{Examples: 4000, TestExamples: 2000, Dims: 50, Classes: 4, Seed: 11, Spread: spread})
		if err != nil {
			t.Fatal(err)
		}
		tr, te := ds.Train, ds.Test
		means := make([]float64, tr.Classes*tr.D)
		counts := make([]float64, tr.Classes)
		for i := range tr.N {
			counts[tr.Y[i]]++
			for j, x := range tr.Row(i) {
				means[int(tr.Y[i])*tr.D+j] += float64(x)
			}
		}
		for c := range tr.Classes {
			for j := range tr.D {
				means[c*tr.D+j] /= counts[c]
			}
		}
		right := 0
		for i := range te.N {
			best, bestD := 0, math.Inf(1)
			for c := range te.Classes {
				var d float64
				for j, x := range te.Row(i) {
					d += (float64(x) - means[c*tr.D+j]) * (float64(x) - means[c*tr.D+j])
				}
				if d < bestD {
					best, bestD = c, d
				}
			}
			if best == int(te.Y[i]) {
				right++
			}
		}
		return float64(right) / float64(te.N)
	}
	tight, dflt := acc(0.1), acc(0.5)
	t.Logf("nearest-centroid test accuracy, 4 classes: spread 0.1 → %.3f, spread 0.5 (default) → %.3f", tight, dflt)
	if tight < 0.98 || dflt < 0.5 || dflt > tight {
		t.Errorf("accuracies %.3f (spread 0.1) and %.3f (spread 0.5) do not fit the spreads", tight, dflt)
	}
}

func TestSyntheticErrors(t *testing.T) {
	ok := SyntheticConfig{Examples: 10, TestExamples: 10, Dims: 2, Classes: 2, Spread: 0.5}
	tests := []struct {
		name string
		edit func(*SyntheticConfig)
		want string
	}{
		{"no examples", func(c *SyntheticConfig) { c.Examples = 0 }, "at least 1 training example"},
		{"negative test examples", func(c *SyntheticConfig) { c.TestExamples = -1 }, "at least 1 test example"},
		{"no dims", func(c *SyntheticConfig) { c.Dims = 0 }, "at least 1 dimension"},
		{"no classes", func(c *SyntheticConfig) { c.Classes = 0 }, "between 1 and 256 classes"},
		{"too many classes", func(c *SyntheticConfig) { c.Classes = 257 }, "between 1 and 256 classes"},
		{"negative spread", func(c *SyntheticConfig) { c.Spread = -1 }, "spread must be a finite number > 0, got -1"},
		{"zero spread", func(c *SyntheticConfig) { c.Spread = 0 }, "spread must be a finite number > 0, got 0"},
		{"infinite spread", func(c *SyntheticConfig) { c.Spread = math.Inf(1) }, "spread must be a finite number > 0, got +Inf"},
		{"NaN spread", func(c *SyntheticConfig) { c.Spread = math.NaN() }, "spread must be a finite number"},
		{"too large", func(c *SyntheticConfig) { c.Examples, c.Dims = 1<<20, 1<<12 }, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			_, err := Synthetic(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func mustSynthetic(t *testing.T, cfg SyntheticConfig) *Dataset {
	t.Helper()
	d, err := synthetic(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A cancelled generation returns the context's error and is not remembered: the next call
// draws the dataset whole.
func TestSyntheticCancelled(t *testing.T) {
	cfg := SyntheticConfig{Examples: 50000, TestExamples: 100, Dims: 20, Classes: 3, Seed: 7, Spread: 0.5}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := SyntheticContext(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled SyntheticContext = %v, want context.Canceled", err)
	}
	d, err := Synthetic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d.Digest() != mustSynthetic(t, cfg).Digest() {
		t.Error("the dataset drawn after a cancelled generation differs from a fresh one")
	}
}

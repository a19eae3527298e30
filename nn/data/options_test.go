package data

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// smallDataset has 5 train and 3 test examples of 3 features; feature 2 is constant.
func smallDataset() *Dataset {
	return &Dataset{
		Name: "small",
		Train: &Set{N: 5, D: 3, Classes: 2, Y: []uint8{0, 1, 0, 1, 0}, X: []float32{
			0.0, 0.1, 0.5,
			0.2, 0.3, 0.5,
			0.4, 0.2, 0.5,
			0.6, 0.9, 0.5,
			0.8, 0.5, 0.5,
		}},
		Test: &Set{N: 3, D: 3, Classes: 2, Y: []uint8{1, 0, 1}, X: []float32{
			0.4, 0.4, 0.5,
			0.0, 0.0, 0.5,
			1.0, 1.0, 0.6,
		}},
	}
}

func TestOptionsSubsets(t *testing.T) {
	tests := []struct {
		name             string
		o                Options
		wantTrain, wantT int
		wantErr          string
	}{
		{"all", Options{}, 5, 3, ""},
		{"train subset", Options{TrainSubset: 2}, 2, 3, ""},
		{"both subsets", Options{TrainSubset: 5, TestSubset: 1}, 5, 1, ""},
		{"train too large", Options{TrainSubset: 6}, 0, 0, "train_subset is 6 but the training split has only 5 examples"},
		{"test too large", Options{TestSubset: 4}, 0, 0, "test_subset is 4 but the test split has only 3 examples"},
		{"negative", Options{TestSubset: -1}, 0, 0, "test_subset must be ≥ 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := smallDataset()
			before := d.Digest()
			got, err := d.WithOptions(tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Train.N != tt.wantTrain || got.Test.N != tt.wantT {
				t.Errorf("got %d/%d examples, want %d/%d", got.Train.N, got.Test.N, tt.wantTrain, tt.wantT)
			}
			for _, s := range []*Set{got.Train, got.Test} {
				if err := s.Check(); err != nil {
					t.Error(err)
				}
			}
			// The first k examples, and the original is untouched.
			if !slices.Equal(got.Train.X, d.Train.X[:got.Train.N*3]) || !slices.Equal(got.Test.Y, d.Test.Y[:got.Test.N]) {
				t.Error("subset is not the first examples")
			}
			if d.Digest() != before {
				t.Error("WithOptions changed its receiver")
			}
		})
	}
}

func TestOptionsStandardize(t *testing.T) {
	d := smallDataset()
	before := d.Digest()
	c := *d
	if err := c.Apply(Options{TrainSubset: 4, Standardize: true}); err != nil {
		t.Fatal(err)
	}
	if d.Digest() != before {
		t.Fatal("Apply on a copy changed the original's data")
	}
	mean, std := Moments(c.Train)
	for j := range mean {
		if math.Abs(mean[j]) > 1e-6 {
			t.Errorf("feature %d: standardised train mean %g, want 0", j, mean[j])
		}
		if want := 1.0; j == 2 {
			// Constant in the training split: divided by the floor, it stays 0.
			if std[j] != 0 {
				t.Errorf("constant feature: std %g, want 0", std[j])
			}
		} else if math.Abs(std[j]-want) > 1e-5 {
			t.Errorf("feature %d: standardised train std %g, want 1", j, std[j])
		}
	}
	// The test split uses the training statistics: feature 0 has train mean 0.3 and std
	// sqrt(0.05) over the first 4 examples.
	want := (0.4 - 0.3) / math.Sqrt(0.05)
	if got := float64(c.Test.X[0]); math.Abs(got-want) > 1e-5 {
		t.Errorf("test feature 0 standardised to %g, want %g", got, want)
	}
	// Where the training split was constant, a test value is only centred, not magnified.
	if got, want := float64(c.Test.X[8]), 0.1; math.Abs(got-want)/want > 1e-3 {
		t.Errorf("test feature 2 standardised to %g, want %g", got, want)
	}
	if c.Train.N != 4 || c.Test.N != 3 {
		t.Errorf("got %d/%d examples, want 4/3", c.Train.N, c.Test.N)
	}
}

// TestWithOptionsMemo checks that variants of a memoised dataset are shared.
func TestWithOptionsMemo(t *testing.T) {
	ds, err := Synthetic(SyntheticConfig{Examples: 100, TestExamples: 50, Dims: 4, Classes: 3, Seed: 99, Spread: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{TrainSubset: 10, Standardize: true}
	a, err := ds.WithOptions(o)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := ds.WithOptions(o); b != a {
		t.Error("WithOptions on a memoised dataset is not memoised")
	}
	if same, _ := ds.WithOptions(Options{}); same != ds {
		t.Error("zero options did not return the dataset itself")
	}
	if c, _ := a.WithOptions(Options{TestSubset: 5}); c.Train.N != 10 || c.Test.N != 5 {
		t.Errorf("options on a derived dataset applied to the wrong base: %d/%d examples", c.Train.N, c.Test.N)
	}
}

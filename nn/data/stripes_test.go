package data

import (
	"slices"
	"strings"
	"testing"
)

func TestStripes(t *testing.T) {
	cfg := StripesConfig{Examples: 40, TestExamples: 12, Channels: 2, Size: 8, Classes: 4, Seed: 3, Noise: 0.2}
	a, err := Stripes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Stripes(cfg)
	if !slices.Equal(a.Train.X, b.Train.X) || !slices.Equal(a.Train.Y, b.Train.Y) {
		t.Error("two draws of one configuration differ")
	}
	if tr := a.Train; tr.N != 40 || tr.D != 128 || tr.C != 2 || tr.H != 8 || tr.W != 8 || !tr.IsImage() {
		t.Errorf("train set %d×%d, %d×%d×%d", tr.N, tr.D, tr.C, tr.H, tr.W)
	}
	counts := make([]int, 4)
	for _, y := range a.Train.Y {
		counts[y]++
	}
	if !slices.Equal(counts, []int{10, 10, 10, 10}) {
		t.Errorf("labels per class %v, want 10 each", counts)
	}
	cfg.Examples = 80
	c, _ := Stripes(cfg)
	if !slices.Equal(a.Test.X, c.Test.X) {
		t.Error("the test split changed with the number of training images")
	}
	for _, bad := range []StripesConfig{{Examples: 1, TestExamples: 1, Channels: 1, Size: 2, Classes: 2}, {Examples: 1, TestExamples: 1, Channels: 1, Size: 8, Classes: 300}, {Examples: 1, TestExamples: 1, Channels: 1, Size: 8, Classes: 2, Noise: -1}} {
		if _, err := Stripes(bad); err == nil || !strings.Contains(err.Error(), "stripes") {
			t.Errorf("%+v: err = %v", bad, err)
		}
	}
}

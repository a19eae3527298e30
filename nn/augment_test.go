package nn

import (
	"context"
	"slices"
	"testing"
)

func TestAugmentApply(t *testing.T) {
	// One 1×3×4 image, pixels numbered from 1.
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	g := &augmenter{a: Augment{Crop: 1, Flip: true}, c: 1, h: 3, w: 4}
	for _, c := range []struct {
		d    augDraw
		want []float32
	}{
		{augDraw{}, src},
		{augDraw{flip: true}, []float32{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9}},
		{augDraw{dy: 1, dx: -1}, []float32{0, 5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0}},
		{augDraw{dy: -1, dx: 1, flip: true}, []float32{0, 0, 0, 0, 0, 4, 3, 2, 0, 8, 7, 6}},
	} {
		g.draws = []augDraw{c.d}
		got := make([]float32, len(src))
		g.apply(0, got, src)
		if !slices.Equal(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.d, got, c.want)
		}
	}
}

// TestTrainAugmented: augmentation changes the run, deterministically, and is refused for
// feature vectors.
func TestTrainAugmented(t *testing.T) {
	d := syntheticImages(t)
	cfg := convTrainConfig(Arch{Kind: "vgg", Input: 64, Output: 4, Activation: "relu", Bias: true, LayerNorm: true, Channels: 1, Height: 8, Width: 8, Plan: []int{6, PlanPool, 8}})
	cfg.Epochs = 1
	plain, err := Train(context.Background(), cfg, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Augment = Augment{Crop: 2, Flip: true}
	a1, err := Train(context.Background(), cfg, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := Train(context.Background(), cfg, d.Train, d.Test)
	if sameParams(a1.Final, plain.Final) || !sameParams(a1.Final, a2.Final) {
		t.Error("augmentation did not change the run, or two augmented runs differ")
	}
	vec := synthetic(t)
	mlp := smallConfig()
	mlp.Augment = Augment{Flip: true}
	if _, err := Train(context.Background(), mlp, vec.Train, vec.Test); err == nil {
		t.Error("an MLP on vectors trained with flips")
	}
}

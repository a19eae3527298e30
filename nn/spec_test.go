package nn

import (
	"slices"
	"strings"
	"testing"
)

// convArchs are small networks of each convolutional kind, with and without norms.
func convArchs() []Arch {
	return []Arch{
		{Kind: "vgg", Input: 3 * 8 * 8, Output: 10, Activation: "relu", Bias: true, LayerNorm: true, Channels: 3, Height: 8, Width: 8, Plan: []int{8, PlanPool, 12, 12, PlanPool, 10}},
		{Kind: "vgg", Input: 1 * 6 * 6, Output: 3, Activation: "relu", Bias: true, Channels: 1, Height: 6, Width: 6, Plan: []int{3}},
		{Kind: "resnet", Input: 2 * 8 * 8, Output: 4, Activation: "relu", LayerNorm: true, Channels: 2, Height: 8, Width: 8, Plan: []int{4, 6, 8}, Blocks: 2},
		{Kind: "resnet", Input: 1 * 5 * 7, Output: 3, Activation: "relu", Channels: 1, Height: 5, Width: 7, Plan: []int{3, 5}, Blocks: 1},
	}
}

func TestSpecAxesFitTheirGroups(t *testing.T) {
	archs := append(convArchs(),
		Arch{Kind: "mlp", Input: 5, Hidden: []int{7, 6}, Output: 4, Activation: "relu", Bias: true, LayerNorm: true},
		Arch{Kind: "mlp", Input: 5, Output: 4, Activation: "relu"})
	for _, a := range archs {
		if err := a.Validate(); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		s := a.Spec()
		used := make([]int, len(s.Groups))
		for _, p := range s.Params {
			if len(p.Axes) != len(p.Shape) {
				t.Errorf("%s: %s has %d axes for shape %v", a, p.Name, len(p.Axes), p.Shape)
			}
			for ax, g := range p.Axes {
				if g < 0 {
					continue
				}
				used[g]++
				if p.Shape[ax] != s.Groups[g].Size {
					t.Errorf("%s: axis %d of %s (%d) follows group %s of %d units", a, ax, p.Name, p.Shape[ax], s.Groups[g].Name, s.Groups[g].Size)
				}
			}
			if p.Output != (strings.HasPrefix(p.Name, "fc.") || p.Name == WeightName(len(a.Hidden)) || p.Name == BiasName(len(a.Hidden))) {
				t.Errorf("%s: %s has Output %v", a, p.Name, p.Output)
			}
		}
		for g, n := range used {
			// Every group is written by one parameter and read by another, or it could
			// be permuted without any effect, which would be a bug in the spec.
			if n < 2 {
				t.Errorf("%s: group %s touches %d axes", a, s.Groups[g].Name, n)
			}
		}
		if n := NewNetwork(a).NumParams(); int64(n) != a.NumParams() {
			t.Errorf("%s: NumParams %d, network has %d", a, a.NumParams(), n)
		}
		got, err := ParseArch(a.String())
		if err != nil || !got.Equal(a) {
			t.Errorf("ParseArch(%q) = %+v, %v", a.String(), got, err)
		}
	}
}

// TestResNetNames checks the open_lth names of ResNet-20's parameters, which PyTorch's
// load_state_dict(strict=True) needs exactly.
func TestResNetNames(t *testing.T) {
	a := Arch{Kind: "resnet", Input: 3 * 32 * 32, Output: 10, Activation: "relu", LayerNorm: true, Channels: 3, Height: 32, Width: 32, Plan: []int{16, 32, 64}, Blocks: 3}
	s := a.Spec()
	var names []string
	for _, p := range s.Params {
		names = append(names, p.Name)
	}
	for _, want := range []string{"conv.weight", "bn.layernorm.weight", "blocks.0.conv1.weight", "blocks.0.bn2.layernorm.bias", "blocks.3.shortcut.0.weight", "blocks.3.shortcut.1.layernorm.weight", "blocks.8.conv2.weight", "fc.weight", "fc.bias"} {
		if !slices.Contains(names, want) {
			t.Errorf("ResNet-20 has no %s", want)
		}
	}
	if slices.Contains(names, "blocks.1.shortcut.0.weight") || slices.Contains(names, "blocks.4.shortcut.0.weight") {
		t.Error("a block inside a stage has a shortcut convolution")
	}
	// 3 streams + 9 blocks' inner channels.
	if len(s.Groups) != 12 {
		t.Errorf("ResNet-20 has %d groups, want 12", len(s.Groups))
	}
	// open_lth's cifar_resnet_20 with BatchNorm has 272,474 parameters; the norms' affine
	// parameters are as many with LayerNorm.
	if n := a.NumParams(); n != 272474 {
		t.Errorf("ResNet-20 has %d parameters, want 272474", n)
	}
}

func TestConvArchValidate(t *testing.T) {
	ok := convArchs()[0]
	for _, c := range []struct {
		edit func(*Arch)
		want string
	}{
		{func(a *Arch) { a.Height, a.Width, a.Input = 2, 2, 12 }, "below 1×1"},
		{func(a *Arch) { a.Input = 5 }, "not the image"},
		{func(a *Arch) { a.Plan = []int{PlanPool, 4} }, "start with a convolution"},
		{func(a *Arch) { a.Plan = []int{4, PlanPool} }, "end with a convolution"},
		{func(a *Arch) { a.Activation = "tanh" }, "uses relu"},
		{func(a *Arch) { a.Bias = false }, "biases"},
		{func(a *Arch) { a.Hidden = []int{3} }, "not hidden layers"},
		{func(a *Arch) { a.Plan = nil }, "plan must have"},
		{func(a *Arch) { a.Kind = "resnet"; a.Bias = false; a.Plan = []int{4} }, "blocks per stage"},
	} {
		a := ok.Clone()
		c.edit(&a)
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: Validate = %v, want it to say %q", a, err, c.want)
		}
	}
}

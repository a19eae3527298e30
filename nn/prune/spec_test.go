package prune

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/perm"
)

// vgg and resnet are small convolutional networks (nn's own examples are not exported).
var (
	vgg    = nn.Arch{Kind: "vgg", Input: 3 * 8 * 8, Output: 10, Activation: "relu", Bias: true, LayerNorm: true, Channels: 3, Height: 8, Width: 8, Plan: []int{4, nn.PlanPool, 6, 6, nn.PlanPool, 5}}
	resnet = nn.Arch{Kind: "resnet", Input: 2 * 8 * 8, Output: 4, Activation: "relu", LayerNorm: true, Channels: 2, Height: 8, Width: 8, Plan: []int{4, 6, 8}, Blocks: 2}
	bare   = nn.Arch{Kind: "resnet", Input: 1 * 5 * 7, Output: 3, Activation: "relu", Channels: 1, Height: 5, Width: 7, Plan: []int{3, 5}, Blocks: 2}
)

func TestPrunableConv(t *testing.T) {
	for _, c := range []struct {
		a    nn.Arch
		want []string
	}{
		{vgg, []string{"layers.0.conv.weight", "layers.2.conv.weight", "layers.3.conv.weight", "layers.5.conv.weight", "fc.weight"}},
		{resnet, []string{"conv.weight",
			"blocks.0.conv1.weight", "blocks.0.conv2.weight", "blocks.1.conv1.weight", "blocks.1.conv2.weight",
			"blocks.2.conv1.weight", "blocks.2.conv2.weight", "blocks.2.shortcut.0.weight", "blocks.3.conv1.weight", "blocks.3.conv2.weight",
			"blocks.4.conv1.weight", "blocks.4.conv2.weight", "blocks.4.shortcut.0.weight", "blocks.5.conv1.weight", "blocks.5.conv2.weight",
			"fc.weight"}},
	} {
		if got := Prunable(c.a, Options{}); !slices.Equal(got, c.want) {
			t.Errorf("%s: Prunable = %v, want %v", c.a, got, c.want)
		}
		if got, want := Prunable(c.a, Options{ExemptOutput: true}), c.want[:len(c.want)-1]; !slices.Equal(got, want) {
			t.Errorf("%s exempt: Prunable = %v, want %v", c.a, got, want)
		}
	}
	if got := Prunable(nn.Arch{Kind: "vgg"}, Options{}); got != nil {
		t.Errorf("an invalid vgg has prunable weights %v", got)
	}
}

// TestNextConv prunes one level of a VGG and of ResNets and checks the count against the
// counting rule, per layer and over the network, and that only weights are masked.
func TestNextConv(t *testing.T) {
	for _, a := range []nn.Arch{vgg, resnet, bare} {
		n := initNet(t, a, 1)
		for _, scope := range []Scope{Global, Layer} {
			for _, exempt := range []bool{false, true} {
				opt := Options{Fraction: DefaultFraction, Scope: scope, ExemptOutput: exempt}
				m, err := Next(n, nil, opt)
				if err != nil {
					t.Fatal(err)
				}
				names := Prunable(a, opt)
				if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
					t.Fatalf("%s %v: mask covers %v, want %v", a, opt, got, names)
				}
				total, want := 0, 0
				for _, name := range names {
					size := n.Param(name).Len()
					total += size
					if scope == Layer {
						want += size - pruneCount(size)
						if kept, _ := (Mask{name: m[name]}).Count(); kept != size-pruneCount(size) {
							t.Errorf("%s %v: %s keeps %d of %d, want %d", a, opt, name, kept, size, size-pruneCount(size))
						}
					}
				}
				if scope == Global {
					want = total - pruneCount(total)
				}
				if kept, covered := m.Count(); kept != want || covered != total {
					t.Errorf("%s %v: kept %d of %d, want %d of %d", a, opt, kept, covered, want, total)
				}
				// The pruned weights are the smallest of what was prunable.
				if scope == Global {
					checkSmallestPruned(t, fmt.Sprintf("%s %v", a, opt), n, m, names)
				}
			}
		}
	}
}

func TestEncodeConv(t *testing.T) {
	for _, a := range []nn.Arch{vgg, resnet, bare} {
		n := initNet(t, a, 2)
		m, err := Next(n, nil, Options{Fraction: 0.5, Scope: Layer, ExemptOutput: true})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(a, m)
		if err != nil {
			t.Fatal(err)
		}
		got, gm, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if !got.Equal(a) || !gm.Equal(m) {
			t.Errorf("%s: decoded %s with %d masks, want %d", a, got, len(gm), len(m))
		}
		tensors, _, _ := nn.DecodeSafetensors(b)
		var names []string
		for _, ts := range tensors {
			name := strings.TrimPrefix(ts.Name, maskPrefix)
			names = append(names, name)
			if want := n.Param(name).Shape; !slices.Equal(ts.Shape, want) {
				t.Errorf("%s: %s has shape %v, want %v", a, ts.Name, ts.Shape, want)
			}
		}
		if want := Prunable(a, Options{ExemptOutput: true}); !slices.Equal(names, want) {
			t.Errorf("%s: tensors %v, want %v in spec order", a, names, want)
		}
		// A network saved beside its mask reads back as both.
		nb, err := nn.EncodeNetwork(Apply(n, m), nil)
		if err != nil {
			t.Fatal(err)
		}
		nt, meta, _ := nn.DecodeSafetensors(nb)
		both, err := nn.EncodeSafetensors(append(nt, tensors...), meta)
		if err != nil {
			t.Fatal(err)
		}
		if _, gm, err := Decode(both); err != nil || !gm.Equal(m) {
			t.Errorf("%s: mask beside its network: %v", a, err)
		}
		// Masks of norms and biases are not masks of weights.
		for _, p := range a.Spec().Params {
			if p.Role == nn.RoleWeight {
				continue
			}
			if _, err := Encode(a, Mask{p.Name: make([]float32, p.Len())}); err == nil || !strings.Contains(err.Error(), "names no weight") {
				t.Errorf("%s: mask of %s: error %v, want one saying it names no weight", a, p.Name, err)
			}
		}
	}
}

// TestTransportConv: a mask moved by a permutation stays on the weights it masked.
func TestTransportConv(t *testing.T) {
	for _, a := range []nn.Arch{vgg, resnet, bare} {
		m, err := Next(initNet(t, a, 3), nil, Options{Fraction: 0.5, Scope: Global})
		if err != nil {
			t.Fatal(err)
		}
		p := perm.Random(a, 4)
		moved, err := Transport(m, p)
		if err != nil {
			t.Fatal(err)
		}
		src := indexNet(a)
		pn, err := p.Apply(src) // each weight of pn says which weight of src it was
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range moved {
			for i, x := range v {
				if j := int(pn.Param(name).Data[i]) - 1; x != m[name][j] {
					t.Fatalf("%s: %s[%d] is %v, from weight %d with mask %v", a, name, i, x, j, m[name][j])
				}
			}
		}
		if back, err := Transport(moved, p.Inverse()); err != nil || !back.Equal(m) {
			t.Errorf("%s: transporting back by the inverse gives another mask (%v)", a, err)
		}
	}
}

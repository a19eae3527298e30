package nn

import (
	"fmt"
	"math"
)

// Role says what a parameter is, which decides how it is initialised and whether it can
// be pruned.
type Role uint8

const (
	RoleWeight     Role = iota // a linear or convolutional weight, out × in (× k × k)
	RoleBias                   // a linear or convolutional bias
	RoleNormWeight             // a LayerNorm's scale γ
	RoleNormBias               // a LayerNorm's shift β
)

// ParamSpec describes one parameter of an architecture: its state-dict name and shape, and
// for each axis the permutation group it follows (an index into Spec.Groups), or −1 for an
// axis that never moves (inputs, logits, kernel positions).
type ParamSpec struct {
	Name   string
	Shape  []int
	Axes   []int
	Role   Role
	Output bool // belongs to the output layer (pruning may exempt it)
}

// Len returns the number of values the shape holds.
func (p ParamSpec) Len() int { return shapeLen(p.Shape) }

// shapeLen is the number of values a tensor of the shape holds (1 for a scalar's empty
// shape).
func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Group is a set of units that can be relabelled together without changing the function
// a network computes: the hidden units of an MLP layer, the channels a convolution writes,
// or a ResNet stage's residual stream, which every block of the stage reads and adds to.
type Group struct {
	Name string
	Size int
}

// Spec is an architecture's parameters in state-dict order, with the permutation groups
// their axes follow (Git Re-Basin's PermutationSpec). It is derived from the architecture
// alone and is the one place that says which axes move together, so that applying
// permutations, matching, merging, pruning and the file formats cannot disagree.
type Spec struct {
	Params []ParamSpec
	Groups []Group
}

// Spec returns a's parameters and permutation groups. a must be valid (Validate).
func (a Arch) Spec() Spec {
	var b specBuilder
	switch a.Kind {
	case "vgg":
		b.vgg(a)
	case "resnet":
		b.resnet(a)
	default:
		b.mlp(a)
	}
	return b.Spec
}

type specBuilder struct{ Spec }

// group adds a permutation group and returns its index.
func (b *specBuilder) group(name string, size int) int {
	b.Groups = append(b.Groups, Group{Name: name, Size: size})
	return len(b.Groups) - 1
}

func (b *specBuilder) param(name string, role Role, shape []int, axes ...int) {
	for len(axes) < len(shape) {
		axes = append(axes, -1)
	}
	b.Params = append(b.Params, ParamSpec{Name: name, Shape: shape, Axes: axes, Role: role})
}

// norm adds the affine parameters of a LayerNorm over the units of group g.
func (b *specBuilder) norm(prefix string, g int) {
	n := b.Groups[g].Size
	b.param(prefix+".weight", RoleNormWeight, []int{n}, g)
	b.param(prefix+".bias", RoleNormBias, []int{n}, g)
}

// linearHead adds the output layer "fc", reading the units of group g.
func (b *specBuilder) linearHead(outputs, g int) {
	b.param("fc.weight", RoleWeight, []int{outputs, b.Groups[g].Size}, -1, g)
	b.param("fc.bias", RoleBias, []int{outputs}, -1)
	b.Params[len(b.Params)-1].Output = true
	b.Params[len(b.Params)-2].Output = true
}

// mlp: for each linear layer i, "layers.i.weight" (out×in) and "layers.i.bias", then for a
// hidden layer with LayerNorm "norms.i.weight" and "norms.i.bias". Group l is hidden layer l.
func (b *specBuilder) mlp(a Arch) {
	w := a.Widths()
	prev := -1
	for i := range a.Layers() {
		g, out := -1, i == len(a.Hidden)
		if !out {
			g = b.group(fmt.Sprintf("layers.%d", i), w[i+1])
		}
		first := len(b.Params)
		b.param(WeightName(i), RoleWeight, []int{w[i+1], w[i]}, g, prev)
		if a.Bias {
			b.param(BiasName(i), RoleBias, []int{w[i+1]}, g)
		}
		if out {
			for j := first; j < len(b.Params); j++ {
				b.Params[j].Output = true
			}
		} else if a.LayerNorm {
			b.param(NormWeightName(i), RoleNormWeight, []int{w[i+1]}, g)
			b.param(NormBiasName(i), RoleNormBias, []int{w[i+1]}, g)
		}
		prev = g
	}
}

// vgg follows open_lth's cifar_vgg: plan entry i that is a convolution is module
// "layers.i" with "layers.i.conv" and, with LayerNorm, "layers.i.bn.layernorm" (the fork's
// OutputAffineLayerNorm); its output channels are group "layers.i".
func (b *specBuilder) vgg(a Arch) {
	in, prev := a.Channels, -1
	for i, width := range a.Plan {
		if width == PlanPool {
			continue
		}
		name := fmt.Sprintf("layers.%d", i)
		g := b.group(name, width)
		b.param(name+".conv.weight", RoleWeight, []int{width, in, 3, 3}, g, prev)
		b.param(name+".conv.bias", RoleBias, []int{width}, g)
		if a.LayerNorm {
			b.norm(name+".bn.layernorm", g)
		}
		in, prev = width, g
	}
	b.linearHead(a.Output, prev)
}

// resnet follows open_lth's cifar_resnet: "conv" and "bn", then "blocks.j" with "conv1",
// "bn1", "conv2", "bn2" and, where the stage changes, "shortcut.0" (the 1×1 convolution)
// and "shortcut.1" (its norm). Each stage's residual stream is one group ("stage.s": the
// stem's output joins stage 0's), and each block's inner channels another ("blocks.j").
func (b *specBuilder) resnet(a Arch) {
	in := a.Plan[0]
	stream := b.group("stage.0", in)
	b.param("conv.weight", RoleWeight, []int{in, a.Channels, 3, 3}, stream)
	if a.LayerNorm {
		b.norm("bn.layernorm", stream)
	}
	j := 0
	for s, width := range a.Plan {
		for k := range a.Blocks {
			name := fmt.Sprintf("blocks.%d", j)
			inner := b.group(name, width)
			out := stream
			if (s > 0 && k == 0) || width != in {
				out = b.group(fmt.Sprintf("stage.%d", s), width)
			}
			b.param(name+".conv1.weight", RoleWeight, []int{width, in, 3, 3}, inner, stream)
			if a.LayerNorm {
				b.norm(name+".bn1.layernorm", inner)
			}
			b.param(name+".conv2.weight", RoleWeight, []int{width, width, 3, 3}, out, inner)
			if a.LayerNorm {
				b.norm(name+".bn2.layernorm", out)
			}
			if out != stream {
				b.param(name+".shortcut.0.weight", RoleWeight, []int{width, in, 1, 1}, out, stream)
				if a.LayerNorm {
					b.norm(name+".shortcut.1.layernorm", out)
				}
			}
			in, stream = width, out
			j++
		}
	}
	b.linearHead(a.Output, stream)
}

// saturatingAdd adds non-negative counts without wrapping around.
func saturatingAdd(x, y int64) int64 {
	if x > math.MaxInt64-y {
		return math.MaxInt64
	}
	return x + y
}

package nn

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Arch describes a network. It is stored with every network (in the safetensors metadata),
// so a network file says what it is; two networks can be matched or interpolated only when
// their architectures are equal.
//
// Three kinds share it. An "mlp" has Hidden linear layers. A "vgg" (open_lth's cifar_vgg)
// is a Plan of 3×3 convolutions with biases, each followed by the norm and a ReLU, and 2×2
// max-pools (PlanPool in Plan, open_lth's "M"), then a global average pool and a linear
// head "fc". A "resnet" (open_lth's cifar_resnet) is a 3×3 convolution to Plan[0] channels,
// then len(Plan) stages of Blocks residual blocks each, stage s of Plan[s] channels, the
// first block of every stage but the first halving the image with a stride-2 convolution
// and a 1×1 stride-2 convolution with a norm on its shortcut; then a global average pool
// and "fc". Its convolutions have no biases (a norm follows each). Convolutional kinds take
// Channels×Height×Width images (Input is their product) and use ReLU.
type Arch struct {
	Kind       string `json:"kind"`       // "mlp", "vgg" or "resnet"
	Input      int    `json:"input"`      // input features, e.g. 784; for images C·H·W
	Hidden     []int  `json:"hidden"`     // mlp: hidden widths, e.g. [512, 512, 512]
	Output     int    `json:"output"`     // classes, e.g. 10
	Activation string `json:"activation"` // "relu", "gelu" or "tanh"; relu for conv kinds
	LayerNorm  bool   `json:"layer_norm"` // LayerNorm after each hidden layer (over channels for convolutions)
	Bias       bool   `json:"bias"`       // mlp: linear layers have biases; vgg: true; resnet: false
	// The image shape of convolutional kinds (absent from an MLP's JSON, whose bytes and
	// hence digests are what they were before convolutions existed).
	Channels int `json:"channels,omitempty"`
	Height   int `json:"height,omitempty"`
	Width    int `json:"width,omitempty"`
	// Plan: vgg: the convolutions' widths in order, PlanPool for a max-pool; resnet: the
	// stages' widths.
	Plan   []int `json:"plan,omitempty"`
	Blocks int   `json:"blocks,omitempty"` // resnet: blocks per stage
}

// PlanPool marks a 2×2 max-pool in a VGG plan (open_lth writes "M").
const PlanPool = 0

// Kinds lists the architectures.
var Kinds = []string{"mlp", "vgg", "resnet"}

// Activations lists the supported activation functions.
var Activations = []string{"relu", "gelu", "tanh"}

// maxPlan bounds a plan's length and maxWidth a layer's width, so that a forged
// architecture is an error rather than an allocation of everything the machine has.
const (
	maxPlan  = 1000
	maxWidth = 1 << 24
)

// Conv reports whether a is a convolutional kind, which takes images.
func (a Arch) Conv() bool { return a.Kind == "vgg" || a.Kind == "resnet" }

// numerics holds, per model kind, the revision of the kernels its networks compute with
// (package conv and the conv models' passes), for the kinds whose kernels have changed the
// bits they compute since the first: bump a kind's revision with any such change, so that
// the cached results of its networks, and only theirs, are computed again. History:
// resnet conv-2, the 3×3 convolutions of stride 2 on the direct kernels (the forward pass
// and the weight gradient), not on im2col and the GEMM; resnet and vgg conv-3, the 3×3
// convolutions of stride 1 between 16 channels or more (32 on one side) on Winograd's
// F(2×2, 3×3) (conv's kernels.h); resnet and vgg conv-4, the 3×3 convolutions of stride 1
// on planes of 2×2 or less as dense layers (VGG's last layers; a ResNet's on inputs of 8×8),
// and the norm's output in float32; resnet and vgg conv-5, the forward pass and the input
// gradient of 3×3 convolutions of stride 1 between multiples of 16 channels on planes whose
// sides are multiples of 4 on Winograd's F(4×4, 3×3).
var numerics = map[string]string{"resnet": "conv-5", "vgg": "conv-5"}

// NumericsOf is the revision of the kernels a network of kind computes with (see
// stages.Kind.Numerics); none for a kind whose kernels change with the stage kinds'
// versions (an MLP).
func NumericsOf(kind string) string { return numerics[kind] }

// Validate reports what is wrong with a, if anything, in words a user can act on.
func (a Arch) Validate() error {
	if !slices.Contains(Kinds, a.Kind) {
		return fmt.Errorf("unknown model kind %q; the kinds are: %s", a.Kind, strings.Join(Kinds, ", "))
	}
	if a.Input < 1 || a.Output < 1 {
		return fmt.Errorf("input and output sizes must be positive, got %d and %d", a.Input, a.Output)
	}
	if !slices.Contains(Activations, a.Activation) {
		return fmt.Errorf("unknown activation %q; the activations are: relu, gelu, tanh", a.Activation)
	}
	if !a.Conv() {
		for i, h := range a.Hidden {
			if h < 1 {
				return fmt.Errorf("hidden layer %d has width %d; widths must be positive", i, h)
			}
		}
		if a.Channels != 0 || a.Height != 0 || a.Width != 0 || len(a.Plan) != 0 || a.Blocks != 0 {
			return fmt.Errorf("an mlp has no image shape, plan or blocks")
		}
		return nil
	}
	if len(a.Hidden) != 0 {
		return fmt.Errorf("a %s has a plan, not hidden layers", a.Kind)
	}
	if a.Activation != "relu" {
		return fmt.Errorf("a %s uses relu, not %s", a.Kind, a.Activation)
	}
	if a.Channels < 1 || a.Height < 1 || a.Width < 1 || a.Channels > maxWidth || a.Height > maxWidth || a.Width > maxWidth {
		return fmt.Errorf("a %s takes images; their shape %d×%d×%d is not one", a.Kind, a.Channels, a.Height, a.Width)
	}
	if int64(a.Channels)*int64(a.Height)*int64(a.Width) != int64(a.Input) {
		return fmt.Errorf("input size %d is not the image's %d×%d×%d", a.Input, a.Channels, a.Height, a.Width)
	}
	if len(a.Plan) == 0 || len(a.Plan) > maxPlan {
		return fmt.Errorf("a %s's plan must have 1 to %d entries, got %d", a.Kind, maxPlan, len(a.Plan))
	}
	for i, w := range a.Plan {
		if (w < 1 && !(a.Kind == "vgg" && w == PlanPool)) || w > maxWidth {
			return fmt.Errorf("plan entry %d is %d; widths must be 1 to %d", i, w, maxWidth)
		}
	}
	switch a.Kind {
	case "vgg":
		if !a.Bias || a.Blocks != 0 {
			return fmt.Errorf("a vgg's convolutions have biases and it has no blocks")
		}
		if a.Plan[0] == PlanPool {
			return fmt.Errorf("a vgg's plan must start with a convolution")
		}
		if last := a.Plan[len(a.Plan)-1]; last == PlanPool {
			return fmt.Errorf("a vgg's plan must end with a convolution (open_lth's head takes the last convolution's width)")
		}
		h, w := a.Height, a.Width
		for i, p := range a.Plan {
			if p == PlanPool {
				h, w = h/2, w/2
				if h < 1 || w < 1 {
					return fmt.Errorf("max-pool %d (plan entry %d) shrinks the %d×%d image below 1×1; pad or resize the images, or use fewer poolings", pools(a.Plan[:i+1]), i, a.Height, a.Width)
				}
			}
		}
	case "resnet":
		if a.Bias {
			return fmt.Errorf("a resnet's convolutions have no biases (a norm follows each)")
		}
		if a.Blocks < 1 || a.Blocks > maxPlan/len(a.Plan) {
			return fmt.Errorf("a resnet needs 1 to %d blocks per stage, got %d", maxPlan/len(a.Plan), a.Blocks)
		}
	}
	return nil
}

// pools counts the max-pools of a VGG plan.
func pools(plan []int) int {
	n := 0
	for _, p := range plan {
		if p == PlanPool {
			n++
		}
	}
	return n
}

// Equal reports whether a and b describe the same architecture.
func (a Arch) Equal(b Arch) bool {
	return a.Kind == b.Kind && a.Input == b.Input && a.Output == b.Output && slices.Equal(a.Hidden, b.Hidden) &&
		a.Activation == b.Activation && a.LayerNorm == b.LayerNorm && a.Bias == b.Bias &&
		a.Channels == b.Channels && a.Height == b.Height && a.Width == b.Width &&
		slices.Equal(a.Plan, b.Plan) && a.Blocks == b.Blocks
}

// Clone returns a copy of a that shares no slice with it.
func (a Arch) Clone() Arch {
	a.Hidden = slices.Clone(a.Hidden)
	a.Plan = slices.Clone(a.Plan)
	return a
}

// Widths returns the sizes of every layer boundary of an MLP: input, hidden..., output.
func (a Arch) Widths() []int {
	return append(append([]int{a.Input}, a.Hidden...), a.Output)
}

// Layers returns the number of linear layers of an MLP.
func (a Arch) Layers() int { return len(a.Hidden) + 1 }

// String is a compact description that ParseArch reads back: "mlp 784-512-512-10 relu",
// "vgg 1x32x32 16-M-32-M-64-64 10 layernorm", "resnet 3x32x32 16-32-64x3 10 layernorm".
func (a Arch) String() string {
	var s string
	switch {
	case a.Kind == "vgg":
		parts := make([]string, len(a.Plan))
		for i, p := range a.Plan {
			parts[i] = strconv.Itoa(p)
			if p == PlanPool {
				parts[i] = "M"
			}
		}
		s = fmt.Sprintf("vgg %dx%dx%d %s %d", a.Channels, a.Height, a.Width, strings.Join(parts, "-"), a.Output)
	case a.Kind == "resnet":
		s = fmt.Sprintf("resnet %dx%dx%d %sx%d %d", a.Channels, a.Height, a.Width, joinInts(a.Plan), a.Blocks, a.Output)
	default:
		s = fmt.Sprintf("%s %s %s", a.Kind, joinInts(a.Widths()), a.Activation)
	}
	if a.LayerNorm {
		s += " layernorm"
	}
	if !a.Bias && !a.Conv() {
		s += " nobias"
	}
	return s
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, "-")
}

// ParseArch reads the description String writes; it is how stages read a stored network's
// architecture without decoding the network.
func ParseArch(s string) (Arch, error) {
	f := strings.Fields(s)
	bad := fmt.Errorf("%q is not an architecture such as \"mlp 784-512-10 relu\" or \"resnet 3x32x32 16-32-64x3 10 layernorm\"", s)
	if len(f) < 3 {
		return Arch{}, bad
	}
	if f[0] == "vgg" || f[0] == "resnet" {
		return parseConvArch(f, bad)
	}
	a := Arch{Kind: f[0], Activation: f[2], Bias: true}
	widths, err := splitInts(f[1])
	if err != nil {
		return Arch{}, bad
	}
	if len(widths) < 2 {
		return Arch{}, fmt.Errorf("%q has no output size", s)
	}
	a.Input, a.Hidden, a.Output = widths[0], widths[1:len(widths)-1], widths[len(widths)-1]
	for _, flag := range f[3:] {
		switch flag {
		case "layernorm":
			a.LayerNorm = true
		case "nobias":
			a.Bias = false
		default:
			return Arch{}, fmt.Errorf("%q has an unknown flag %q", s, flag)
		}
	}
	return a, nil
}

func parseConvArch(f []string, bad error) (Arch, error) {
	if len(f) < 4 || len(f) > 5 || len(f) == 5 && f[4] != "layernorm" {
		return Arch{}, bad
	}
	a := Arch{Kind: f[0], Activation: "relu", Bias: f[0] == "vgg", LayerNorm: len(f) == 5}
	img, err := splitIntsBy(f[1], "x")
	if err != nil || len(img) != 3 {
		return Arch{}, bad
	}
	a.Channels, a.Height, a.Width = img[0], img[1], img[2]
	a.Input = a.Channels * a.Height * a.Width
	if a.Output, err = strconv.Atoi(f[3]); err != nil {
		return Arch{}, bad
	}
	plan := f[2]
	if a.Kind == "resnet" {
		i := strings.LastIndexByte(plan, 'x')
		if i < 0 {
			return Arch{}, bad
		}
		if a.Blocks, err = strconv.Atoi(plan[i+1:]); err != nil {
			return Arch{}, bad
		}
		plan = plan[:i]
	}
	for _, p := range strings.Split(plan, "-") {
		if p == "M" && a.Kind == "vgg" {
			a.Plan = append(a.Plan, PlanPool)
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n == PlanPool {
			return Arch{}, bad
		}
		a.Plan = append(a.Plan, n)
	}
	return a, nil
}

func splitInts(s string) ([]int, error) { return splitIntsBy(s, "-") }

func splitIntsBy(s, sep string) ([]int, error) {
	var v []int
	for _, w := range strings.Split(s, sep) {
		n, err := strconv.Atoi(w)
		if err != nil {
			return nil, err
		}
		v = append(v, n)
	}
	return v, nil
}

// NumParams is the number of parameters a network of arch a has. It is computed from the
// shapes alone, without allocating the network.
func (a Arch) NumParams() int64 {
	var n int64
	for _, p := range a.Spec().Params {
		k := int64(1)
		for _, d := range p.Shape {
			if k > math.MaxInt64/int64(max(d, 1)) {
				return math.MaxInt64
			}
			k *= int64(d)
		}
		n = saturatingAdd(n, k)
	}
	return n
}

// Activations is the number of values one example produces in a forward pass that keeps
// them for the backward one: for an MLP every layer's units, for a convolutional network
// its input and what its model holds (actFloats). Memory estimates use it.
func (a Arch) Activations() int64 {
	if !a.Conv() {
		var n int64
		for _, w := range a.Widths() {
			n += int64(w)
		}
		return n
	}
	return int64(a.Input) + int64(actFloats(a))
}

// StepFloats estimates the float32s a training step's buffers hold for a batch of batch
// examples: four per activation (forward and back), and for an MLP the unit split's
// partial input gradients (unitLearner: four of the batch times the widest hidden layer)
// and each core's logits and their gradient. Memory estimates use it.
func (a Arch) StepFloats(batch int) int64 {
	n := 4 * int64(batch) * a.Activations()
	if !a.Conv() && len(a.Hidden) > 0 {
		n += 4 * int64(batch) * (int64(slices.Max(a.Hidden)) + int64(a.Output))
	}
	return n
}

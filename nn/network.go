package nn

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrShape is the panic value for misuse: tensors whose shapes do not fit. Data-dependent
// failures (a diverged loss, a malformed file) are returned as errors instead.
var ErrShape = errors.New("nn: shape mismatch")

// Arch describes a network. It is stored with every network (in the safetensors metadata),
// so a network file says what it is; two networks can be matched or interpolated only when
// their architectures are equal.
type Arch struct {
	Kind       string `json:"kind"`       // "mlp"
	Input      int    `json:"input"`      // input features, e.g. 784
	Hidden     []int  `json:"hidden"`     // hidden widths, e.g. [512, 512, 512]
	Output     int    `json:"output"`     // classes, e.g. 10
	Activation string `json:"activation"` // "relu", "gelu" or "tanh"
	LayerNorm  bool   `json:"layer_norm"` // LayerNorm after each hidden linear layer, before the activation
	Bias       bool   `json:"bias"`       // linear layers have biases
}

// Activations lists the supported activation functions.
var Activations = []string{"relu", "gelu", "tanh"}

// Validate reports what is wrong with a, if anything, in words a user can act on.
func (a Arch) Validate() error {
	if a.Kind != "mlp" {
		return fmt.Errorf("unknown model kind %q; the kinds are: mlp", a.Kind)
	}
	if a.Input < 1 || a.Output < 1 {
		return fmt.Errorf("input and output sizes must be positive, got %d and %d", a.Input, a.Output)
	}
	for i, h := range a.Hidden {
		if h < 1 {
			return fmt.Errorf("hidden layer %d has width %d; widths must be positive", i, h)
		}
	}
	if !slices.Contains(Activations, a.Activation) {
		return fmt.Errorf("unknown activation %q; the activations are: relu, gelu, tanh", a.Activation)
	}
	return nil
}

// Equal reports whether a and b describe the same architecture.
func (a Arch) Equal(b Arch) bool {
	return a.Kind == b.Kind && a.Input == b.Input && a.Output == b.Output && slices.Equal(a.Hidden, b.Hidden) &&
		a.Activation == b.Activation && a.LayerNorm == b.LayerNorm && a.Bias == b.Bias
}

// Widths returns the sizes of every layer boundary: input, hidden..., output.
func (a Arch) Widths() []int {
	return append(append([]int{a.Input}, a.Hidden...), a.Output)
}

// Layers returns the number of linear layers.
func (a Arch) Layers() int { return len(a.Hidden) + 1 }

// ParseArch reads the description String writes, "mlp 784-512-512-10 relu layernorm"; it
// is how stages read a stored network's architecture without decoding the network.
func ParseArch(s string) (Arch, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return Arch{}, fmt.Errorf("%q is not an architecture such as \"mlp 784-512-10 relu\"", s)
	}
	a := Arch{Kind: f[0], Activation: f[2], Bias: true}
	var widths []int
	for _, w := range strings.Split(f[1], "-") {
		n, err := strconv.Atoi(w)
		if err != nil {
			return Arch{}, fmt.Errorf("%q is not an architecture such as \"mlp 784-512-10 relu\"", s)
		}
		widths = append(widths, n)
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

// NumParams is the number of parameters a network of arch a has: weights and biases of
// every layer, and LayerNorm's scale and shift.
func (a Arch) NumParams() int64 {
	w := a.Widths()
	var n int64
	for i := 1; i < len(w); i++ {
		n += int64(w[i-1]) * int64(w[i])
		if a.Bias {
			n += int64(w[i])
		}
		if a.LayerNorm && i < len(w)-1 {
			n += 2 * int64(w[i])
		}
	}
	return n
}

// String is a compact description, e.g. "mlp 784-512-512-10 relu".
func (a Arch) String() string {
	s := fmt.Sprintf("%s %d", a.Kind, a.Input)
	for _, h := range a.Hidden {
		s += fmt.Sprintf("-%d", h)
	}
	s += fmt.Sprintf("-%d %s", a.Output, a.Activation)
	if a.LayerNorm {
		s += " layernorm"
	}
	if !a.Bias {
		s += " nobias"
	}
	return s
}

// Param is one named parameter tensor, row-major, like an entry of a PyTorch state_dict.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// Len returns the number of elements the shape holds.
func (p *Param) Len() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Network is an architecture and its parameters, in state-dict order: for each linear layer
// i, "layers.i.weight" (out×in) and "layers.i.bias" (out), then for a hidden layer with
// LayerNorm "norms.i.weight" and "norms.i.bias" (out).
type Network struct {
	Arch   Arch
	Params []*Param
}

// WeightName, BiasName and the norm names give the parameter names of layer i.
func WeightName(i int) string     { return fmt.Sprintf("layers.%d.weight", i) }
func BiasName(i int) string       { return fmt.Sprintf("layers.%d.bias", i) }
func NormWeightName(i int) string { return fmt.Sprintf("norms.%d.weight", i) }
func NormBiasName(i int) string   { return fmt.Sprintf("norms.%d.bias", i) }

// NewNetwork allocates a zero network of arch a. It panics if a is invalid (callers
// validate user input with Arch.Validate first).
func NewNetwork(a Arch) *Network {
	if err := a.Validate(); err != nil {
		panic(fmt.Errorf("%w: %v", ErrShape, err))
	}
	n := &Network{Arch: a}
	w := a.Widths()
	for i := 0; i < a.Layers(); i++ {
		in, out := w[i], w[i+1]
		n.Params = append(n.Params, &Param{Name: WeightName(i), Shape: []int{out, in}, Data: make([]float32, out*in)})
		if a.Bias {
			n.Params = append(n.Params, &Param{Name: BiasName(i), Shape: []int{out}, Data: make([]float32, out)})
		}
		if a.LayerNorm && i < len(a.Hidden) {
			n.Params = append(n.Params,
				&Param{Name: NormWeightName(i), Shape: []int{out}, Data: make([]float32, out)},
				&Param{Name: NormBiasName(i), Shape: []int{out}, Data: make([]float32, out)})
		}
	}
	return n
}

// Param returns the parameter named name, or nil.
func (n *Network) Param(name string) *Param {
	for _, p := range n.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Clone returns a deep copy of n.
func (n *Network) Clone() *Network {
	c := &Network{Arch: n.Arch}
	c.Arch.Hidden = slices.Clone(n.Arch.Hidden)
	for _, p := range n.Params {
		c.Params = append(c.Params, &Param{Name: p.Name, Shape: slices.Clone(p.Shape), Data: slices.Clone(p.Data)})
	}
	return c
}

// NumParams returns the number of scalar parameters.
func (n *Network) NumParams() int {
	t := 0
	for _, p := range n.Params {
		t += len(p.Data)
	}
	return t
}

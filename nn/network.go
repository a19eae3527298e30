package nn

import (
	"errors"
	"fmt"
	"slices"
)

// ErrShape is the panic value for misuse: tensors whose shapes do not fit. Data-dependent
// failures (a diverged loss, a malformed file) are returned as errors instead.
var ErrShape = errors.New("nn: shape mismatch")

// Param is one named parameter tensor, row-major, like an entry of a PyTorch state_dict.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// Len returns the number of elements the shape holds.
func (p *Param) Len() int { return shapeLen(p.Shape) }

// Network is an architecture and its parameters, in state-dict order (Arch.Spec): for an
// MLP, for each linear layer i, "layers.i.weight" (out×in) and "layers.i.bias" (out), then
// for a hidden layer with LayerNorm "norms.i.weight" and "norms.i.bias" (out).
type Network struct {
	Arch   Arch
	Params []*Param
}

// WeightName, BiasName and the norm names give the parameter names of layer i.
func WeightName(i int) string     { return fmt.Sprintf("layers.%d.weight", i) }
func BiasName(i int) string       { return fmt.Sprintf("layers.%d.bias", i) }
func NormWeightName(i int) string { return fmt.Sprintf("norms.%d.weight", i) }
func NormBiasName(i int) string   { return fmt.Sprintf("norms.%d.bias", i) }

// NewNetwork allocates a zero network of arch a, its parameters in a.Spec()'s order. It
// panics if a is invalid (callers validate user input with Arch.Validate first).
func NewNetwork(a Arch) *Network {
	if err := a.Validate(); err != nil {
		panic(fmt.Errorf("%w: %v", ErrShape, err))
	}
	n := &Network{Arch: a}
	for _, p := range a.Spec().Params {
		n.Params = append(n.Params, &Param{Name: p.Name, Shape: p.Shape, Data: make([]float32, p.Len())})
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
	c := &Network{Arch: n.Arch.Clone()}
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

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Inits lists the initialisations: "pytorch" is torch.nn.Linear's default (weights and biases
// uniform in ±1/√fan_in, which is kaiming_uniform with a = √5), "kaiming_normal" draws
// weights from N(0, 2/fan_in) (He et al., for ReLU) with zero biases. LayerNorm starts at
// γ = 1, β = 0 in both.
var Inits = []string{"pytorch", "kaiming_normal"}

// NewRand returns the generator for a seed. Every random choice in modulo goes through it,
// so the same seed gives the same bits on every machine.
func NewRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// Streams separate the random sequences drawn from one seed.
const (
	streamInit  = 0x696e6974 // "init"
	streamOrder = 0x6f726472 // "ordr"
)

// Init returns a network of arch a with parameters drawn for seed by method (see Inits).
// Parameters are drawn in state-dict order, each weight's fan-in (its values per output
// unit, in·k·k for a convolution) scaling it and the bias that follows it.
func Init(a Arch, method string, seed uint64) (*Network, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if method != "pytorch" && method != "kaiming_normal" {
		return nil, fmt.Errorf("unknown initialisation %q; the initialisations are: pytorch, kaiming_normal", method)
	}
	n := NewNetwork(a)
	rng := NewRand(seed, streamInit)
	fanIn := 1.0
	for i, s := range a.Spec().Params {
		p := n.Params[i]
		switch s.Role {
		case RoleWeight:
			fanIn = float64(s.Len() / s.Shape[0])
			if method == "pytorch" {
				uniform(rng, p.Data, 1/math.Sqrt(fanIn))
				break
			}
			std := math.Sqrt(2 / fanIn)
			for j := range p.Data {
				p.Data[j] = float32(rng.NormFloat64() * std)
			}
		case RoleBias:
			if method == "pytorch" {
				uniform(rng, p.Data, 1/math.Sqrt(fanIn))
			}
		case RoleNormWeight:
			for j := range p.Data {
				p.Data[j] = 1
			}
		}
	}
	return n, nil
}

func uniform(rng *rand.Rand, dst []float32, bound float64) {
	for j := range dst {
		dst[j] = float32((2*rng.Float64() - 1) * bound)
	}
}

package nn

import (
	"context"
	"fmt"
	"math"

	"github.com/modulo-ml/modulo/nn/blas"
)

// REPAIR (Jordan, Sedghi, Saukh, Entezari, Neyshabur, "REPAIR: REnormalizing Permuted
// Activations for Interpolation Repair", ICLR 2023): the midpoint of two aligned networks
// loses accuracy largely because its hidden units' activations shrink ("variance
// collapse"). REPAIR measures, on training data, the mean and standard deviation of every
// hidden channel's preactivation in both endpoints, and rescales and shifts each channel of
// the interpolated network so that its statistics are the interpolation of the endpoints'.
// The correction is fused into the weight row and bias of the channel, so the repaired
// network has the same architecture and evaluates like any other.

// repairEps is added to a channel's variance before dividing by its standard deviation,
// as BatchNorm does (and the REPAIR notebook, which uses BatchNorm layers for the
// reset): a channel that is constant over the data is moved to its goal mean, not blown up.
const repairEps = 1e-5

// ResetStats are the mean and (population) standard deviation of each hidden layer's
// preactivation channels over a set of examples: z = x·Wᵀ + b, before any LayerNorm and
// the activation.
type ResetStats struct {
	Mean, Std [][]float64 // [hidden layer][channel]
}

// MixStats returns Σ wᵢ·statsᵢ, means with means and standard deviations with standard
// deviations, as REPAIR interpolates them.
func MixStats(weights []float64, stats ...*ResetStats) *ResetStats {
	if len(weights) != len(stats) || len(stats) == 0 {
		panic(fmt.Errorf("%w: %d weights for %d statistics", ErrShape, len(weights), len(stats)))
	}
	out := &ResetStats{}
	for l := range stats[0].Mean {
		m, s := make([]float64, len(stats[0].Mean[l])), make([]float64, len(stats[0].Mean[l]))
		for k, st := range stats {
			for c := range m {
				m[c] += weights[k] * st.Mean[l][c]
				s[c] += weights[k] * st.Std[l][c]
			}
		}
		out.Mean, out.Std = append(out.Mean, m), append(out.Std, s)
	}
	return out
}

// checkRepair says whether REPAIR applies to a: MLPs (convolutional networks would need
// their statistics per channel over positions, which modulo does not compute yet).
func checkRepair(a Arch) error {
	if a.Kind != "mlp" {
		return fmt.Errorf("REPAIR is implemented for MLPs; a %s is not supported yet", a.Kind)
	}
	return nil
}

// PreactivationStats measures the ResetStats of net on the n rows of x (n×Input).
func PreactivationStats(ctx context.Context, net *Network, x []float32, n int, impl blas.Impl) (*ResetStats, error) {
	if err := checkRepair(net.Arch); err != nil {
		return nil, err
	}
	st := &ResetStats{}
	err := layerwise(ctx, net, x, n, impl, func(l int, z []float32, out int) {
		m, s := channelStats(z, n, out)
		st.Mean, st.Std = append(st.Mean, m), append(st.Std, s)
	})
	return st, err
}

// Repair resets net in place so that, on the n rows of x, each hidden layer's
// preactivation channels have goal's mean and standard deviation: layer by layer, each
// channel c of layer l is mapped z ↦ (z − μ_c)·s_c + goal μ_c with s_c = goal σ_c /
// √(σ_c² + ε), measured after the layers below were reset, and the map is fused into the
// channel's weight row and bias.
func Repair(ctx context.Context, net *Network, goal *ResetStats, x []float32, n int, impl blas.Impl) error {
	if err := checkRepair(net.Arch); err != nil {
		return err
	}
	if len(goal.Mean) != len(net.Arch.Hidden) {
		return fmt.Errorf("%w: statistics of %d hidden layers for a network of %d", ErrShape, len(goal.Mean), len(net.Arch.Hidden))
	}
	if !net.Arch.Bias {
		return fmt.Errorf("REPAIR fuses its shift into the biases, and this MLP has none (bias = false)")
	}
	return layerwise(ctx, net, x, n, impl, func(l int, z []float32, out int) {
		w, b := net.Param(WeightName(l)).Data, net.Param(BiasName(l))
		in := len(w) / out
		mean, std := channelStats(z, n, out)
		for c := 0; c < out; c++ {
			s := goal.Std[l][c] / math.Sqrt(std[c]*std[c]+repairEps)
			shift := goal.Mean[l][c] - mean[c]*s
			for j := c * in; j < (c+1)*in; j++ {
				w[j] = float32(float64(w[j]) * s)
			}
			b.Data[c] = float32(float64(b.Data[c])*s + shift)
			for r := 0; r < n; r++ {
				z[r*out+c] = float32(float64(z[r*out+c])*s + shift)
			}
		}
	})
}

// channelStats returns the mean and population standard deviation of each of the out
// columns of z (n×out), accumulated in float64.
func channelStats(z []float32, n, out int) (mean, std []float64) {
	mean, std = make([]float64, out), make([]float64, out)
	for r := 0; r < n; r++ {
		row := z[r*out : (r+1)*out]
		for c, v := range row {
			mean[c] += float64(v)
		}
	}
	for c := range mean {
		mean[c] /= float64(n)
	}
	for r := 0; r < n; r++ {
		row := z[r*out : (r+1)*out]
		for c, v := range row {
			d := float64(v) - mean[c]
			std[c] += d * d
		}
	}
	for c := range std {
		std[c] = math.Sqrt(std[c] / float64(n))
	}
	return mean, std
}

// layerwise runs net over the n rows of x one layer at a time, all rows at once, calling
// visit with each hidden layer's preactivations z (n×out) before its norm and activation;
// visit may change them (and the layer's parameters), and the layers above see the
// change. Memory is two n×width buffers.
func layerwise(ctx context.Context, net *Network, x []float32, n int, impl blas.Impl, visit func(l int, z []float32, out int)) error {
	a := net.Arch
	if n < 1 || len(x) < n*a.Input {
		return fmt.Errorf("%w: %d examples of %d values for REPAIR's statistics", ErrShape, n, a.Input)
	}
	widths := a.Widths()
	in, inW := x[:n*a.Input], a.Input
	var mean, rstd []float64
	if a.LayerNorm {
		mean, rstd = make([]float64, n), make([]float64, n)
	}
	for l := range a.Hidden {
		if err := ctx.Err(); err != nil {
			return err
		}
		out := widths[l+1]
		z := make([]float32, n*out)
		var bias []float32
		if p := net.Param(BiasName(l)); p != nil {
			bias = p.Data
		}
		linear(impl, in, n, net.Param(WeightName(l)).Data, false, bias, inW, out, z)
		visit(l, z, out)
		y := z
		if a.LayerNorm {
			y = make([]float32, n*out)
			layerNorm(z, y, net.Param(NormWeightName(l)).Data, net.Param(NormBiasName(l)).Data, n, out, mean, rstd)
		}
		h := make([]float32, n*out)
		activate(a.Activation, y, h)
		in, inW = h, out
	}
	return nil
}

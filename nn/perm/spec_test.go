package perm

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
)

// naiveApply is the definition of Apply, index by index: for a parameter whose axes follow
// groups g0…gk, dst[i0, …, ik] = src[P_g0[i0], …, P_gk[ik]].
func naiveApply(p Permutation, n *nn.Network) *nn.Network {
	out := n.Clone()
	for pi, s := range p.Arch.Spec().Params {
		src, dst := n.Params[pi].Data, out.Params[pi].Data
		idx := make([]int, len(s.Shape))
		for flat := range dst {
			r := flat
			for ax := len(s.Shape) - 1; ax >= 0; ax-- {
				idx[ax] = r % s.Shape[ax]
				r /= s.Shape[ax]
			}
			from := 0
			for ax, i := range idx {
				if g := s.Axes[ax]; g >= 0 {
					i = p.Groups[g][i]
				}
				from = from*s.Shape[ax] + i
			}
			dst[flat] = src[from]
		}
	}
	return out
}

func TestApplyIsTheDefinition(t *testing.T) {
	for i, a := range allArchs() {
		n := randomNet(t, a, uint64(i+1))
		for seed := range uint64(3) {
			p := Random(a, seed+uint64(10*i))
			if got, want := apply(t, p, n), naiveApply(p, n); !sameNetwork(got, want) {
				t.Errorf("%s seed %d: Apply differs from its definition", a, seed)
			}
		}
	}
}

// TestGather checks the moved-axis layouts weight matching uses on a rank-4 tensor against
// the definition.
func TestGather(t *testing.T) {
	shape := []int{2, 3, 4, 5}
	src := make([]float32, 120)
	for i := range src {
		src[i] = float32(i)
	}
	perms := [][]int{{1, 0}, {2, 0, 1}, {3, 1, 0, 2}, {4, 2, 0, 1, 3}}
	for ax := range shape {
		for _, mask := range []int{0b0000, 0b1111, 0b0101, 0b1010, 0b0011} {
			idx := make([][]int, 4)
			for k := range idx {
				if mask&(1<<k) != 0 && k != ax {
					idx[k] = perms[k]
				}
			}
			order := axisFirst(4, ax)
			got := make([]float32, 120)
			gather(got, src, shape, idx, order)
			// want[j] with j the position in (order) layout.
			want := make([]float32, 120)
			pos := 0
			var oshape []int
			for _, o := range order {
				oshape = append(oshape, shape[o])
			}
			for a := range oshape[0] {
				for b := range oshape[1] {
					for c := range oshape[2] {
						for d := range oshape[3] {
							i := make([]int, 4)
							for k, v := range []int{a, b, c, d} {
								i[order[k]] = v
							}
							from := 0
							for k := range 4 {
								v := i[k]
								if idx[k] != nil {
									v = idx[k][v]
								}
								from = from*shape[k] + v
							}
							want[pos] = src[from]
							pos++
						}
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("axis %d first, permuted axes %04b: got %v, want %v", ax, mask, got, want)
			}
		}
	}
}

func TestInnerIsTheDefinition(t *testing.T) {
	for i, a := range allArchs() {
		x, y := randomNet(t, a, uint64(2*i+1)), randomNet(t, a, uint64(2*i+2))
		p := Random(a, uint64(i))
		got, err := Inner(x, y, p)
		if err != nil {
			t.Fatal(err)
		}
		py := naiveApply(p, y)
		want := 0.0
		for k, q := range x.Params {
			for j, v := range q.Data {
				want += float64(v) * float64(py.Params[k].Data[j])
			}
		}
		if got != want {
			t.Errorf("%s: Inner = %v, want %v", a, got, want)
		}
	}
}

// TestRecoverySpec relabels VGGs and ResNets with a random permutation q and checks that
// weight matching finds exactly q⁻¹, that the objective is ‖a‖², and that the aligned copy
// is the original bit for bit.
func TestRecoverySpec(t *testing.T) {
	for i, a := range convArchs() {
		t.Run(a.String(), func(t *testing.T) {
			n := randomNet(t, a, uint64(i+20))
			self, err := Inner(n, n, Identity(a))
			if err != nil {
				t.Fatal(err)
			}
			for seed := range uint64(3) {
				q := Random(a, seed+uint64(7*i))
				b := apply(t, q, n)
				res, err := WeightMatch(context.Background(), n, b, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				if want := q.Inverse(); !res.Perm.Equal(want) {
					t.Fatalf("seed %d: fixed-point fraction with q⁻¹ %v, want exactly q⁻¹", seed, FixedPointFraction(res.Perm, want))
				}
				if math.Abs(res.Objective-self) > 1e-6*self {
					t.Errorf("seed %d: objective %v, want ‖a‖² = %v", seed, res.Objective, self)
				}
				if res.Sweeps < 1 {
					t.Errorf("seed %d: %d sweeps", seed, res.Sweeps)
				}
				if !sameNetwork(apply(t, res.Perm, b), n) {
					t.Errorf("seed %d: the aligned network is not the original bit for bit", seed)
				}
			}
		})
	}
}

// TestSpecMatcherAgreesWithMLPMatcher runs the generic descent on MLPs, which have a faster
// matcher of their own: relabelled by a random q, both find exactly q⁻¹.
func TestSpecMatcherAgreesWithMLPMatcher(t *testing.T) {
	for i, a := range testArchs() {
		n := randomNet(t, a, uint64(i+40))
		q := Random(a, uint64(i))
		b := apply(t, q, n)
		opt := WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: 3}
		fast, err := WeightMatch(context.Background(), n, b, opt)
		if err != nil {
			t.Fatal(err)
		}
		pa, _ := params(n, a)
		pb, _ := params(b, a)
		opt.BLAS = nil
		generic, sweeps, err := matchSpec(context.Background(), a, []map[string][]float32{pa}, []map[string][]float32{pb}, withDefaults(opt))
		if err != nil {
			t.Fatal(err)
		}
		if !generic.Equal(fast.Perm) || !generic.Equal(q.Inverse()) {
			t.Errorf("%s: generic descent agrees with the MLP matcher on %v of the units and with q⁻¹ on %v",
				a, FixedPointFraction(generic, fast.Perm), FixedPointFraction(generic, q.Inverse()))
		}
		if (sweeps == 0) != (len(a.Hidden) == 0) {
			t.Errorf("%s: generic descent took %d sweeps", a, sweeps)
		}
	}
}

// withDefaults fills in what WeightMatch fills in before it descends.
func withDefaults(opt WMOptions) WMOptions {
	if opt.BLAS == nil {
		opt.BLAS = blas.Default()
	}
	return opt
}

// TestActivationMatchConv: activation matching of a VGG or ResNet and a relabelled copy
// finds exactly the inverse relabelling, with every kernel, so the aligned copy is the
// original (barrier 0).
func TestActivationMatchConv(t *testing.T) {
	for i, a := range convArchs() {
		n := randomNet(t, a, uint64(i+1))
		x := randomInputs(32, a.Input, 1)
		q := Random(a, uint64(i+3))
		b := apply(t, q, n)
		for _, kernel := range Kernels {
			res, err := ActivationMatch(context.Background(), n, b, x, 32, AMOptions{Kernel: kernel, Batch: 8})
			if err != nil {
				t.Fatal(err)
			}
			if want := q.Inverse(); !res.Perm.Equal(want) {
				t.Errorf("%s, %s kernel: fixed-point fraction with q⁻¹ %v, want exactly q⁻¹", a, kernel, FixedPointFraction(res.Perm, want))
			} else if !sameNetwork(apply(t, res.Perm, b), n) {
				t.Errorf("%s, %s kernel: the aligned network is not the original", a, kernel)
			}
		}
	}
}

// TestWeightMatchSpecCancel: the generic descent stops wherever the cancellation arrives.
func TestWeightMatchSpecCancel(t *testing.T) {
	a := convArchs()[2]
	x, y := randomNet(t, a, 1), randomNet(t, a, 2)
	for _, checks := range []int{0, 1, 3, 10, 60} {
		if _, err := WeightMatch(after(checks), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled after %d checks: got %v, want context.Canceled", checks, err)
		}
	}
}

// TestWeightMatchSpecProgress: Progress sees every sweep of the generic descent, the last
// one gaining nothing, and a warm start at the result ends after one sweep.
func TestWeightMatchSpecProgress(t *testing.T) {
	for i, a := range convArchs() {
		x, y := randomNet(t, a, uint64(2*i+1)), randomNet(t, a, uint64(2*i+2))
		var sweeps []int
		var last float64
		opt := WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: 1, Progress: func(s int, gain float64) { sweeps, last = append(sweeps, s), gain }}
		res, err := WeightMatch(context.Background(), x, y, opt)
		if err != nil {
			t.Fatal(err)
		}
		var want []int
		for s := range res.Sweeps {
			want = append(want, s+1)
		}
		if !slices.Equal(sweeps, want) || last > GainTol {
			t.Errorf("%s: reported sweeps %v ending with gain %g, want %v ending with none", a, sweeps, last, want)
		}
		base, _ := Inner(x, y, Identity(a))
		if exact, _ := Inner(x, y, res.Perm); res.Objective != exact || res.Objective < base {
			t.Errorf("%s: objective %v, want Inner %v, at least the identity's %v", a, res.Objective, exact, base)
		}
		again, _ := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: 1})
		if !again.Perm.Equal(res.Perm) || again.Sweeps != res.Sweeps {
			t.Errorf("%s: the same seed gave a different result", a)
		}
		warm, err := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: 2, Init: &res.Perm})
		if err != nil {
			t.Fatal(err)
		}
		if !warm.Perm.Equal(res.Perm) || warm.Sweeps != 1 {
			t.Errorf("%s: warm start at the optimum moved to another permutation or took %d sweeps", a, warm.Sweeps)
		}
	}
}

// TestForgedConvPermutation: a file or JSON that claims a huge convolutional architecture
// is an error before anything of the claimed size is allocated.
func TestForgedConvPermutation(t *testing.T) {
	plan := slices.Repeat([]int{1 << 24}, 1000)
	huge := nn.Arch{Kind: "vgg", Input: 3 * 32 * 32, Output: 10, Activation: "relu", Bias: true, Channels: 3, Height: 32, Width: 32, Plan: plan}
	if err := huge.Validate(); err != nil {
		t.Fatalf("the forged architecture should be valid, to reach the groups: %v", err)
	}
	archJSON, _ := json.Marshal(huge)
	d := binary.LittleEndian.AppendUint64(nil, 0)
	b, err := nn.EncodeSafetensors([]nn.Tensor{{Name: "perm.0", DType: "I64", Shape: []int{1}, Data: d}}, map[string]string{archKey: string(archJSON)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeSafetensors(b); err == nil || !strings.Contains(err.Error(), "want [16777216]") {
		t.Errorf("safetensors: error %v, want a shape mismatch", err)
	}
	var p Permutation
	in := `{"arch":` + string(archJSON) + `,"groups":[[0]]}`
	if err := p.UnmarshalJSON([]byte(in)); err == nil || !strings.Contains(err.Error(), "1 groups") {
		t.Errorf("JSON: error %v, want a group count mismatch", err)
	}
}

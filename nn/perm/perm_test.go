package perm

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
)

// testArchs covers every activation, with and without biases and LayerNorm, and depths
// from no hidden layer to three.
func testArchs() []nn.Arch {
	var as []nn.Arch
	for _, act := range nn.Activations {
		for _, ln := range []bool{false, true} {
			for _, bias := range []bool{true, false} {
				as = append(as, nn.Arch{Kind: "mlp", Input: 9, Hidden: []int{12, 7, 10}, Output: 4, Activation: act, LayerNorm: ln, Bias: bias})
			}
		}
	}
	return append(as,
		nn.Arch{Kind: "mlp", Input: 5, Hidden: []int{6}, Output: 3, Activation: "relu", Bias: true},
		nn.Arch{Kind: "mlp", Input: 5, Output: 3, Activation: "relu", Bias: true})
}

// convArchs are small networks of the convolutional kinds: a VGG with poolings and
// LayerNorm, one without norms, and ResNets of two and three stages with two blocks each,
// with and without LayerNorm (nn's own examples are not exported).
func convArchs() []nn.Arch {
	return []nn.Arch{
		{Kind: "vgg", Input: 3 * 8 * 8, Output: 10, Activation: "relu", Bias: true, LayerNorm: true, Channels: 3, Height: 8, Width: 8, Plan: []int{4, nn.PlanPool, 6, 6, nn.PlanPool, 5}},
		{Kind: "vgg", Input: 1 * 6 * 6, Output: 3, Activation: "relu", Bias: true, Channels: 1, Height: 6, Width: 6, Plan: []int{3, nn.PlanPool, 5}},
		{Kind: "resnet", Input: 2 * 8 * 8, Output: 4, Activation: "relu", LayerNorm: true, Channels: 2, Height: 8, Width: 8, Plan: []int{4, 6, 8}, Blocks: 2},
		{Kind: "resnet", Input: 1 * 5 * 7, Output: 3, Activation: "relu", Channels: 1, Height: 5, Width: 7, Plan: []int{3, 5}, Blocks: 2},
	}
}

// allArchs is every test architecture, MLPs first.
func allArchs() []nn.Arch { return append(testArchs(), convArchs()...) }

// randomNet returns an initialised network whose LayerNorm parameters are moved away from
// 1 and 0, so that permuting them wrongly would show.
func randomNet(t testing.TB, a nn.Arch, seed uint64) *nn.Network {
	t.Helper()
	n, err := nn.Init(a, "pytorch", seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := nn.NewRand(seed, 99)
	for i, s := range a.Spec().Params {
		p := n.Params[i]
		if s.Role == nn.RoleNormWeight || s.Role == nn.RoleNormBias {
			for j := range p.Data {
				p.Data[j] += float32(rng.NormFloat64() * 0.3)
			}
		}
	}
	return n
}

// randomInputs returns rows×d standard normal features.
func randomInputs(rows, d int, seed uint64) []float32 {
	rng := nn.NewRand(seed, 7)
	x := make([]float32, rows*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// logits runs n through nn's own forward pass.
func logits(n *nn.Network, x []float32, rows int) []float32 {
	return slices.Clone(nn.NewModel(n, rows, blas.Default()).Forward(x, rows))
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// sameNetwork reports whether a and b have bit-identical parameters, in the same order.
func sameNetwork(a, b *nn.Network) bool {
	return a.Arch.Equal(b.Arch) && slices.EqualFunc(a.Params, b.Params, func(p, q *nn.Param) bool {
		return p.Name == q.Name && slices.Equal(p.Shape, q.Shape) && slices.Equal(p.Data, q.Data)
	})
}

func apply(t testing.TB, p Permutation, n *nn.Network) *nn.Network {
	t.Helper()
	out, err := p.Apply(n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyKeepsFunction(t *testing.T) {
	for i, a := range testArchs() {
		t.Run(a.String(), func(t *testing.T) {
			n := randomNet(t, a, uint64(i+1))
			x := randomInputs(16, a.Input, uint64(i))
			want := logits(n, x, 16)
			for seed := range uint64(3) {
				p := Random(a, seed)
				got := logits(apply(t, p, n), x, 16)
				if d := maxAbsDiff(got, want); d > 1e-5 {
					t.Errorf("seed %d: logits of the permuted network differ by %g", seed, d)
				}
			}
		})
	}
}

// TestApplyConvention pins what Groups[l][i] means: the unit of the original network that
// lands at position i, carrying its row of layers.l.weight and its column of
// layers.(l+1).weight.
func TestApplyConvention(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 2, Hidden: []int{3}, Output: 2, Activation: "relu", Bias: true, LayerNorm: true}
	n := nn.NewNetwork(a)
	for _, p := range n.Params {
		for j := range p.Data {
			p.Data[j] = float32(100*len(p.Name) + j) // every entry distinct
		}
	}
	p := Permutation{Arch: a, Groups: [][]int{{2, 0, 1}}}
	got := apply(t, p, n)
	w0, w1 := n.Param("layers.0.weight").Data, n.Param("layers.1.weight").Data
	tests := []struct {
		name string
		want []float32
	}{
		{"layers.0.weight", []float32{w0[4], w0[5], w0[0], w0[1], w0[2], w0[3]}},
		{"layers.1.weight", []float32{w1[2], w1[0], w1[1], w1[5], w1[3], w1[4]}},
		{"layers.1.bias", n.Param("layers.1.bias").Data},
	}
	for _, name := range []string{"layers.0.bias", "norms.0.weight", "norms.0.bias"} {
		d := n.Param(name).Data
		tests = append(tests, struct {
			name string
			want []float32
		}{name, []float32{d[2], d[0], d[1]}})
	}
	for _, tt := range tests {
		if g := got.Param(tt.name).Data; !slices.Equal(g, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, g, tt.want)
		}
	}
	if &got.Params[0].Data[0] == &n.Params[0].Data[0] {
		t.Error("Apply shares memory with its input")
	}
}

func TestLaws(t *testing.T) {
	for i, a := range allArchs() {
		t.Run(a.String(), func(t *testing.T) {
			p, q, r := Random(a, uint64(3*i)), Random(a, uint64(3*i+1)), Random(a, uint64(3*i+2))
			id := Identity(a)
			n := randomNet(t, a, 5)
			laws := []struct {
				name      string
				got, want Permutation
			}{
				{"p∘p⁻¹", p.Compose(p.Inverse()), id},
				{"p⁻¹∘p", p.Inverse().Compose(p), id},
				{"p∘id", p.Compose(id), p},
				{"id∘p", id.Compose(p), p},
				{"(p∘q)∘r", p.Compose(q).Compose(r), p.Compose(q.Compose(r))},
				{"(p∘q)⁻¹", p.Compose(q).Inverse(), q.Inverse().Compose(p.Inverse())},
				{"(p⁻¹)⁻¹", p.Inverse().Inverse(), p},
			}
			for _, law := range laws {
				if !law.got.Equal(law.want) {
					t.Errorf("%s = %v, want %v", law.name, law.got.Groups, law.want.Groups)
				}
			}
			if got, want := apply(t, p.Compose(q), n), apply(t, p, apply(t, q, n)); !sameNetwork(got, want) {
				t.Error("Compose(q).Apply(n) differs from p.Apply(q.Apply(n))")
			}
			if got := apply(t, p.Inverse(), apply(t, p, n)); !sameNetwork(got, n) {
				t.Error("p⁻¹(p(n)) is not n")
			}
			if !sameNetwork(apply(t, id, n), n) {
				t.Error("the identity changes the network")
			}
		})
	}
}

func TestFixedPointFraction(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 4, Hidden: []int{20, 30}, Output: 2, Activation: "relu"}
	p := Random(a, 1)
	other := a
	other.Hidden = []int{20, 31}
	tests := []struct {
		name string
		p, q Permutation
		want float64
	}{
		{"identity", Identity(a), Identity(a), 1},
		{"self", p, p, 1},
		{"inverse of identity", Identity(a).Inverse(), Identity(a), 1},
		{"no hidden layers", Identity(nn.Arch{Kind: "mlp", Input: 2, Output: 2, Activation: "tanh"}), Identity(nn.Arch{Kind: "mlp", Input: 2, Output: 2, Activation: "tanh"}), 1},
		{"one unit differs", Permutation{Arch: a, Groups: [][]int{Identity(a).Groups[0], swap(Identity(a).Groups[1], 0, 1)}}, Identity(a), 48.0 / 50},
	}
	for _, tt := range tests {
		if got := FixedPointFraction(tt.p, tt.q); got != tt.want {
			t.Errorf("%s: FixedPointFraction = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := FixedPointFraction(p, Identity(other)); !math.IsNaN(got) {
		t.Errorf("different architectures: got %v, want NaN", got)
	}
	// A random permutation has one fixed point per group on average: 2/50 here.
	const trials = 2000
	sum := 0.0
	for s := range uint64(trials) {
		sum += FixedPointFraction(Random(a, s+100), Identity(a))
	}
	if mean := sum / trials; math.Abs(mean-2.0/50) > 0.005 {
		t.Errorf("mean fixed-point fraction of random permutations = %v, want ≈ %v", mean, 2.0/50)
	}
}

func swap(g []int, i, j int) []int {
	g = slices.Clone(g)
	g[i], g[j] = g[j], g[i]
	return g
}

func TestValidate(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 4, Hidden: []int{3, 2}, Output: 2, Activation: "relu"}
	tests := []struct {
		name   string
		groups [][]int
		arch   nn.Arch
		err    string // "" when valid
	}{
		{"valid", [][]int{{2, 0, 1}, {1, 0}}, a, ""},
		{"too few groups", [][]int{{2, 0, 1}}, a, "has 1 groups"},
		{"short group", [][]int{{0, 1}, {1, 0}}, a, "2 entries for a layer of width 3"},
		{"repeat", [][]int{{0, 0, 1}, {1, 0}}, a, "appears twice"},
		{"negative", [][]int{{0, -1, 1}, {1, 0}}, a, "outside"},
		{"too large", [][]int{{0, 3, 1}, {1, 0}}, a, "outside"},
		{"bad arch", [][]int{{2, 0, 1}, {1, 0}}, nn.Arch{Kind: "cnn", Input: 4, Hidden: []int{3, 2}, Output: 2, Activation: "relu"}, "invalid architecture"},
	}
	for _, tt := range tests {
		err := Permutation{Arch: tt.arch, Groups: tt.groups}.Validate()
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.err)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 4, Hidden: []int{3, 2}, Output: 2, Activation: "relu", Bias: true}
	other := a
	other.Hidden = []int{3, 3}
	n := randomNet(t, a, 1)
	missing := n.Clone()
	missing.Params = missing.Params[1:]
	short := n.Clone()
	short.Params[0].Data = short.Params[0].Data[1:]
	extra := n.Clone()
	extra.Params = append(extra.Params, &nn.Param{Name: "extra", Shape: []int{1}, Data: []float32{1}})
	tests := []struct {
		name string
		p    Permutation
		n    *nn.Network
		err  string
	}{
		{"other arch", Identity(other), n, "not mlp"},
		{"invalid perm", Permutation{Arch: a, Groups: [][]int{{0, 0, 1}, {0, 1}}}, n, "twice"},
		{"missing", Identity(a), missing, "lacks parameters layers.0.weight"},
		{"short", Identity(a), short, "layers.0.weight"},
		{"extra", Identity(a), extra, "unexpected parameter"},
		{"nil", Identity(a), nil, "nil"},
	}
	for _, tt := range tests {
		if _, err := tt.p.Apply(tt.n); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: Apply error = %v, want one containing %q", tt.name, err, tt.err)
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "shape mismatch") {
			t.Errorf("Compose of different architectures: panic %v, want nn.ErrShape", r)
		}
	}()
	Identity(a).Compose(Identity(other))
}

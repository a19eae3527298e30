package prune

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/perm"
)

// small is the architecture of the counting tests: 640 + 1024 + 128 = 1792 weights.
var small = nn.Arch{Kind: "mlp", Input: 20, Hidden: []int{32, 32}, Output: 4, Activation: "relu", Bias: true}

func initNet(t testing.TB, a nn.Arch, seed uint64) *nn.Network {
	t.Helper()
	n, err := nn.Init(a, "pytorch", seed)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func layerSizes(a nn.Arch) []int {
	w := a.Widths()
	s := make([]int, a.Layers())
	for i := range s {
		s[i] = w[i] * w[i+1]
	}
	return s
}

// pruneCount is round(r/5) for an integer r, the number pruned at fraction 0.2: r/5 has a
// fractional part of 0, .2, .4, .6 or .8, never a half, so rounding is (r+2)/5.
func pruneCount(r int) int { return (r + 2) / 5 }

// wantKept returns, by the counting rule's integer arithmetic, the weights kept in each
// prunable layer (Layer scope) or in total (Global scope) after k levels at fraction 0.2.
func wantKept(a nn.Arch, scope Scope, exempt bool, k int) (total int, perLayer []int) {
	sizes := layerSizes(a)
	if exempt {
		sizes = sizes[:len(sizes)-1]
	}
	if scope == Global {
		r := 0
		for _, s := range sizes {
			r += s
		}
		for range k {
			r -= pruneCount(r)
		}
		return r, nil
	}
	for _, r := range sizes {
		for range k {
			r -= pruneCount(r)
		}
		perLayer = append(perLayer, r)
		total += r
	}
	return total, perLayer
}

func TestSparsityAfterLevels(t *testing.T) {
	// The first level by hand: 1792·0.2 = 358.4 → 358 pruned; per layer 128, 204.8 → 205
	// and 25.6 → 26; without the output layer 1664·0.2 = 332.8 → 333.
	first := map[Scope]map[bool]int{Global: {false: 1434, true: 1331}, Layer: {false: 1433, true: 1331}}
	for _, scope := range []Scope{Global, Layer} {
		for _, exempt := range []bool{false, true} {
			opt := Options{Fraction: 0.2, Scope: scope, ExemptOutput: exempt}
			names := Prunable(small, opt)
			if want := small.Layers() - map[bool]int{false: 0, true: 1}[exempt]; len(names) != want {
				t.Fatalf("%v: Prunable = %v", opt, names)
			}
			m := Dense(small, opt)
			_, total := m.Count()
			for k := 1; k <= 5; k++ {
				// A fresh network per level, as after retraining.
				n := initNet(t, small, uint64(k))
				next, err := Next(n, m, opt)
				if err != nil {
					t.Fatal(err)
				}
				m = next
				kept, gotTotal := m.Count()
				want, perLayer := wantKept(small, scope, exempt, k)
				if k == 1 && want != first[scope][exempt] {
					t.Fatalf("%v: the arithmetic gives %d after one level, by hand %d", opt, want, first[scope][exempt])
				}
				if kept != want || gotTotal != total {
					t.Errorf("%s exempt=%v level %d: kept %d of %d, want %d of %d", scope, exempt, k, kept, gotTotal, want, total)
				}
				for l, w := range perLayer {
					if got, _ := (Mask{names[l]: m[names[l]]}).Count(); got != w {
						t.Errorf("%s exempt=%v level %d: %s keeps %d, want %d", scope, exempt, k, names[l], got, w)
					}
				}
				if got, want := m.Sparsity(), 1-float64(want)/float64(total); got != want {
					t.Errorf("%s exempt=%v level %d: sparsity %v, want %v", scope, exempt, k, got, want)
				}
				if _, ok := m[nn.WeightName(small.Layers()-1)]; ok == exempt {
					t.Errorf("%s exempt=%v: the mask covers the output layer: %v", scope, exempt, ok)
				}
				if len(m) != len(names) {
					t.Errorf("mask covers %d parameters, want %d", len(m), len(names))
				}
			}
		}
	}
}

// TestRounding pins halves (away from zero).
func TestRounding(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 7, Output: 1, Activation: "relu"} // 7 weights
	n := initNet(t, a, 1)
	for _, c := range []struct {
		fraction float64
		kept     int
	}{{0.5, 3}, {0.2, 6}, {0.3, 5}, {0.05, 7}, {0.95, 0}} {
		m, err := Next(n, nil, Options{Fraction: c.fraction, Scope: Global})
		if err != nil {
			t.Fatal(err)
		}
		if kept, _ := m.Count(); kept != c.kept {
			t.Errorf("fraction %g of 7: kept %d, want %d", c.fraction, kept, c.kept)
		}
	}
}

// TestThreshold checks that what is pruned is never larger than what is kept: over the
// whole network for Global, within each layer for Layer.
func TestThreshold(t *testing.T) {
	n := initNet(t, small, 3)
	for _, scope := range []Scope{Global, Layer} {
		m, err := Next(n, nil, Options{Fraction: DefaultFraction, Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		groups := [][]string{Prunable(small, Options{})}
		if scope == Layer {
			groups = nil
			for _, name := range Prunable(small, Options{}) {
				groups = append(groups, []string{name})
			}
		}
		for _, g := range groups {
			checkSmallestPruned(t, fmt.Sprintf("%s %v", scope, g), n, m, g)
		}
	}
}

// checkSmallestPruned fails t if m pruned a weight of the named parameters larger in
// magnitude than one it kept among them.
func checkSmallestPruned(t *testing.T, label string, n *nn.Network, m Mask, names []string) {
	t.Helper()
	maxPruned, minKept := 0.0, math.Inf(1)
	for _, name := range names {
		for i, w := range n.Param(name).Data {
			if a := math.Abs(float64(w)); m[name][i] == 0 {
				maxPruned = max(maxPruned, a)
			} else {
				minKept = min(minKept, a)
			}
		}
	}
	if maxPruned > minKept {
		t.Errorf("%s: pruned up to %g but kept down to %g", label, maxPruned, minKept)
	}
}

// TestTies: among equal magnitudes the earlier weight goes first, so the count is exact.
func TestTies(t *testing.T) {
	n := nn.NewNetwork(small)
	for _, p := range n.Params {
		for i := range p.Data {
			p.Data[i] = float32(1 - 2*(i%2)) // ±1: one magnitude everywhere
		}
	}
	for _, scope := range []Scope{Global, Layer} {
		m, err := Next(n, nil, Options{Scope: scope, Fraction: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		left := 358 // Global: the first 358 weights in Prunable order
		for l, name := range Prunable(small, Options{}) {
			size := len(m[name])
			pruned := min(left, size)
			if scope == Layer {
				pruned = pruneCount(size)
			}
			left -= pruned
			for i, x := range m[name] {
				if want := float32(map[bool]int{true: 0, false: 1}[i < pruned]); x != want {
					t.Fatalf("%s: layer %d weight %d has mask %v, want %v", scope, l, i, x, want)
				}
			}
		}
	}
}

// TestMonotone: weights a mask prunes stay pruned however large they are in the network
// pruned next, and nothing pruned comes back.
func TestMonotone(t *testing.T) {
	for _, scope := range []Scope{Global, Layer} {
		opt := Options{Scope: scope, Fraction: 0.3}
		m := Dense(small, opt)
		for k := 1; k <= 6; k++ {
			n := initNet(t, small, uint64(10+k))
			for name, v := range m {
				w := n.Param(name).Data
				for i := range v {
					if v[i] == 0 {
						w[i] = 100 // larger than any surviving weight
					} else if i%7 == 0 {
						w[i] = 0
					}
				}
			}
			next, err := Next(n, m, opt)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range m {
				for i := range v {
					if next[name][i] > v[i] {
						t.Fatalf("%s level %d: %s[%d] was pruned and is back", scope, k, name, i)
					}
				}
			}
			m = next
		}
	}
}

func TestNextDoesNotModify(t *testing.T) {
	n := initNet(t, small, 1)
	before := n.Clone()
	m := Dense(small, Options{})
	m0 := m.Clone()
	if _, err := Next(n, m, standard); err != nil {
		t.Fatal(err)
	}
	if !m.Equal(m0) || !sameNet(n, before) {
		t.Error("Next modified its arguments")
	}
}

func TestNextErrors(t *testing.T) {
	n := initNet(t, small, 1)
	nan := n.Clone()
	nan.Param("layers.1.weight").Data[5] = float32(math.NaN())
	short := n.Clone()
	short.Param("layers.0.weight").Data = short.Param("layers.0.weight").Data[:10]
	for _, c := range []struct {
		name string
		n    *nn.Network
		m    Mask
		opt  Options
		want string
	}{
		{"negative fraction", n, nil, Options{Fraction: -0.1}, "outside (0, 1)"},
		{"fraction 1", n, nil, Options{Fraction: 1}, "outside (0, 1)"},
		{"NaN fraction", n, nil, Options{Fraction: math.NaN()}, "outside (0, 1)"},
		{"scope", n, nil, Options{Fraction: 0.2, Scope: "neuron"}, `unknown pruning scope "neuron"`},
		{"no fraction", n, nil, Options{Scope: Global}, "pruning fraction 0 is outside (0, 1)"},
		{"no scope", n, nil, Options{Fraction: 0.2}, `unknown pruning scope ""`},
		{"nil network", nil, nil, standard, "network is nil"},
		{"unknown mask", n, Mask{"layers.7.weight": make([]float32, 3)}, standard, `"layers.7.weight" names no prunable weight`},
		{"bias mask", n, Mask{"layers.0.bias": make([]float32, 32)}, standard, `"layers.0.bias" names no prunable weight`},
		{"exempt output", n, Mask{"layers.2.weight": make([]float32, 128)}, Options{Fraction: DefaultFraction, Scope: Global, ExemptOutput: true}, `"layers.2.weight" names no prunable weight`},
		{"length", n, Mask{"layers.0.weight": make([]float32, 3)}, standard, "has 3 values for 640 weights"},
		{"value", n, Mask{"layers.2.weight": slices.Repeat([]float32{0.5}, 128)}, standard, "value 0.5"},
		{"NaN weight", nan, nil, standard, "weight 5 of layers.1.weight is NaN"},
		{"short weight", short, nil, standard, "lacks parameter layers.0.weight"},
		{"invalid arch", &nn.Network{Arch: nn.Arch{Kind: "cnn"}}, nil, standard, "unknown model kind"},
	} {
		_, err := Next(c.n, c.m, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func sameNet(a, b *nn.Network) bool {
	return a.Arch.Equal(b.Arch) && slices.EqualFunc(a.Params, b.Params, func(p, q *nn.Param) bool {
		return p.Name == q.Name && slices.Equal(p.Shape, q.Shape) &&
			slices.EqualFunc(p.Data, q.Data, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	})
}

func TestApplyAndRewind(t *testing.T) {
	rewind := initNet(t, nn.Arch{Kind: "mlp", Input: 20, Hidden: []int{32, 32}, Output: 4, Activation: "tanh", LayerNorm: true, Bias: true}, 5)
	before := rewind.Clone()
	trained := initNet(t, rewind.Arch, 6)
	m, err := Next(trained, nil, Options{Fraction: 0.6, Scope: Layer})
	if err != nil {
		t.Fatal(err)
	}
	got := Rewind(rewind, m)
	if !sameNet(rewind, before) {
		t.Fatal("Rewind modified the rewind network")
	}
	zeros := 0
	for i, p := range got.Params {
		r := rewind.Params[i]
		if p.Name != r.Name || !slices.Equal(p.Shape, r.Shape) {
			t.Fatalf("parameter %d is %s %v, want %s %v", i, p.Name, p.Shape, r.Name, r.Shape)
		}
		mask := m[p.Name]
		for j, x := range p.Data {
			want := r.Data[j]
			if mask != nil && mask[j] == 0 {
				want = 0
				zeros++
			}
			if math.Float32bits(x) != math.Float32bits(want) {
				t.Fatalf("%s[%d] = %v, want %v (rewind value %v)", p.Name, j, x, want, r.Data[j])
			}
		}
	}
	if kept, total := m.Count(); zeros != total-kept {
		t.Errorf("%d weights zeroed, want %d", zeros, total-kept)
	}
	// Apply writes +0 over negative weights too.
	neg := nn.NewNetwork(small)
	for _, p := range neg.Params {
		for i := range p.Data {
			p.Data[i] = -1
		}
	}
	z := Apply(neg, Mask{"layers.1.weight": make([]float32, 1024)})
	for _, x := range z.Param("layers.1.weight").Data {
		if math.Float32bits(x) != 0 {
			t.Fatalf("pruned weight has bits %#x, want +0", math.Float32bits(x))
		}
	}
	for _, bad := range []Mask{{"layers.9.weight": {1}}, {"layers.0.weight": {1, 0}}} {
		func() {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, nn.ErrShape) {
					t.Errorf("Apply with %v: recovered %v, want nn.ErrShape", bad, err)
				}
			}()
			Apply(neg, bad)
		}()
	}
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		m           Mask
		kept, total int
		sparsity    float64
	}{
		{nil, 0, 0, 0},
		{Mask{}, 0, 0, 0},
		{Mask{"a": {1, 1, 0, 0}}, 2, 4, 0.5},
		{Mask{"a": {1, 0, 0, 0}, "b": {0, 0, 0, 0, 0, 0, 0, 0}}, 1, 12, 11.0 / 12},
		{Dense(small, Options{}), 1792, 1792, 0},
		{Dense(small, Options{ExemptOutput: true}), 1664, 1664, 0},
	} {
		kept, total := c.m.Count()
		if kept != c.kept || total != c.total || c.m.Sparsity() != c.sparsity {
			t.Errorf("%v: Count %d/%d, Sparsity %v; want %d/%d, %v", c.m, kept, total, c.m.Sparsity(), c.kept, c.total, c.sparsity)
		}
	}
}

// indexNet returns a network of a whose every parameter holds its index + 1, so that after
// a permutation each value says where it came from.
func indexNet(a nn.Arch) *nn.Network {
	n := nn.NewNetwork(a)
	for _, p := range n.Params {
		for i := range p.Data {
			p.Data[i] = float32(i + 1)
		}
	}
	return n
}

func TestTransport(t *testing.T) {
	for _, a := range []nn.Arch{small,
		{Kind: "mlp", Input: 9, Hidden: []int{12, 7, 10}, Output: 4, Activation: "gelu", LayerNorm: true},
		{Kind: "mlp", Input: 5, Output: 3, Activation: "relu", Bias: true}} {
		for _, exempt := range []bool{false, true} {
			opt := Options{Fraction: 0.5, ExemptOutput: exempt, Scope: Layer}
			m, err := Next(initNet(t, a, 2), nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			id, err := Transport(m, perm.Identity(a))
			if err != nil {
				t.Fatal(err)
			}
			if !id.Equal(m) {
				t.Errorf("%s: the identity moved the mask", a)
			}
			p := perm.Random(a, 7)
			moved, err := Transport(m, p)
			if err != nil {
				t.Fatal(err)
			}
			src := indexNet(a)
			pn, err := p.Apply(src) // each weight of pn says which weight of src it was
			if err != nil {
				t.Fatal(err)
			}
			pm, err := p.Apply(Apply(src, m)) // the masked network, permuted
			if err != nil {
				t.Fatal(err)
			}
			if len(moved) != len(m) {
				t.Fatalf("%s: %d masks moved, want %d", a, len(moved), len(m))
			}
			for name, v := range moved {
				from, masked := pn.Param(name).Data, pm.Param(name).Data
				for i, x := range v {
					j := int(from[i]) - 1
					if x != m[name][j] || (x == 0) != (masked[i] == 0) {
						t.Fatalf("%s: %s[%d] is %v, from weight %d with mask %v, permuted masked value %v", a, name, i, x, j, m[name][j], masked[i])
					}
				}
			}
			// And back again.
			back, err := Transport(moved, p.Inverse())
			if err != nil || !back.Equal(m) {
				t.Errorf("%s: transporting back by the inverse gives another mask (%v)", a, err)
			}
		}
	}
	if _, err := Transport(Mask{"layers.5.weight": {1}}, perm.Identity(small)); err == nil {
		t.Error("transporting a mask of an unknown parameter succeeded")
	}
	other := perm.Identity(nn.Arch{Kind: "mlp", Input: 20, Hidden: []int{16, 32}, Output: 4, Activation: "relu", Bias: true})
	if _, err := Transport(Dense(small, Options{}), other); err == nil {
		t.Error("transporting a mask into a permutation of another architecture succeeded")
	}
}

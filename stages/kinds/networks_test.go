package kinds

import (
	"testing"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/prune"
)

// TestSparseCompresses measures what a 90%-sparse LeNet-300-100 costs in the artifact
// cache: its safetensors blob, compressed by each codec, must be at most a quarter of the
// dense float32 size, and encodeNetwork must pick the smaller codec for dense and sparse
// networks alike. It logs the sizes (go test -v -run SparseCompresses ./stages/).
func TestSparseCompresses(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 784, Hidden: []int{300, 100}, Output: 10, Activation: "relu", Bias: true}
	n, err := nn.Init(a, "pytorch", 1)
	if err != nil {
		t.Fatal(err)
	}
	dense, err := encodeNetwork(n)
	if err != nil {
		t.Fatal(err)
	}
	if dense.Codec != artifacts.Shuffle4 {
		t.Errorf("a dense network is stored with %s, want shuffle4", dense.Codec)
	}
	denseBytes := 4 * n.NumParams()
	for _, opt := range []prune.Options{{Fraction: 0.9, Scope: prune.Global}, {Fraction: 0.9, Scope: prune.Layer}} {
		m, err := prune.Next(n, nil, opt)
		if err != nil {
			t.Fatal(err)
		}
		if s := m.Sparsity(); s < 0.9-1e-6 || s > 0.9+1e-6 {
			t.Fatalf("sparsity %v, want 0.9", s)
		}
		sparse, err := encodeNetwork(prune.Apply(n, m))
		if err != nil {
			t.Fatal(err)
		}
		mb, err := prune.Encode(a, m)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s 90%% sparse (%s): %d params, dense float32 %d B, safetensors %d B (dense network compressed: raw %d, shuffle4 %d)",
			a, opt.Scope, n.NumParams(), denseBytes, len(sparse.Data),
			compressed(t, dense.Data, artifacts.Raw), compressed(t, dense.Data, artifacts.Shuffle4))
		sizes := map[artifacts.Codec]int{}
		for _, c := range []artifacts.Codec{artifacts.Raw, artifacts.Shuffle4} {
			sizes[c] = compressed(t, sparse.Data, c)
			t.Logf("  %-8s sparse network %7d B (%.1f%% of dense float32), mask file %6d B of %d",
				c, sizes[c], 100*float64(sizes[c])/float64(denseBytes), compressed(t, mb, c), len(mb))
			if sizes[c] > denseBytes/4 {
				t.Errorf("%s: %d bytes compressed, more than a quarter of %d", c, sizes[c], denseBytes)
			}
		}
		if sparse.Codec != artifacts.Raw || sizes[artifacts.Raw] > sizes[artifacts.Shuffle4] {
			t.Errorf("a sparse network is stored with %s; raw %d B, shuffle4 %d B", sparse.Codec, sizes[artifacts.Raw], sizes[artifacts.Shuffle4])
		}
	}
}

func compressed(t *testing.T, b []byte, c artifacts.Codec) int {
	t.Helper()
	z, err := artifacts.Encode(b, c)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := artifacts.Decode(z); err != nil || string(back) != string(b) {
		t.Fatalf("%s does not round-trip: %v", c, err)
	}
	return len(z)
}

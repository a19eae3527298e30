package prune

import (
	"testing"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
)

// TestSparseCompresses measures what a 90%-sparse LeNet-300-100 costs in the artifact
// cache: its safetensors blob, compressed by each codec, must be at most a quarter of the
// dense float32 size. It logs the sizes (go test -v -run SparseCompresses).
func TestSparseCompresses(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 784, Hidden: []int{300, 100}, Output: 10, Activation: "relu", Bias: true}
	n := initNet(t, a, 1)
	denseBlob, err := nn.EncodeNetwork(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	denseBytes := 4 * n.NumParams()
	for _, opt := range []Options{{Fraction: 0.9, Scope: Global}, {Fraction: 0.9, Scope: Layer}} {
		m, err := Next(n, nil, opt)
		if err != nil {
			t.Fatal(err)
		}
		if s := m.Sparsity(); s < 0.9-1e-6 || s > 0.9+1e-6 {
			t.Fatalf("sparsity %v, want 0.9", s)
		}
		sparse := Apply(n, m)
		// nn.Train leaves −0 where a masked weight was negative; IMP canonicalises to +0.
		signed := sparse.Clone()
		for name, v := range m {
			w, orig := signed.Param(name).Data, n.Param(name).Data
			for i := range v {
				if v[i] == 0 && orig[i] < 0 {
					w[i] = -w[i] // −0
				}
			}
		}
		sb, err := nn.EncodeNetwork(sparse, nil)
		if err != nil {
			t.Fatal(err)
		}
		signedBlob, _ := nn.EncodeNetwork(signed, nil)
		mb, err := Encode(a, m)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s 90%% sparse (%s): %d params, dense float32 %d B, safetensors %d B (dense network compressed: raw %d, shuffle4 %d)",
			a, opt.Scope, n.NumParams(), denseBytes, len(sb),
			size(t, denseBlob, artifacts.Raw), size(t, denseBlob, artifacts.Shuffle4))
		for _, c := range []artifacts.Codec{artifacts.Raw, artifacts.Shuffle4} {
			got := size(t, sb, c)
			t.Logf("  %-8s sparse network %7d B (%.1f%% of dense float32), with −0s %7d B, mask file %6d B of %d",
				c, got, 100*float64(got)/float64(denseBytes), size(t, signedBlob, c), size(t, mb, c), len(mb))
			if got > denseBytes/4 {
				t.Errorf("%s: %d bytes compressed, more than a quarter of %d", c, got, denseBytes)
			}
		}
	}
}

func size(t *testing.T, b []byte, c artifacts.Codec) int {
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

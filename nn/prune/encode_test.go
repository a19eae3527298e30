package prune

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
)

func TestEncodeRoundTrip(t *testing.T) {
	ln := nn.Arch{Kind: "mlp", Input: 9, Hidden: []int{12, 7}, Output: 4, Activation: "gelu", LayerNorm: true}
	flat := nn.Arch{Kind: "mlp", Input: 5, Output: 3, Activation: "tanh", Bias: true}
	half, err := Next(initNet(t, small, 1), nil, Options{Fraction: 0.5, Scope: Global})
	if err != nil {
		t.Fatal(err)
	}
	delete(half, "layers.1.weight") // a mask may leave a layer dense
	for _, c := range []struct {
		name string
		a    nn.Arch
		m    Mask
	}{
		{"dense", small, Dense(small, Options{})},
		{"exempt output", small, Dense(small, Options{ExemptOutput: true})},
		{"half, one layer dense", small, half},
		{"empty", small, Mask{}},
		{"layernorm", ln, Mask{"layers.1.weight": make([]float32, 84)}},
		{"no hidden layer", flat, Mask{"layers.0.weight": {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}}},
	} {
		b, err := Encode(c.a, c.m)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		again, _ := Encode(c.a, c.m.Clone())
		if string(again) != string(b) {
			t.Errorf("%s: two encodings of one mask differ", c.name)
		}
		a, m, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !a.Equal(c.a) || !m.Equal(c.m) {
			t.Errorf("%s: decoded %s %d masks, want %s %d", c.name, a, len(m), c.a, len(c.m))
		}
		tensors, meta, err := nn.DecodeSafetensors(b)
		if err != nil {
			t.Fatal(err)
		}
		if meta["format"] != "pt" || len(tensors) != len(c.m) {
			t.Errorf("%s: metadata %v and %d tensors", c.name, meta, len(tensors))
		}
		for _, ts := range tensors {
			if ts.DType != "U8" || !strings.HasPrefix(ts.Name, "mask.layers.") {
				t.Errorf("%s: tensor %s of dtype %s", c.name, ts.Name, ts.DType)
			}
		}
	}
}

// TestDecodeBesideNetwork: a network and its mask in one file read back as both.
func TestDecodeBesideNetwork(t *testing.T) {
	n := initNet(t, small, 4)
	m, err := Next(n, nil, standard)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := nn.EncodeNetwork(Apply(n, m), nil)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := Encode(small, m)
	if err != nil {
		t.Fatal(err)
	}
	nt, meta, _ := nn.DecodeSafetensors(nb)
	mt, _, _ := nn.DecodeSafetensors(mb)
	both, err := nn.EncodeSafetensors(append(nt, mt...), meta)
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := Decode(both)
	if err != nil || !got.Equal(m) {
		t.Errorf("mask beside its network: %v", err)
	}
	net, _, err := nn.DecodeNetwork(both)
	if err != nil || !sameNet(net, Apply(n, m)) {
		t.Errorf("network beside its mask: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		a    nn.Arch
		m    Mask
		want string
	}{
		{"invalid arch", nn.Arch{Kind: "mlp", Input: 3, Output: 2, Activation: "swish"}, nil, "unknown activation"},
		{"unknown name", small, Mask{"layers.3.weight": {1}}, `"layers.3.weight" names no weight`},
		{"bias", small, Mask{"layers.0.bias": make([]float32, 32)}, `"layers.0.bias" names no weight`},
		{"length", small, Mask{"layers.2.weight": make([]float32, 127)}, "127 values for 128 weights"},
		{"value", small, Mask{"layers.2.weight": append(make([]float32, 127), 2)}, "value 2 at 127"},
	} {
		if _, err := Encode(c.a, c.m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	archJSON := func(a nn.Arch) string { b, _ := json.Marshal(a); return string(b) }
	meta := map[string]string{archKey: archJSON(small)}
	st := func(meta map[string]string, ts ...nn.Tensor) []byte {
		b, err := nn.EncodeSafetensors(ts, meta)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	u8 := func(name string, shape []int, v byte) nn.Tensor {
		size := 1
		for _, s := range shape {
			size *= s
		}
		d := make([]byte, size)
		for i := range d {
			d[i] = v
		}
		return nn.Tensor{Name: name, DType: "U8", Shape: shape, Data: d}
	}
	good := u8("mask.layers.2.weight", []int{4, 32}, 1)
	huge := small
	huge.Hidden = []int{1 << 40, 1 << 40}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"garbage", []byte("definitely not a safetensors file"), "header length"},
		{"header not JSON", append(binary.LittleEndian.AppendUint64(nil, 4), "{{{{"...), "header is invalid JSON"},
		{"no arch", st(nil, good), "no modulo.arch entry"},
		{"arch not JSON", st(map[string]string{archKey: "{"}, good), "not an architecture"},
		{"invalid arch", st(map[string]string{archKey: `{"kind":"mlp","input":0,"output":3,"activation":"relu"}`}, good), "must be positive"},
		{"unknown layer", st(meta, u8("mask.layers.3.weight", []int{4, 32}, 1)), `"mask.layers.3.weight" names no weight`},
		{"bias", st(meta, u8("mask.layers.0.bias", []int{32}, 1)), `"mask.layers.0.bias" names no weight`},
		{"shape", st(meta, u8("mask.layers.2.weight", []int{32, 4}, 1)), "has shape [32 4], want [4 32]"},
		{"flat shape", st(meta, u8("mask.layers.2.weight", []int{128}, 1)), "has shape [128], want [4 32]"},
		{"float mask", st(meta, nn.Tensor{Name: "mask.layers.2.weight", DType: "F32", Shape: []int{1}, Data: make([]byte, 4)}), "dtype F32, want U8 or BOOL"},
		{"value", st(meta, u8("mask.layers.2.weight", []int{4, 32}, 2)), "value 2 at 0"},
		{"stray tensor", st(meta, good, u8("perm.0", []int{32}, 0)), `unexpected tensor "perm.0"`},
		{"parameter of the wrong shape", st(meta, good, nn.Tensor{Name: "layers.2.bias", DType: "F32", Shape: []int{3}, Data: make([]byte, 12)}), `unexpected tensor "layers.2.bias"`},
		{"forged huge arch", st(map[string]string{archKey: archJSON(huge)}, good), "has shape [4 32], want [4 1099511627776]"},
	} {
		_, _, err := Decode(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// BOOL masks, as PyTorch writes torch.bool tensors, are read too.
	b := st(meta, nn.Tensor{Name: "mask.layers.2.weight", DType: "BOOL", Shape: []int{4, 32}, Data: make([]byte, 128)})
	if _, m, err := Decode(b); err != nil || m.Sparsity() != 1 {
		t.Errorf("BOOL mask: %v, sparsity %v", err, m.Sparsity())
	}
}

func FuzzDecode(f *testing.F) {
	m, _ := Next(initNet(f, small, 1), nil, standard)
	b, _ := Encode(small, m)
	f.Add(b)
	f.Add([]byte{})
	m, _ = Next(initNet(f, resnet, 1), nil, standard)
	b, _ = Encode(resnet, m)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(a, m)
		if err != nil {
			t.Fatalf("a decoded mask does not encode: %v", err)
		}
		if _, m2, err := Decode(again); err != nil || !m2.Equal(m) {
			t.Fatalf("re-encoding changed the mask: %v", err)
		}
	})
}

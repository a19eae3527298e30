package perm

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
)

// TestApplyMasks checks that a mask stays on the weights it masked: masking then permuting
// equals permuting both and masking.
func TestApplyMasks(t *testing.T) {
	for i, a := range allArchs() {
		t.Run(a.String(), func(t *testing.T) {
			n := randomNet(t, a, uint64(i+1))
			rng := nn.NewRand(uint64(i), 5)
			masks := map[string][]float32{}
			masked := n.Clone()
			for j, q := range masked.Params {
				if j%2 == 1 { // masks may cover a subset of the parameters
					continue
				}
				m := make([]float32, len(q.Data))
				for k := range m {
					if rng.IntN(3) > 0 {
						m[k] = 1
					}
					q.Data[k] *= m[k]
				}
				masks[q.Name] = m
			}
			p := Random(a, uint64(i))
			pm, err := p.ApplyMasks(masks)
			if err != nil {
				t.Fatal(err)
			}
			if len(pm) != len(masks) {
				t.Fatalf("got %d masks, want %d", len(pm), len(masks))
			}
			want := apply(t, p, masked)
			got := apply(t, p, n)
			for _, q := range got.Params {
				if m := pm[q.Name]; m != nil {
					for k := range q.Data {
						q.Data[k] *= m[k]
					}
				}
			}
			if !sameNetwork(got, want) {
				t.Error("permuted masks do not mask the permuted weights")
			}
		})
	}
	a := testArchs()[0]
	bad := []struct {
		name  string
		masks map[string][]float32
		err   string
	}{
		{"unknown name", map[string][]float32{"layers.9.weight": {1}}, "names no parameter"},
		{"wrong length", map[string][]float32{"layers.0.bias": {1, 0}}, "2 values for 12 weights"},
	}
	for _, tt := range bad {
		if _, err := Identity(a).ApplyMasks(tt.masks); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.err)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for i, a := range allArchs() {
		p := Random(a, uint64(i))
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q Permutation
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if !q.Equal(p) {
			t.Errorf("%s: round trip gave %v, want %v", a, q.Groups, p.Groups)
		}
	}
	a := nn.Arch{Kind: "mlp", Input: 2, Hidden: []int{3}, Output: 2, Activation: "relu"}
	b, _ := json.Marshal(Permutation{Arch: a, Groups: [][]int{{1, 2, 0}}})
	want := `{"arch":{"kind":"mlp","input":2,"hidden":[3],"output":2,"activation":"relu","layer_norm":false,"bias":false},"groups":[[1,2,0]]}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant %s", b, want)
	}
	arch := `"arch":{"kind":"mlp","input":2,"hidden":[3],"output":2,"activation":"relu"}`
	bad := []struct{ name, in, err string }{
		{"not JSON", `{`, "permutation JSON: unexpected EOF"},
		{"repeat", `{` + arch + `,"groups":[[1,1,0]]}`, "twice"},
		{"out of range", `{` + arch + `,"groups":[[1,3,0]]}`, "outside"},
		{"missing group", `{` + arch + `,"groups":[]}`, "0 groups"},
		{"no arch", `{"groups":[[0]]}`, "invalid architecture"},
		{"unknown field", `{` + arch + `,"groups":[[0,1,2]],"x":1}`, "unknown field"},
		{"trailing data", `{` + arch + `,"groups":[[0,1,2]]} {}`, "data after the object"},
		{"not ints", `{` + arch + `,"groups":[["a"]]}`, "cannot unmarshal"},
	}
	for _, tt := range bad {
		var p Permutation
		if err := p.UnmarshalJSON([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.err)
		}
	}
	if _, err := json.Marshal(Permutation{Arch: a, Groups: [][]int{{0, 0, 1}}}); err == nil {
		t.Error("an invalid permutation was encoded")
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	for i, a := range allArchs() {
		p := Random(a, uint64(i))
		b, err := EncodeSafetensors(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeSafetensors(b)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if !q.Equal(p) {
			t.Errorf("%s: round trip gave %v, want %v", a, q.Groups, p.Groups)
		}
		again, _ := EncodeSafetensors(q)
		if string(again) != string(b) {
			t.Errorf("%s: encoding is not deterministic", a)
		}
	}
}

// TestDecodeSafetensorsErrors feeds files that are valid safetensors but not valid
// permutations, and every truncation of a valid file: each must be an error, not a panic.
func TestDecodeSafetensorsErrors(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 2, Hidden: []int{3, 2}, Output: 2, Activation: "relu"}
	archJSON, _ := json.Marshal(a)
	meta := map[string]string{archKey: string(archJSON)}
	i64 := func(name string, v ...int64) nn.Tensor {
		d := make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(d[8*i:], uint64(x))
		}
		return nn.Tensor{Name: name, DType: "I64", Shape: []int{len(v)}, Data: d}
	}
	good := []nn.Tensor{i64("perm.0", 2, 0, 1), i64("perm.1", 1, 0)}
	tests := []struct {
		name    string
		tensors []nn.Tensor
		meta    map[string]string
		err     string
	}{
		{"valid", good, meta, ""},
		{"no arch", good, nil, "no modulo.arch"},
		{"bad arch JSON", good, map[string]string{archKey: "{"}, "not an architecture"},
		{"invalid arch", good, map[string]string{archKey: `{"kind":"mlp"}`}, "input and output sizes"},
		{"missing group", good[:1], meta, `missing tensor "perm.1"`},
		{"extra tensor", append(good[:2:2], i64("perm.2", 0)), meta, `unexpected tensors ["perm.2"]`},
		{"wrong dtype", []nn.Tensor{{Name: "perm.0", DType: "I32", Shape: []int{3}, Data: make([]byte, 12)}, good[1]}, meta, "dtype I32"},
		{"wrong shape", []nn.Tensor{i64("perm.0", 0, 1), good[1]}, meta, "shape [2], want [3]"},
		{"2-d", []nn.Tensor{{Name: "perm.0", DType: "I64", Shape: []int{3, 1}, Data: good[0].Data}, good[1]}, meta, "want [3]"},
		{"repeat", []nn.Tensor{i64("perm.0", 0, 0, 1), good[1]}, meta, "appears twice"},
		{"negative", []nn.Tensor{i64("perm.0", 0, -1, 1), good[1]}, meta, "outside"},
		{"huge", []nn.Tensor{i64("perm.0", 0, 1<<62, 1), good[1]}, meta, "outside"},
	}
	for _, tt := range tests {
		b, err := nn.EncodeSafetensors(tt.tensors, tt.meta)
		if err != nil {
			t.Fatal(err)
		}
		_, err = DecodeSafetensors(b)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.err)
		}
	}
	b, _ := EncodeSafetensors(Random(a, 1))
	for n := range len(b) {
		if _, err := DecodeSafetensors(b[:n]); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	for i := range len(b) { // flip every byte: an error or a valid permutation, never a panic
		c := []byte(string(b))
		c[i] ^= 0xff
		if p, err := DecodeSafetensors(c); err == nil && p.Validate() != nil {
			t.Errorf("flipping byte %d gave an invalid permutation without error", i)
		}
	}
}

// FuzzDecodeSafetensors checks that no input makes DecodeSafetensors panic or return an
// invalid permutation.
func FuzzDecodeSafetensors(f *testing.F) {
	for i, a := range append(testArchs()[:3], convArchs()...) {
		b, _ := EncodeSafetensors(Random(a, uint64(i)))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := DecodeSafetensors(b); err == nil && p.Validate() != nil {
			t.Errorf("decoded an invalid permutation: %v", p.Validate())
		}
	})
}

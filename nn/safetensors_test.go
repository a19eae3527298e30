package nn

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stArchs are the architectures the round-trip tests cover: with and without biases,
// LayerNorm and hidden layers.
var stArchs = []Arch{
	{Kind: "mlp", Input: 3, Hidden: []int{2}, Output: 2, Activation: "relu", Bias: true},
	{Kind: "mlp", Input: 4, Output: 3, Activation: "tanh"},
	{Kind: "mlp", Input: 5, Hidden: []int{4, 3}, Output: 2, Activation: "gelu", LayerNorm: true, Bias: true},
	{Kind: "mlp", Input: 2, Hidden: []int{3}, Output: 1, Activation: "relu", LayerNorm: true},
}

// stNetwork returns a network of arch a whose parameters are distinct known values, so a
// swapped, reordered or misread tensor changes some value.
func stNetwork(a Arch) *Network {
	n := NewNetwork(a)
	k := 0
	for _, p := range n.Params {
		for i := range p.Data {
			p.Data[i] = float32(k)/4 - 1
			k++
		}
	}
	return n
}

// stRaw builds a safetensors file from a literal header, so tests can write what
// EncodeSafetensors never would.
func stRaw(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func stEncode(t testing.TB, tensors []Tensor, metadata map[string]string) []byte {
	t.Helper()
	b, err := EncodeSafetensors(tensors, metadata)
	if err != nil {
		t.Fatalf("EncodeSafetensors: %v", err)
	}
	return b
}

func stEncodeNetwork(t testing.TB, n *Network, extra map[string]string) []byte {
	t.Helper()
	b, err := EncodeNetwork(n, extra)
	if err != nil {
		t.Fatalf("EncodeNetwork: %v", err)
	}
	return b
}

// stTensors returns the tensors of n, to be edited into files that do not fit its arch.
func stTensors(n *Network) []Tensor {
	var ts []Tensor
	for _, p := range n.Params {
		ts = append(ts, Tensor{Name: p.Name, DType: "F32", Shape: p.Shape, Data: F32Bytes(p.Data)})
	}
	return ts
}

func stSameNetwork(t *testing.T, got, want *Network) {
	t.Helper()
	if !got.Arch.Equal(want.Arch) {
		t.Fatalf("arch = %v, want %v", got.Arch, want.Arch)
	}
	if len(got.Params) != len(want.Params) {
		t.Fatalf("%d params, want %d", len(got.Params), len(want.Params))
	}
	for i, p := range got.Params {
		w := want.Params[i]
		if p.Name != w.Name || !slices.Equal(p.Shape, w.Shape) || len(p.Data) != len(w.Data) {
			t.Fatalf("param %d = %s %v (%d values), want %s %v (%d values)", i, p.Name, p.Shape, len(p.Data), w.Name, w.Shape, len(w.Data))
		}
		for j := range p.Data {
			if math.Float32bits(p.Data[j]) != math.Float32bits(w.Data[j]) {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, j, p.Data[j], w.Data[j])
			}
		}
	}
}

func TestSafetensorsNetworkRoundTrip(t *testing.T) {
	for _, a := range stArchs {
		t.Run(a.String(), func(t *testing.T) {
			want := stNetwork(a)
			// Special values must survive bit for bit.
			special := []float32{float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
				math.Float32frombits(0x7fc00001), math.SmallestNonzeroFloat32, math.MaxFloat32}
			copy(want.Params[0].Data, special)
			b := stEncodeNetwork(t, want, map[string]string{"modulo.step": "train"})
			got, meta, err := DecodeNetwork(b)
			if err != nil {
				t.Fatalf("DecodeNetwork: %v", err)
			}
			stSameNetwork(t, got, want)
			if meta["format"] != "pt" || meta["modulo.step"] != "train" || len(meta) != 3 {
				t.Errorf("metadata = %v, want format, modulo.arch and modulo.step", meta)
			}
			var arch Arch
			if err := json.Unmarshal([]byte(meta["modulo.arch"]), &arch); err != nil || !arch.Equal(a) {
				t.Errorf("modulo.arch = %s (%v), want %v", meta["modulo.arch"], err, a)
			}
			// Offsets follow n.Params order.
			ts, _, err := DecodeSafetensors(b)
			if err != nil {
				t.Fatal(err)
			}
			for i, tensor := range ts {
				if tensor.Name != want.Params[i].Name || tensor.DType != "F32" {
					t.Errorf("tensor %d = %s %s, want %s F32", i, tensor.Name, tensor.DType, want.Params[i].Name)
				}
			}
		})
	}
}

func TestSafetensorsDeterministic(t *testing.T) {
	for _, a := range stArchs {
		n := stNetwork(a)
		extra := map[string]string{"b": "2", "a": "1", "c": "3"}
		first := stEncodeNetwork(t, n, extra)
		if second := stEncodeNetwork(t, n.Clone(), maps.Clone(extra)); !bytes.Equal(first, second) {
			t.Errorf("%v: two encodings differ", a)
		}
		// Decoding and encoding again reproduces the file: the format is canonical.
		got, meta, err := DecodeNetwork(first)
		if err != nil {
			t.Fatal(err)
		}
		delete(meta, "format")
		delete(meta, "modulo.arch")
		if again := stEncodeNetwork(t, got, meta); !bytes.Equal(first, again) {
			t.Errorf("%v: re-encoding a decoded network changes its bytes", a)
		}
	}
	// A nil and an empty hidden list are the same architecture, so the same bytes.
	a := Arch{Kind: "mlp", Input: 2, Output: 2, Activation: "relu"}
	b := a
	b.Hidden = []int{}
	if !bytes.Equal(stEncodeNetwork(t, NewNetwork(a), nil), stEncodeNetwork(t, NewNetwork(b), nil)) {
		t.Error("nil and empty Hidden encode differently")
	}
}

func TestSafetensorsGeneric(t *testing.T) {
	tensors := []Tensor{
		{Name: "perm", DType: "I64", Shape: []int{3}, Data: binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 2), 0), 1)},
		{Name: "mask.layers.0.weight", DType: "BOOL", Shape: []int{2, 2}, Data: []byte{1, 0, 0, 1}},
		{Name: "empty", DType: "F32", Shape: []int{0, 5}, Data: []byte{}},
		{Name: "scalar", DType: "F32", Shape: []int{}, Data: F32Bytes([]float32{1.5})},
		{Name: "u8", DType: "U8", Shape: []int{1}, Data: []byte{7}},
	}
	for _, meta := range []map[string]string{nil, {"k": "v"}, {"long": strings.Repeat("x", 13)}} {
		b := stEncode(t, tensors, meta)
		n := binary.LittleEndian.Uint64(b)
		if (8+n)%8 != 0 {
			t.Errorf("metadata %v: data starts at %d, not 8-byte aligned", meta, 8+n)
		}
		if h := string(b[8 : 8+n]); !strings.HasPrefix(h, "{") || strings.Trim(h[strings.LastIndex(h, "}")+1:], " ") != "" {
			t.Errorf("header %q: want a JSON object padded with spaces", h)
		}
		got, gotMeta, err := DecodeSafetensors(b)
		if err != nil {
			t.Fatalf("DecodeSafetensors: %v", err)
		}
		if !maps.Equal(gotMeta, meta) {
			t.Errorf("metadata = %v, want %v", gotMeta, meta)
		}
		// Decoding returns offset order; "empty" sits at the offset where "scalar" starts.
		if len(got) != len(tensors) {
			t.Fatalf("%d tensors, want %d", len(got), len(tensors))
		}
		for i, w := range tensors {
			g := got[i]
			if g.Name != w.Name || g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || !bytes.Equal(g.Data, w.Data) {
				t.Errorf("tensor %d = %+v, want %+v", i, g, w)
			}
		}
	}
	if x := BytesF32(F32Bytes([]float32{1, -2, 3.25})); !slices.Equal(x, []float32{1, -2, 3.25}) {
		t.Errorf("BytesF32(F32Bytes(x)) = %v", x)
	}
	if b := F32Bytes([]float32{1}); !bytes.Equal(b, []byte{0, 0, 0x80, 0x3f}) {
		t.Errorf("F32Bytes(1) = % x, want little-endian 00 00 80 3f", b)
	}
}

func TestSafetensorsEncodeErrors(t *testing.T) {
	f := F32Bytes([]float32{1})
	tests := []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"duplicate", []Tensor{{"a", "F32", []int{1}, f}, {"a", "F32", []int{1}, f}}, "used twice"},
		{"reserved", []Tensor{{"__metadata__", "F32", []int{1}, f}}, "reserved"},
		{"unknown dtype", []Tensor{{"a", "F31", []int{1}, f}}, "unknown dtype"},
		{"short data", []Tensor{{"a", "F32", []int{2}, f}}, "4 bytes of data"},
		{"negative dim", []Tensor{{"a", "F32", []int{-1}, f}}, "bytes of data"},
	}
	for _, tt := range tests {
		if _, err := EncodeSafetensors(tt.tensors, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	n := stNetwork(stArchs[0])
	if _, err := EncodeNetwork(n, map[string]string{"modulo.arch": "{}"}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("overriding modulo.arch: error %v, want reserved", err)
	}
	if _, err := EncodeNetwork(&Network{Arch: Arch{Kind: "rnn"}}, nil); err == nil || !strings.Contains(err.Error(), "unknown model kind") {
		t.Errorf("invalid arch: error %v", err)
	}
	func() {
		defer func() {
			if r, _ := recover().(error); !errors.Is(r, ErrShape) {
				t.Errorf("BytesF32 of 3 bytes: panic %v, want ErrShape", r)
			}
		}()
		BytesF32([]byte{1, 2, 3})
	}()
	n.Params[0].Shape = []int{3, 2}
	if _, err := EncodeNetwork(n, nil); err == nil || !strings.Contains(err.Error(), `"layers.0.weight" has shape [3 2], want [2 3]`) {
		t.Errorf("misshapen network: error %v", err)
	}
}

// stMalformed lists broken files and a substring of the error each must give.
func stMalformed(t testing.TB) []struct {
	name string
	b    []byte
	want string
} {
	t1 := `"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`
	four := make([]byte, 4)
	tiny := Arch{Kind: "mlp", Input: 2, Output: 1, Activation: "relu", Bias: true}
	net := stNetwork(tiny)
	arch, _ := json.Marshal(tiny)
	meta := map[string]string{"modulo.arch": string(arch)}
	withArch := func(s string) map[string]string { return map[string]string{"modulo.arch": s} }
	good := stTensors(net)
	return []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"seven bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "too short"},
		{"header beyond input", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "beyond"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<63), "{}"...), "beyond"},
		{"not JSON", stRaw("hello", nil), "not a UTF-8 JSON object"},
		{"JSON array", stRaw("[1,2]", nil), "not a UTF-8 JSON object"},
		{"invalid UTF-8", stRaw("{\"\xff\":1}", nil), "not a UTF-8 JSON object"},
		{"unterminated JSON", stRaw("{"+t1, four), "invalid JSON"},
		{"key not a string", stRaw(`{1:2}`, nil), "invalid JSON"},
		{"bad entry", stRaw(`{"a":[1]}`, nil), `entry of tensor "a" is invalid`},
		{"bytes after JSON", stRaw("{"+t1+"} x", four), "bytes after its object"},
		{"duplicate name", stRaw("{"+t1+","+t1+"}", four), `names "a" twice`},
		{"metadata not strings", stRaw(`{"__metadata__":{"k":1}}`, nil), "not an object of strings"},
		{"unknown dtype", stRaw(`{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, four), "unknown dtype"},
		{"no dtype", stRaw(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, four), "unknown dtype"},
		{"no shape", stRaw(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, four), "no shape"},
		{"shape/offset mismatch", stRaw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, four), "does not fill"},
		{"dtype size mismatch", stRaw(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,4]}}`, four), "does not fill"},
		{"negative dim", stRaw(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, four), "does not fill"},
		{"overflowing shape", stRaw(`{"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904,0],"data_offsets":[0,0]}}`, nil), "does not fill"},
		{"fractional dim", stRaw(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, four), "is invalid"},
		{"overlap", stRaw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "overlaps"},
		{"gap", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)), "gap of 4 bytes"},
		{"gap at start", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "gap"},
		{"trailing bytes", stRaw("{"+t1+"}", make([]byte, 8)), "4 trailing bytes"},
		{"offsets out of bounds", stRaw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, four), "out of bounds"},
		{"offsets reversed", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, four), "out of bounds"},
		{"negative offset", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, four), "out of bounds"},
		{"three offsets", stRaw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}`, four), "out of bounds"},
		// Files that are valid safetensors but not a network.
		{"missing modulo.arch", stEncode(t, good, nil), "no modulo.arch"},
		{"modulo.arch not JSON", stEncode(t, good, withArch("mlp")), "not a valid architecture"},
		{"modulo.arch invalid", stEncode(t, good, withArch(`{"kind":"cnn"}`)), "unknown model kind"},
		{"modulo.arch too large", stEncode(t, good, withArch(`{"kind":"mlp","input":1000000000,"hidden":[1000000000],"output":1000000000,"activation":"relu"}`)), "more parameters than"},
		{"missing tensor", stEncode(t, good[:1], meta), `missing tensor "layers.0.bias"`},
		{"extra tensor", stEncode(t, append(slices.Clone(good), Tensor{"layers.1.weight", "F32", []int{1}, four}), meta), `unexpected tensor "layers.1.weight"`},
		{"mask of floats", stEncode(t, append(slices.Clone(good), Tensor{"mask.x", "F32", []int{1}, four}), meta), `unexpected tensor "mask.x"`},
		{"wrong shape for arch", stEncode(t, []Tensor{{"layers.0.weight", "F32", []int{2, 1}, make([]byte, 8)}, good[1]}, meta), "has shape [2 1], want [1 2]"},
		{"parameter not F32", stEncode(t, []Tensor{{"layers.0.weight", "F64", []int{1, 2}, make([]byte, 16)}, good[1]}, meta), "must be F32"},
	}
}

func TestDecodeSafetensorsMalformed(t *testing.T) {
	for _, tt := range stMalformed(t) {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := DecodeNetwork(tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeNetwork: error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodeNetworkSkipsMasks(t *testing.T) {
	want := stNetwork(stArchs[0])
	ts := append(stTensors(want), Tensor{"mask.layers.0.weight", "U8", []int{2, 3}, []byte{1, 1, 0, 1, 0, 1}},
		Tensor{"mask.layers.1.weight", "BOOL", []int{2, 2}, []byte{1, 0, 1, 1}})
	arch, _ := json.Marshal(want.Arch)
	got, _, err := DecodeNetwork(stEncode(t, ts, map[string]string{"modulo.arch": string(arch)}))
	if err != nil {
		t.Fatalf("DecodeNetwork with masks: %v", err)
	}
	stSameNetwork(t, got, want)
}

// FuzzDecodeSafetensors checks that no input makes the decoders panic, and that whatever
// they accept encodes and decodes again to the same contents.
func FuzzDecodeSafetensors(f *testing.F) {
	valid := stEncodeNetwork(f, stNetwork(stArchs[2]), map[string]string{"k": "v"})
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(valid[:20])
	broken := slices.Clone(valid)
	broken[0]++
	f.Add(broken)
	for _, tt := range stMalformed(f) {
		f.Add(tt.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tensors, meta, err := DecodeSafetensors(b)
		if err != nil {
			return
		}
		again, err := EncodeSafetensors(tensors, meta)
		if err != nil {
			t.Fatalf("EncodeSafetensors of decoded tensors: %v", err)
		}
		tensors2, meta2, err := DecodeSafetensors(again)
		if err != nil {
			t.Fatalf("DecodeSafetensors of re-encoded tensors: %v", err)
		}
		if !maps.Equal(meta, meta2) || len(tensors) != len(tensors2) {
			t.Fatalf("re-encoding changed the file: %v %v", meta, meta2)
		}
		for i, x := range tensors {
			y := tensors2[i]
			if x.Name != y.Name || x.DType != y.DType || !slices.Equal(x.Shape, y.Shape) || !bytes.Equal(x.Data, y.Data) {
				t.Fatalf("tensor %d changed: %+v, then %+v", i, x, y)
			}
		}
		n, meta, err := DecodeNetwork(b)
		if err != nil {
			return
		}
		delete(meta, "format")
		delete(meta, "modulo.arch")
		n2, _, err := DecodeNetwork(stEncodeNetwork(t, n, meta))
		if err != nil {
			t.Fatalf("DecodeNetwork of a re-encoded network: %v", err)
		}
		stSameNetwork(t, n2, n)
	})
}

// TestSafetensorsGolden pins the on-disk format: any change to the bytes written for a
// tiny network, however harmless it looks, fails here and must be made on purpose with
// MODULO_UPDATE_GOLDEN=1.
func TestSafetensorsGolden(t *testing.T) {
	n := stNetwork(Arch{Kind: "mlp", Input: 3, Hidden: []int{2}, Output: 2, Activation: "relu", Bias: true})
	b := stEncodeNetwork(t, n, nil)
	sum := sha256.Sum256(b)
	header := strings.TrimRight(string(b[8:8+binary.LittleEndian.Uint64(b)]), " ")
	got := fmt.Sprintf("# safetensors of a tiny network (nn/safetensors_test.go, TestSafetensorsGolden).\n"+
		"# Regenerate with: MODULO_UPDATE_GOLDEN=1 go test -run TestSafetensorsGolden ./nn/\n"+
		"sha256 %s\nheader %s\n", hex.EncodeToString(sum[:]), header)
	path := filepath.Join("testdata", "safetensors_golden.txt")
	if os.Getenv("MODULO_UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with MODULO_UPDATE_GOLDEN=1)", err)
	}
	if got != string(want) {
		t.Errorf("the safetensors bytes changed; if on purpose, regenerate with MODULO_UPDATE_GOLDEN=1\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// stPyTorchScript loads a file as PyTorch would: with safetensors.torch.load_file where the
// safetensors package is installed, else with a minimal reader of the format (struct, json,
// torch.frombuffer). Either way it loads the tensors into a torch MLP with strict names and
// shapes, and prints them back as JSON.
const stPyTorchScript = `
import json, struct, sys
import torch
path = sys.argv[1]
try:
    from safetensors.torch import load_file
    tensors, reader = load_file(path), "safetensors.torch.load_file"
except ImportError:
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    buf = bytearray(raw[8 + n:])
    assert len(buf) == max([e["data_offsets"][1] for k, e in header.items() if k != "__metadata__"] + [0])
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", e
        b, end = e["data_offsets"]
        tensors[name] = torch.frombuffer(buf[b:end], dtype=torch.float32).reshape(e["shape"])
    reader = "struct+json+torch.frombuffer"
with open(path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
arch = json.loads(json.loads(raw[8:8 + n])["__metadata__"]["modulo.arch"])
widths = [arch["input"]] + arch["hidden"] + [arch["output"]]
class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(i, o, bias=arch["bias"]) for i, o in zip(widths, widths[1:]))
        if arch["layer_norm"]:
            self.norms = torch.nn.ModuleList(torch.nn.LayerNorm(h) for h in arch["hidden"])
model = MLP()
model.load_state_dict(tensors, strict=True)
out = {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.flatten().tolist()} for k, v in model.state_dict().items()}
print(json.dumps({"reader": reader, "tensors": out}))
`

// stPython returns a Python that imports torch, or "". The first python3 on PATH may be
// another install (pyenv) than the one Debian's python3-torch is installed for.
func stPython() string {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import torch").Run() == nil {
			return py
		}
	}
	return ""
}

func TestSafetensorsPyTorch(t *testing.T) {
	py := stPython()
	if py == "" {
		t.Skip("no python3 with torch is available")
	}
	for _, a := range stArchs {
		t.Run(a.String(), func(t *testing.T) {
			n := stNetwork(a)
			path := filepath.Join(t.TempDir(), "net.safetensors")
			if err := os.WriteFile(path, stEncodeNetwork(t, n, nil), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(py, "-c", stPyTorchScript, path).Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("python: %v\n%s", err, stderr)
			}
			var got struct {
				Reader  string
				Tensors map[string]struct {
					DType  string
					Shape  []int
					Values []float64
				}
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("python output %q: %v", out, err)
			}
			t.Logf("read with %s", got.Reader)
			if len(got.Tensors) != len(n.Params) {
				t.Errorf("PyTorch has %d tensors, want %d", len(got.Tensors), len(n.Params))
			}
			for _, p := range n.Params {
				g, ok := got.Tensors[p.Name]
				if !ok || g.DType != "torch.float32" || !slices.Equal(g.Shape, p.Shape) || len(g.Values) != len(p.Data) {
					t.Fatalf("PyTorch's %s = %s %v (%d values), want torch.float32 %v (%d values)", p.Name, g.DType, g.Shape, len(g.Values), p.Shape, len(p.Data))
				}
				for i, v := range g.Values {
					if float32(v) != p.Data[i] {
						t.Fatalf("PyTorch's %s[%d] = %v, want %v", p.Name, i, v, p.Data[i])
					}
				}
			}
		})
	}
}

// TestDecodeNetworkAs reads state_dicts written without modulo's metadata, against a
// declared architecture, and names what does not fit.
func TestDecodeNetworkAs(t *testing.T) {
	a := Arch{Kind: "mlp", Input: 6, Hidden: []int{5}, Output: 3, Activation: "relu", Bias: true}
	other := a.Clone()
	other.Hidden = []int{4}
	n := stNetwork(a)
	plain := stEncode(t, stTensors(n), map[string]string{"format": "pt"})
	got, err := DecodeNetworkAs(plain, a)
	if err != nil {
		t.Fatal(err)
	}
	stSameNetwork(t, got, n)
	if _, err := DecodeNetworkAs(stEncodeNetwork(t, n, nil), a); err != nil {
		t.Errorf("a file whose metadata names the same architecture: %v", err)
	}
	withMask := append(stTensors(n), Tensor{Name: "mask.layers.0.weight", DType: "U8", Shape: []int{5, 6}, Data: make([]byte, 30)})
	if _, err := DecodeNetworkAs(stEncode(t, withMask, nil), a); err != nil {
		t.Errorf("a mask beside the parameters: %v", err)
	}
	f64 := stTensors(n)
	f64[1].DType, f64[1].Data = "F64", make([]byte, 8*len(n.Params[1].Data))
	extra := append(stTensors(n), Tensor{Name: "layers.9.weight", DType: "F32", Shape: []int{1}, Data: make([]byte, 4)})
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"another architecture's metadata", stEncodeNetwork(t, stNetwork(other), nil), "the file says it holds a network of architecture mlp 6-4-3 relu"},
		{"float64", stEncode(t, f64, nil), `tensor "layers.0.bias" has dtype F64; parameters must be F32 (in PyTorch, save tensor.float())`},
		{"narrower", stEncode(t, stTensors(stNetwork(other)), nil), `tensor "layers.0.weight" has shape [4 6], want [5 6]`},
		{"missing", stEncode(t, stTensors(n)[:3], nil), `missing tensor "layers.1.bias"`},
		{"unexpected", stEncode(t, extra, nil), `unexpected tensor "layers.9.weight"`},
		{"not safetensors", []byte("hello"), "safetensors:"},
	} {
		_, err := DecodeNetworkAs(c.file, a)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

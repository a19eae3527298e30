package nn

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Tensor is one named tensor of a safetensors file, kept as raw little-endian bytes so the
// same layer carries float parameters, integer permutations and boolean masks alike.
type Tensor struct {
	Name  string
	DType string // "F32", "I64", "U8", "BOOL", or another safetensors dtype
	Shape []int
	Data  []byte // little-endian raw; from DecodeSafetensors it aliases the input
}

// dtypeSizes gives the bytes per element of each dtype the reference implementation knows,
// so that a file written by PyTorch with any of them is parsed rather than refused as garbage.
var dtypeSizes = map[string]int{"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}

const metadataKey, archKey = "__metadata__", "modulo.arch"

// header is one tensor's entry in the JSON header. Offsets are relative to the data buffer.
type header struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets []int  `json:"data_offsets"`
}

// DTypeSize is the bytes per element of a safetensors dtype, or 0 for one it does not name.
func DTypeSize(dtype string) int { return dtypeSizes[dtype] }

// torchDTypeNames are PyTorch's names of the safetensors dtypes, for messages.
var torchDTypeNames = map[string]string{
	"F32": "torch.float32", "F64": "torch.float64", "F16": "torch.float16", "BF16": "torch.bfloat16",
	"I64": "torch.int64", "I32": "torch.int32", "I16": "torch.int16", "I8": "torch.int8",
	"U8": "torch.uint8", "BOOL": "torch.bool",
}

// TorchDTypeName is PyTorch's name of a safetensors dtype ("torch.float32" for "F32"), or
// the dtype itself when PyTorch has no such type.
func TorchDTypeName(dtype string) string {
	if n, ok := torchDTypeNames[dtype]; ok {
		return n
	}
	return dtype
}

// ShapeElements returns the number of elements of shape, or ok=false if a dimension is negative
// or the count exceeds limit; the limit keeps a forged shape from overflowing int.
func ShapeElements(shape []int, limit int) (int, bool) {
	if slices.Contains(shape, 0) {
		limit = math.MaxInt // the count is 0: as in the reference, only overflow is an error
	}
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > limit/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// EncodeSafetensors lays tensors out in the given order, with no gaps, after a JSON header
// padded with spaces so the data starts 8-byte aligned, as the reference writer does; that
// lets readers map the tensors in place. The header's keys are sorted, so equal inputs give
// equal bytes.
func EncodeSafetensors(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	entries := make(map[string]any, len(tensors)+1)
	if len(metadata) > 0 {
		entries[metadataKey] = metadata
	}
	offset := 0
	for _, t := range tensors {
		if _, dup := entries[t.Name]; dup || t.Name == metadataKey || !utf8.ValidString(t.Name) {
			return nil, fmt.Errorf("safetensors: tensor name %q is used twice, reserved or not UTF-8", t.Name)
		}
		size, ok := dtypeSizes[t.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q has unknown dtype %q", t.Name, t.DType)
		}
		if n, ok := ShapeElements(t.Shape, len(t.Data)); !ok || n*size != len(t.Data) {
			return nil, fmt.Errorf("safetensors: tensor %q of shape %v and dtype %s has %d bytes of data", t.Name, t.Shape, t.DType, len(t.Data))
		}
		// The shape is copied so that it is never nil: a scalar's shape is [], not null.
		entries[t.Name] = header{t.DType, append([]int{}, t.Shape...), []int{offset, offset + len(t.Data)}}
		offset += len(t.Data)
	}
	h, _ := json.Marshal(entries) // strings and ints cannot fail to encode
	pad := (8 - len(h)%8) % 8
	out := make([]byte, 8, 8+len(h)+pad+offset)
	binary.LittleEndian.PutUint64(out, uint64(len(h)+pad))
	out = append(append(out, h...), bytes.Repeat([]byte{' '}, pad)...)
	for _, t := range tensors {
		out = append(out, t.Data...)
	}
	return out, nil
}

// DecodeSafetensors parses a safetensors file with the reference implementation's checks:
// a header that fits the input, valid UTF-8 JSON, known dtypes, shapes that match their
// byte ranges, and ranges that tile the data buffer exactly. Tensors come back in offset
// order and alias b, so nothing is allocated beyond what the input's size allows.
func DecodeSafetensors(b []byte) ([]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("safetensors: %d bytes is too short for the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) || n > 100_000_000 { // the reference implementation's limit
		return nil, nil, fmt.Errorf("safetensors: header length %d is beyond the %d bytes that follow it", n, len(b)-8)
	}
	h, data := b[8:8+n], b[8+n:]
	dec := json.NewDecoder(bytes.NewReader(h))
	if t, err := dec.Token(); !utf8.Valid(h) || err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("safetensors: header is not a UTF-8 JSON object")
	}
	var tensors []Tensor
	var metadata map[string]string
	begins := map[string]int{} // each tensor's data offset; also catches names given twice
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return nil, nil, fmt.Errorf("safetensors: header is invalid JSON: %v", err)
		}
		if _, dup := begins[name]; dup {
			return nil, nil, fmt.Errorf("safetensors: header names %q twice", name)
		}
		begins[name] = -1
		if name == metadataKey {
			if err := dec.Decode(&metadata); err != nil {
				return nil, nil, fmt.Errorf("safetensors: %s is not an object of strings: %v", metadataKey, err)
			}
			continue
		}
		var e header
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("safetensors: entry of tensor %q is invalid: %v", name, err)
		}
		size, ok := dtypeSizes[e.DType]
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("safetensors: tensor %q has unknown dtype %q", name, e.DType)
		case e.Shape == nil:
			return nil, nil, fmt.Errorf("safetensors: tensor %q has no shape", name)
		case len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[0] > e.Offsets[1] || e.Offsets[1] > len(data):
			return nil, nil, fmt.Errorf("safetensors: data_offsets %v of tensor %q are not [begin, end] within the %d-byte data buffer (out of bounds)", e.Offsets, name, len(data))
		}
		begin, end := e.Offsets[0], e.Offsets[1]
		if count, ok := ShapeElements(e.Shape, end-begin); !ok || count*size != end-begin {
			return nil, nil, fmt.Errorf("safetensors: tensor %q of shape %v and dtype %s does not fill its %d bytes at data_offsets %v", name, e.Shape, e.DType, end-begin, e.Offsets)
		}
		tensors, begins[name] = append(tensors, Tensor{name, e.DType, e.Shape, data[begin:end:end]}), begin
	}
	if _, err := dec.Token(); err != nil || len(bytes.TrimLeft(h[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, nil, fmt.Errorf("safetensors: header is invalid JSON or has bytes after its object: %v", err)
	}
	slices.SortFunc(tensors, func(x, y Tensor) int {
		return cmp.Or(cmp.Compare(begins[x.Name], begins[y.Name]), cmp.Compare(len(x.Data), len(y.Data)), strings.Compare(x.Name, y.Name))
	})
	end := 0
	for _, t := range tensors {
		if begin := begins[t.Name]; begin < end {
			return nil, nil, fmt.Errorf("safetensors: tensor %q at offset %d overlaps the tensor before it, which ends at %d", t.Name, begin, end)
		} else if begin > end {
			return nil, nil, fmt.Errorf("safetensors: data buffer has a gap of %d bytes before tensor %q", begin-end, t.Name)
		}
		end = begins[t.Name] + len(t.Data)
	}
	if end != len(data) {
		return nil, nil, fmt.Errorf("safetensors: data buffer has %d trailing bytes after the last tensor", len(data)-end)
	}
	return tensors, metadata, nil
}

// F32Bytes returns x as little-endian bytes, the layout safetensors and PyTorch use on
// every platform, whatever this machine's byte order.
func F32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// BytesF32 is the inverse of F32Bytes. It panics with ErrShape if len(b) is not a multiple
// of 4, since callers check lengths against shapes first.
func BytesF32(b []byte) []float32 {
	if len(b)%4 != 0 {
		panic(fmt.Errorf("%w: %d bytes are not a whole number of float32s", ErrShape, len(b)))
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// EncodeNetwork returns the safetensors bytes of n: its parameters as F32 tensors in
// n.Params order, and metadata "format": "pt" (which safetensors.torch expects) and
// "modulo.arch", the architecture as JSON, so the file alone says how to rebuild the
// network. extra adds metadata but may not replace those two keys. The same network always
// gives the same bytes, so a file's hash identifies its contents.
func EncodeNetwork(n *Network, extra map[string]string) ([]byte, error) {
	if err := n.Arch.Validate(); err != nil {
		return nil, fmt.Errorf("safetensors: %v", err)
	}
	arch := n.Arch.Clone()
	arch.Hidden = append([]int{}, arch.Hidden...) // nil and empty give the same bytes
	a, _ := json.Marshal(arch)                    // strings, ints and bools cannot fail to encode
	metadata := map[string]string{"format": "pt", archKey: string(a)}
	for k, v := range extra {
		if _, reserved := metadata[k]; reserved {
			return nil, fmt.Errorf("safetensors: metadata key %q is reserved", k)
		}
		metadata[k] = v
	}
	tensors, byName := make([]Tensor, len(n.Params)), map[string]Tensor{}
	for i, p := range n.Params {
		tensors[i] = Tensor{Name: p.Name, DType: "F32", Shape: p.Shape, Data: F32Bytes(p.Data)}
		byName[p.Name] = tensors[i]
	}
	if err := matchArch(NewNetwork(n.Arch), byName); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return EncodeSafetensors(tensors, metadata)
}

// DecodeNetwork parses a network written by EncodeNetwork, or by PyTorch with the same
// parameter names and a modulo.arch metadata entry. The tensors must be exactly those
// NewNetwork(arch) has, in F32; U8 or BOOL tensors named "mask.*" may sit beside them and
// are skipped here (DecodeSafetensors returns them). It returns the file's metadata too.
func DecodeNetwork(b []byte) (*Network, map[string]string, error) {
	tensors, metadata, err := DecodeSafetensors(b)
	if err != nil {
		return nil, nil, err
	}
	s, ok := metadata[archKey]
	if !ok {
		return nil, nil, fmt.Errorf("safetensors: metadata has no %s entry, so the network's architecture is unknown", archKey)
	}
	var arch Arch
	if err := json.Unmarshal([]byte(s), &arch); err != nil || arch.Validate() != nil {
		return nil, nil, fmt.Errorf("safetensors: metadata %s is not a valid architecture: %v", archKey, cmp.Or(err, arch.Validate()))
	}
	n, err := NetworkFromTensors("safetensors", arch, tensors, len(b))
	return n, metadata, err
}

// DecodeNetworkAs parses a network of architecture arch from safetensors written by any
// program, such as a PyTorch state_dict saved with safetensors.torch.save_file: every
// parameter arch has, by its state_dict name, in F32, and no other tensor but "mask.*"
// ones. A modulo.arch metadata entry, if the file has one, must name arch. Each mistake is
// named (a missing, misshapen or unexpected tensor; a float64 tensor), so that the author of
// the script that wrote the file sees what to change.
func DecodeNetworkAs(b []byte, arch Arch) (*Network, error) {
	if err := arch.Validate(); err != nil {
		return nil, fmt.Errorf("safetensors: %v", err)
	}
	tensors, metadata, err := DecodeSafetensors(b)
	if err != nil {
		return nil, err
	}
	if s, ok := metadata[archKey]; ok {
		var got Arch
		if err := json.Unmarshal([]byte(s), &got); err != nil || !got.Equal(arch) {
			return nil, fmt.Errorf("safetensors: the file says it holds a network of architecture %s (metadata %s), not %s", cmp.Or(got.String(), s), archKey, arch)
		}
	}
	return NetworkFromTensors("safetensors", arch, tensors, len(b))
}

// NetworkFromTensors builds a network of arch from the tensors of a file of size bytes (the
// readers of each checkpoint format share it, so that every format names the same mistakes
// the same way); format ("safetensors", "torch") starts each message.
func NetworkFromTensors(format string, arch Arch, tensors []Tensor, size int) (*Network, error) {
	// A forged arch could ask NewNetwork for far more memory than the file holds.
	if !fitsIn(arch, size) {
		return nil, fmt.Errorf("%s: architecture %s has more parameters than the %d-byte file can hold", format, arch, size)
	}
	params := map[string]Tensor{}
	for _, t := range tensors {
		if buf, ok := batchNormBuffer(t.Name); ok {
			return nil, fmt.Errorf("%s: tensor %q is a BatchNorm %s: modulo's networks have LayerNorm (norm = \"layer_norm\", as in the seed's open_lth models) or no norm (norm = \"none\"), not BatchNorm, so a network trained with it cannot be imported as it is", format, t.Name, buf)
		}
	}
	for _, t := range tensors {
		if strings.HasPrefix(t.Name, "mask.") && (t.DType == "U8" || t.DType == "BOOL") {
			continue
		} else if t.DType != "F32" {
			if format == "torch" {
				return nil, fmt.Errorf("torch: tensor %q has dtype %s; parameters must be torch.float32 (save tensor.float(), or model.float().state_dict())", t.Name, TorchDTypeName(t.DType))
			}
			return nil, fmt.Errorf("%s: tensor %q has dtype %s; parameters must be F32 (in PyTorch, save tensor.float())", format, t.Name, t.DType)
		}
		params[t.Name] = t
	}
	n := NewNetwork(arch)
	if err := matchArch(n, params); err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	for _, p := range n.Params {
		p.Data = BytesF32(params[p.Name].Data)
	}
	return n, nil
}

// batchNormBuffer reports whether name is one of the buffers a BatchNorm layer keeps in
// its state_dict, and which.
func batchNormBuffer(name string) (string, bool) {
	for _, b := range []string{"running_mean", "running_var", "num_batches_tracked"} {
		if name == b || strings.HasSuffix(name, "."+b) {
			return "buffer (" + b + ")", true
		}
	}
	return "", false
}

// fitsIn reports, without overflowing, whether arch a could fit in a file of size bytes.
func fitsIn(a Arch, size int) bool {
	return a.NumParams() <= int64(size)/4
}

// matchArch reports how a file's tensors differ from the parameters want has, naming every
// missing, misshapen and unexpected tensor so that the user sees the whole mismatch at once.
func matchArch(want *Network, got map[string]Tensor) error {
	var problems, extra []string
	for _, p := range want.Params {
		if t, ok := got[p.Name]; !ok {
			problems = append(problems, fmt.Sprintf("missing tensor %q", p.Name))
		} else if !slices.Equal(t.Shape, p.Shape) {
			problems = append(problems, fmt.Sprintf("tensor %q has shape %v, want %v", p.Name, t.Shape, p.Shape))
		}
	}
	for name := range got {
		if want.Param(name) == nil {
			extra = append(extra, fmt.Sprintf("unexpected tensor %q", name))
		}
	}
	slices.Sort(extra)
	if problems = append(problems, extra...); len(problems) > 0 {
		return fmt.Errorf("tensors do not fit architecture %s: %s", want.Arch, strings.Join(problems, "; "))
	}
	return nil
}

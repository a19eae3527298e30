package perm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/modulo-ml/modulo/nn"
)

// archKey is the metadata entry that holds the architecture, as in network files, so a
// permutation file says which networks it applies to.
const archKey = "modulo.arch"

// maxGroupWidth bounds a decoded group's width before anything is allocated for it, so a
// forged header cannot ask for more memory than any real network has.
const maxGroupWidth = 1 << 30

// permJSON is the JSON form of a Permutation.
type permJSON struct {
	Arch   nn.Arch `json:"arch"`
	Groups [][]int `json:"groups"`
}

// MarshalJSON encodes p as {"arch": …, "groups": [[…], …]}, one group per group of the
// architecture's spec, with empty lists rather than null so that equal permutations give
// equal bytes (the architecture's image shape and plan are omitted when empty, so an MLP's
// bytes are what they were before convolutions existed). An invalid permutation is an error:
// what is written must be readable again.
func (p Permutation) MarshalJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	j := permJSON{Arch: p.Arch.Clone(), Groups: make([][]int, len(p.Groups))}
	if j.Arch.Hidden == nil {
		j.Arch.Hidden = []int{}
	}
	copy(j.Groups, p.Groups)
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON writes and validates it, so a permutation read
// from a file can be applied without further checks. On error p is left unchanged.
func (p *Permutation) UnmarshalJSON(b []byte) error {
	var j permJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("permutation JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("permutation JSON: data after the object")
	}
	q := Permutation{Arch: j.Arch, Groups: j.Groups}
	if err := q.Validate(); err != nil {
		return fmt.Errorf("permutation JSON: %v", err)
	}
	*p = q
	return nil
}

// tensorName is the name of group l (of the architecture's spec) in a safetensors file.
func tensorName(l int) string { return "perm." + strconv.Itoa(l) }

// EncodeSafetensors writes p as one int64 tensor per group, "perm.0", "perm.1", …, which
// PyTorch reads as LongTensors ready for index_select, with the architecture as JSON in
// the metadata entry "modulo.arch" (and "format": "pt", which safetensors.torch expects).
// The same permutation always gives the same bytes.
func EncodeSafetensors(p Permutation) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	a := p.Arch.Clone()
	if a.Hidden == nil {
		a.Hidden = []int{}
	}
	arch, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	tensors := make([]nn.Tensor, len(p.Groups))
	for l, g := range p.Groups {
		d := make([]byte, 8*len(g))
		for i, v := range g {
			binary.LittleEndian.PutUint64(d[8*i:], uint64(v))
		}
		tensors[l] = nn.Tensor{Name: tensorName(l), DType: "I64", Shape: []int{len(g)}, Data: d}
	}
	return nn.EncodeSafetensors(tensors, map[string]string{"format": "pt", archKey: string(arch)})
}

// DecodeSafetensors reads a permutation written by EncodeSafetensors (or by PyTorch with
// the same names and metadata). The file must hold exactly one I64 vector per group of the
// architecture's spec, of that group's size, and each must be a permutation; anything else
// is an error that says what is wrong. Nothing is allocated for a group before its tensor is
// found to hold that many entries, so a forged architecture cannot ask for more memory than
// the file has. It never panics, whatever the bytes.
func DecodeSafetensors(b []byte) (Permutation, error) {
	tensors, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		return Permutation{}, err
	}
	s, ok := meta[archKey]
	if !ok {
		return Permutation{}, fmt.Errorf("permutation file: metadata has no %s entry, so the architecture is unknown", archKey)
	}
	var a nn.Arch
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return Permutation{}, fmt.Errorf("permutation file: metadata %s is not an architecture: %v", archKey, err)
	}
	if err := a.Validate(); err != nil {
		return Permutation{}, fmt.Errorf("permutation file: metadata %s: %v", archKey, err)
	}
	byName := make(map[string]nn.Tensor, len(tensors))
	for _, t := range tensors {
		byName[t.Name] = t
	}
	groups := a.Spec().Groups
	p := Permutation{Arch: a, Groups: make([][]int, len(groups))}
	for l, group := range groups {
		name, w := tensorName(l), group.Size
		t, ok := byName[name]
		switch {
		case !ok:
			return Permutation{}, fmt.Errorf("permutation file: missing tensor %q for group %d (%s) of %s", name, l, group.Name, a)
		case t.DType != "I64":
			return Permutation{}, fmt.Errorf("permutation file: tensor %q has dtype %s, want I64", name, t.DType)
		case !slices.Equal(t.Shape, []int{w}) || w > maxGroupWidth || len(t.Data) != 8*w:
			return Permutation{}, fmt.Errorf("permutation file: tensor %q has shape %v, want [%d]", name, t.Shape, w)
		}
		g := make([]int, w)
		for i := range g {
			v := int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
			if v < 0 || v >= int64(w) {
				return Permutation{}, fmt.Errorf("permutation file: tensor %q: entry %d is %d, outside 0..%d", name, i, v, w-1)
			}
			g[i] = int(v)
		}
		p.Groups[l] = g
		delete(byName, name)
	}
	if len(byName) > 0 {
		extra := slices.Sorted(maps.Keys(byName))
		return Permutation{}, fmt.Errorf("permutation file: unexpected tensors %q for %s", extra, a)
	}
	if err := p.Validate(); err != nil {
		return Permutation{}, fmt.Errorf("permutation file: %v", err)
	}
	return p, nil
}

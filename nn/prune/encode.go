package prune

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/modulo-ml/modulo/nn"
)

// archKey is the metadata entry that holds the architecture, as in network and permutation
// files; maskPrefix starts the name of every mask tensor, which nn.DecodeNetwork skips, so
// masks and weights may share one file.
const (
	archKey    = "modulo.arch"
	maskPrefix = "mask."
)

// Encode writes m as safetensors: one U8 tensor of 0s and 1s per masked parameter, named
// "mask.<parameter>" and shaped like it (PyTorch reads it as a uint8 tensor, ready for
// .bool()), in the spec's order, with the architecture as JSON in the metadata entry
// "modulo.arch" (and "format": "pt"). The same mask always gives the same bytes. m may cover
// any of a's linear or convolutional weights; it must fit them and hold only 0 and 1.
func Encode(a nn.Arch, m Mask) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	shapes := weightShapes(a)
	if err := m.check(a, shapes, "weight"); err != nil {
		return nil, err
	}
	arch := a.Clone()
	arch.Hidden = append([]int{}, a.Hidden...) // nil and empty give the same bytes
	aj, err := json.Marshal(arch)
	if err != nil {
		return nil, err
	}
	var tensors []nn.Tensor
	for _, name := range Prunable(a, Options{}) {
		v, ok := m[name]
		if !ok {
			continue
		}
		d := make([]byte, len(v))
		for j, x := range v {
			if x != 0 {
				d[j] = 1
			}
		}
		tensors = append(tensors, nn.Tensor{Name: maskPrefix + name, DType: "U8", Shape: slices.Clone(shapes[name]), Data: d})
	}
	return nn.EncodeSafetensors(tensors, map[string]string{"format": "pt", archKey: string(aj)})
}

// Decode reads what Encode writes, or the same layout from PyTorch (U8 or BOOL mask
// tensors). Each mask tensor must name a linear or convolutional weight of the
// architecture, have its shape and hold only 0 and 1. F32 tensors that are parameters of the
// architecture, with their shapes, may sit beside the masks (a network saved with its mask)
// and are skipped; any other tensor is an error. It never panics, whatever the bytes.
func Decode(b []byte) (nn.Arch, Mask, error) {
	tensors, meta, err := nn.DecodeSafetensors(b)
	if err != nil {
		return nn.Arch{}, nil, err
	}
	s, ok := meta[archKey]
	if !ok {
		return nn.Arch{}, nil, fmt.Errorf("mask file: metadata has no %s entry, so the architecture is unknown", archKey)
	}
	var a nn.Arch
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nn.Arch{}, nil, fmt.Errorf("mask file: metadata %s is not an architecture: %v", archKey, err)
	}
	if err := a.Validate(); err != nil {
		return nn.Arch{}, nil, fmt.Errorf("mask file: metadata %s: %v", archKey, err)
	}
	shapes := weightShapes(a)
	params := paramShapes(a)
	m := Mask{}
	for _, t := range tensors {
		name, isMask := strings.CutPrefix(t.Name, maskPrefix)
		if !isMask {
			if shape, ok := params[t.Name]; ok && t.DType == "F32" && slices.Equal(t.Shape, shape) {
				continue
			}
			return nn.Arch{}, nil, fmt.Errorf("mask file: unexpected tensor %q (dtype %s, shape %v) for %s", t.Name, t.DType, t.Shape, a)
		}
		shape, ok := shapes[name]
		switch {
		case !ok:
			return nn.Arch{}, nil, fmt.Errorf("mask file: tensor %q names no weight of %s", t.Name, a)
		case t.DType != "U8" && t.DType != "BOOL":
			return nn.Arch{}, nil, fmt.Errorf("mask file: tensor %q has dtype %s, want U8 or BOOL", t.Name, t.DType)
		case !slices.Equal(t.Shape, shape):
			return nn.Arch{}, nil, fmt.Errorf("mask file: tensor %q has shape %v, want %v", t.Name, t.Shape, shape)
		}
		v := make([]float32, len(t.Data))
		for i, x := range t.Data {
			if x > 1 {
				return nn.Arch{}, nil, fmt.Errorf("mask file: tensor %q has value %d at %d; masks hold 0 or 1", t.Name, x, i)
			}
			v[i] = float32(x)
		}
		m[name] = v
	}
	return a, m, nil
}

// paramShapes returns the shape of every parameter of a, by name, as nn.NewNetwork would
// allocate them, without allocating.
func paramShapes(a nn.Arch) map[string][]int {
	s := map[string][]int{}
	for _, p := range specOf(a).Params {
		s[p.Name] = p.Shape
	}
	return s
}

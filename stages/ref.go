package stages

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
)

// Ref points at one stored artifact. Values of artifact types carry a *Ref; two refs are equal
// when they name the same bytes, whichever node produced them.
type Ref struct {
	Type  string // artifact type name, e.g. "network"
	Media string // media type of the bytes
	ID    artifacts.OutputID
	Size  int64  // uncompressed bytes
	Meta  string // the producer's description of the bytes, e.g. "mlp 784-128-10 relu"
}

// String is the canonical text of r, used in action keys and messages.
func (r *Ref) String() string {
	return r.Type + ":sha256:" + r.ID.String() // a plan writes one per artifact it keys: no fmt
}

var (
	typesMu sync.Mutex
	types   = map[string]cty.Type{}
	medias  = map[string]string{}
)

// ArtifactType returns the cty type of artifacts named name (one capsule type per name, so
// HCL's type checks say "network required" when a dataset is passed where a network belongs).
// Calling it again with the same name returns the same type; a different media type for a
// known name panics (a programmer error).
func ArtifactType(name, media string) cty.Type {
	typesMu.Lock()
	defer typesMu.Unlock()
	if t, ok := types[name]; ok {
		if medias[name] != media {
			panic(fmt.Sprintf("stages: artifact type %q declared with media %q and %q", name, medias[name], media))
		}
		return t
	}
	t := cty.CapsuleWithOps(name, reflect.TypeOf(Ref{}), &cty.CapsuleOps{
		GoString: func(v interface{}) string { return fmt.Sprintf("stages.Ref(%s)", v.(*Ref)) },
		TypeGoString: func(reflect.Type) string {
			return fmt.Sprintf("stages.ArtifactType(%q, %q)", name, media)
		},
		Equals: func(a, b interface{}) cty.Value {
			return cty.BoolVal(a.(*Ref).ID == b.(*Ref).ID)
		},
		RawEquals: func(a, b interface{}) bool {
			return *a.(*Ref) == *b.(*Ref)
		},
		HashKey: func(v interface{}) string { return v.(*Ref).String() },
	})
	types[name] = t
	medias[name] = media
	return t
}

// ArtifactTypeNamed returns the artifact type declared under name, if any kind declared it:
// what a worker decoding a configuration written elsewhere needs.
func ArtifactTypeNamed(name string) (cty.Type, bool) {
	typesMu.Lock()
	defer typesMu.Unlock()
	t, ok := types[name]
	return t, ok
}

// IsArtifactType reports whether t is an artifact type and returns its name and media type.
func IsArtifactType(t cty.Type) (name, media string, ok bool) {
	if !t.IsCapsuleType() {
		return "", "", false
	}
	typesMu.Lock()
	defer typesMu.Unlock()
	name = t.FriendlyName()
	if types[name] != t {
		return "", "", false
	}
	return name, medias[name], true
}

// ArtifactShape classifies an output type: an artifact, a sequence (list) of artifacts, or a
// value. elem is the artifact type for the first two.
func ArtifactShape(t cty.Type) (elem cty.Type, seq, isArtifact bool) {
	if _, _, ok := IsArtifactType(t); ok {
		return t, false, true
	}
	if t.IsListType() {
		if _, _, ok := IsArtifactType(t.ElementType()); ok {
			return t.ElementType(), true, true
		}
	}
	return cty.NilType, false, false
}

// RefVal wraps r as a value of artifact type t.
func RefVal(t cty.Type, r *Ref) cty.Value {
	return cty.CapsuleVal(t, r)
}

// RefOf returns the Ref inside v, a known non-null value of an artifact type.
// It panics if v is not one: the caller's schema said it would be.
func RefOf(v cty.Value) *Ref {
	return v.EncapsulatedValue().(*Ref)
}

// Refs returns every Ref reachable in v (a configuration object), in a deterministic order.
func Refs(v cty.Value) []*Ref {
	var out []*Ref
	cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if v.IsKnown() && !v.IsNull() && v.Type().IsCapsuleType() {
			if r, ok := v.EncapsulatedValue().(*Ref); ok {
				out = append(out, r)
			}
		}
		return true, nil
	})
	return out
}

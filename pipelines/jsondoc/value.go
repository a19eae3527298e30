package jsondoc

import (
	"encoding/json"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/stages"
)

// Artifact is a stored artifact: its type (network, dataset, …), media type, digest and
// size in bytes. Stored, the compressed size in the local cache, is known only where the
// cache entry is at hand (show); Meta is what its producer said of it (a network's
// architecture, mlp 784-128-10 relu), when it said anything.
type Artifact struct {
	Type   string `json:"type"`
	Media  string `json:"media"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Stored *int64 `json:"stored,omitempty"`
	Meta   string `json:"meta,omitempty"`
}

// Output is an output block's value, as plan and run give it.
type Output struct {
	// Value is the value as JSON, with an artifact as an Artifact object and each part
	// not known before the run as null.
	Value any `json:"value"`
	// Known is false when some of the value is known only after the run.
	Known       bool   `json:"known"`
	Description string `json:"description,omitempty"`
}

// Value converts v to what encoding/json writes as v's JSON, as go-cty's json package
// does for values it can write: numbers exact, objects and maps as objects, lists, sets and
// tuples as arrays, null as null. It also writes what that package cannot: an artifact (a
// value of a stages artifact type) as an Artifact, and an unknown value as null, reporting
// known = false.
func Value(v cty.Value) (out any, known bool) {
	v, _ = v.UnmarkDeep()
	if v.IsWhollyKnown() && !hasCapsule(v.Type()) {
		// go-cty's own encoding, for every value it can write.
		if b, err := (ctyjson.SimpleJSONValue{Value: v}).MarshalJSON(); err == nil {
			return json.RawMessage(b), true
		}
	}
	known = true
	return value(v, &known), known
}

func value(v cty.Value, known *bool) any {
	if !v.IsKnown() {
		*known = false
		return nil
	}
	if v.IsNull() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		f := v.AsBigFloat()
		if f.IsInf() {
			return nil // JSON has no infinity; go-cty's own encoding refuses it
		}
		return json.Number(f.Text('f', -1))
	case t.IsCapsuleType():
		if r, ok := v.EncapsulatedValue().(*stages.Ref); ok {
			return refArtifact(r)
		}
		return t.FriendlyName()
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		out := []any{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, value(e, known))
		}
		return out
	case t.IsObjectType() || t.IsMapType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = value(e, known)
		}
		return out
	}
	return nil
}

// hasCapsule reports whether values of t may hold a capsule (an artifact): go-cty's json
// package cannot write those.
func hasCapsule(t cty.Type) bool {
	switch {
	case t.IsCapsuleType() || t == cty.DynamicPseudoType:
		return true
	case t.IsListType() || t.IsSetType() || t.IsMapType():
		return hasCapsule(t.ElementType())
	case t.IsTupleType():
		for _, e := range t.TupleElementTypes() {
			if hasCapsule(e) {
				return true
			}
		}
	case t.IsObjectType():
		for _, e := range t.AttributeTypes() {
			if hasCapsule(e) {
				return true
			}
		}
	}
	return false
}

func refArtifact(r *stages.Ref) Artifact {
	return Artifact{Type: r.Type, Media: r.Media, SHA256: r.ID.String(), Size: r.Size, Meta: r.Meta}
}

// StoredValue is a value output as the cache stores it (go-cty's JSON of the output's
// type), as the value alone. A value of a type known only once it was computed (a
// command's table, of type cty.DynamicPseudoType) is stored with its type, {"value": …,
// "type": …}; the value is what a person or a script wants.
func StoredValue(spec stages.OutputSpec, raw []byte) []byte {
	if spec.Type == cty.DynamicPseudoType {
		var w struct {
			Value json.RawMessage `json:"value"`
		}
		if json.Unmarshal(raw, &w) == nil && w.Value != nil {
			return append([]byte{}, w.Value...)
		}
	}
	return append([]byte{}, raw...)
}

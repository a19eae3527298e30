package pipelines

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// ActionFormat is the version of the action document. A worker refuses documents of
// another format rather than guess at them.
const ActionFormat = 1

// An Action is a node's work, complete: everything a worker on another machine needs to
// compute it without the pipeline's source or its variables (Bazel's Action, serialised).
// The driver stores it as a blob in the remote cache and the worker is given its digest.
//
// The configuration is the evaluated one, with its input artifacts as references by digest;
// the worker fetches their bytes from the remote. The worker recomputes the action ID from
// what it decoded and refuses to run on a mismatch: a worker built from another version of
// modulo, or one that sees other bytes in a file the action reads, would otherwise store
// its result under a key that does not describe it.
type Action struct {
	Format  int    `json:"format"`
	Stage   string `json:"stage"`
	Version int    `json:"version"`
	// Address is the node's address in the driver's pipeline, for logs and messages.
	Address string `json:"address"`
	// ID is the action ID the driver computed, under which the worker stores the result.
	ID      string `json:"id"`
	Threads int    `json:"threads"`
	// ConfigType and Config are the configuration as go-cty's JSON type and value, each
	// artifact written as an object with one attribute "$artifact:<type>" holding its
	// reference (see refMarker).
	ConfigType json.RawMessage `json:"config_type"`
	Config     json.RawMessage `json:"config"`
	// Files are the files outside the cache the stage reads, with the digests the driver
	// saw.
	Files []stages.File `json:"files,omitempty"`
}

// refMarker is the prefix of the single attribute of the object that stands for an artifact
// of the named type in an encoded configuration. JSON has no capsule values; the type's
// name in the attribute lets an empty list of networks decode to a list of networks.
const refMarker = "$artifact:"

// NewAction describes the run of kind on cfg (wholly known) at addr, under action id.
func NewAction(kind *stages.Kind, addr string, cfg cty.Value, id artifacts.ActionID, threads int, files []stages.File) (*Action, error) {
	enc, err := mapArtifacts(cfg, encodeRefType, encodeRef)
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration of %s: %w", addr, err)
	}
	typ, err := ctyjson.MarshalType(enc.Type())
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration type of %s: %w", addr, err)
	}
	val, err := ctyjson.Marshal(enc, enc.Type())
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration of %s: %w", addr, err)
	}
	return &Action{Format: ActionFormat, Stage: kind.Name, Version: kind.Version, Address: addr, ID: id.String(),
		Threads: threads, ConfigType: typ, Config: val, Files: files}, nil
}

// Encode returns the action as the JSON document stored in the cache.
func (a *Action) Encode() []byte {
	b, err := json.Marshal(a)
	if err != nil {
		panic(err) // every field is plain data
	}
	return b
}

// DecodeAction reads a document written by Encode.
func DecodeAction(b []byte) (*Action, error) {
	var a Action
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("not an action document: %w", err)
	}
	if a.Format != ActionFormat {
		return nil, fmt.Errorf("action document of format %d; this modulo reads format %d: run the same modulo on the driver and the workers", a.Format, ActionFormat)
	}
	if a.Stage == "" || a.ID == "" || len(a.ConfigType) == 0 || len(a.Config) == 0 {
		return nil, fmt.Errorf("action document without its stage, id or configuration")
	}
	return &a, nil
}

// Value decodes the action's configuration, artifacts as references.
func (a *Action) Value() (cty.Value, error) {
	t, err := ctyjson.UnmarshalType(a.ConfigType)
	if err != nil {
		return cty.NilVal, fmt.Errorf("action %s: configuration type: %w", a.Address, err)
	}
	v, err := ctyjson.Unmarshal(a.Config, t)
	if err != nil {
		return cty.NilVal, fmt.Errorf("action %s: configuration: %w", a.Address, err)
	}
	v, err = mapArtifacts(v, decodeRefType, decodeRef)
	if err != nil {
		return cty.NilVal, fmt.Errorf("action %s: configuration: %w", a.Address, err)
	}
	return v, nil
}

func encodeRefType(t cty.Type) (cty.Type, bool, error) {
	name, _, ok := stages.IsArtifactType(t)
	if !ok {
		if t.IsCapsuleType() {
			return t, false, fmt.Errorf("unexpected capsule type %s", t.FriendlyName())
		}
		return t, false, nil
	}
	return cty.Object(map[string]cty.Type{refMarker + name: cty.String}), true, nil
}

func encodeRef(v cty.Value, t cty.Type) (cty.Value, error) {
	r := stages.RefOf(v)
	b, err := json.Marshal(r) // the ID as hex (OutputID.MarshalText)
	if err != nil {
		return cty.NilVal, err
	}
	return cty.ObjectVal(map[string]cty.Value{firstAttr(t): cty.StringVal(string(b))}), nil
}

func decodeRefType(t cty.Type) (cty.Type, bool, error) {
	if !t.IsObjectType() || len(t.AttributeTypes()) != 1 {
		return t, false, nil
	}
	name := firstAttr(t)
	if !strings.HasPrefix(name, refMarker) {
		return t, false, nil
	}
	at, ok := stages.ArtifactTypeNamed(strings.TrimPrefix(name, refMarker))
	if !ok {
		return t, false, fmt.Errorf("unknown artifact type %q", strings.TrimPrefix(name, refMarker))
	}
	return at, true, nil
}

func decodeRef(v cty.Value, t cty.Type) (cty.Value, error) {
	r := &stages.Ref{}
	if err := json.Unmarshal([]byte(v.GetAttr(firstAttr(v.Type())).AsString()), r); err != nil {
		return cty.NilVal, fmt.Errorf("artifact reference: %w", err)
	}
	name, media, _ := stages.IsArtifactType(t)
	if r.Type != name || r.Media != media {
		return cty.NilVal, fmt.Errorf("artifact reference of type %s (%s) where %s (%s) belongs", r.Type, r.Media, name, media)
	}
	return stages.RefVal(t, r), nil
}

func firstAttr(t cty.Type) string {
	for name := range t.AttributeTypes() {
		return name
	}
	return ""
}

// mapArtifacts rebuilds v with every artifact (as told by typ, which maps a type to its
// replacement and says whether it is an artifact's) replaced by leaf's value; typ also
// rewrites the types of nulls and empty collections, so that the result's type is the
// whole of v's type rewritten.
func mapArtifacts(v cty.Value, typ func(cty.Type) (cty.Type, bool, error), leaf func(cty.Value, cty.Type) (cty.Value, error)) (cty.Value, error) {
	t := v.Type()
	nt, err := mapType(t, typ)
	if err != nil {
		return cty.NilVal, err
	}
	if !v.IsKnown() {
		return cty.UnknownVal(nt), nil
	}
	if v.IsNull() {
		return cty.NullVal(nt), nil
	}
	if _, art, err := typ(t); err != nil {
		return cty.NilVal, err
	} else if art {
		return leaf(v, nt)
	}
	switch {
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		if v.LengthInt() == 0 && t.IsListType() {
			return cty.ListValEmpty(nt.ElementType()), nil
		}
		if v.LengthInt() == 0 && t.IsSetType() {
			return cty.SetValEmpty(nt.ElementType()), nil
		}
		elems := make([]cty.Value, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			ne, err := mapArtifacts(e, typ, leaf)
			if err != nil {
				return cty.NilVal, err
			}
			elems = append(elems, ne)
		}
		switch {
		case t.IsListType():
			return cty.ListVal(elems), nil
		case t.IsSetType():
			return cty.SetVal(elems), nil
		}
		return cty.TupleVal(elems), nil
	case t.IsMapType() || t.IsObjectType():
		if t.IsMapType() && v.LengthInt() == 0 {
			return cty.MapValEmpty(nt.ElementType()), nil
		}
		m := map[string]cty.Value{}
		for k, e := range v.AsValueMap() {
			ne, err := mapArtifacts(e, typ, leaf)
			if err != nil {
				return cty.NilVal, err
			}
			m[k] = ne
		}
		if t.IsMapType() {
			return cty.MapVal(m), nil
		}
		return cty.ObjectVal(m), nil
	}
	return v, nil
}

// mapType is mapArtifacts on a type.
func mapType(t cty.Type, typ func(cty.Type) (cty.Type, bool, error)) (cty.Type, error) {
	if nt, art, err := typ(t); err != nil || art {
		return nt, err
	}
	switch {
	case t.IsListType(), t.IsSetType(), t.IsMapType():
		e, err := mapType(t.ElementType(), typ)
		if err != nil {
			return cty.NilType, err
		}
		switch {
		case t.IsListType():
			return cty.List(e), nil
		case t.IsSetType():
			return cty.Set(e), nil
		}
		return cty.Map(e), nil
	case t.IsTupleType():
		ets := t.TupleElementTypes()
		out := make([]cty.Type, len(ets))
		for i, et := range ets {
			var err error
			if out[i], err = mapType(et, typ); err != nil {
				return cty.NilType, err
			}
		}
		return cty.Tuple(out), nil
	case t.IsObjectType():
		ats := t.AttributeTypes()
		out := make(map[string]cty.Type, len(ats))
		for k, at := range ats {
			var err error
			if out[k], err = mapType(at, typ); err != nil {
				return cty.NilType, err
			}
		}
		return cty.Object(out), nil
	}
	return t, nil
}

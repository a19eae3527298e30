package stages

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Schema describes the attributes and nested blocks of a stage block. The engine decodes a
// block against it: unknown attributes, missing required ones and values of the wrong type are
// diagnostics at the offending line; defaults fill what the user left out.
type Schema struct {
	Attributes []Attribute
	Blocks     []BlockSchema
}

// Attribute declares one attribute. Default, when not cty.NilVal, is used when the attribute
// is absent; an optional attribute with no default is null.
type Attribute struct {
	Name     string
	Type     cty.Type
	Required bool
	Default  cty.Value
	Doc      string
	// NotInKey marks an attribute that cannot change the outputs, only how they are
	// computed (threads): it stays out of the action key, so changing it reruns nothing.
	NotInKey bool
	// NullNotInKey marks an attribute added after keys were made without it, and whose
	// default is null: when it is null it stays out of the key (also inside a block), so
	// the configurations written before it existed keep their keys and cached results.
	NullNotInKey bool
	// Check, if set, restricts the attribute's values beyond its type (see Constraint).
	// Every number needs one: a count that accepts 1.5 or -1 is a bug waiting for a user.
	Check Constraint
}

// BlockSchema declares a nested block such as model { … } or plot "name" { … }.
// A block with Multi may appear any number of times and decodes to a list of objects (with
// its labels as attributes named after Labels); otherwise it appears at most once and decodes
// to an object, or null when absent (unless Required).
type BlockSchema struct {
	Name     string
	Labels   []string
	Multi    bool
	Required bool
	Schema   Schema
	Doc      string
}

// ObjectType returns the cty object type that s decodes to.
func (s *Schema) ObjectType() cty.Type {
	atys := map[string]cty.Type{}
	for _, a := range s.Attributes {
		atys[a.Name] = a.Type
	}
	for _, b := range s.Blocks {
		atys[b.Name] = b.Type()
	}
	return cty.Object(atys)
}

// Type returns the cty type b decodes to: an object, or a list of objects for Multi.
func (b *BlockSchema) Type() cty.Type {
	obj := b.Schema.ObjectType()
	if len(b.Labels) > 0 {
		atys := obj.AttributeTypes()
		merged := make(map[string]cty.Type, len(atys)+len(b.Labels))
		for k, v := range atys {
			merged[k] = v
		}
		for _, l := range b.Labels {
			merged[l] = cty.String
		}
		obj = cty.Object(merged)
	}
	if b.Multi {
		return cty.List(obj)
	}
	return obj
}

// Attribute returns the declared attribute named name.
func (s *Schema) Attribute(name string) (Attribute, bool) {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Config builds a configuration object of s from the given attribute values, filling the
// rest with defaults or nulls and absent blocks with nulls or empty lists, as the engine
// does for a block. Values are converted to the attributes' types as the engine converts
// them (a train node's outputs to the object a prune node reads); a value that does not
// convert is kept as it is. Tests and golden digests use it to run a kind without HCL.
func (s *Schema) Config(attrs map[string]cty.Value) cty.Value {
	vals := map[string]cty.Value{}
	for _, a := range s.Attributes {
		switch v, ok := attrs[a.Name]; {
		case ok:
			if c, err := convert.Convert(v, a.Type); err == nil {
				v = c
			}
			vals[a.Name] = v
		case a.Default != cty.NilVal:
			vals[a.Name] = a.Default
		default:
			vals[a.Name] = cty.NullVal(a.Type)
		}
	}
	for _, b := range s.Blocks {
		switch v, ok := attrs[b.Name]; {
		case ok:
			vals[b.Name] = v
		case b.Multi:
			vals[b.Name] = cty.ListValEmpty(b.Type().ElementType())
		default:
			vals[b.Name] = cty.NullVal(b.Type())
		}
	}
	return cty.ObjectVal(vals)
}

// WithoutNewNulls drops from the configuration object v, and from the single blocks in it,
// the attributes marked NullNotInKey whose values are null: what a configuration written
// before they existed held. Keys and stored copies of a configuration use it, so that they
// do not change when an attribute is added.
func (s *Schema) WithoutNewNulls(v cty.Value) cty.Value {
	if !s.hasNewNulls(v) {
		// Most configurations: nothing to drop, and rebuilding the object would cost every
		// planned node a map and an object.
		return v
	}
	m := v.AsValueMap()
	for _, a := range s.Attributes {
		if x, ok := m[a.Name]; ok && a.NullNotInKey && x.IsNull() {
			delete(m, a.Name)
		}
	}
	for _, b := range s.Blocks {
		if x, ok := m[b.Name]; ok && !b.Multi {
			m[b.Name] = b.Schema.WithoutNewNulls(x)
		}
	}
	return cty.ObjectVal(m)
}

// hasNewNulls reports whether WithoutNewNulls would drop anything from v.
func (s *Schema) hasNewNulls(v cty.Value) bool {
	if !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() {
		return false
	}
	t := v.Type()
	for _, a := range s.Attributes {
		if a.NullNotInKey && t.HasAttribute(a.Name) && v.GetAttr(a.Name).IsNull() {
			return true
		}
	}
	for _, b := range s.Blocks {
		if !b.Multi && t.HasAttribute(b.Name) && b.Schema.hasNewNulls(v.GetAttr(b.Name)) {
			return true
		}
	}
	return false
}

// WithNewNulls is WithoutNewNulls' inverse: it adds to v, and to the single blocks in it,
// the NullNotInKey attributes it lacks, as nulls, so a configuration stored before they
// existed decodes into today's Config struct.
func (s *Schema) WithNewNulls(v cty.Value) cty.Value {
	if !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() {
		return v
	}
	m := v.AsValueMap()
	if m == nil {
		m = map[string]cty.Value{}
	}
	for _, a := range s.Attributes {
		if _, ok := m[a.Name]; !ok && a.NullNotInKey {
			m[a.Name] = cty.NullVal(a.Type)
		}
	}
	for _, b := range s.Blocks {
		if x, ok := m[b.Name]; ok && !b.Multi {
			m[b.Name] = b.Schema.WithNewNulls(x)
		}
	}
	return cty.ObjectVal(m)
}

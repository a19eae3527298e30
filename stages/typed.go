package stages

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Decode reads the run's configuration into target, a pointer to the kind's Config struct.
// The engine has checked the configuration against the schema and its constraints, so an
// error here means the struct and the schema disagree: a bug in the kind.
func (in *Input) Decode(target any) error {
	if err := DecodeValue(in.Config, target); err != nil {
		return fmt.Errorf("%s: decoding the configuration: %w", in.Address, err)
	}
	return nil
}

// Canonical decodes a wholly known configuration of k into k's Config struct and encodes it
// back. The result is what the engine keys and runs: it holds exactly what the kind reads
// (a number the struct cannot hold exactly, such as a seed of 2^70, fails here with the
// attribute's path instead of being silently changed by the run). Kinds without a Config
// get cfg back unchanged.
func Canonical(k *Kind, cfg cty.Value) (cty.Value, error) {
	if k.Config == nil {
		return cfg, nil
	}
	ptr := reflect.New(reflect.TypeOf(k.Config))
	if err := DecodeValue(cfg, ptr.Interface()); err != nil {
		return cty.NilVal, err
	}
	v, err := gocty.ToCtyValue(ptr.Interface(), cfg.Type())
	if err != nil {
		return cty.NilVal, fmt.Errorf("stages: kind %s: encoding its configuration: %w", k.Name, err)
	}
	return v, nil
}

// checkConfigType panics unless k.Config is a struct with a field for every attribute and
// block of k's schema and none besides: a programmer error, found when the kind registers.
func checkConfigType(k *Kind) {
	if k.Config == nil {
		return
	}
	t := reflect.TypeOf(k.Config)
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("stages: kind %q: Config must be a struct, not %s", k.Name, t))
	}
	want := map[string]bool{}
	for _, a := range k.Schema.Attributes {
		want[a.Name] = true
	}
	for _, b := range k.Schema.Blocks {
		want[b.Name] = true
	}
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("cty")
		if tag == "" {
			continue
		}
		if !want[tag] {
			panic(fmt.Sprintf("stages: kind %q: Config field %s has tag %q, which the schema does not declare", k.Name, t.Field(i).Name, tag))
		}
		delete(want, tag)
	}
	for name := range want {
		panic(fmt.Sprintf("stages: kind %q: Config has no field tagged cty:%q", k.Name, name))
	}
}

// refPtrType is the Go type artifact attributes decode to.
var refPtrType = reflect.TypeOf((*Ref)(nil))

// DecodeValue is gocty.FromCtyValue (v into target, a pointer) that also decodes artifacts
// into *Ref fields, nil for a null one, which gocty cannot do. Struct fields are matched to
// object attributes by their `cty:"name"` tags; every attribute needs a field and every
// tagged field an attribute.
func DecodeValue(v cty.Value, target any) error {
	rv := reflect.ValueOf(target)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("stages: DecodeValue needs a non-nil pointer")
	}
	return decodeInto(v, rv.Elem(), nil)
}

func decodeInto(v cty.Value, rv reflect.Value, path cty.Path) error {
	t := rv.Type()
	switch {
	case t == refPtrType:
		if v.IsNull() {
			rv.Set(reflect.Zero(t))
			return nil
		}
		if !v.IsKnown() || !v.Type().IsCapsuleType() {
			return path.NewErrorf("an artifact is required")
		}
		r, ok := v.EncapsulatedValue().(*Ref)
		if !ok {
			return path.NewErrorf("an artifact is required")
		}
		rv.Set(reflect.ValueOf(r))
		return nil
	case t.Kind() == reflect.Slice && t.Elem() == refPtrType:
		if v.IsNull() {
			rv.Set(reflect.Zero(t))
			return nil
		}
		if !v.IsKnown() || !(v.Type().IsListType() || v.Type().IsTupleType()) {
			return path.NewErrorf("a list of artifacts is required")
		}
		elems := v.AsValueSlice()
		out := reflect.MakeSlice(t, len(elems), len(elems))
		for i, e := range elems {
			if err := decodeInto(e, out.Index(i), append(path.Copy(), cty.IndexStep{Key: cty.NumberIntVal(int64(i))})); err != nil {
				return err
			}
		}
		rv.Set(out)
		return nil
	case t.Kind() == reflect.Struct && t != reflect.TypeOf(cty.Value{}) && hasRefs(t):
		if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
			return path.NewErrorf("an object is required")
		}
		seen := map[string]bool{}
		for i := range t.NumField() {
			name := t.Field(i).Tag.Get("cty")
			if name == "" {
				continue
			}
			seen[name] = true
			if !v.Type().HasAttribute(name) {
				return path.NewErrorf("missing attribute %q", name)
			}
			if err := decodeInto(v.GetAttr(name), rv.Field(i), append(path.Copy(), cty.GetAttrStep{Name: name})); err != nil {
				return err
			}
		}
		for name := range v.Type().AttributeTypes() {
			if !seen[name] {
				return path.NewErrorf("unsupported attribute %q", name)
			}
		}
		return nil
	}
	if err := gocty.FromCtyValue(v, rv.Addr().Interface()); err != nil {
		full := path.Copy()
		var pe cty.PathError
		if errors.As(err, &pe) {
			full = append(full, pe.Path...)
		}
		return full.NewErrorf("%s: %s", pathText(full), err.Error())
	}
	return nil
}

// pathText renders path as an attribute reference: optimizer.lr, hidden[2].
func pathText(path cty.Path) string {
	var sb strings.Builder
	for _, st := range path {
		switch st := st.(type) {
		case cty.GetAttrStep:
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(st.Name)
		case cty.IndexStep:
			if st.Key.Type() == cty.Number {
				fmt.Fprintf(&sb, "[%s]", st.Key.AsBigFloat().Text('f', -1))
			} else if st.Key.Type() == cty.String {
				fmt.Fprintf(&sb, "[%q]", st.Key.AsString())
			}
		}
	}
	if sb.Len() == 0 {
		return "the configuration"
	}
	return sb.String()
}

// hasRefs reports whether struct type t holds *Ref fields anywhere, which gocty alone
// cannot decode.
func hasRefs(t reflect.Type) bool {
	for i := range t.NumField() {
		ft := t.Field(i).Type
		switch {
		case ft == refPtrType, ft.Kind() == reflect.Slice && ft.Elem() == refPtrType:
			return true
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(cty.Value{}) && hasRefs(ft):
			return true
		}
	}
	return false
}

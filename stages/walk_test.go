package stages

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestWalkAgreesWithCty checks WhollyKnown and scan against cty's own
// IsWhollyKnown and ContainsMarked on values of every shape.
func TestWalkAgreesWithCty(t *testing.T) {
	long := make([]cty.Value, 100)
	for i := range long {
		long[i] = cty.StringVal("x")
	}
	longUnknown := append(append([]cty.Value{}, long[:99]...), cty.UnknownVal(cty.String))
	mark := metaMark{meta: "m"}
	values := map[string]cty.Value{
		"string":              cty.StringVal("a"),
		"unknown":             cty.UnknownVal(cty.String),
		"null":                cty.NullVal(cty.String),
		"unknown object":      cty.UnknownVal(cty.Object(map[string]cty.Type{"a": cty.String})),
		"object":              cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("a"), "b": cty.NumberIntVal(1)}),
		"object unknown attr": cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("a"), "b": cty.UnknownVal(cty.Number)}),
		"nested unknown":      cty.ObjectVal(map[string]cty.Value{"a": cty.ObjectVal(map[string]cty.Value{"b": cty.ListVal([]cty.Value{cty.StringVal("x"), cty.UnknownVal(cty.String)})})}),
		"list":                cty.ListVal([]cty.Value{cty.StringVal("x"), cty.StringVal("y")}),
		"long list":           cty.ListVal(long),
		"long list unknown":   cty.ListVal(longUnknown),
		"tuple unknown":       cty.TupleVal([]cty.Value{cty.True, cty.UnknownVal(cty.Bool)}),
		"empty list":          cty.ListValEmpty(cty.String),
		"map unknown":         cty.MapVal(map[string]cty.Value{"k": cty.UnknownVal(cty.String)}),
		"set":                 cty.SetVal([]cty.Value{cty.StringVal("x")}),
		"set unknown":         cty.SetVal([]cty.Value{cty.UnknownVal(cty.String)}),
		"marked":              cty.StringVal("a").Mark(mark),
		"marked unknown":      cty.UnknownVal(cty.String).Mark(mark),
		"deep mark":           cty.ObjectVal(map[string]cty.Value{"a": cty.ListVal([]cty.Value{cty.StringVal("x"), cty.StringVal("y").Mark(mark)})}),
		"deep mark in long":   cty.TupleVal(append(append([]cty.Value{}, long...), cty.StringVal("z").Mark(mark))),
		"deep mark in map":    cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v").Mark(mark)}),
		"marked object":       cty.ObjectVal(map[string]cty.Value{"a": cty.UnknownVal(cty.String)}).Mark(mark),
	}
	for name, v := range values {
		if got, want := WhollyKnown(v), v.IsWhollyKnown(); got != want {
			t.Errorf("%s: WhollyKnown = %v, cty says %v", name, got, want)
		}
		marked, known := scan(v)
		if want := v.ContainsMarked(); marked != want {
			t.Errorf("%s: scan's marked = %v, cty says %v", name, marked, want)
		}
		if want := v.IsWhollyKnown(); known != want {
			t.Errorf("%s: scan's known = %v, cty says %v", name, known, want)
		}
		if got, want := NewPlanned(v).WhollyKnown(), v.IsWhollyKnown(); got != want {
			t.Errorf("%s: NewPlanned(v).WhollyKnown() = %v, cty says %v", name, got, want)
		}
	}
}

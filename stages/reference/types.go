package reference

import (
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// Type renders t as a user writes it in a variable's type: string, number, bool,
// list(number), map(string), object({a = number, b = string}), any for a dynamic type;
// an artifact type by its name (network, dataset), so a sequence of networks is
// list(network); any other capsule type by its name.
func Type(t cty.Type) string {
	switch {
	case t == cty.NilType:
		return "?"
	case t == cty.DynamicPseudoType:
		return "any"
	case t == cty.String:
		return "string"
	case t == cty.Number:
		return "number"
	case t == cty.Bool:
		return "bool"
	case t.IsCapsuleType():
		if name, _, ok := stages.IsArtifactType(t); ok {
			return name
		}
		return t.FriendlyName()
	case t.IsListType():
		return "list(" + Type(t.ElementType()) + ")"
	case t.IsSetType():
		return "set(" + Type(t.ElementType()) + ")"
	case t.IsMapType():
		return "map(" + Type(t.ElementType()) + ")"
	case t.IsTupleType():
		elems := t.TupleElementTypes()
		parts := make([]string, len(elems))
		for i, e := range elems {
			parts[i] = Type(e)
		}
		return "tuple([" + strings.Join(parts, ", ") + "])"
	case t.IsObjectType():
		atys := t.AttributeTypes()
		names := make([]string, 0, len(atys))
		for n := range atys {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			at := Type(atys[n])
			if t.AttributeOptional(n) {
				at = "optional(" + at + ")"
			}
			parts[i] = n + " = " + at
		}
		return "object({" + strings.Join(parts, ", ") + "})"
	}
	return t.FriendlyName()
}

// Value renders v as a user writes it in HCL: "mlp", 0.0001, true, [64, 128], {a = 1},
// null. It is for defaults, which are known; an unknown value renders as "(unknown)".
func Value(v cty.Value) string {
	switch {
	case v == cty.NilVal:
		return ""
	case !v.IsKnown():
		return "(unknown)"
	case v.IsNull():
		return "null"
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return quote(v.AsString())
	case t == cty.Number:
		return number(v.AsBigFloat())
	case t == cty.Bool:
		return strconv.FormatBool(v.True())
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			parts = append(parts, Value(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case t.IsMapType() || t.IsObjectType():
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			parts = append(parts, key(k.AsString())+" = "+Value(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "(" + Type(t) + ")"
}

// number renders a number exactly when it is a whole number of sensible size, else in the
// shortest form that reads back as the same float64.
func number(f *big.Float) string {
	if f.IsInt() {
		if i, acc := f.Int64(); acc == big.Exact {
			return strconv.FormatInt(i, 10)
		}
	}
	x, _ := f.Float64()
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// quote writes s as an HCL string literal, escaping what HCL would read as a template.
func quote(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q, "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// key writes an object key: bare when it is an identifier, else quoted.
func key(k string) string {
	if k == "" {
		return `""`
	}
	for i, r := range k {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r == '-' || r >= '0' && r <= '9')
		if !ok {
			return quote(k)
		}
	}
	return k
}

package pipelines

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/modulo-ml/modulo/stages/reference"
)

// Terraform's own functions, where Terraform's semantics differ from those of cty's
// function of the same name (index, length, coalesce, replace) or cty has none (sum,
// alltrue, anytrue, one, startswith, endswith, strcontains). A Terraform user's expression
// means here what it means there.

// indexFunc is Terraform's index(list, value): the index of the first element equal to
// value. cty's stdlib.IndexFunc is another function, element access by key.
var indexFunc = function.New(&function.Spec{
	Description: "Returns the index of the first element of list equal to value.",
	Params: []function.Parameter{
		{Name: "list", Type: cty.DynamicPseudoType},
		{Name: "value", Type: cty.DynamicPseudoType},
	},
	Type: func(args []cty.Value) (cty.Type, error) {
		if t := args[0].Type(); !t.IsListType() && !t.IsTupleType() {
			return cty.NilType, function.NewArgErrorf(0, "index takes a list, not %s: index(list, value) is where value is in list (the element at an index is list[i])", article(t))
		}
		return cty.Number, nil
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		list, value := args[0], args[1]
		hint := ""
		for it := list.ElementIterator(); it.Next(); {
			i, e := it.Element()
			eq := e.Equals(value)
			if !eq.IsKnown() {
				return cty.UnknownVal(cty.Number), nil
			}
			if eq.True() {
				return i, nil
			}
			if hint == "" && !e.Type().Equals(value.Type()) {
				if c, err := convert.Convert(value, e.Type()); err == nil && c.IsKnown() && e.Equals(c).True() {
					hint = fmt.Sprintf(": the list holds %ss and %s is %s; convert it first, as in index(list, to%s(value))",
						reference.Type(e.Type()), reference.Value(value), article(value.Type()), reference.Type(e.Type()))
				}
			}
		}
		if list.LengthInt() == 0 {
			return cty.NilVal, function.NewArgErrorf(0, "the list is empty, so %s is not in it", reference.Value(value))
		}
		return cty.NilVal, function.NewArgErrorf(1, "%s is not in the list%s", reference.Value(value), hint)
	},
})

// lengthFunc is Terraform's length: of a collection, an object's attributes, or a
// string's characters (cty's counts collections only).
var lengthFunc = function.New(&function.Spec{
	Description: "Returns the number of elements, attributes or characters of value.",
	Params:      []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
	Type: func(args []cty.Value) (cty.Type, error) {
		switch t := args[0].Type(); {
		case t == cty.String, t == cty.DynamicPseudoType, t.IsCollectionType(), t.IsTupleType(), t.IsObjectType():
			return cty.Number, nil
		default:
			return cty.NilType, function.NewArgErrorf(0, "length takes a string, a list, a set, a map, a tuple or an object, not %s", article(t))
		}
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		switch t := v.Type(); {
		case t.IsTupleType():
			return cty.NumberIntVal(int64(len(t.TupleElementTypes()))), nil
		case t.IsObjectType():
			return cty.NumberIntVal(int64(len(t.AttributeTypes()))), nil
		case !v.IsKnown():
			return cty.UnknownVal(cty.Number), nil
		case t == cty.String:
			return stdlib.Strlen(v)
		}
		return v.Length(), nil
	},
})

// coalesceFunc is Terraform's coalesce: the first argument neither null nor "" (cty's
// skips nulls only).
var coalesceFunc = function.New(&function.Spec{
	Description: "Returns the first argument that is neither null nor an empty string.",
	VarParam:    &function.Parameter{Name: "values", Type: cty.DynamicPseudoType, AllowUnknown: true, AllowDynamicType: true, AllowNull: true},
	Type: func(args []cty.Value) (cty.Type, error) {
		types := make([]cty.Type, len(args))
		for i, a := range args {
			types[i] = a.Type()
		}
		t, _ := convert.UnifyUnsafe(types)
		if t == cty.NilType {
			return cty.NilType, errors.New("all the arguments must have the same type, or convert to one")
		}
		return t, nil
	},
	Impl: func(args []cty.Value, t cty.Type) (cty.Value, error) {
		for _, a := range args {
			a, _ = convert.Convert(a, t) // the Type function has checked it converts
			switch {
			case !a.IsKnown():
				return cty.UnknownVal(t), nil
			case a.IsNull(), t == cty.String && a.RawEquals(cty.StringVal("")):
				continue
			}
			return a, nil
		}
		return cty.NilVal, errors.New("every argument is null or an empty string")
	},
})

// sumFunc is Terraform's sum.
var sumFunc = function.New(&function.Spec{
	Description: "Returns the sum of a list, set or tuple of numbers.",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type: func(args []cty.Value) (cty.Type, error) {
		if t := args[0].Type(); !t.IsListType() && !t.IsSetType() && !t.IsTupleType() {
			return cty.NilType, function.NewArgErrorf(0, "sum takes a list, set or tuple of numbers, not %s", article(t))
		}
		return cty.Number, nil
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		list := args[0]
		if list.LengthInt() == 0 {
			return cty.NilVal, function.NewArgErrorf(0, "cannot sum an empty list (as in Terraform); write try(sum(list), 0) for 0")
		}
		if !list.IsWhollyKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		total := cty.Zero
		i := 0
		for it := list.ElementIterator(); it.Next(); i++ {
			_, e := it.Element()
			if e.IsNull() {
				return cty.NilVal, function.NewArgErrorf(0, "element %d is null; sum adds numbers only", i)
			}
			n, err := convert.Convert(e, cty.Number)
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "element %d is %s; sum adds numbers only", i, article(e.Type()))
			}
			total = total.Add(n)
		}
		return total, nil
	},
})

// replaceFunc is Terraform's replace: a substring written /like this/ is a regular
// expression (cty's replaces the text only).
var replaceFunc = function.New(&function.Spec{
	Description: "Replaces every occurrence of substring in string; /…/ is a regular expression.",
	Params: []function.Parameter{
		{Name: "string", Type: cty.String},
		{Name: "substring", Type: cty.String},
		{Name: "replacement", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		s, sub, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
		if len(sub) > 1 && sub[0] == '/' && sub[len(sub)-1] == '/' {
			re, err := regexp.Compile(sub[1 : len(sub)-1])
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(1, "%s is not a regular expression: %v", sub, err)
			}
			return cty.StringVal(re.ReplaceAllString(s, repl)), nil
		}
		return cty.StringVal(strings.ReplaceAll(s, sub, repl)), nil
	},
})

// alltrueFunc and anytrueFunc are Terraform's: a null element counts as false.
var alltrueFunc = function.New(&function.Spec{
	Description: "Returns true when every element of list is true.",
	Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
	Type:        function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		result := cty.True
		for it := args[0].ElementIterator(); it.Next(); {
			_, v := it.Element()
			switch {
			case !v.IsKnown():
				result = cty.UnknownVal(cty.Bool)
			case v.IsNull() || v.False():
				return cty.False, nil
			}
		}
		return result, nil
	},
})

var anytrueFunc = function.New(&function.Spec{
	Description: "Returns true when at least one element of list is true.",
	Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
	Type:        function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		result := cty.False
		for it := args[0].ElementIterator(); it.Next(); {
			_, v := it.Element()
			switch {
			case !v.IsKnown():
				result = cty.UnknownVal(cty.Bool)
			case !v.IsNull() && v.True():
				return cty.True, nil
			}
		}
		return result, nil
	},
})

// oneFunc is Terraform's one.
var oneFunc = function.New(&function.Spec{
	Description: "Returns the only element of a collection of at most one, or null.",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type: func(args []cty.Value) (cty.Type, error) {
		switch t := args[0].Type(); {
		case t.IsListType() || t.IsSetType():
			return t.ElementType(), nil
		case t.IsTupleType():
			switch ets := t.TupleElementTypes(); len(ets) {
			case 0:
				return cty.DynamicPseudoType, nil
			case 1:
				return ets[0], nil
			}
			return cty.NilType, function.NewArgErrorf(0, "one takes a list of at most one element; this one has %d", len(t.TupleElementTypes()))
		default:
			return cty.NilType, function.NewArgErrorf(0, "one takes a list, set or tuple, not %s", article(t))
		}
	},
	Impl: func(args []cty.Value, t cty.Type) (cty.Value, error) {
		v := args[0]
		if !v.IsKnown() {
			return cty.UnknownVal(t), nil
		}
		switch n := v.LengthInt(); n {
		case 0:
			return cty.NullVal(t), nil
		case 1:
			it := v.ElementIterator()
			it.Next()
			_, e := it.Element()
			return e, nil
		default:
			return cty.NilVal, function.NewArgErrorf(0, "one takes a list of at most one element; this one has %d", n)
		}
	},
})

// stringTest makes Terraform's startswith, endswith and strcontains.
func stringTest(desc, second string, test func(s, x string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "string", Type: cty.String}, {Name: second, Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var (
	startswithFunc  = stringTest("Returns true when string starts with prefix.", "prefix", strings.HasPrefix)
	endswithFunc    = stringTest("Returns true when string ends with suffix.", "suffix", strings.HasSuffix)
	strcontainsFunc = stringTest("Returns true when string contains substring.", "substring", strings.Contains)
)

// article names a type with its article, for messages: "a string", "an object".
func article(t cty.Type) string {
	s := reference.Type(t)
	switch {
	case t.IsObjectType():
		return "an object"
	case t.IsTupleType():
		return "a tuple"
	case strings.IndexAny(s[:1], "aeiou") == 0:
		return "an " + s
	}
	return "a " + s
}

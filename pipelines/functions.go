package pipelines

import (
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/modulo-ml/modulo/stages/reference"
)

// functionTable lists every function of expressions under Terraform's names, with the
// arguments and the sentence the language reference (modulo doc functions) shows: cty's
// standard library, Terraform's conversions, try and can, and Terraform's own versions of
// the functions whose semantics differ from cty's (functions_terraform.go). The evaluator's
// table is built from it, so a function cannot be offered without being documented; a test
// checks each entry's arguments against the function's parameters. It is sorted by name.
var functionTable = []reference.Function{
	{Name: "abs", Args: []string{"number"}, Doc: "The absolute value of number.", Fn: stdlib.AbsoluteFunc},
	{Name: "alltrue", Args: []string{"list"}, Doc: "true when every element of a list of bools is true, or the list is empty.", Fn: alltrueFunc},
	{Name: "anytrue", Args: []string{"list"}, Doc: "true when at least one element of a list of bools is true.", Fn: anytrueFunc},
	{Name: "can", Args: []string{"expression"}, Doc: "true when expression evaluates without an error, else false.", Fn: tryfunc.CanFunc},
	{Name: "ceil", Args: []string{"number"}, Doc: "The smallest whole number greater than or equal to number.", Fn: stdlib.CeilFunc},
	{Name: "chomp", Args: []string{"string"}, Doc: "string without the newlines at its end.", Fn: stdlib.ChompFunc},
	{Name: "chunklist", Args: []string{"list", "size"}, Doc: "list cut into lists of size elements (the last may have fewer).", Fn: stdlib.ChunklistFunc},
	{Name: "coalesce", Args: []string{"values"}, Doc: "The first of the values that is neither null nor an empty string.", Fn: coalesceFunc},
	{Name: "coalescelist", Args: []string{"lists"}, Doc: "The first of the lists that is not empty.", Fn: stdlib.CoalesceListFunc},
	{Name: "compact", Args: []string{"list"}, Doc: "A list of strings without its empty strings and nulls.", Fn: stdlib.CompactFunc},
	{Name: "concat", Args: []string{"lists"}, Doc: "The lists joined end to end into one.", Fn: stdlib.ConcatFunc},
	{Name: "contains", Args: []string{"list", "value"}, Doc: "true when value is an element of list.", Fn: stdlib.ContainsFunc},
	{Name: "csvdecode", Args: []string{"string"}, Doc: "The rows of CSV text with a header row, as a list of objects.", Fn: stdlib.CSVDecodeFunc},
	{Name: "distinct", Args: []string{"list"}, Doc: "list without repeated elements, the first of each kept, in order.", Fn: stdlib.DistinctFunc},
	{Name: "element", Args: []string{"list", "index"}, Doc: "The element of list at index, wrapping around past the end (index modulo the length).", Fn: stdlib.ElementFunc},
	{Name: "endswith", Args: []string{"string", "suffix"}, Doc: "true when string ends with suffix.", Fn: endswithFunc},
	{Name: "flatten", Args: []string{"list"}, Doc: "The elements of list and of the lists nested in it, in one flat list.", Fn: stdlib.FlattenFunc},
	{Name: "floor", Args: []string{"number"}, Doc: "The greatest whole number less than or equal to number.", Fn: stdlib.FloorFunc},
	{Name: "format", Args: []string{"spec", "values"}, Doc: `The values formatted by spec, as printf does: format("w%d-s%d", 64, 1) is "w64-s1".`, Fn: stdlib.FormatFunc},
	{Name: "formatdate", Args: []string{"spec", "timestamp"}, Doc: `An RFC 3339 timestamp formatted by spec, such as "YYYY-MM-DD".`, Fn: stdlib.FormatDateFunc},
	{Name: "formatlist", Args: []string{"spec", "values"}, Doc: "format applied element by element to lists of values, giving a list of strings.", Fn: stdlib.FormatListFunc},
	{Name: "indent", Args: []string{"spaces", "string"}, Doc: "string with every line but the first indented by that many spaces.", Fn: stdlib.IndentFunc},
	{Name: "index", Args: []string{"list", "value"}, Doc: "The index of the first element of list equal to value, as in Terraform; an error when there is none. For the element at an index, write list[i].", Fn: indexFunc},
	{Name: "join", Args: []string{"separator", "lists"}, Doc: "The strings of the lists joined with separator between them.", Fn: stdlib.JoinFunc},
	{Name: "jsondecode", Args: []string{"string"}, Doc: "The value JSON text stands for.", Fn: stdlib.JSONDecodeFunc},
	{Name: "jsonencode", Args: []string{"value"}, Doc: "value as JSON text.", Fn: stdlib.JSONEncodeFunc},
	{Name: "keys", Args: []string{"map"}, Doc: "The keys of a map, or the attribute names of an object, sorted.", Fn: stdlib.KeysFunc},
	{Name: "length", Args: []string{"value"}, Doc: "The number of elements of a list, set, tuple or map, of attributes of an object, or of characters of a string.", Fn: lengthFunc},
	{Name: "log", Args: []string{"number", "base"}, Doc: "The logarithm of number in base.", Fn: stdlib.LogFunc},
	{Name: "lookup", Args: []string{"map", "key", "default"}, Doc: "The element of a map or object at key, or default when there is none.", Fn: stdlib.LookupFunc},
	{Name: "lower", Args: []string{"string"}, Doc: "string in lower case.", Fn: stdlib.LowerFunc},
	{Name: "max", Args: []string{"numbers"}, Doc: "The greatest of the numbers; max(list...) for the elements of a list.", Fn: stdlib.MaxFunc},
	{Name: "merge", Args: []string{"maps"}, Doc: "The maps or objects merged into one, a later key overriding an earlier one.", Fn: stdlib.MergeFunc},
	{Name: "min", Args: []string{"numbers"}, Doc: "The least of the numbers; min(list...) for the elements of a list.", Fn: stdlib.MinFunc},
	{Name: "one", Args: []string{"list"}, Doc: "The only element of a list, set or tuple of one element; null when it is empty, an error when it has more.", Fn: oneFunc},
	{Name: "parseint", Args: []string{"string", "base"}, Doc: `The whole number string writes in base: parseint("ff", 16) is 255.`, Fn: stdlib.ParseIntFunc},
	{Name: "pow", Args: []string{"base", "exponent"}, Doc: "base raised to the power exponent.", Fn: stdlib.PowFunc},
	{Name: "range", Args: []string{"[start,] limit[, step]"}, Doc: "The numbers from start (default 0) up to, not including, limit, step (default 1) apart: range(3) is [0, 1, 2].", Fn: stdlib.RangeFunc},
	{Name: "regex", Args: []string{"pattern", "string"}, Doc: "The first match of a regular expression in string: the match, a list of its groups, or an object of its named groups.", Fn: stdlib.RegexFunc},
	{Name: "regexall", Args: []string{"pattern", "string"}, Doc: "Every match of a regular expression in string, each as regex gives it.", Fn: stdlib.RegexAllFunc},
	{Name: "replace", Args: []string{"string", "substring", "replacement"}, Doc: "string with every occurrence of substring replaced; a substring written /like this/ is a regular expression, and replacement may refer to its groups as $1.", Fn: replaceFunc},
	{Name: "reverse", Args: []string{"list"}, Doc: "list in reverse order.", Fn: stdlib.ReverseListFunc},
	{Name: "setintersection", Args: []string{"set", "sets"}, Doc: "The elements every one of the sets has.", Fn: stdlib.SetIntersectionFunc},
	{Name: "setproduct", Args: []string{"sets"}, Doc: "Every combination of one element of each set or list, as a list of lists: setproduct([64, 128], [1, 2]) has four.", Fn: stdlib.SetProductFunc},
	{Name: "setsubtract", Args: []string{"a", "b"}, Doc: "The elements of set a that set b does not have.", Fn: stdlib.SetSubtractFunc},
	{Name: "setsymmetricdifference", Args: []string{"set", "sets"}, Doc: "The elements that only one of the sets has.", Fn: stdlib.SetSymmetricDifferenceFunc},
	{Name: "setunion", Args: []string{"set", "sets"}, Doc: "The elements any of the sets has.", Fn: stdlib.SetUnionFunc},
	{Name: "signum", Args: []string{"number"}, Doc: "-1, 0 or 1: the sign of number.", Fn: stdlib.SignumFunc},
	{Name: "slice", Args: []string{"list", "start", "end"}, Doc: "The elements of list from index start up to, not including, end.", Fn: stdlib.SliceFunc},
	{Name: "sort", Args: []string{"list"}, Doc: "A list of strings in lexicographic order (numbers too are compared as strings).", Fn: stdlib.SortFunc},
	{Name: "split", Args: []string{"separator", "string"}, Doc: "The parts of string between the separators, as a list.", Fn: stdlib.SplitFunc},
	{Name: "startswith", Args: []string{"string", "prefix"}, Doc: "true when string starts with prefix.", Fn: startswithFunc},
	{Name: "strcontains", Args: []string{"string", "substring"}, Doc: "true when string contains substring.", Fn: strcontainsFunc},
	{Name: "strrev", Args: []string{"string"}, Doc: "string with its characters in reverse order.", Fn: stdlib.ReverseFunc},
	{Name: "substr", Args: []string{"string", "offset", "length"}, Doc: "length characters of string from offset (length -1: to the end).", Fn: stdlib.SubstrFunc},
	{Name: "sum", Args: []string{"list"}, Doc: "The sum of a list, set or tuple of numbers; an error when it is empty, as in Terraform.", Fn: sumFunc},
	{Name: "timeadd", Args: []string{"timestamp", "duration"}, Doc: `An RFC 3339 timestamp plus a duration such as "1h30m".`, Fn: stdlib.TimeAddFunc},
	{Name: "title", Args: []string{"string"}, Doc: "string with the first letter of each word in upper case.", Fn: stdlib.TitleFunc},
	{Name: "tobool", Args: []string{"value"}, Doc: `value converted to a bool ("true" is true).`, Fn: stdlib.MakeToFunc(cty.Bool)},
	{Name: "tolist", Args: []string{"value"}, Doc: "A set or tuple converted to a list.", Fn: fastTo(cty.List, stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)))},
	{Name: "tomap", Args: []string{"value"}, Doc: "An object converted to a map.", Fn: stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType))},
	{Name: "tonumber", Args: []string{"value"}, Doc: `value converted to a number ("64" is 64).`, Fn: stdlib.MakeToFunc(cty.Number)},
	{Name: "toset", Args: []string{"value"}, Doc: "A list or tuple converted to a set: sorted, without repeats (what for_each takes).", Fn: fastTo(cty.Set, stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)))},
	{Name: "tostring", Args: []string{"value"}, Doc: "A number or bool converted to a string (64 is \"64\").", Fn: stdlib.MakeToFunc(cty.String)},
	{Name: "trim", Args: []string{"string", "characters"}, Doc: "string without any of characters at its start and end.", Fn: stdlib.TrimFunc},
	{Name: "trimprefix", Args: []string{"string", "prefix"}, Doc: "string without prefix at its start.", Fn: stdlib.TrimPrefixFunc},
	{Name: "trimspace", Args: []string{"string"}, Doc: "string without white space at its start and end.", Fn: stdlib.TrimSpaceFunc},
	{Name: "trimsuffix", Args: []string{"string", "suffix"}, Doc: "string without suffix at its end.", Fn: stdlib.TrimSuffixFunc},
	{Name: "try", Args: []string{"expressions"}, Doc: "The value of the first expression that evaluates without an error.", Fn: tryfunc.TryFunc},
	{Name: "upper", Args: []string{"string"}, Doc: "string in upper case.", Fn: stdlib.UpperFunc},
	{Name: "values", Args: []string{"map"}, Doc: "The values of a map or object, in the order of its sorted keys.", Fn: stdlib.ValuesFunc},
	{Name: "zipmap", Args: []string{"keys", "values"}, Doc: "A map of each of keys to the element of values at the same index.", Fn: stdlib.ZipmapFunc},
}

// functions is the function table of every expression, built once from functionTable;
// function values are immutable and safe to share between goroutines.
var functions = func() map[string]function.Function {
	m := make(map[string]function.Function, len(functionTable))
	for _, f := range functionTable {
		m[f.Name] = f.Fn
	}
	return m
}()

// fastTo wraps cty's tolist or toset with a fast path for the common case of a known tuple
// whose elements all have one type, such as toset([for k in … : format(…)]). cty's general
// conversion unifies the element types pairwise, which takes seconds for 10,000 keys; when
// the types are already equal there is nothing to unify.
func fastTo(collection func(cty.Type) cty.Type, slow function.Function) function.Function {
	uniform := func(v cty.Value) (cty.Type, bool) {
		if !v.IsWhollyKnown() || v.IsNull() || v.IsMarked() || !v.Type().IsTupleType() {
			return cty.NilType, false
		}
		ets := v.Type().TupleElementTypes()
		if len(ets) == 0 || !ets[0].IsPrimitiveType() {
			return cty.NilType, false
		}
		for _, t := range ets[1:] {
			if t != ets[0] {
				return cty.NilType, false
			}
		}
		return ets[0], true
	}
	return function.New(&function.Spec{
		Description: slow.Description(),
		Params:      slow.Params(),
		Type: func(args []cty.Value) (cty.Type, error) {
			if et, ok := uniform(args[0]); ok {
				return collection(et), nil
			}
			return slow.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			if _, ok := uniform(args[0]); ok {
				if retType.IsSetType() {
					return cty.SetVal(args[0].AsValueSlice()), nil
				}
				return cty.ListVal(args[0].AsValueSlice()), nil
			}
			return slow.Call(args)
		},
	})
}

package pipelines

import (
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions is the function table of every expression: cty's standard library under
// Terraform's names, Terraform's conversions, try and can. It is built once; function values
// are immutable and safe to share between goroutines.
var functions = map[string]function.Function{
	"abs":             stdlib.AbsoluteFunc,
	"can":             tryfunc.CanFunc,
	"ceil":            stdlib.CeilFunc,
	"chomp":           stdlib.ChompFunc,
	"chunklist":       stdlib.ChunklistFunc,
	"coalesce":        stdlib.CoalesceFunc,
	"coalescelist":    stdlib.CoalesceListFunc,
	"compact":         stdlib.CompactFunc,
	"concat":          stdlib.ConcatFunc,
	"contains":        stdlib.ContainsFunc,
	"csvdecode":       stdlib.CSVDecodeFunc,
	"distinct":        stdlib.DistinctFunc,
	"element":         stdlib.ElementFunc,
	"flatten":         stdlib.FlattenFunc,
	"floor":           stdlib.FloorFunc,
	"format":          stdlib.FormatFunc,
	"formatdate":      stdlib.FormatDateFunc,
	"formatlist":      stdlib.FormatListFunc,
	"indent":          stdlib.IndentFunc,
	"index":           stdlib.IndexFunc,
	"join":            stdlib.JoinFunc,
	"jsondecode":      stdlib.JSONDecodeFunc,
	"jsonencode":      stdlib.JSONEncodeFunc,
	"keys":            stdlib.KeysFunc,
	"length":          stdlib.LengthFunc,
	"log":             stdlib.LogFunc,
	"lookup":          stdlib.LookupFunc,
	"lower":           stdlib.LowerFunc,
	"max":             stdlib.MaxFunc,
	"merge":           stdlib.MergeFunc,
	"min":             stdlib.MinFunc,
	"parseint":        stdlib.ParseIntFunc,
	"pow":             stdlib.PowFunc,
	"range":           stdlib.RangeFunc,
	"regex":           stdlib.RegexFunc,
	"regexall":        stdlib.RegexAllFunc,
	"replace":         stdlib.ReplaceFunc,
	"reverse":         stdlib.ReverseListFunc,
	"setintersection": stdlib.SetIntersectionFunc,
	"setproduct":      stdlib.SetProductFunc,
	"setsubtract":     stdlib.SetSubtractFunc,
	"setunion":        stdlib.SetUnionFunc,
	"signum":          stdlib.SignumFunc,
	"slice":           stdlib.SliceFunc,
	"sort":            stdlib.SortFunc,
	"split":           stdlib.SplitFunc,
	"strrev":          stdlib.ReverseFunc,
	"substr":          stdlib.SubstrFunc,
	"title":           stdlib.TitleFunc,
	"tobool":          stdlib.MakeToFunc(cty.Bool),
	"tolist":          fastTo(cty.List, stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType))),
	"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
	"tonumber":        stdlib.MakeToFunc(cty.Number),
	"toset":           fastTo(cty.Set, stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType))),
	"tostring":        stdlib.MakeToFunc(cty.String),
	"trim":            stdlib.TrimFunc,
	"trimprefix":      stdlib.TrimPrefixFunc,
	"trimspace":       stdlib.TrimSpaceFunc,
	"trimsuffix":      stdlib.TrimSuffixFunc,
	"try":             tryfunc.TryFunc,
	"upper":           stdlib.UpperFunc,
	"values":          stdlib.ValuesFunc,
	"zipmap":          stdlib.ZipmapFunc,
}

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

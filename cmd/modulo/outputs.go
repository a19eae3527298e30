package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

// printOutputs prints the pipeline's output blocks, as Terraform does after apply.
func printOutputs(w, stderr io.Writer, g *pipelines.Graph, valueOf pipelines.ValueOf) {
	outs, diags := g.Outputs(valueOf)
	if len(outs) > 0 {
		fmt.Fprintln(w, "\nOutputs:")
	}
	width := 0
	for _, o := range outs {
		width = max(width, len(o.Name))
	}
	for _, o := range outs {
		fmt.Fprintf(w, "  %-*s = %s\n", width, o.Name, formatValue(o.Value))
	}
	var errs hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	printDiags(stderr, g.Config, errs)
}

// formatValue renders a value compactly in HCL's syntax; long lists are summarised.
func formatValue(v cty.Value) string {
	switch {
	case !v.IsKnown():
		return "(known after run)"
	case v.IsNull():
		return "null"
	}
	t := v.Type()
	switch {
	case t.IsCapsuleType():
		if r, ok := v.EncapsulatedValue().(*stages.Ref); ok {
			return fmt.Sprintf("%s sha256:%.12s…", r.Type, r.ID)
		}
		return t.FriendlyName()
	case t == cty.String:
		return strconv.Quote(v.AsString())
	case t == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return strconv.FormatFloat(f, 'g', 6, 64)
	case t == cty.Bool:
		return strconv.FormatBool(v.True())
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		n := v.LengthInt()
		if n > 8 {
			return fmt.Sprintf("[%d items]", n)
		}
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			parts = append(parts, formatValue(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		m := v.AsValueMap()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+" = "+formatValue(m[k]))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
}

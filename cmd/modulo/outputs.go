package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

// printOutputs prints the pipeline's output blocks, as Terraform does after apply.
func printOutputs(w, stderr io.Writer, g *pipelines.Graph, valueOf pipelines.ValueOf) bool {
	outs, diags := g.Outputs(valueOf)
	if len(outs) > 0 {
		fmt.Fprintln(w, "\nOutputs:")
	}
	width := 0
	for _, o := range outs {
		width = max(width, len(o.Name))
	}
	for _, o := range outs {
		fmt.Fprintf(w, "  %-*s = %s\n", width, o.Name, formatIndented(o.Value, "  "))
	}
	var errs hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	printDiags(stderr, g.Config, errs)
	return len(errs) == 0
}

// lineWidth is the longest value printed on one line.
const lineWidth = 100

// formatIndented renders a value in HCL's syntax, as Terraform prints outputs: on one line
// when that fits, else one element or attribute per line, indented one step more than indent.
func formatIndented(v cty.Value, indent string) string {
	if s := formatLine(v); len(s)+len(indent) <= lineWidth || !v.IsKnown() || v.IsNull() {
		return s
	}
	t := v.Type()
	inner := indent + "  "
	var sb strings.Builder
	switch {
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		sb.WriteString("[\n")
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			sb.WriteString(inner + formatIndented(e, inner) + ",\n")
		}
		sb.WriteString(indent + "]")
	case t.IsObjectType() || t.IsMapType():
		m := v.AsValueMap()
		keys := slices.Sorted(maps.Keys(m))
		width := 0
		for _, k := range keys {
			width = max(width, len(k))
		}
		sb.WriteString("{\n")
		for _, k := range keys {
			fmt.Fprintf(&sb, "%s%-*s = %s\n", inner, width, k, formatIndented(m[k], inner))
		}
		sb.WriteString(indent + "}")
	default:
		return formatLine(v)
	}
	return sb.String()
}

// formatLine renders v on one line.
func formatLine(v cty.Value) string {
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
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			parts = append(parts, formatLine(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		m := v.AsValueMap()
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, k+" = "+formatLine(m[k]))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
}

// parseOutputRef splits export's OUTPUT argument into an output name and, for one element of
// a sequence, its index: "final", or "checkpoints[2]" as show prints it.
func parseOutputRef(s string) (name string, index int, indexed bool, err error) {
	name, rest, indexed := strings.Cut(s, "[")
	if !indexed {
		return s, 0, false, nil
	}
	digits, ok := strings.CutSuffix(rest, "]")
	index, convErr := strconv.Atoi(digits)
	if !ok || convErr != nil || name == "" {
		return "", 0, false, fmt.Errorf("OUTPUT %q is not an output name, nor an element of one written NAME[INDEX] as in checkpoints[0]", s)
	}
	return name, index, true, nil
}

// outputItem returns the element index of the output name of the node addr, or an error that
// says which indexes exist.
func outputItem(addr, name string, index int, out artifacts.Output, isList bool) (artifacts.Item, error) {
	switch {
	case out.Value != nil:
		return artifacts.Item{}, fmt.Errorf("%s.%s is a value, not a sequence of artifacts: export it without [%d], as JSON", addr, name, index)
	case !isList:
		return artifacts.Item{}, fmt.Errorf("%s.%s is a single artifact, not a sequence: export it without [%d]", addr, name, index)
	}
	n := len(out.Items)
	switch {
	case n == 0:
		return artifacts.Item{}, fmt.Errorf("%s.%s is an empty sequence: there is no %s[%d] to export", addr, name, name, index)
	case index < 0 || index >= n:
		return artifacts.Item{}, fmt.Errorf("%s.%s has %s: %s[%d] is out of range; give an index from 0 to %d (%s[0] to %s[%d]), or export the whole sequence into a directory with %s alone",
			addr, name, plural(n, "element"), name, index, n-1, name, name, n-1, name)
	}
	return out.Items[index], nil
}

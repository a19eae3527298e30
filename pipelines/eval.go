package pipelines

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/modulo-ml/modulo/stages"
)

// ValueOf returns the value of an instance as expressions see it: an object of its outputs.
// It is called while building evaluation contexts and must be safe for concurrent use.
type ValueOf func(inst *Instance) cty.Value

// unknownOutputs is the value of an instance whose results are not known yet: an object whose
// outputs are unknown values of their declared types (or, for a kind with Self, an unknown
// value of that output's type), so type errors and bad output names are still found at plan
// time.
func unknownOutputs(k *stages.Kind) cty.Value { return expectedOutputs(k, nil) }

// expectedOutputs is unknownOutputs with each artifact output that exp names carrying what
// is expected of it (stages.ExpectedValue).
func expectedOutputs(k *stages.Kind, exp map[string]stages.Expected) cty.Value {
	val := func(o stages.OutputSpec) cty.Value {
		if e, ok := exp[o.Name]; ok {
			return stages.ExpectedValue(o.Type, e)
		}
		return cty.UnknownVal(o.Type)
	}
	if k.Self != "" {
		return val(k.Outputs[0])
	}
	attrs := make(map[string]cty.Value, len(k.Outputs))
	for _, o := range k.Outputs {
		attrs[o.Name] = val(o)
	}
	return cty.ObjectVal(attrs)
}

// outputsType is the type of an instance's value.
func outputsType(k *stages.Kind) cty.Type {
	if k.Self != "" {
		return k.Outputs[0].Type
	}
	atys := make(map[string]cty.Type, len(k.Outputs))
	for _, o := range k.Outputs {
		atys[o.Name] = o.Type
	}
	return cty.Object(atys)
}

// evalContext builds the context for evaluating inst: static values plus exactly the
// upstream instances inst refers to, valued by valueOf.
func (g *Graph) evalContext(inst *Instance, valueOf ValueOf) *hcl.EvalContext {
	ctx := g.staticContext(inst)
	byKind := map[string]map[string]cty.Value{}
	for b, keys := range inst.refs {
		var v cty.Value
		if b.ForEach == nil {
			v = valueOf(g.Instances[b.Addr()])
		} else {
			elems := map[string]cty.Value{}
			if keys == nil {
				for _, up := range g.byBlock[b] {
					elems[up.Key] = valueOf(up)
				}
			} else {
				// Only the referenced instances: with thousands of instances, building the
				// whole map for every dependent would make planning quadratic.
				for k := range keys {
					elems[k] = valueOf(g.Instances[InstanceAddr(b, k, true)])
				}
			}
			if len(elems) == 0 {
				v = cty.MapValEmpty(outputsType(b.Kind))
			} else {
				v = cty.MapVal(elems)
			}
		}
		if byKind[b.Kind.Name] == nil {
			byKind[b.Kind.Name] = map[string]cty.Value{}
		}
		byKind[b.Kind.Name][b.Name] = v
	}
	for kind, blocks := range byKind {
		ctx.Variables[kind] = cty.ObjectVal(blocks)
	}
	return ctx
}

// Eval evaluates the configuration of inst against its kind's schema, with upstream values
// from valueOf. The result may hold unknown values when upstream results are not known; a
// wholly known result is the kind's canonical configuration (stages.Canonical), the one that
// is keyed and run.
func (g *Graph) Eval(inst *Instance, valueOf ValueOf) (cty.Value, hcl.Diagnostics) {
	p, diags := g.evalPlanned(inst, valueOf)
	return p.Value, diags
}

// evalPlanned is Eval that also returns what is expected of the artifacts in the
// configuration (stages.Planned), for the kind's Expect at plan time.
func (g *Graph) evalPlanned(inst *Instance, valueOf ValueOf) (*stages.Planned, hcl.Diagnostics) {
	ctx := g.evalContext(inst, valueOf)
	k := inst.Block.Kind
	cfg, diags := evalBody(inst.Block.Body, &k.Schema, ctx)
	p := stages.NewPlanned(cfg)
	// evalBody leaves an attribute it could not accept unknown, so the kind's checks still
	// run on the rest: every mistake of the block is reported at once.
	diags = append(diags, validate(inst.Block, p)...)
	if diags.HasErrors() || !p.WhollyKnown() {
		return p, diags
	}
	c, err := stages.Canonical(k, p.Value)
	if err != nil {
		diags = append(diags, validateDiag(inst.Block, err))
		return p, diags
	}
	p.Value = c
	return p, diags
}

// validate runs the kind's Validate and reports each error it joined as a diagnostic of its
// own, so that every mistake of a block is shown at once.
func validate(b *Block, p *stages.Planned) hcl.Diagnostics {
	if b.Kind.Validate == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, err := range splitErrors(b.Kind.Validate(p)) {
		diags = append(diags, validateDiag(b, err))
	}
	return diags
}

// splitErrors flattens errors.Join trees into their leaves.
func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []error{err}
}

func evalBody(b *Body, s *stages.Schema, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	vals := map[string]cty.Value{}
	for _, a := range s.Attributes {
		attr := b.Attrs[a.Name]
		if attr == nil {
			// A missing required attribute was reported when the file was loaded; unknown
			// keeps the kind's checks, which skip what they cannot see, off it.
			if a.Required {
				vals[a.Name] = cty.UnknownVal(a.Type)
				continue
			}
			if a.Default != cty.NilVal {
				vals[a.Name] = a.Default
			} else {
				vals[a.Name] = cty.NullVal(a.Type)
			}
			continue
		}
		v, d := attr.Expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			vals[a.Name] = cty.UnknownVal(a.Type)
			continue
		}
		conv, err := convert.Convert(v, a.Type)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity:    hcl.DiagError,
				Summary:     "Invalid value for attribute",
				Detail:      typeErrorDetail(a, err),
				Subject:     attr.Expr.Range().Ptr(),
				Expression:  attr.Expr,
				EvalContext: ctx,
			})
			vals[a.Name] = cty.UnknownVal(a.Type)
			continue
		}
		if conv.IsNull() && a.Required {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Required attribute is null",
				Detail:   fmt.Sprintf("The attribute %q is required and must not be null.", a.Name),
				Subject:  attr.Expr.Range().Ptr(),
			})
			vals[a.Name] = cty.UnknownVal(a.Type)
			continue
		}
		if conv.IsNull() && a.Default != cty.NilVal {
			conv = a.Default
		}
		if d := checkConstraint(a, attr, conv); d != nil {
			diags = append(diags, d)
			conv = cty.UnknownVal(a.Type)
		}
		vals[a.Name] = conv
	}
	for i := range s.Blocks {
		bs := &s.Blocks[i]
		var objs []cty.Value
		for _, nb := range b.Blocks[bs.Name] {
			obj, d := evalBody(nb.Body, &bs.Schema, ctx)
			diags = append(diags, d...)
			if len(bs.Labels) > 0 {
				m := obj.AsValueMap()
				if m == nil {
					m = map[string]cty.Value{}
				}
				for j, l := range bs.Labels {
					m[l] = cty.StringVal(nb.Labels[j])
				}
				obj = cty.ObjectVal(m)
			}
			objs = append(objs, obj)
		}
		ty := bs.Type()
		switch {
		case bs.Multi && len(objs) == 0:
			vals[bs.Name] = cty.ListValEmpty(ty.ElementType())
		case bs.Multi && sameTypes(objs):
			vals[bs.Name] = cty.ListVal(objs)
		case bs.Multi:
			// Blocks whose dynamic attributes hold values of different types (two plots
			// of different tables) cannot form a list; a tuple iterates the same way.
			vals[bs.Name] = cty.TupleVal(objs)
		case len(objs) == 0 && bs.Required:
			vals[bs.Name] = cty.UnknownVal(ty) // reported at load; see the missing attributes
		case len(objs) == 0:
			vals[bs.Name] = cty.NullVal(ty)
		default:
			vals[bs.Name] = objs[0]
		}
	}
	return cty.ObjectVal(vals), diags
}

// sameTypes reports whether vals can form a list.
func sameTypes(vals []cty.Value) bool {
	for _, v := range vals[1:] {
		if !v.Type().Equals(vals[0].Type()) {
			return false
		}
	}
	return true
}

// checkConstraint checks a's constraint on v, the value of attr, when v is known. A list
// whose elements are not all known yet is checked for what is known (its length).
func checkConstraint(a stages.Attribute, attr *hcl.Attribute, v cty.Value) *hcl.Diagnostic {
	if a.Check == nil || v.IsNull() {
		return nil
	}
	um, _ := v.UnmarkDeep()
	if !um.IsKnown() {
		return nil
	}
	if err := a.Check.Check(um); err != nil {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for attribute",
			Detail:   sentence(fmt.Sprintf("%q %v", a.Name, err)),
			Subject:  attr.Expr.Range().Ptr(),
		}
	}
	return nil
}

// typeErrorDetail says what is wrong with a value of the wrong type and, from the
// attribute's documentation, what belongs there.
func typeErrorDetail(a stages.Attribute, err error) string {
	d := fmt.Sprintf("Inappropriate value for attribute %q: %s.", a.Name, err)
	if a.Doc != "" {
		d += fmt.Sprintf(" %s is %s.", capitalize(a.Name), strings.TrimSuffix(a.Doc, "."))
	}
	return d
}

// validateDiag places a Validate error at the attribute its path names.
func validateDiag(b *Block, err error) *hcl.Diagnostic {
	subject := b.DeclRange
	var pe cty.PathError
	if errors.As(err, &pe) && len(pe.Path) > 0 {
		if step, ok := pe.Path[0].(cty.GetAttrStep); ok {
			if a := b.Body.Attrs[step.Name]; a != nil {
				subject = a.Expr.Range()
			} else if nbs := b.Body.Blocks[step.Name]; len(nbs) > 0 {
				nb := nbs[0]
				// plot "b" { … } is element i of the plot list: the path says which.
				if len(pe.Path) > 1 {
					if ix, ok := pe.Path[1].(cty.IndexStep); ok && ix.Key.Type() == cty.Number {
						if i, acc := ix.Key.AsBigFloat().Int64(); acc == 0 && i >= 0 && int(i) < len(nbs) {
							nb = nbs[i]
						}
					}
				}
				nbs = []*NestedBlock{nb}
				subject = nb.DefRange
				if len(pe.Path) > 1 {
					if s2, ok := pe.Path[len(pe.Path)-1].(cty.GetAttrStep); ok {
						if a := nbs[0].Body.Attrs[s2.Name]; a != nil {
							subject = a.Expr.Range()
						}
					}
				}
			}
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + b.Kind.Name + " configuration",
		Detail:   capitalize(err.Error()) + ".",
		Subject:  subject.Ptr(),
	}
}

// sentence ends s with a full stop unless it already ends with a question mark or a stop.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	// An identifier such as batch_size keeps its case: Batch_size is no name of anything.
	if first, _, _ := strings.Cut(s, " "); strings.ContainsAny(first, "_.[") {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

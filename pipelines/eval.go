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
func unknownOutputs(k *stages.Kind) cty.Value {
	if k.Self != "" {
		return cty.UnknownVal(k.Outputs[0].Type)
	}
	attrs := make(map[string]cty.Value, len(k.Outputs))
	for _, o := range k.Outputs {
		attrs[o.Name] = cty.UnknownVal(o.Type)
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
// from valueOf. The result may hold unknown values when upstream results are not known.
func (g *Graph) Eval(inst *Instance, valueOf ValueOf) (cty.Value, hcl.Diagnostics) {
	ctx := g.evalContext(inst, valueOf)
	cfg, diags := evalBody(inst.Block.Body, &inst.Block.Kind.Schema, ctx)
	if diags.HasErrors() {
		return cfg, diags
	}
	if v := inst.Block.Kind.Validate; v != nil {
		if err := v(cfg); err != nil {
			diags = append(diags, validateDiag(inst, err))
		}
	}
	return cfg, diags
}

func evalBody(b *Body, s *stages.Schema, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	vals := map[string]cty.Value{}
	for _, a := range s.Attributes {
		attr := b.Attrs[a.Name]
		if attr == nil {
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
		}
		if conv.IsNull() && a.Default != cty.NilVal {
			conv = a.Default
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
func validateDiag(inst *Instance, err error) *hcl.Diagnostic {
	subject := inst.Block.DeclRange
	var pe cty.PathError
	if errors.As(err, &pe) && len(pe.Path) > 0 {
		if step, ok := pe.Path[0].(cty.GetAttrStep); ok {
			if a := inst.Block.Body.Attrs[step.Name]; a != nil {
				subject = a.Expr.Range()
			} else if nbs := inst.Block.Body.Blocks[step.Name]; len(nbs) > 0 {
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
		Summary:  "Invalid " + inst.Block.Kind.Name + " configuration",
		Detail:   capitalize(err.Error()) + ".",
		Subject:  subject.Ptr(),
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

package pipelines

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/dag"
)

// stageRef is a reference from an expression to a stage: one instance (key), or every
// instance of a for_each block (all).
type stageRef struct {
	block *Block
	key   string
	all   bool
}

// staticContext is the evaluation context of values known before anything runs: variables,
// locals and, for an instance of a for_each block, each.
func (g *Graph) staticContext(inst *Instance) *hcl.EvalContext {
	vars := map[string]cty.Value{"var": g.varObj, "local": g.locObj}
	if inst != nil && inst.Each != cty.NilVal {
		vars["each"] = inst.Each
	}
	return &hcl.EvalContext{Variables: vars, Functions: functions}
}

// evalLocals evaluates the locals in dependency order. Locals may refer to variables and
// other locals, not to stages: their values must be known at plan time.
func (g *Graph) evalLocals() (map[string]cty.Value, hcl.Diagnostics) {
	c := g.Config
	var diags hcl.Diagnostics
	lg := dag.New()
	for name, l := range c.Locals {
		lg.Add(name)
		for _, tr := range l.Expr.Variables() {
			switch root := tr.RootName(); {
			case root == "local":
				dep, ok := attrStep(tr, 1)
				if !ok {
					continue
				}
				if c.Locals[dep] == nil {
					diags = append(diags, undeclaredDiag("local value", dep, tr, sortedLocalNames(c)))
					continue
				}
				lg.Connect(name, dep)
			case root == "var":
				diags = append(diags, g.checkVarRef(tr)...)
			case root == "each":
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Reference to \"each\" in locals", Detail: "each.key and each.value exist only inside a block with for_each.", Subject: tr.SourceRange().Ptr()})
			default:
				if _, ok := c.registry.Lookup(root); ok {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Local value refers to a stage",
						Detail:   fmt.Sprintf("The local %q refers to %s. Locals are evaluated before anything runs, so they may use variables and other locals only; refer to the stage directly where its result is used.", name, traversalString(tr)),
						Subject:  tr.SourceRange().Ptr(),
					})
				}
			}
		}
	}
	vals := map[string]cty.Value{}
	if diags.HasErrors() {
		return vals, diags
	}
	order, err := lg.TopoOrder()
	if err != nil {
		for _, cy := range lg.Cycles() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cycle in local values",
				Detail:   fmt.Sprintf("These local values refer to each other: %s. Break the cycle by removing one of the references.", cy.String()),
				Subject:  c.Locals[cy.Path[0]].Decl.Ptr(),
			})
		}
		return vals, diags
	}
	for _, name := range order {
		ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": g.varObj, "local": cty.ObjectVal(vals)}, Functions: functions}
		v, elems, d := evalSet(c.Locals[name].Expr, ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			v = cty.DynamicVal
		} else if elems != nil {
			g.forEach["local."+name] = &forEachSet{elems: elems} // keys sorted when used
		}
		vals[name] = v
	}
	return vals, diags
}

// connect finds the references of every instance and adds the edges.
func (g *Graph) connect() hcl.Diagnostics {
	// Finding an instance's references only reads the graph and writes the instance, so the
	// instances are done in parallel (with thousands, this was a third of building the
	// graph); the edges are added after, in vertex order, as are the diagnostics.
	addrs := g.DAG.Vertices()
	instDiags := make([]hcl.Diagnostics, len(addrs))
	parallel(len(addrs), func(i int) {
		instDiags[i] = g.instanceRefs(g.Instances[addrs[i]])
	})
	var diags hcl.Diagnostics
	for i, addr := range addrs {
		diags = append(diags, instDiags[i]...)
		for _, d := range g.Instances[addr].deps {
			g.DAG.Connect(addr, d)
		}
	}
	return diags
}

// instanceRefs finds what inst refers to (inst.refs) and the instances it depends on
// (inst.deps, sorted).
func (g *Graph) instanceRefs(inst *Instance) hcl.Diagnostics {
	var diags hcl.Diagnostics
	inst.refs = map[*Block]map[string]bool{}
	for _, expr := range bodyExprs(inst.Block.Body) {
		diags = append(diags, g.exprRefs(inst, expr)...)
	}
	for _, tr := range inst.Block.DependsOn {
		if _, isKind := g.Config.registry.Lookup(tr.RootName()); !isKind {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid depends_on reference",
				Detail:   fmt.Sprintf("depends_on lists stages, such as text.a or train.net[\"key\"]; %s is not a stage.", traversalString(tr)),
				Subject:  tr.SourceRange().Ptr(),
			})
			continue
		}
		ref, d := g.checkStageRef(inst, tr, true)
		diags = append(diags, d...)
		if ref != nil {
			g.addRef(inst, *ref)
		}
	}
	deps := map[string]bool{}
	for b, keys := range inst.refs {
		if keys == nil {
			for _, up := range g.byBlock[b] {
				deps[up.Addr] = true
			}
			continue
		}
		for k := range keys {
			deps[InstanceAddr(b, k, b.ForEach != nil)] = true
		}
	}
	inst.deps = inst.deps[:0]
	for d := range deps {
		inst.deps = append(inst.deps, d)
	}
	sort.Strings(inst.deps)
	return diags
}

func (g *Graph) addRef(inst *Instance, r stageRef) {
	keys, seen := inst.refs[r.block]
	switch {
	case seen && keys == nil:
	case r.all:
		inst.refs[r.block] = nil
	default:
		if !seen {
			keys = map[string]bool{}
			inst.refs[r.block] = keys
		}
		keys[r.key] = true
	}
}

// exprRefs checks the references of one expression and records the stages it reads.
func (g *Graph) exprRefs(inst *Instance, expr hcl.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	shape := g.shapeOf(expr)
	narrowed, wholeUses := g.narrow(inst, shape)
	for _, tr := range shape.vars {
		switch root := tr.RootName(); root {
		case "var":
			diags = append(diags, g.checkVarRef(tr)...)
		case "local":
			if name, ok := attrStep(tr, 1); ok && g.Config.Locals[name] == nil {
				diags = append(diags, undeclaredDiag("local value", name, tr, sortedLocalNames(g.Config)))
			}
		case "each":
			if inst.Each == cty.NilVal {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reference to \"each\" in a block without for_each",
					Detail:   fmt.Sprintf("each.key and each.value exist only in blocks with for_each, and %s has none. Add a for_each or use a literal.", inst.Block.Addr()),
					Subject:  tr.SourceRange().Ptr(),
				})
			} else if name, ok := attrStep(tr, 1); ok && name != "key" && name != "value" {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid each attribute", Detail: fmt.Sprintf("each has two attributes, key and value; %q is not one of them.", name), Subject: tr.SourceRange().Ptr()})
			}
		default:
			if _, isKind := g.Config.registry.Lookup(root); !isKind {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Unknown reference",
					Detail:   fmt.Sprintf("There is nothing named %q. A reference starts with var., local., each. or a stage kind (%s).%s", root, strings.Join(g.Config.registry.Names(), ", "), didYouMean(root, append(g.Config.registry.Names(), "var", "local", "each"))),
					Subject:  tr.SourceRange().Ptr(),
				})
				continue
			}
			ref, d := g.checkStageRef(inst, tr, false)
			diags = append(diags, d...)
			if ref == nil {
				continue
			}
			if ref.all {
				if keys, ok := narrowed[ref.block]; ok && wholeUses[ref.block] == 0 {
					for k := range keys {
						g.addRef(inst, stageRef{block: ref.block, key: k})
					}
					continue
				}
			}
			g.addRef(inst, *ref)
		}
	}
	return diags
}

// checkStageRef checks a traversal rooted at a stage kind: the block, the instance key when
// it is static, and the output name.
func (g *Graph) checkStageRef(inst *Instance, tr hcl.Traversal, dependsOn bool) (*stageRef, hcl.Diagnostics) {
	kind := tr.RootName()
	name, ok := attrStep(tr, 1)
	if !ok {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid stage reference",
			Detail:   fmt.Sprintf("A reference to a %s stage names it: %s.NAME.", kind, kind),
			Subject:  tr.SourceRange().Ptr(),
		}}
	}
	b := g.Config.Block(kind + "." + name)
	if b == nil {
		var names []string
		for _, other := range g.Config.Blocks {
			if other.Kind.Name == kind {
				names = append(names, other.Name)
			}
		}
		detail := fmt.Sprintf("There is no %s block named %q in this pipeline.", kind, name)
		if len(names) > 0 {
			detail += fmt.Sprintf(" The %s blocks are: %s.%s", kind, strings.Join(names, ", "), didYouMean(name, names))
		}
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Reference to undeclared stage", Detail: detail, Subject: tr.SourceRange().Ptr()}}
	}
	ref := &stageRef{block: b, all: true}
	rest := tr[2:]
	if b.ForEach != nil && len(rest) > 0 {
		idx, isIdx := rest[0].(hcl.TraverseIndex)
		if !isIdx {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Missing instance key",
				Detail:   fmt.Sprintf("%s has for_each, so it is a map of instances: refer to one of them, as in %s[\"KEY\"], or iterate over it.", b.Addr(), b.Addr()),
				Subject:  rest[0].SourceRange().Ptr(),
			}}
		}
		if idx.Key.Type() != cty.String || !idx.Key.IsKnown() || idx.Key.IsNull() {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid instance key", Detail: fmt.Sprintf("Instances of %s are keyed by strings.", b.Addr()), Subject: idx.SrcRange.Ptr()}}
		}
		key := idx.Key.AsString()
		if g.Instances[InstanceAddr(b, key, true)] == nil {
			return nil, hcl.Diagnostics{undeclaredInstanceDiag(g, b, key, idx.SrcRange)}
		}
		ref = &stageRef{block: b, key: key}
		rest = rest[1:]
	} else if b.ForEach == nil {
		if len(rest) > 0 {
			if _, isIdx := rest[0].(hcl.TraverseIndex); isIdx {
				return nil, hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Unexpected instance key",
					Detail:   fmt.Sprintf("%s has no for_each, so it has no instances to index; remove the [ … ].", b.Addr()),
					Subject:  rest[0].SourceRange().Ptr(),
				}}
			}
		}
		ref = &stageRef{block: b}
	}
	if dependsOn && len(rest) > 0 {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid depends_on reference", Detail: "depends_on names whole stages or instances, not their outputs; remove the output name.", Subject: tr.SourceRange().Ptr()}}
	}
	if len(rest) > 0 && !ref.all {
		out, ok := rest[0].(hcl.TraverseAttr)
		if ok && b.Kind.Self != "" {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared output",
				Detail:   fmt.Sprintf("A reference to a %s block is the %s itself; it has no outputs to select. Remove .%s.", b.Kind.Name, b.Kind.Outputs[0].Type.FriendlyName(), out.Name),
				Subject:  out.SrcRange.Ptr(),
			}}
		}
		if ok {
			if _, exists := b.Kind.Output(out.Name); !exists {
				return nil, hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Reference to undeclared output",
					Detail:   fmt.Sprintf("A %s stage has no output named %q. Its outputs are: %s.%s", b.Kind.Name, out.Name, strings.Join(b.Kind.OutputNames(), ", "), didYouMean(out.Name, b.Kind.OutputNames())),
					Subject:  out.SrcRange.Ptr(),
				}}
			}
		}
	}
	return ref, nil
}

func undeclaredInstanceDiag(g *Graph, b *Block, key string, rng hcl.Range) *hcl.Diagnostic {
	var keys []string
	for _, i := range g.byBlock[b] {
		keys = append(keys, i.Key)
	}
	if len(keys) == 0 {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared instance",
			Detail:   fmt.Sprintf("%s has no instances: its for_each is empty, so there is no key %q.", b.Addr(), key),
			Subject:  rng.Ptr(),
		}
	}
	shown := keys
	if len(shown) > 10 {
		shown = append(shown[:10:10], "…")
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Reference to undeclared instance",
		Detail:   fmt.Sprintf("%s has no instance with key %q. Its keys are: %s.%s", b.Addr(), key, strings.Join(shown, ", "), didYouMean(key, keys)),
		Subject:  rng.Ptr(),
	}
}

// exprShape is what finding an expression's references needs of its syntax tree, which the
// instances of a for_each block share: walked once per expression rather than once per
// instance (thousands of walks of one tree, each allocating, were a fifth of building a
// large graph).
type exprShape struct {
	vars []hcl.Traversal
	// indexes are the index expressions whose collection is a two-step traversal
	// (kind.name[key]), and scopes every two-step traversal, in the order VisitAll meets them.
	indexes []*hclsyntax.IndexExpr
	scopes  []*hclsyntax.ScopeTraversalExpr
}

// shapeOf returns the shape of expr, computed on first use; safe for concurrent use.
func (g *Graph) shapeOf(expr hcl.Expression) *exprShape {
	if v, ok := g.shapes.Load(expr); ok {
		return v.(*exprShape)
	}
	sh := &exprShape{vars: expr.Variables()}
	if syn, ok := expr.(hclsyntax.Node); ok {
		hclsyntax.VisitAll(syn, func(n hclsyntax.Node) hcl.Diagnostics {
			switch n := n.(type) {
			case *hclsyntax.IndexExpr:
				if st, ok := n.Collection.(*hclsyntax.ScopeTraversalExpr); ok && len(st.Traversal) == 2 {
					sh.indexes = append(sh.indexes, n)
				}
			case *hclsyntax.ScopeTraversalExpr:
				if len(n.Traversal) == 2 {
					sh.scopes = append(sh.scopes, n)
				}
			}
			return nil
		})
	}
	v, _ := g.shapes.LoadOrStore(expr, sh)
	return v.(*exprShape)
}

// narrow finds dynamic index expressions such as train.net["w${each.key}"] whose key is known
// before running, so the instance depends on that one instance rather than on every instance
// of the block. wholeUses counts references to a block that are not such index expressions.
func (g *Graph) narrow(inst *Instance, sh *exprShape) (map[*Block]map[string]bool, map[*Block]int) {
	narrowed := map[*Block]map[string]bool{}
	var indexed map[*hclsyntax.ScopeTraversalExpr]bool
	var ctx *hcl.EvalContext
	for _, ix := range sh.indexes {
		st := ix.Collection.(*hclsyntax.ScopeTraversalExpr)
		b := g.blockOf(st.Traversal)
		if b == nil || b.ForEach == nil {
			continue
		}
		if ctx == nil {
			ctx = g.staticContext(inst)
		}
		key, d := ix.Key.Value(ctx)
		if d.HasErrors() || !key.IsWhollyKnown() || key.IsNull() || key.Type() != cty.String {
			continue
		}
		if g.Instances[InstanceAddr(b, key.AsString(), true)] == nil {
			continue // left to evaluation, which reports the bad key at its range
		}
		if narrowed[b] == nil {
			narrowed[b] = map[string]bool{}
		}
		narrowed[b][key.AsString()] = true
		if indexed == nil {
			indexed = map[*hclsyntax.ScopeTraversalExpr]bool{}
		}
		indexed[st] = true
	}
	whole := map[*Block]int{}
	for _, st := range sh.scopes {
		if !indexed[st] {
			if b := g.blockOf(st.Traversal); b != nil {
				whole[b]++
			}
		}
	}
	return narrowed, whole
}

// blockOf returns the stage block a kind.name traversal names, or nil.
func (g *Graph) blockOf(tr hcl.Traversal) *Block {
	name, ok := attrStep(tr, 1)
	if !ok {
		return nil
	}
	return g.Config.Block(tr.RootName() + "." + name)
}

func (g *Graph) checkVarRef(tr hcl.Traversal) hcl.Diagnostics {
	name, ok := attrStep(tr, 1)
	if !ok || g.Config.Variables[name] != nil {
		return nil
	}
	return hcl.Diagnostics{undeclaredDiag("variable", name, tr, g.Config.variableNames())}
}

func undeclaredDiag(what, name string, tr hcl.Traversal, known []string) *hcl.Diagnostic {
	detail := fmt.Sprintf("There is no %s named %q.", what, name)
	if len(known) > 0 {
		detail += didYouMean(name, known)
	} else {
		detail += fmt.Sprintf(" Declare it before using it.")
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Reference to undeclared " + what, Detail: detail, Subject: tr.SourceRange().Ptr()}
}

// attrStep returns the attribute name at step i of tr.
func attrStep(tr hcl.Traversal, i int) (string, bool) {
	if len(tr) <= i {
		return "", false
	}
	a, ok := tr[i].(hcl.TraverseAttr)
	return a.Name, ok
}

func sortedLocalNames(c *Config) []string {
	names := make([]string, 0, len(c.Locals))
	for n := range c.Locals {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// bodyExprs lists every expression of a body and its nested blocks.
func bodyExprs(b *Body) []hcl.Expression {
	if b == nil {
		return nil
	}
	var out []hcl.Expression
	for _, name := range sortedHCLAttrs(b.Attrs) {
		out = append(out, b.Attrs[name].Expr)
	}
	types := make([]string, 0, len(b.Blocks))
	for t := range b.Blocks {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		for _, nb := range b.Blocks[t] {
			out = append(out, bodyExprs(nb.Body)...)
		}
	}
	return out
}

// traversalString renders tr as source-like text, e.g. train.net["a"].final.
func traversalString(tr hcl.Traversal) string {
	var sb strings.Builder
	for i, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
				fmt.Fprintf(&sb, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number && s.Key.IsKnown() && !s.Key.IsNull() {
				fmt.Fprintf(&sb, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			} else {
				sb.WriteString("[…]")
			}
		default:
			if i == 0 {
				sb.WriteString("?")
			}
		}
	}
	return sb.String()
}

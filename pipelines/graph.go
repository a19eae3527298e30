package pipelines

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/dag"
)

// Graph is a pipeline with its variables and locals evaluated and its blocks expanded into
// instances, connected by their references. It is immutable once built and safe to share
// between the goroutines of a walk.
type Graph struct {
	Config    *Config
	Vars      map[string]cty.Value
	Locals    map[string]cty.Value
	Instances map[string]*Instance // by address
	// Order lists the addresses with dependencies first; ties broken by address.
	Order []string
	DAG   *dag.Graph

	byBlock map[*Block][]*Instance // instances of each block, sorted by key
	// forEach memoises the elements, sorted keys and each objects of for_each expressions
	// that are a bare reference (for_each = local.seeds), by the reference: the blocks of a
	// sweep commonly share one, and iterating a cty set sorts it with cty's own comparisons,
	// which costs tens of milliseconds for thousands of keys, every time.
	forEach map[string]*forEachSet
	outputs map[string]*Instance // pseudo-instances of the output blocks, by name
	shapes  sync.Map             // hcl.Expression → *exprShape (see shapeOf)
	varObj  cty.Value
	locObj  cty.Value
}

// Instance is one node: a stage block without for_each, or one for_each element of it.
type Instance struct {
	Block *Block
	Key   string // for_each key; "" for a block without for_each
	Each  cty.Value
	Addr  string

	// refs are the upstream instances this one's expressions read, by block; a nil key set
	// means every instance of the block (a reference to the whole for_each map).
	refs map[*Block]map[string]bool
	deps []string
}

// InstanceAddr formats the address of instance key of b, e.g. train.net["w64-s1"].
func InstanceAddr(b *Block, key string, keyed bool) string {
	if !keyed {
		return b.Addr()
	}
	return b.Addr() + "[" + strconv.Quote(key) + "]"
}

// Build evaluates variables and locals, expands for_each and connects the instances. Each
// phase reports every error it finds; a phase with errors stops the build, since later
// phases would report the same mistakes again in other words.
func (c *Config) Build(src VarSource) (*Graph, hcl.Diagnostics) {
	g := &Graph{Config: c, Instances: map[string]*Instance{}, byBlock: map[*Block][]*Instance{}, forEach: map[string]*forEachSet{}, DAG: dag.New()}
	vars, diags := c.resolveVariables(src)
	g.Vars = vars
	g.varObj = cty.ObjectVal(vars)
	if diags.HasErrors() {
		return nil, diags
	}
	locals, d := g.evalLocals()
	diags = append(diags, d...)
	g.Locals = locals
	g.locObj = cty.ObjectVal(locals)
	if diags.HasErrors() {
		return nil, diags
	}
	diags = append(diags, g.expand()...)
	if diags.HasErrors() {
		return nil, diags
	}
	diags = append(diags, g.connect()...)
	diags = append(diags, g.connectOutputs()...)
	if diags.HasErrors() {
		return nil, diags
	}
	order, err := g.DAG.TopoOrder()
	if err != nil {
		return nil, append(diags, g.cycleDiags()...)
	}
	g.Order = order
	return g, diags
}

// expand evaluates every for_each, whose keys must be known before anything runs.
func (g *Graph) expand() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range g.Config.Blocks {
		if b.ForEach == nil {
			inst := &Instance{Block: b, Addr: b.Addr(), Each: cty.NilVal}
			g.addInstance(inst)
			continue
		}
		diags = append(diags, g.expandBlock(b)...)
	}
	return diags
}

// MaxInstances bounds the nodes of a pipeline. Planning 10,000 nodes takes a fraction of a
// second and every node costs memory in the plan and the state file; a for_each that
// expands to millions is a slip (range(1e7)), refused before it exhausts the machine.
const MaxInstances = 100_000

// expandBlock evaluates the for_each of b and adds its instances.
func (g *Graph) expandBlock(b *Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range b.ForEach.Variables() {
		switch tr.RootName() {
		case "var":
			diags = append(diags, g.checkVarRef(tr)...)
			continue
		case "local":
			if name, ok := attrStep(tr, 1); ok && g.Config.Locals[name] == nil {
				diags = append(diags, undeclaredDiag("local value", name, tr, sortedLocalNames(g.Config)))
			}
			continue
		case "each":
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid for_each argument",
				Detail:   "each.key and each.value are the elements of for_each, so for_each itself cannot use them. Build the collection from variables, locals and literals.",
				Subject:  tr.SourceRange().Ptr(),
			})
			continue
		}
		if _, isKind := g.Config.registry.Lookup(tr.RootName()); isKind {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid for_each argument",
				Detail:   fmt.Sprintf("The for_each of %s refers to %s, a stage result, which is not known before running. Keys must come from variables, locals and literals so that the plan can show every instance; move the stage result into an attribute instead.", b.Addr(), traversalString(tr)),
				Subject:  tr.SourceRange().Ptr(),
			})
		}
	}
	if diags.HasErrors() {
		return diags
	}
	ctx := g.staticContext(nil)
	ctx.Variables["each"] = cty.DynamicVal
	val, elems, d := evalSet(b.ForEach, ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		return diags
	}
	var set *forEachSet
	if elems != nil { // toset(x) of strings, its keys taken from x (see evalSet)
		set = &forEachSet{elems: elems, keys: sortedKeys(elems)}
	} else {
		set, d = g.forEachSet(b, val)
		diags = append(diags, d...)
		elems = set.elems
	}
	if n := len(g.Instances) + len(elems); n > MaxInstances {
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Too many instances",
			Detail:   fmt.Sprintf("The for_each of %s makes %d instances, which brings the pipeline to %d nodes; a pipeline has at most %d. Check the collection (a range or setproduct larger than meant?), or split the sweep into several pipelines that share one cache.", b.Addr(), len(elems), n, MaxInstances),
			Subject:  b.ForEach.Range().Ptr(),
		})
	}
	for i, key := range set.keys {
		g.addInstance(&Instance{Block: b, Key: key, Each: set.eachVal(i), Addr: InstanceAddr(b, key, true)})
	}
	return diags
}

func (g *Graph) addInstance(inst *Instance) {
	g.Instances[inst.Addr] = inst
	g.byBlock[inst.Block] = append(g.byBlock[inst.Block], inst)
	g.DAG.Add(inst.Addr)
}

// attrsOnly reports whether tr is a name and attributes (local.seeds), which
// traversalString renders one to one.
func attrsOnly(tr hcl.Traversal) bool {
	for _, step := range tr {
		switch step.(type) {
		case hcl.TraverseRoot, hcl.TraverseAttr:
		default:
			return false
		}
	}
	return true
}

// forEachSet is a for_each value's elements by key, and its keys in order.
type forEachSet struct {
	elems map[string]cty.Value
	keys  []string
	// each holds the each object of keys[i], made when first asked for: the blocks sharing
	// a memoised set share their instances' each objects (cty.ObjectVal makes four maps and
	// keeps two, and a plan keeps every instance's).
	each []cty.Value
}

// eachVal returns the each object of the i-th key: {key, value}.
func (s *forEachSet) eachVal(i int) cty.Value {
	if s.each == nil {
		s.each = make([]cty.Value, len(s.keys))
	}
	if s.each[i] == cty.NilVal {
		key := s.keys[i]
		s.each[i] = cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": s.elems[key]})
	}
	return s.each[i]
}

// forEachSet returns the elements of b's for_each value val, from the memo when the
// expression is a bare reference expanded before (see Graph.forEach). Only sets without
// diagnostics are memoised, so a bad shared for_each is reported at every block using it.
func (g *Graph) forEachSet(b *Block, val cty.Value) (*forEachSet, hcl.Diagnostics) {
	memo := ""
	if tr, ok := b.ForEach.(*hclsyntax.ScopeTraversalExpr); ok && attrsOnly(tr.Traversal) {
		memo = traversalString(tr.Traversal)
		if set, ok := g.forEach[memo]; ok {
			if set.keys == nil {
				set.keys = sortedKeys(set.elems)
			}
			return set, nil
		}
	}
	elems, diags := forEachElems(b, val)
	set := &forEachSet{elems: elems, keys: sortedKeys(elems)}
	if memo != "" && len(diags) == 0 {
		g.forEach[memo] = set
	}
	return set, diags
}

// evalSet evaluates expr and, when it is toset(x) of a list or tuple of known strings (the
// usual for_each), also returns the set's elements by key, taken from x: reading them from
// the set would sort it with cty's comparator, which costs 20 ms for 5,000 keys. elems is
// nil otherwise, and then v and diags are exactly what expr.Value gives.
func evalSet(expr hcl.Expression, ctx *hcl.EvalContext) (v cty.Value, elems map[string]cty.Value, diags hcl.Diagnostics) {
	if call, ok := expr.(*hclsyntax.FunctionCallExpr); ok && call.Name == "toset" && len(call.Args) == 1 && !call.ExpandFinal {
		if x, d := call.Args[0].Value(ctx); !d.HasErrors() {
			if elems := stringElems(x); elems != nil {
				if v, err := ctx.Functions["toset"].Call([]cty.Value{x}); err == nil {
					return v, elems, d
				}
			}
		}
	}
	v, diags = expr.Value(ctx)
	return v, nil, diags
}

// stringElems returns the elements of v by value when v is a known list or tuple whose
// elements are all known strings, not null and not marked; nil otherwise.
func stringElems(v cty.Value) map[string]cty.Value {
	t := v.Type()
	if !v.IsKnown() || v.IsNull() || v.IsMarked() || !(t.IsListType() || t.IsTupleType()) || v.LengthInt() == 0 {
		return nil
	}
	elems := make(map[string]cty.Value, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String || !e.IsKnown() || e.IsNull() || e.IsMarked() {
			return nil
		}
		elems[e.AsString()] = e
	}
	return elems
}

// forEachElems checks a for_each value and returns its elements by key.
func forEachElems(b *Block, val cty.Value) (map[string]cty.Value, hcl.Diagnostics) {
	bad := func(detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid for_each argument",
			Detail:   detail,
			Subject:  b.ForEach.Range().Ptr(),
		}}
	}
	if val.IsNull() {
		return nil, bad("for_each is null. Give a map, or a set of strings (toset([...])).")
	}
	unknown := bad("The for_each keys are not known before running. Keys must come from variables, locals and literals so that the plan can show every instance.")
	if !val.IsKnown() {
		return nil, unknown
	}
	ty := val.Type()
	if !ty.IsSetType() && !val.IsWhollyKnown() {
		return nil, unknown
	}
	out := map[string]cty.Value{}
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := val.ElementIterator(); it.Next(); {
			k, v := it.Element()
			out[k.AsString()] = v
		}
	case ty.IsSetType() && val.LengthInt() == 0:
		// toset([]) has no element type; an empty set is simply no instances.
	case ty.IsSetType():
		if !ty.ElementType().Equals(cty.String) {
			return nil, bad(fmt.Sprintf("for_each needs a map or a set of strings, but this is a set of %s. Convert the elements with tostring, e.g. toset([for w in var.widths : tostring(w)]).", ty.ElementType().FriendlyName()))
		}
		// One pass over the elements, which checks them as IsWhollyKnown would: iterating a
		// cty set sorts it, and a sweep of thousands of keys would pay for that twice.
		for it := val.ElementIterator(); it.Next(); {
			_, v := it.Element()
			if !v.IsKnown() {
				return nil, unknown
			}
			if v.IsNull() {
				return nil, bad("for_each sets must not contain null.")
			}
			out[v.AsString()] = v
		}
	case ty.IsListType() || ty.IsTupleType():
		return nil, bad("for_each needs a map or a set of strings, but this is a list, whose elements have no keys. Wrap it in toset(...) to use the elements as keys.")
	default:
		return nil, bad(fmt.Sprintf("for_each needs a map or a set of strings, not %s.", ty.FriendlyName()))
	}
	return out, nil
}

func sortedKeys(m map[string]cty.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// cycleDiags reports every cycle once, as a path in a fixed rotation, at the first block.
func (g *Graph) cycleDiags() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, cy := range g.DAG.Cycles() {
		first := g.Instances[cy.Path[0]]
		detail := fmt.Sprintf("These stages refer to each other in a cycle, so none of them can run first:\n  %s", cy.String())
		if len(cy.Members) > len(cy.Path) {
			detail += fmt.Sprintf("\nThe cycle also involves: %s.", strings.Join(cy.Members, ", "))
		}
		detail += "\nBreak the cycle by removing one of the references."
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Dependency cycle",
			Detail:   detail,
			Subject:  first.Block.DeclRange.Ptr(),
		})
	}
	return diags
}

// tidyDiags drops repeated diagnostics (a mistake in a for_each block is found once per
// instance, but the user wrote it once and should read it once) and sorts them by position,
// so the same pipeline gives the same text on every run whatever map order HCL used. A
// call of an unknown function is explained on the way (explainFunction).
func tidyDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		sev             hcl.DiagnosticSeverity
		summary, detail string
		subject         hcl.Range
	}
	seen := map[key]bool{}
	out := diags[:0:0]
	for _, d := range diags {
		d = explainFunction(d)
		k := key{sev: d.Severity, summary: d.Summary, detail: d.Detail}
		if d.Subject != nil {
			k.subject = *d.Subject
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
	return out
}

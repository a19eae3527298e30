package pipelines

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// OutputDecl is an output block, as in Terraform: a value computed from the pipeline's
// results that `modulo run` prints when it finishes and `modulo plan` shows when it is known.
type OutputDecl struct {
	Name        string
	Expr        hcl.Expression
	Description string
	DeclRange   hcl.Range
}

// outputSchema is the block's, documented in outputDoc (language.go).
var outputSchema = langSchema(outputDoc.Schema)

// outputKind stands in for a stage kind, so that an output's references are checked and
// evaluated by the same code as a stage attribute's.
var outputKind = &stages.Kind{Name: "output"}

func (c *Config) loadOutput(b *hcl.Block) hcl.Diagnostics {
	if len(b.Labels) != 1 || !hclsyntax.ValidIdentifier(b.Labels[0]) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid output block",
			Detail:   "An output block has exactly one label, a valid name: output \"barrier\" { value = … }.",
			Subject:  b.DefRange.Ptr(),
		}}
	}
	name := b.Labels[0]
	for _, o := range c.Outputs {
		if o.Name == name {
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Duplicate output",
				Detail:   fmt.Sprintf("An output named %q was already declared at %s. Output names must be unique.", name, o.DeclRange),
				Subject:  b.DefRange.Ptr(),
			}}
		}
	}
	content, diags := b.Body.Content(outputSchema)
	if diags.HasErrors() {
		return diags
	}
	o := &OutputDecl{Name: name, Expr: content.Attributes["value"].Expr, DeclRange: b.DefRange}
	if a := content.Attributes["description"]; a != nil {
		diags = append(diags, gohclString(a, &o.Description)...)
	}
	c.Outputs = append(c.Outputs, o)
	return diags
}

// outputInstance is a pseudo-instance holding an output's references.
func (g *Graph) outputInstance(o *OutputDecl) *Instance {
	return &Instance{Block: &Block{Kind: outputKind, Name: o.Name, DeclRange: o.DeclRange}, Addr: "output." + o.Name, Each: cty.NilVal}
}

// connectOutputs checks the references of every output.
func (g *Graph) connectOutputs() hcl.Diagnostics {
	var diags hcl.Diagnostics
	g.outputs = map[string]*Instance{}
	for _, o := range g.Config.Outputs {
		inst := g.outputInstance(o)
		inst.refs = map[*Block]map[string]bool{}
		diags = append(diags, g.exprRefs(inst, o.Expr)...)
		g.outputs[o.Name] = inst
	}
	return diags
}

// OutputValue is an evaluated output.
type OutputValue struct {
	Name        string
	Description string
	Value       cty.Value // may be unknown (results not known yet) or null
}

// Outputs evaluates the output blocks with the instance values valueOf gives (a plan's, or
// an applier's after the run), sorted by name. Unknown results give unknown values; an
// evaluation error gives a diagnostic.
func (g *Graph) Outputs(valueOf ValueOf) ([]OutputValue, hcl.Diagnostics) {
	var out []OutputValue
	var diags hcl.Diagnostics
	for _, o := range g.Config.Outputs {
		v, d := o.Expr.Value(g.evalContext(g.outputs[o.Name], valueOf))
		diags = append(diags, d...)
		if d.HasErrors() {
			v = cty.DynamicVal
		}
		out = append(out, OutputValue{Name: o.Name, Description: o.Description, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, tidyDiags(diags)
}

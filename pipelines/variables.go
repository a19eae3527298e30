package pipelines

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// variableSchema and validationSchema are the blocks', documented in variableDoc
// (language.go).
var (
	variableSchema   = langSchema(variableDoc.Schema)
	validationSchema = langSchema(variableDoc.Schema.Blocks[0].Schema)
)

func (c *Config) loadVariable(b *hcl.Block) hcl.Diagnostics {
	if len(b.Labels) != 1 || !hclsyntax.ValidIdentifier(b.Labels[0]) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable block",
			Detail:   "A variable block has exactly one label, a valid name: variable \"widths\" { … }.",
			Subject:  b.DefRange.Ptr(),
		}}
	}
	v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
	if prev := c.Variables[v.Name]; prev != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Duplicate variable",
			Detail:   fmt.Sprintf("A variable named %q was already declared at %s. Variable names must be unique.", v.Name, prev.DeclRange),
			Subject:  b.DefRange.Ptr(),
		}}
	}
	content, diags := b.Body.Content(variableSchema)
	var defaults *typeexpr.Defaults
	if a := content.Attributes["type"]; a != nil {
		ty, def, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type, defaults = ty, def
			v.Defaults = def
		}
	}
	if a := content.Attributes["description"]; a != nil {
		d := gohclString(a, &v.Description)
		diags = append(diags, d...)
	}
	if a := content.Attributes["default"]; a != nil {
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if defaults != nil {
				val = defaults.Apply(val)
			}
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("This default value does not match the variable's type: %s.", err),
					Subject:  a.Expr.Range().Ptr(),
				})
			} else {
				v.Default = conv
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, d := vb.Body.Content(validationSchema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		for _, tr := range vc.Attributes["condition"].Expr.Variables() {
			if name, ok := attrStep(tr, 1); tr.RootName() != "var" || !ok || name != v.Name {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid validation condition",
					Detail:   fmt.Sprintf("A validation condition may refer only to the variable it validates, var.%s; %s is not available here.", v.Name, traversalString(tr)),
					Subject:  tr.SourceRange().Ptr(),
				})
			}
		}
		v.Validations = append(v.Validations, &Validation{Condition: vc.Attributes["condition"].Expr, ErrorMessage: vc.Attributes["error_message"].Expr, DeclRange: vb.DefRange})
	}
	c.Variables[v.Name] = v
	return diags
}

func gohclString(a *hcl.Attribute, dst *string) hcl.Diagnostics {
	val, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	if val.Type() != cty.String || val.IsNull() {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + a.Name, Detail: "A string is required here.", Subject: a.Expr.Range().Ptr()}}
	}
	*dst = val.AsString()
	return nil
}

func (c *Config) loadLocals(b *hcl.Block) hcl.Diagnostics {
	if len(b.Labels) > 0 {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unexpected locals label",
			Detail:   "A locals block has no labels: write locals { name = value }.",
			Subject:  b.LabelRanges[0].Ptr(),
		}}
	}
	attrs, diags := b.Body.JustAttributes()
	for _, name := range sortedHCLAttrs(attrs) {
		a := attrs[name]
		if prev := c.Locals[name]; prev != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate local value",
				Detail:   fmt.Sprintf("A local value named %q was already defined at %s. Local value names must be unique.", name, prev.Decl),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		c.Locals[name] = &Local{Name: name, Expr: a.Expr, Decl: a.Range}
	}
	return diags
}

func sortedHCLAttrs(m hcl.Attributes) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := m[names[i]].Range, m[names[j]].Range
		if ri.Filename != rj.Filename {
			return ri.Filename < rj.Filename
		}
		return ri.Start.Byte < rj.Start.Byte
	})
	return names
}

// VarSource says where a variable value came from, for diagnostics.
type VarSource struct {
	Values map[string]string // raw text by name, from -var
	Files  []string          // -var-file paths, applied in order
	Env    []string          // environment, KEY=VALUE; MODULO_VAR_<name> entries are used
}

// EnvPrefix prefixes environment variables that set pipeline variables.
const EnvPrefix = "MODULO_VAR_"

// resolveVariables computes the value of every variable: default, then MODULO_VAR_<name>,
// then -var-file files, then -var flags, later sources winning as in Terraform. It then checks
// the validation blocks.
func (c *Config) resolveVariables(src VarSource) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	raw := map[string]cty.Value{}
	for _, kv := range src.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, EnvPrefix)
		decl := c.Variables[name]
		if decl == nil {
			continue // the environment may hold values for other pipelines
		}
		val, d := parseRawVar(decl, v, "environment variable "+k)
		diags = append(diags, d...)
		raw[name] = val
	}
	for _, path := range src.Files {
		f, d := parseTextFile(hclparse.NewParser(), path)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		c.Files[path] = f
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		for _, name := range sortedHCLAttrs(attrs) {
			a := attrs[name]
			if c.Variables[name] == nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Value for undeclared variable",
					Detail:   fmt.Sprintf("The pipeline declares no variable %q. Declare it with a variable block, or remove this line.%s", name, didYouMean(name, c.variableNames())),
					Subject:  a.NameRange.Ptr(),
				})
				continue
			}
			val, d := a.Expr.Value(nil)
			diags = append(diags, d...)
			raw[name] = val
		}
	}
	names := make([]string, 0, len(src.Values))
	for n := range src.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		decl := c.Variables[name]
		if decl == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("-var %s=…: the pipeline declares no variable %q.%s", name, name, didYouMean(name, c.variableNames())),
			})
			continue
		}
		val, d := parseRawVar(decl, src.Values[name], "-var "+name)
		diags = append(diags, d...)
		raw[name] = val
	}

	out := map[string]cty.Value{}
	for _, name := range c.variableNames() {
		decl := c.Variables[name]
		val, given := raw[name]
		if !given {
			if decl.Default == cty.NilVal {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "No value for required variable",
					Detail:   fmt.Sprintf("The variable %q has no default. Give it a value with -var %s=…, a -var-file, or the environment variable %s%s.", name, name, EnvPrefix, name),
					Subject:  decl.DeclRange.Ptr(),
				})
				out[name] = cty.UnknownVal(decl.Type)
				continue
			}
			out[name] = decl.Default
			continue
		}
		if decl.Defaults != nil {
			val = decl.Defaults.Apply(val)
		}
		conv, err := convert.Convert(val, decl.Type)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The value given for %q does not match its type %s: %s.", name, typeexpr.TypeString(decl.Type), err),
				Subject:  decl.DeclRange.Ptr(),
			})
			out[name] = cty.UnknownVal(decl.Type)
			continue
		}
		out[name] = conv
	}
	if diags.HasErrors() {
		return out, diags
	}
	diags = append(diags, c.validateVariables(out)...)
	return out, diags
}

// parseRawVar reads a value given as text: taken literally for string variables, parsed as an
// HCL expression otherwise (so -var 'widths=[64,128]' works), as Terraform does.
func parseRawVar(decl *Variable, text, where string) (cty.Value, hcl.Diagnostics) {
	if decl.Type == cty.String {
		return cty.StringVal(text), nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(text), where, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return cty.DynamicVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("The value given by %s is not a valid expression for type %s: %s", where, typeexpr.TypeString(decl.Type), diags[0].Summary),
			Subject:  decl.DeclRange.Ptr(),
		}}
	}
	val, d := expr.Value(nil)
	if d.HasErrors() {
		// A bare word such as -var mode=fast reads as a string.
		return cty.StringVal(text), nil
	}
	return val, nil
}

func (c *Config) validateVariables(vals map[string]cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range c.variableNames() {
		decl := c.Variables[name]
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{name: vals[name]})},
			Functions: functions,
		}
		for _, v := range decl.Validations {
			ok, d := v.Condition.Value(ctx)
			if d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
			ok, err := convert.Convert(ok, cty.Bool)
			if err != nil || ok.IsNull() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition", Detail: "The condition must be true or false.", Subject: v.Condition.Range().Ptr()})
				continue
			}
			if !ok.IsKnown() || ok.True() {
				continue
			}
			msg := "The value is not valid."
			if m, d := v.ErrorMessage.Value(ctx); !d.HasErrors() && m.Type() == cty.String && m.IsKnown() && !m.IsNull() {
				msg = m.AsString()
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("%s\n\nThis was checked by the validation rule at %s.", msg, v.DeclRange),
				Subject:  decl.DeclRange.Ptr(),
			})
		}
	}
	return diags
}

func (c *Config) variableNames() []string {
	names := make([]string, 0, len(c.Variables))
	for n := range c.Variables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func didYouMean(given string, candidates []string) string {
	if s := suggest(given, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// environ is os.Environ, replaceable in tests.
var environ = os.Environ

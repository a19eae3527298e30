package pipelines

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/modulo-ml/modulo/stages"
)

// Load reads the pipeline at path, a .hcl file or a directory of them, and checks its
// structure against the stage kinds of reg. It returns the parsed files even when there are
// errors, so diagnostics can always be rendered with their source lines.
func Load(path string, reg *stages.Registry) (*Config, hcl.Diagnostics) {
	cfg := &Config{
		Path:      path,
		Files:     map[string]*hcl.File{},
		Variables: map[string]*Variable{},
		Locals:    map[string]*Local{},
		byAddr:    map[string]*Block{},
		registry:  reg,
	}
	files, diags := pipelineFiles(path)
	if diags.HasErrors() {
		return cfg, diags
	}
	cfg.Dir = path
	if len(files) == 1 && files[0] == path {
		cfg.Dir = filepath.Dir(path)
	}
	parser := hclparse.NewParser()
	for _, name := range files {
		f, fd := parseTextFile(parser, name)
		diags = append(diags, fd...)
		if f == nil {
			continue
		}
		cfg.Files[name] = f
		if fd.HasErrors() {
			continue
		}
		diags = append(diags, cfg.loadFile(f)...)
	}
	return cfg, diags
}

// pipelineFiles lists the files of the pipeline at path, sorted so that load order (and so
// diagnostic order) is the same on every run.
func pipelineFiles(path string) ([]string, hcl.Diagnostics) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Pipeline not found",
			Detail:   fmt.Sprintf("Cannot read %s: %v. Give the path of a .hcl file or of a directory holding .hcl files.", path, err),
		}}
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	files, _ := filepath.Glob(filepath.Join(path, "*.hcl"))
	sort.Strings(files)
	if len(files) == 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No pipeline files",
			Detail:   fmt.Sprintf("The directory %s holds no .hcl files. A pipeline is a .hcl file or a directory of them.", path),
		}}
	}
	return files, nil
}

func (c *Config) loadFile(f *hcl.File) hcl.Diagnostics {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unsupported file syntax", Detail: "modulo reads HCL native syntax (.hcl files)."}}
	}
	var diags hcl.Diagnostics
	for _, name := range sortedAttrNames(body.Attributes) {
		a := body.Attributes[name]
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unexpected top-level argument",
			Detail:   fmt.Sprintf("An argument %q cannot stand at the top level of a pipeline. Put values in a locals block (locals { %s = … }) or a variable block.", name, name),
			Subject:  a.NameRange.Ptr(),
		})
	}
	for _, b := range body.Blocks {
		switch b.Type {
		case "variable":
			diags = append(diags, c.loadVariable(b.AsHCLBlock())...)
		case "locals":
			diags = append(diags, c.loadLocals(b.AsHCLBlock())...)
		case "output":
			diags = append(diags, c.loadOutput(b.AsHCLBlock())...)
		case "cache":
			diags = append(diags, c.loadCache(b.AsHCLBlock())...)
		case "executor":
			diags = append(diags, c.loadExecutor(b.AsHCLBlock())...)
		default:
			diags = append(diags, c.loadStage(b.AsHCLBlock())...)
		}
	}
	return diags
}

func (c *Config) loadStage(b *hcl.Block) hcl.Diagnostics {
	kind, ok := c.registry.Lookup(b.Type)
	if !ok {
		return hcl.Diagnostics{unknownBlockDiag(b, c.registry.Names())}
	}
	if len(b.Labels) != 1 {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Wrong number of labels on %s block", b.Type),
			Detail:   fmt.Sprintf("A %s block has exactly one label, its name: %s \"name\" { … }.", b.Type, b.Type),
			Subject:  b.DefRange.Ptr(),
		}}
	}
	name := b.Labels[0]
	if !hclsyntax.ValidIdentifier(name) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid stage name",
			Detail:   fmt.Sprintf("%q is not a valid name. A name starts with a letter or underscore and contains only letters, digits, underscores and dashes.", name),
			Subject:  b.LabelRanges[0].Ptr(),
		}}
	}
	blk := &Block{Kind: kind, Name: name, DeclRange: b.DefRange}
	if prev := c.byAddr[blk.Addr()]; prev != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Duplicate %s block", b.Type),
			Detail:   fmt.Sprintf("A %s block named %q was already declared at %s. Names must be unique within a stage kind; rename one of them.", b.Type, name, prev.DeclRange),
			Subject:  b.DefRange.Ptr(),
		}}
	}
	body, diags := decodeBody(b.Body, kind.Schema, true)
	// Mistakes inside a block's body leave the rest of the pipeline whole: they are soft, so
	// Open goes on and reports the mistakes of evaluation as well (see Open).
	c.markSoft(diags)
	if body != nil {
		if a := body.Attrs["for_each"]; a != nil {
			blk.ForEach = a.Expr
			delete(body.Attrs, "for_each")
		}
		if a := body.Attrs["depends_on"]; a != nil {
			delete(body.Attrs, "depends_on")
			trs, d := dependsOn(a)
			diags = append(diags, d...)
			blk.DependsOn = trs
		}
	}
	if kind.Declares != "" && body != nil {
		k, d := declaredKind(kind, body)
		diags = append(diags, d...)
		c.markSoft(d)
		blk.Kind = k
	}
	res, d := blockResources(b.Body)
	c.markSoft(d)
	diags = append(diags, d...)
	blk.Resources = res
	blk.Body = body
	c.byAddr[blk.Addr()] = blk
	c.Blocks = append(c.Blocks, blk)
	return diags
}

// dependsOn reads depends_on, a list of stage references.
func dependsOn(a *hcl.Attribute) ([]hcl.Traversal, hcl.Diagnostics) {
	exprs, diags := hcl.ExprList(a.Expr)
	var out []hcl.Traversal
	for _, e := range exprs {
		tr, d := hcl.AbsTraversalForExpr(e)
		if d.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid depends_on reference",
				Detail:   "Each element of depends_on is a stage reference such as train.net or train.net[\"a\"], without expressions.",
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		out = append(out, tr)
	}
	return out, diags
}

// decodeBody decodes body against s. With meta, the meta-arguments for_each and depends_on
// are accepted too. Every mistake is reported, each argument or block that does not belong
// with the name it most likely stands for.
func decodeBody(body hcl.Body, s stages.Schema, meta bool) (*Body, hcl.Diagnostics) {
	content, rest, diags := body.PartialContent(bodySchema(s, meta))
	diags = append(diags, unexpectedItems(rest, s, meta)...)
	out := &Body{Attrs: content.Attributes, Blocks: map[string][]*NestedBlock{}, Range: body.MissingItemRange()}
	for _, bs := range s.Blocks {
		var found []*hcl.Block
		for _, b := range content.Blocks {
			if b.Type == bs.Name {
				found = append(found, b)
			}
		}
		if !bs.Multi && len(found) > 1 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate %s block", bs.Name),
				Detail:   fmt.Sprintf("Only one %s block is allowed here; the first is at %s. Merge them into one.", bs.Name, found[0].DefRange),
				Subject:  found[1].DefRange.Ptr(),
			})
		}
		if bs.Required && len(found) == 0 && !writtenAsArgument(body, bs.Name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Missing %s block", bs.Name),
				Detail:   fmt.Sprintf("This block needs a nested %s block: %s { … }.", bs.Name, bs.Name),
				Subject:  body.MissingItemRange().Ptr(),
			})
		}
		for _, b := range found {
			nb, d := decodeBody(b.Body, bs.Schema, false)
			diags = append(diags, d...)
			out.Blocks[bs.Name] = append(out.Blocks[bs.Name], &NestedBlock{Labels: b.Labels, DefRange: b.DefRange, Body: nb, typeRange: b.TypeRange})
		}
	}
	return out, diags
}

// writtenAsArgument reports whether body has an argument named name, which unexpectedItems
// reports as a block written with an equals sign: saying also that the block is missing
// would tell the user the same thing twice.
func writtenAsArgument(body hcl.Body, name string) bool {
	sb, ok := body.(*hclsyntax.Body)
	return ok && sb.Attributes[name] != nil
}

// unexpectedItems reports the arguments and blocks of rest, what PartialContent left of a
// body, that the schema does not declare (hclsyntax's remainder still lists the declared
// ones, hidden). Each diagnostic names what was most likely meant: an
// argument or block of a similar name, or the right form (model is a block, data an
// argument).
func unexpectedItems(rest hcl.Body, s stages.Schema, meta bool) hcl.Diagnostics {
	sb, ok := rest.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	attrs, blocks := []string{}, []string{}
	for _, a := range s.Attributes {
		attrs = append(attrs, a.Name)
	}
	if meta {
		for _, a := range stageMeta.Attributes {
			attrs = append(attrs, a.Name)
		}
	}
	for _, b := range s.Blocks {
		blocks = append(blocks, b.Name)
	}
	if meta {
		for _, b := range stageMeta.Blocks {
			blocks = append(blocks, b.Name)
		}
	}
	var diags hcl.Diagnostics
	for _, name := range sortedAttrNames(sb.Attributes) {
		if slices.Contains(attrs, name) {
			continue
		}
		a := sb.Attributes[name]
		detail := fmt.Sprintf("An argument named %q is not expected here.", name)
		switch near := suggest(name, append(attrs, blocks...)); {
		case slices.Contains(blocks, name):
			detail = fmt.Sprintf("%q is a block, not an argument: write %s { … } without the equals sign.", name, name)
		case near != "" && slices.Contains(blocks, near):
			detail += fmt.Sprintf(" Did you mean the block %s { … }?", near)
		case near != "":
			detail += fmt.Sprintf(" Did you mean %q?", near)
		default:
			detail += " " + expectedList("arguments", attrs)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported argument",
			Detail:   detail,
			Subject:  a.NameRange.Ptr(),
		})
	}
	for _, b := range sb.Blocks {
		if slices.Contains(blocks, b.Type) {
			continue // a known block with the wrong labels: PartialContent has said so
		}
		detail := fmt.Sprintf("Blocks of type %q are not expected here.", b.Type)
		switch near := suggest(b.Type, append(blocks, attrs...)); {
		case slices.Contains(attrs, b.Type):
			detail = fmt.Sprintf("%q is an argument, not a block: write %s = … with an equals sign.", b.Type, b.Type)
		case near != "" && slices.Contains(attrs, near):
			detail += fmt.Sprintf(" Did you mean the argument %s = …?", near)
		case near != "":
			detail += fmt.Sprintf(" Did you mean %q?", near)
		case len(blocks) > 0:
			detail += " " + expectedList("blocks", blocks)
		default:
			detail += " This block takes no nested blocks."
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported block type",
			Detail:   detail,
			Subject:  b.TypeRange.Ptr(),
		})
	}
	return diags
}

// bodySchema is the hcl schema of a body of s; with meta, of a stage block's body, which
// also takes what stageMeta declares.
func bodySchema(s stages.Schema, meta bool) *hcl.BodySchema {
	bs := &hcl.BodySchema{}
	add := func(s stages.Schema) {
		for _, a := range s.Attributes {
			bs.Attributes = append(bs.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
		}
		for _, b := range s.Blocks {
			bs.Blocks = append(bs.Blocks, hcl.BlockHeaderSchema{Type: b.Name, LabelNames: b.Labels})
		}
	}
	add(s)
	if meta {
		add(stageMeta)
	}
	return bs
}

// expectedList says which names are allowed: "The arguments here are: a, b, c."
func expectedList(what string, names []string) string {
	if len(names) == 0 {
		return fmt.Sprintf("No %s are expected here.", what)
	}
	return fmt.Sprintf("The %s here are: %s.", what, strings.Join(names, ", "))
}

func unknownBlockDiag(b *hcl.Block, kinds []string) *hcl.Diagnostic {
	var langBlocks []string
	for _, lb := range languageBlocks {
		langBlocks = append(langBlocks, lb.Name)
	}
	others := strings.Join(langBlocks[:len(langBlocks)-1], ", ") + " and " + langBlocks[len(langBlocks)-1]
	var detail string
	if len(kinds) == 0 {
		detail = fmt.Sprintf("Blocks of type %q are not expected here. This build of modulo has no stage kinds yet; the only blocks available are %s.", b.Type, others)
	} else {
		detail = fmt.Sprintf("Blocks of type %q are not expected here. The stage kinds are: %s; the other blocks are %s.", b.Type, strings.Join(kinds, ", "), others)
		if s := suggest(b.Type, append(kinds, langBlocks...)); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unknown block type",
		Detail:   detail,
		Subject:  b.TypeRange.Ptr(),
	}
}

// suggest returns the candidate closest to given, if it is close enough to be a likely typo.
func suggest(given string, candidates []string) string { return stages.Suggest(given, candidates) }

func sortedAttrNames(m hclsyntax.Attributes) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// declaredKind is the kind of one block of a kind that Declares its outputs: the outputs
// its nested declaration blocks name, read as literals (a reference to the block must be
// checked before anything is evaluated). A declaration that cannot be read is reported at
// its block and left out.
func declaredKind(kind *stages.Kind, body *Body) (*stages.Kind, hcl.Diagnostics) {
	var bs *stages.BlockSchema
	for i := range kind.Schema.Blocks {
		if kind.Schema.Blocks[i].Name == kind.Declares {
			bs = &kind.Schema.Blocks[i]
		}
	}
	var diags hcl.Diagnostics
	var specs []stages.OutputSpec
	seen := map[string]hcl.Range{}
	for _, nb := range body.Blocks[kind.Declares] {
		if len(nb.Labels) != 1 {
			continue // decodeBody reported it
		}
		name := nb.Labels[0]
		attrs := map[string]cty.Value{bs.Labels[0]: cty.StringVal(name)}
		for _, a := range bs.Schema.Attributes {
			v := a.Default
			if v == cty.NilVal {
				v = cty.NullVal(a.Type)
			}
			if ha := nb.Body.Attrs[a.Name]; ha != nil {
				lit, ds := ha.Expr.Value(nil)
				cv, err := convert.Convert(lit, a.Type)
				if ds.HasErrors() || err != nil || !cv.IsWhollyKnown() {
					v = cty.UnknownVal(a.Type) // evaluated later; DeclaredOutput must not need it
				} else {
					v = cv
				}
			}
			attrs[a.Name] = v
		}
		for _, nested := range bs.Schema.Blocks {
			attrs[nested.Name] = cty.UnknownVal(nested.Type())
		}
		o, err := kind.DeclaredOutput(name, cty.ObjectVal(attrs))
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid output declaration",
				Detail: capitalize(err.Error()) + ".", Subject: nb.DefRange.Ptr()})
			continue
		}
		if _, fixed := kind.Output(name); fixed {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid output declaration",
				Detail: fmt.Sprintf("Output name %q is taken: every %s block has an output %q. Choose another name.", name, kind.Name, name), Subject: nb.DefRange.Ptr()})
			continue
		}
		if prev, dup := seen[name]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate output declaration",
				Detail: fmt.Sprintf("Output %q is already declared at %s.", name, prev), Subject: nb.DefRange.Ptr()})
			continue
		}
		seen[name] = nb.DefRange
		specs = append(specs, o)
	}
	k, err := kind.WithOutputs(specs)
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid output declaration", Detail: capitalize(err.Error()) + ".", Subject: body.Range.Ptr()})
		k, _ = kind.WithOutputs(nil)
	}
	return k, diags
}

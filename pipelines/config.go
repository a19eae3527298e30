// Package pipelines turns HCL pipelines into DAGs of stage runs: it loads and checks the
// configuration (diagnostics with file:line:col), expands for_each, finds references with
// Expression.Variables() to make edges, plans each node against the cache (cached, to run
// with a reason, or known after run) and applies the plan with a parallel walk.
//
// The configuration stays raw (hcl.Expression) until a node's upstream values are known, as
// in Terraform: attributes are evaluated once per instance, in the walk, so scalars of
// upstream results can be used in expressions.
package pipelines

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// Config is a loaded pipeline: the declarations of every file, not yet evaluated.
type Config struct {
	// Path is the file or directory the pipeline was loaded from; Dir is the directory
	// (Path itself, or the file's).
	Path, Dir string
	// Files maps file names to their parsed contents, for rendering diagnostics.
	Files map[string]*hcl.File

	Variables map[string]*Variable
	Locals    map[string]*Local
	// Blocks are the stage blocks in file order.
	Blocks []*Block
	// Outputs are the output blocks in file order.
	Outputs []*OutputDecl
	// Cache is the cache block, or nil.
	Cache *CacheDecl
	// Executor is the executor block, or nil.
	Executor *ExecutorDecl
	byAddr   map[string]*Block // "kind.name"
	// soft holds the load errors that leave the rest of the pipeline whole (a mistake
	// inside a stage block's body), so Open can still evaluate it; see Open.
	soft map[*hcl.Diagnostic]bool

	registry *stages.Registry
}

// Block is one stage block such as train "net" { … }.
type Block struct {
	Kind      *stages.Kind
	Name      string
	DeclRange hcl.Range // the block header
	ForEach   hcl.Expression
	DependsOn []hcl.Traversal
	Body      *Body
	// Resources are the block's resources { cpus, mem, time } for an executor such as
	// Slurm, over its kind's and the executor's defaults; zero without the block.
	Resources Resources
}

// Addr is the block address, kind.name.
func (b *Block) Addr() string { return b.Kind.Name + "." + b.Name }

// Body is the decoded content of a stage block or nested block: attributes by name and nested
// blocks by type, both still unevaluated.
type Body struct {
	Attrs  map[string]*hcl.Attribute
	Blocks map[string][]*NestedBlock
	Range  hcl.Range
}

// NestedBlock is a block inside a stage block, such as model { … } or plot "x" { … }.
type NestedBlock struct {
	Labels    []string
	DefRange  hcl.Range
	Body      *Body
	typeRange hcl.Range
}

// Variable is a variable block.
type Variable struct {
	Name string
	Type cty.Type
	// Defaults fills optional(…, default) attributes of object types, whatever the source
	// of the value.
	Defaults    *typeexpr.Defaults
	Default     cty.Value // cty.NilVal when the variable is required
	Description string
	Validations []*Validation
	DeclRange   hcl.Range
}

// Validation is a validation block of a variable.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Local is one attribute of a locals block.
type Local struct {
	Name string
	Expr hcl.Expression
	Decl hcl.Range
}

// Block returns the stage block with address kind.name.
func (c *Config) Block(addr string) *Block { return c.byAddr[addr] }

// markSoft records diags as soft errors (see Config.soft).
func (c *Config) markSoft(diags hcl.Diagnostics) {
	if c.soft == nil {
		c.soft = map[*hcl.Diagnostic]bool{}
	}
	for _, d := range diags {
		c.soft[d] = true
	}
}

// onlySoft reports whether every error of diags is soft.
func (c *Config) onlySoft(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && !c.soft[d] {
			return false
		}
	}
	return true
}

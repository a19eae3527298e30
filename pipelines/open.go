package pipelines

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/stages"
)

// Open loads the pipeline at path and builds its graph with the given variable values. The
// config is returned even on error, for rendering diagnostics with their source lines; the
// graph is nil whenever there are errors.
//
// A mistake inside a stage block (a missing optimizer block, an unknown argument) does not
// stop the check there: the rest of the pipeline is still built and every node evaluated
// without a cache, as validate does, so that the user sees all the mistakes of a file at
// once rather than one per attempt. Mistakes that leave the pipeline's shape in doubt
// (syntax, unknown or duplicate blocks, references) stop at the load, since everything
// after would report them again in other words.
func Open(path string, reg *stages.Registry, vars VarSource) (*Graph, *Config, hcl.Diagnostics) {
	cfg, diags := Load(path, reg)
	if diags.HasErrors() && !cfg.onlySoft(diags) {
		return nil, cfg, tidyDiags(diags)
	}
	g, d := cfg.Build(vars)
	diags = append(diags, d...)
	if !diags.HasErrors() {
		return g, cfg, tidyDiags(diags)
	}
	if g != nil && !d.HasErrors() {
		_, pd := (&Planner{Graph: g}).Plan(nil)
		diags = append(diags, pd...)
	}
	return nil, cfg, tidyDiags(diags)
}

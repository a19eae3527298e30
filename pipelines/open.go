package pipelines

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/stages"
)

// Open loads the pipeline at path and builds its graph with the given variable values. The
// config is returned even on error, for rendering diagnostics with their source lines.
func Open(path string, reg *stages.Registry, vars VarSource) (*Graph, *Config, hcl.Diagnostics) {
	cfg, diags := Load(path, reg)
	if diags.HasErrors() {
		return nil, cfg, tidyDiags(diags)
	}
	g, d := cfg.Build(vars)
	return g, cfg, tidyDiags(append(diags, d...))
}

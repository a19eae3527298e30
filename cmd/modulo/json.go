package main

import (
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/pipelines/jsondoc"
	"github.com/modulo-ml/modulo/stages"
)

// The -json flags print one document on stdout (package jsondoc makes it; docs/JSON.md
// describes it) whatever happens once the flags are parsed, the mistakes found among its
// diagnostics, so that a script always has JSON to read; the exit status is the text
// command's. Nothing else goes to stdout; stderr has only what happens meanwhile (a run's
// progress, the remote cache's warnings).

// writeJSON prints doc on stdout; it returns 1 when that fails, else 0.
func writeJSON(stdout, stderr io.Writer, doc any) int {
	if err := jsondoc.Write(stdout, doc); err != nil {
		fmt.Fprintf(stderr, "modulo: writing the JSON document: %v\n", err)
		return 1
	}
	return 0
}

// withStatus prints doc and returns code, or 1 if printing failed.
func withStatus(code int, stdout, stderr io.Writer, doc any) int {
	if writeJSON(stdout, stderr, doc) != 0 {
		return 1
	}
	return code
}

// validateJSON is validate -json: the diagnostics of loading the pipeline and planning it
// without a cache.
func validateJSON(pf *pipelineFlags, path string, stdout, stderr io.Writer) int {
	g, _, diags := pipelines.Open(path, stages.Default, pf.varSource())
	if g != nil {
		_, d := (&pipelines.Planner{Graph: g}).Plan(nil)
		diags = append(diags, d...)
	}
	doc := jsondoc.NewValidate(diags)
	code := 0
	if !doc.Valid {
		code = 1
	}
	return withStatus(code, stdout, stderr, doc)
}

// planJSON is plan -json, with plan's exit status: 0 nothing to do, 2 work to do, 1 error.
func planJSON(pf *planFlags, path string, stdout, stderr io.Writer) int {
	pl := pf.load(path, stderr)
	doc := jsondoc.NewPlan(pl.plan, pl.allDiags())
	code := 0
	switch {
	case !pl.ok():
		code = 1
	case doc.Summary.Run+doc.Summary.KnownAfterRun > 0:
		code = 2
	}
	return withStatus(code, stdout, stderr, doc)
}

// showJSON is show -json: exit status 1 when the node is not cached, as show's.
func showJSON(pf *planFlags, path, addr string, stdout, stderr io.Writer) int {
	n, pl := findNode(pf, path, addr, stderr)
	if n == nil {
		doc := &jsondoc.Show{FormatVersion: jsondoc.FormatVersion, Address: addr, Reasons: []string{}, Outputs: map[string]jsondoc.ShowOutput{}, Files: map[string]jsondoc.Blob{}, Provenance: []jsondoc.KeyLine{}}
		doc.Add(pl.allDiags(), nil)
		return withStatus(1, stdout, stderr, doc)
	}
	doc := jsondoc.NewShow(n, pl.cache, pl.diags)
	code := 0
	if n.Status != pipelines.Cached {
		code = 1
	}
	return withStatus(code, stdout, stderr, doc)
}

// graphJSON is graph -json (or -format json): the nodes, their dependencies and the edges,
// with -plan each node's plan status. Its exit status is 1 only when there is no graph:
// planning's diagnostics (with -plan) are in the document, as the statuses they explain.
func graphJSON(pf *pipelineFlags, path string, withPlan bool, stdout, stderr io.Writer) int {
	g, _, diags := pipelines.Open(path, stages.Default, pf.varSource())
	var plan *pipelines.Plan
	if g != nil && withPlan {
		c, err := cacheAt(pf.cacheDir)
		if err != nil {
			diags = append(diags, jsondoc.Message("Cannot open the cache", err.Error()))
			return withStatus(1, stdout, stderr, jsondoc.NewGraph(g, nil, diags))
		}
		var d hcl.Diagnostics
		plan, d = (&pipelines.Planner{Graph: g, Cache: c}).Plan(nil)
		diags = append(diags, d...)
	}
	code := 0
	if g == nil {
		code = 1
	}
	return withStatus(code, stdout, stderr, jsondoc.NewGraph(g, plan, diags))
}

// cacheInfoJSON is cache info -json.
func cacheInfoJSON(dir string, stdout, stderr io.Writer) int {
	c, err := cacheAt(dir)
	if err != nil {
		doc := jsondoc.NewCacheInfo(dir, artifacts.Info{}, hcl.Diagnostics{jsondoc.Message("Cannot open the cache", err.Error())})
		return withStatus(1, stdout, stderr, doc)
	}
	info, err := c.Info()
	if err != nil {
		doc := jsondoc.NewCacheInfo(c.Dir(), artifacts.Info{}, hcl.Diagnostics{jsondoc.Message("Cannot read the cache", err.Error())})
		return withStatus(1, stdout, stderr, doc)
	}
	return withStatus(0, stdout, stderr, jsondoc.NewCacheInfo(c.Dir(), info, nil))
}

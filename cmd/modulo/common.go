package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/gcpause"
	"github.com/modulo-ml/modulo/internal/hugeheap"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"

	// The stage kinds register themselves in stages.Default; only the command links them,
	// so the engine builds and is tested without the numerics.
	"github.com/modulo-ml/modulo/stages/kinds"
)

// pipelineFlags are the flags of every command that loads a pipeline.
type pipelineFlags struct {
	vars     varFlags
	varFiles listFlag
	cacheDir string
}

func (p *pipelineFlags) register(fs *flag.FlagSet) {
	p.vars = varFlags{}
	fs.Var(p.vars, "var", "set a variable: -var name=value (repeatable)")
	fs.Var(&p.varFiles, "var-file", "read variables from an HCL file of name = value lines (repeatable)")
	fs.StringVar(&p.cacheDir, "cache", "", "cache directory (default $MODULO_CACHE, else $XDG_CACHE_HOME/modulo)")
}

// planHeap is the heap that building and planning a pipeline may grow, advised for huge
// pages before either starts (see package hugeheap; 10,000 nodes touch about 100 MiB). Only
// then: a command answered without building the graph (a no-op rerun from its record)
// touches a few MiB here and there, which 2 MiB pages would make dearer, not cheaper.
const planHeap = 128 << 20

// planningHeap readies the heap for building and planning a graph, a burst whose
// allocations mostly live until it ends: huge pages advised before the heap grows (package
// hugeheap) and no collection until the returned resume is called (package gcpause).
func planningHeap() (resume func()) {
	hugeheap.Advise(planHeap)
	return gcpause.Pause()
}

// open loads and builds the pipeline, printing diagnostics (warnings too) to stderr.
func (p *pipelineFlags) open(path string, stderr io.Writer) (*pipelines.Graph, bool) {
	defer planningHeap()()
	g, cfg, diags := pipelines.Open(path, stages.Default, p.varSource())
	printDiags(stderr, cfg, diags)
	return g, !diags.HasErrors()
}

// varSource is where the pipeline's variables come from: the flags and the environment.
func (p *pipelineFlags) varSource() pipelines.VarSource {
	return pipelines.VarSource{Values: p.vars, Files: p.varFiles, Env: os.Environ()}
}

// cache opens the cache directory.
func (p *pipelineFlags) cache(stderr io.Writer) (*artifacts.Cache, bool) {
	return openCache(p.cacheDir, stderr)
}

func openCache(dir string, stderr io.Writer) (*artifacts.Cache, bool) {
	c, err := cacheAt(dir)
	if err != nil {
		fmt.Fprintf(stderr, "modulo: %v\n", err)
		return nil, false
	}
	return c, true
}

// cacheAt opens the cache in dir, or the default one for "", with an error that names the
// cache directory and the remedy.
func cacheAt(dir string) (*artifacts.Cache, error) {
	if dir == "" {
		d, err := artifacts.DefaultDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory: %v; set MODULO_CACHE", err)
		}
		dir = d
	}
	c, err := artifacts.Open(dir)
	var de *artifacts.DiskError
	if errors.As(err, &de) {
		return nil, err // it names the cache directory and the remedy already
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the cache: %v", err)
	}
	kinds.KeepFileDigests(c.Dir())
	return c, nil
}

// printDiags renders diagnostics with their source lines, as HCL tools do, escaping the
// control characters of what the user wrote.
func printDiags(w io.Writer, cfg *pipelines.Config, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	files := map[string]*hcl.File{}
	if cfg != nil {
		files = cfg.Files
	}
	width, color := 0, false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		width, _, _ = term.GetSize(int(f.Fd()))
		color = os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	}
	pipelines.WriteDiagnostics(w, files, diags, uint(width), color)
}

// parsePipelineArgs parses the flags of a command that takes one optional PIPELINE.
func parsePipelineArgs(fs *flag.FlagSet, args []string, stderr io.Writer) (string, bool) {
	pos, ok := parseFlags(fs, args, stderr)
	if !ok {
		return "", false
	}
	return pipelineArg(pos, stderr)
}

// pipelineArg returns the single optional PIPELINE argument, "." by default.
func pipelineArg(pos []string, stderr io.Writer) (string, bool) {
	switch len(pos) {
	case 0:
		return ".", true
	case 1:
		return pos[0], true
	}
	fmt.Fprintf(stderr, "modulo: want one pipeline, got %d arguments: %v\n", len(pos), pos)
	return "", false
}

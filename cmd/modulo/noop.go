package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

// noopSettings is the canonical form of the flags that change a plan, for
// pipelines.NoopInputs: variables, variable files (their content is hashed there), targets,
// forced nodes, the remote and the cache directory.
func (p *planFlags) noopSettings() string {
	var sb strings.Builder
	names := make([]string, 0, len(p.vars))
	for n := range p.vars {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&sb, "var %q %q\n", n, p.vars[n])
	}
	for _, f := range p.varFiles {
		fmt.Fprintf(&sb, "var-file %q\n", f)
	}
	for _, t := range p.targets {
		fmt.Fprintf(&sb, "target %q\n", t)
	}
	for _, t := range p.force {
		fmt.Fprintf(&sb, "force %q\n", t)
	}
	r := p.remote.RemoteFlags
	ro := "unset"
	if r.ReadOnly != nil {
		ro = strconv.FormatBool(*r.ReadOnly)
	}
	fmt.Fprintf(&sb, "remote %q %s %q\ncache %q\n", r.Remote, ro, r.SigningKey, p.cacheDir)
	return sb.String()
}

// noopInputs digests the inputs of a plan of the pipeline at path with these flags; "" when
// they cannot be read (then no no-op record is used or written).
func (p *planFlags) noopInputs(path string) string {
	in, err := pipelines.NoopInputs(path, p.varFiles, p.noopSettings())
	if err != nil {
		return ""
	}
	return in
}

// lastNoop returns the record of the last no-op run of the pipeline at path with these
// flags if it still holds, so that the command can answer without planning (see
// pipelines.Noop). Forced nodes are never a no-op.
func (p *planFlags) lastNoop(path, inputs string) (*pipelines.Noop, bool) {
	if inputs == "" || len(p.force) > 0 {
		return nil, false
	}
	c, err := p.openCache()
	if err != nil {
		return nil, false
	}
	return pipelines.CheckNoop(c.Dir(), path, inputs, c.Generation(), stages.Default, time.Now())
}

// replayNoop tells what a run that finds every node cached tells: each node cached, the
// summary and the outputs.
func replayNoop(n *pipelines.Noop, progress string, stdout, stderr io.Writer) int {
	start := time.Now()
	disp, err := newDisplay(progress, stderr, len(n.Nodes))
	if err != nil {
		fmt.Fprintf(stderr, "modulo: %v\n", err)
		return 1
	}
	for _, node := range n.Nodes {
		disp.Observe(pipelines.Event{Time: time.Now(), Type: pipelines.EventCached, Addr: node.Addr, Kind: node.Kind})
	}
	disp.Close()
	printSummary(stdout, 0, len(n.Nodes), 0, 0, 0, 0, time.Since(start))
	io.WriteString(stdout, n.Outputs)
	return 0
}

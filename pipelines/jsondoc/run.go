package jsondoc

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/pipelines"
)

// Node statuses after a run, as the text summary counts them.
const (
	StatusRan     = "ran"     // the stage ran and its result is stored
	StatusFailed  = "failed"  // the stage or its configuration failed: see error
	StatusSkipped = "skipped" // a node upstream failed: see upstream_failed
	StatusNotRun  = "not_run" // never started, or stopped, because the run was interrupted or stopped at a failure
)

// Run is the document of modulo run -json: the outcome, once the run is over.
type Run struct {
	FormatVersion string     `json:"format_version"`
	Summary       RunSummary `json:"summary"`
	// DurationSeconds is the run's wall-clock time, planning excluded.
	DurationSeconds float64 `json:"duration_s"`
	// Interrupted is true when Ctrl-C or a signal stopped the run.
	Interrupted bool `json:"interrupted"`
	// Nodes are the planned nodes, dependencies first.
	Nodes []RunNode `json:"nodes"`
	// Outputs are the output blocks by name, as the run left them.
	Outputs map[string]Output `json:"outputs"`
	Problems
}

// RunSummary counts the nodes of a run by status; the text summary prints the same counts.
type RunSummary struct {
	Ran    int `json:"ran"`
	Cached int `json:"cached"`
	// Downloaded counts the cached nodes whose results came from the remote cache.
	Downloaded int `json:"downloaded"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
	NotRun     int `json:"not_run"`
}

// RunNode is one node after the run.
type RunNode struct {
	Address    string  `json:"address"`
	Kind       string  `json:"kind"`
	Name       string  `json:"name"`
	ForEachKey *string `json:"for_each_key,omitempty"`
	// Status is ran, cached, failed, skipped or not_run.
	Status string `json:"status"`
	// Action is the node's action ID when the run resolved it (ran or cached), or the
	// plan knew it.
	Action string `json:"action,omitempty"`
	// Downloaded is true for a cached node fetched from the remote cache.
	Downloaded bool `json:"downloaded,omitempty"`
	// DurationSeconds is how long the stage ran (status ran only).
	DurationSeconds *float64 `json:"duration_s,omitempty"`
	// Error is why the node failed (status failed only); a configuration error is also
	// among the document's diagnostics, with this node's address.
	Error string `json:"error,omitempty"`
	// UpstreamFailed are the failed nodes that kept a skipped node from running.
	UpstreamFailed []string `json:"upstream_failed,omitempty"`
}

// RunLog records from a run's events what the report of the run does not keep: how long
// each node that ran took. Its Observe is a pipelines.Observer, safe for concurrent use.
type RunLog struct {
	mu        sync.Mutex
	durations map[string]time.Duration
}

// Observe records e.
func (l *RunLog) Observe(e pipelines.Event) {
	if e.Type != pipelines.EventDone {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.durations == nil {
		l.durations = map[string]time.Duration{}
	}
	l.durations[e.Addr] = e.Duration
}

func (l *RunLog) duration(addr string) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.durations[addr]
	return d, ok
}

// NewRun is the document of a run of plan by app, which reported rep after d; diags are
// those of loading and planning. When planning failed, app and rep are nil and every node
// of plan (nil when the pipeline could not be loaded) is not_run. log may be nil.
func NewRun(plan *pipelines.Plan, app *pipelines.Applier, rep *pipelines.Report, log *RunLog, diags hcl.Diagnostics, d time.Duration) *Run {
	doc := &Run{FormatVersion: FormatVersion, DurationSeconds: seconds(d), Nodes: []RunNode{}, Outputs: map[string]Output{}}
	addrOf := nodeOfDiag(plan)
	if plan == nil {
		doc.Add(diags, addrOf)
		return doc
	}
	status := map[string]string{}
	downloaded := map[string]bool{}
	if rep != nil {
		doc.Interrupted = rep.Interrupted
		for _, a := range rep.Ran {
			status[a] = StatusRan
		}
		for _, a := range rep.Cached {
			status[a] = StatusCached
		}
		for _, a := range rep.Downloaded {
			downloaded[a] = true
		}
		for a := range rep.Walk.Skipped {
			status[a] = StatusSkipped
		}
		for a, err := range rep.Walk.Failed {
			if rep.Interrupted && errors.Is(err, context.Canceled) {
				continue // stopped, not failed: not_run, as the text summary counts it
			}
			status[a] = StatusFailed
		}
	}
	for _, addr := range plan.Order {
		n := plan.Nodes[addr]
		jn := RunNode{Address: addr, Kind: n.Inst.Block.Kind.Name, Name: n.Inst.Block.Name, ForEachKey: forEachKey(n.Inst), Status: status[addr]}
		if jn.Status == "" {
			jn.Status = StatusNotRun
		}
		if n.Key != nil {
			jn.Action = n.Action.String()
		}
		if app != nil {
			if id, ok := app.Action(addr); ok {
				jn.Action = id.String()
			}
		}
		switch jn.Status {
		case StatusRan:
			doc.Summary.Ran++
			if t, ok := log.duration(addr); ok {
				s := seconds(t)
				jn.DurationSeconds = &s
			}
		case StatusCached:
			doc.Summary.Cached++
			if downloaded[addr] {
				jn.Downloaded = true
				doc.Summary.Downloaded++
			}
		case StatusFailed:
			doc.Summary.Failed++
			err := rep.Walk.Failed[addr]
			jn.Error = err.Error()
			var de *pipelines.DiagError
			if errors.As(err, &de) {
				for _, d := range de.Diags {
					addrOf[d] = addr
				}
				diags = append(diags, de.Diags...)
			}
		case StatusSkipped:
			doc.Summary.Skipped++
			jn.UpstreamFailed = rep.Walk.Skipped[addr]
		case StatusNotRun:
			doc.Summary.NotRun++
		}
		doc.Nodes = append(doc.Nodes, jn)
	}
	if rep != nil {
		if c := rep.Walk.Cycle; c != nil {
			diags = append(diags, Message("Dependency cycle", c.Error()))
		}
		outs, d := Outputs(plan.Graph, app.ValueOf)
		doc.Outputs = outs
		diags = append(diags, d...)
	}
	doc.Add(diags, addrOf)
	return doc
}

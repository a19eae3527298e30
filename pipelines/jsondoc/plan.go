package jsondoc

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/pipelines"
)

// Node statuses in a plan, as the text plan marks them: = cached, + run, ? known after run.
const (
	StatusCached        = "cached"          // the result is in the cache (Remote: only in the remote one)
	StatusRun           = "run"             // the key is known and missing from the cache, or the node is forced
	StatusKnownAfterRun = "known_after_run" // the key needs upstream results that a run makes first
	StatusError         = "error"           // the node could not be planned: see the diagnostics with its address
)

// Validate is the document of modulo validate -json, as terraform validate -json writes it.
type Validate struct {
	FormatVersion string `json:"format_version"`
	// Valid is true when there is no error; warnings leave a pipeline valid.
	Valid bool `json:"valid"`
	Problems
}

// NewValidate is the document of a validation that gave diags.
func NewValidate(diags hcl.Diagnostics) *Validate {
	doc := &Validate{FormatVersion: FormatVersion, Valid: !diags.HasErrors()}
	doc.Add(diags, nil)
	return doc
}

// Plan is the document of modulo plan -json.
type Plan struct {
	FormatVersion string      `json:"format_version"`
	Summary       PlanSummary `json:"summary"`
	// Nodes are the planned nodes, dependencies first (ties broken by address).
	Nodes []PlanNode `json:"nodes"`
	// Outputs are the output blocks by name, as far as the plan knows them; empty when the
	// plan has errors.
	Outputs map[string]Output `json:"outputs"`
	Problems
}

// PlanSummary counts the nodes of a plan by status.
type PlanSummary struct {
	Run    int `json:"run"`
	Cached int `json:"cached"`
	// Download counts the cached nodes found only in the remote cache.
	Download      int `json:"download"`
	KnownAfterRun int `json:"known_after_run"`
	Error         int `json:"error"`
}

// PlanNode is one node of a plan.
type PlanNode struct {
	Address string `json:"address"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	// ForEachKey is the node's for_each key; absent for a block without for_each.
	ForEachKey *string `json:"for_each_key,omitempty"`
	// Status is cached, run, known_after_run or error.
	Status string `json:"status"`
	// Reasons say why a node runs (new, forced, attribute epochs changed: 10 → 20) or
	// what a deferred one waits for, as the text plan does.
	Reasons []string `json:"reasons"`
	// Action is the node's action ID, the digest of its key, when the key is known
	// (cached and run); absent otherwise.
	Action string `json:"action,omitempty"`
	// Remote is true for a cached node found only in the remote cache: a run downloads it.
	Remote bool `json:"remote,omitempty"`
	// WaitsFor are the dependencies a known_after_run node waits for: those not cached.
	WaitsFor []string `json:"waits_for,omitempty"`
	// Dependencies are the addresses of the nodes this one reads, sorted.
	Dependencies []string `json:"dependencies"`
}

// NewPlan is the document of a plan, with every diagnostic planning gave (diags, those of
// loading the pipeline included). plan is nil when the pipeline could not be loaded.
func NewPlan(plan *pipelines.Plan, diags hcl.Diagnostics) *Plan {
	doc := &Plan{FormatVersion: FormatVersion, Nodes: []PlanNode{}, Outputs: map[string]Output{}}
	if plan == nil {
		doc.Add(diags, nil)
		return doc
	}
	for _, addr := range plan.Order {
		n := plan.Nodes[addr]
		jn := PlanNode{
			Address:      addr,
			Kind:         n.Inst.Block.Kind.Name,
			Name:         n.Inst.Block.Name,
			ForEachKey:   forEachKey(n.Inst),
			Status:       PlanStatus(n),
			Reasons:      nonNil(n.Reasons),
			Dependencies: nonNil(plan.Graph.DAG.DependenciesOf(addr)),
		}
		if n.Key != nil {
			jn.Action = n.Action.String()
		}
		switch jn.Status {
		case StatusCached:
			doc.Summary.Cached++
			if n.Entry.FromRemote() {
				jn.Remote = true
				doc.Summary.Download++
			}
		case StatusRun:
			doc.Summary.Run++
		case StatusKnownAfterRun:
			doc.Summary.KnownAfterRun++
			for _, dep := range jn.Dependencies {
				if dn := plan.Nodes[dep]; dn == nil || dn.Status != pipelines.Cached {
					jn.WaitsFor = append(jn.WaitsFor, dep)
				}
			}
		case StatusError:
			doc.Summary.Error++
		}
		doc.Nodes = append(doc.Nodes, jn)
	}
	if !diags.HasErrors() {
		outs, d := Outputs(plan.Graph, plan.ValueOf)
		doc.Outputs = outs
		diags = append(diags, d...)
	}
	doc.Add(diags, nodeOfDiag(plan))
	return doc
}

// PlanStatus is the status of n: cached, run, known_after_run, or error when planning it
// gave errors.
func PlanStatus(n *pipelines.PlanNode) string {
	switch {
	case n.Failed():
		return StatusError
	case n.Status == pipelines.Cached:
		return StatusCached
	case n.Status == pipelines.Run:
		return StatusRun
	}
	return StatusKnownAfterRun
}

// Outputs evaluates the output blocks of g with the values valueOf gives (a plan's, or a
// run's) and returns them by name, with the errors of those that could not be evaluated
// (a value known only after the run is not an error: it is written as null, and Known is
// false).
func Outputs(g *pipelines.Graph, valueOf pipelines.ValueOf) (map[string]Output, hcl.Diagnostics) {
	outs, diags := g.Outputs(valueOf)
	m := make(map[string]Output, len(outs))
	for _, o := range outs {
		v, known := Value(o.Value)
		m[o.Name] = Output{Value: v, Known: known, Description: o.Description}
	}
	var errs hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	return m, errs
}

// nodeOfDiag maps each diagnostic that planning a node gave to the node's address.
func nodeOfDiag(plan *pipelines.Plan) map[*hcl.Diagnostic]string {
	m := map[*hcl.Diagnostic]string{}
	if plan == nil {
		return m
	}
	for _, addr := range plan.Order {
		for _, d := range plan.Nodes[addr].Diags {
			if _, ok := m[d]; !ok {
				m[d] = addr
			}
		}
	}
	return m
}

func forEachKey(inst *pipelines.Instance) *string {
	if inst.Block.ForEach == nil {
		return nil
	}
	k := inst.Key
	return &k
}

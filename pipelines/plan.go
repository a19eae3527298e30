package pipelines

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// Status is what a plan expects of a node.
type Status int

const (
	// Cached: the node's key is known and its result is in the cache.
	Cached Status = iota
	// Run: the node's key is known and not in the cache (or the run is forced).
	Run
	// Deferred: the key depends on an upstream result that is not known until that runs;
	// the node may still turn out cached (early cutoff).
	Deferred
)

func (s Status) String() string {
	switch s {
	case Cached:
		return "cached"
	case Run:
		return "run"
	default:
		return "known after run"
	}
}

// PlanNode is the plan of one instance.
type PlanNode struct {
	Inst    *Instance
	Status  Status
	Reasons []string
	Config  cty.Value // may hold unknowns when Deferred
	Key     *artifacts.Key
	Action  artifacts.ActionID // zero when Deferred
	Files   []stages.File      // the files from outside the cache in Key
	Entry   *artifacts.Entry   // when Cached
	// Trusted is set when Entry is the state's memory of the node's entry, not read from the
	// cache by this plan; the run looks it up if it is to read the outputs.
	Trusted bool
	Value   cty.Value // the outputs object; known when Cached
	Cost    int
	// Expect is what the configuration tells of the artifact outputs before the node runs
	// (stages.Kind.Expect), so that nodes downstream are checked against it.
	Expect map[string]stages.Expected
	// Diags are the diagnostics planning this node gave, also among those Plan returns; a
	// node with errors among them is Deferred and could not be planned.
	Diags hcl.Diagnostics
}

// Failed reports whether n could not be planned: its configuration has errors.
func (n *PlanNode) Failed() bool { return n.Diags.HasErrors() }

// Plan is the plan of a graph, restricted to the targets and their dependencies.
type Plan struct {
	Graph *Graph
	Nodes map[string]*PlanNode
	// Order lists the planned addresses, dependencies first.
	Order []string
	// Generation is the cache's removal generation read before any lookup (see
	// artifacts.Cache.Generation): entries found by this plan, or stored by its run, were
	// in the cache at that generation.
	Generation string
}

// ValueOf returns the value of inst as the plan knows it: its cached outputs, or unknowns
// that carry what is expected of them.
func (p *Plan) ValueOf(inst *Instance) cty.Value {
	n := p.Nodes[inst.Addr]
	if n == nil {
		return unknownOutputs(inst.Block.Kind)
	}
	if n.Status == Cached {
		return n.Value
	}
	return expectedOutputs(inst.Block.Kind, n.Expect)
}

// Counts returns how many nodes are cached, to run and deferred.
func (p *Plan) Counts() (cached, run, deferred int) {
	for _, n := range p.Nodes {
		switch n.Status {
		case Cached:
			cached++
		case Run:
			run++
		default:
			deferred++
		}
	}
	return
}

// Selection chooses nodes by address: an instance address, or a block address (kind.name)
// meaning every instance of the block.
type Selection []string

// Resolve returns the instance addresses the selection names, with a diagnostic for any
// address that names nothing.
func (s Selection) Resolve(g *Graph) (map[string]bool, hcl.Diagnostics) {
	out := map[string]bool{}
	var diags hcl.Diagnostics
	for _, a := range s {
		if g.Instances[a] != nil {
			out[a] = true
			continue
		}
		if b := g.Config.Block(a); b != nil {
			for _, i := range g.byBlock[b] {
				out[i.Addr] = true
			}
			continue
		}
		var all []string
		for addr := range g.Instances {
			all = append(all, addr)
		}
		// Sorted, so that among equally close addresses the suggestion is the same every run.
		sort.Strings(all)
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No such node",
			Detail:   fmt.Sprintf("%s names no stage or instance in this pipeline.%s Addresses look like train.net or train.net[\"key\"]; `modulo graph` lists them.", a, didYouMean(a, all)),
		})
	}
	return out, diags
}

// Planner plans a graph against a cache.
type Planner struct {
	Graph *Graph
	Cache *artifacts.Cache // nil: nothing is cached (validate)
	State *State           // may be nil
	Force map[string]bool
}

// Plan evaluates every selected node in dependency order. A node whose upstream nodes are
// all cached gets a known key and is looked up; others are deferred.
func (p *Planner) Plan(targets map[string]bool) (*Plan, hcl.Diagnostics) {
	g := p.Graph
	plan := &Plan{Graph: g, Nodes: map[string]*PlanNode{}}
	if p.Cache != nil {
		plan.Generation = p.Cache.Generation()
	}
	now := time.Now()
	keep := map[string]bool{}
	if len(targets) > 0 {
		var ts []string
		for t := range targets {
			ts = append(ts, t)
		}
		for _, a := range g.DAG.Ancestors(ts...) {
			keep[a] = true
		}
	}
	valueOf := plan.ValueOf
	var order []string
	for _, addr := range g.Order {
		if len(keep) == 0 || keep[addr] {
			order = append(order, addr)
		}
	}
	plan.Order = order
	// Nodes of one level depend only on earlier levels, so a level is planned in parallel:
	// the cache lookups are file reads, and a pipeline of thousands of nodes would otherwise
	// plan one read at a time. plan.Nodes is written only between levels.
	var diags hcl.Diagnostics
	for _, level := range levels(g, order) {
		nodes := make([]*PlanNode, len(level))
		nodeDiags := make([]hcl.Diagnostics, len(level))
		parallel(len(level), func(i int) {
			nodes[i], nodeDiags[i] = p.planNode(plan, g.Instances[level[i]], valueOf, now)
		})
		for i, addr := range level {
			nodes[i].Diags = nodeDiags[i]
			plan.Nodes[addr] = nodes[i]
			diags = append(diags, nodeDiags[i]...)
		}
	}
	return plan, tidyDiags(diags)
}

// planNode plans one instance whose upstream nodes are planned. It only reads plan.
func (p *Planner) planNode(plan *Plan, inst *Instance, valueOf ValueOf, now time.Time) (*PlanNode, hcl.Diagnostics) {
	addr := inst.Addr
	pc, diags := p.Graph.evalPlanned(inst, valueOf)
	cfg := pc.Value
	n := &PlanNode{Inst: inst, Config: cfg, Cost: cost(inst, cfg)}
	// What the configuration tells of the outputs holds even when part of it is wrong (a
	// checkpoint beyond the run leaves the architecture as it is), so nodes downstream are
	// still checked against it and the user sees their mistakes in the same pass.
	if e := inst.Block.Kind.Expect; e != nil {
		n.Expect = e(pc)
	}
	if diags.HasErrors() {
		n.Status = Deferred
		return n, diags
	}
	if !pc.WhollyKnown() {
		n.Status = Deferred
		var waits []string
		for _, dep := range inst.deps {
			if dn := plan.Nodes[dep]; dn != nil && dn.Status != Cached {
				waits = append(waits, dep)
			}
		}
		n.Reasons = []string{"waits for " + strings.Join(waits, ", ")}
		return n, diags
	}
	key, files, d := nodeKey(inst, cfg)
	if d.HasErrors() {
		n.Status = Deferred
		return n, append(diags, d...)
	}
	n.Key, n.Files = key, files
	n.Action = n.Key.ID()
	if p.Force[addr] {
		n.Status = Run
		n.Reasons = []string{"forced"}
		return n, diags
	}
	if p.Cache != nil {
		// The state's memory of the entry stands for a lookup while the cache has removed
		// nothing since (see State.Trusted); otherwise the entry is read.
		var e *artifacts.Entry
		if p.State != nil {
			e, n.Trusted = p.State.Trusted(addr, n.Action, plan.Generation, now)
		}
		if !n.Trusted {
			e, _ = p.Cache.GetEntry(n.Action)
		}
		if e != nil {
			if v, err := entryValueExpect(inst.Block.Kind, e, n.Expect); err == nil {
				n.Status, n.Entry, n.Value = Cached, e, v
				return n, diags
			}
		}
		n.Trusted = false
	}
	n.Status = Run
	n.Reasons = p.reasons(addr, n)
	return n, diags
}

// levels groups addresses (in dependency order) by depth: a node's level is one more than
// the deepest of its dependencies among them.
func levels(g *Graph, order []string) [][]string {
	depth := make(map[string]int, len(order))
	var out [][]string
	for _, addr := range order {
		d := 0
		for _, dep := range g.Instances[addr].deps {
			if dd, ok := depth[dep]; ok && dd+1 > d {
				d = dd + 1
			}
		}
		depth[addr] = d
		for len(out) <= d {
			out = append(out, nil)
		}
		out[d] = append(out[d], addr)
	}
	return out
}

// parallel calls f(0..n-1) on GOMAXPROCS goroutines and waits for them.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// reasons explains why n must run, by comparing its key with the last one recorded for the
// address.
func (p *Planner) reasons(addr string, n *PlanNode) []string {
	if p.State == nil {
		return []string{"not in cache"}
	}
	old, ok := p.State.Get(addr)
	if !ok {
		return []string{"new"}
	}
	if old.Action == n.Action.String() {
		return []string{"not in cache (removed, or its last run did not finish)"}
	}
	id, err := artifacts.ParseOutputID(old.Key)
	if err != nil || p.Cache == nil {
		return []string{"key changed"}
	}
	b, err := p.Cache.Get(id)
	if err != nil {
		return []string{"key changed (the previous key's description is no longer in the cache)"}
	}
	oldLines, err := artifacts.ParseDescription(b)
	if err != nil {
		return []string{"key changed"}
	}
	newLines, _ := artifacts.ParseDescription(n.Key.Description())
	return diffKeys(oldLines, newLines)
}

// diffKeys describes the differences between two key descriptions, one reason per line.
func diffKeys(old, new []artifacts.KeyLine) []string {
	om, nm := map[string]string{}, map[string]string{}
	var labels []string
	for _, l := range old {
		om[l.Label] = l.Value
		labels = append(labels, l.Label)
	}
	for _, l := range new {
		if _, ok := om[l.Label]; !ok {
			labels = append(labels, l.Label)
		}
		nm[l.Label] = l.Value
	}
	sort.Strings(labels)
	var out []string
	for _, label := range labels {
		o, inOld := om[label]
		nv, inNew := nm[label]
		if inOld && inNew && o == nv {
			continue
		}
		name := strings.TrimPrefix(label, "attr.")
		switch {
		case label == "salt":
			out = append(out, "modulo's key format changed")
		case label == "version":
			out = append(out, fmt.Sprintf("stage version changed: %s → %s", o, nv))
		case label == "numerics":
			out = append(out, fmt.Sprintf("numerical kernels changed: %s → %s", orNone(o, inOld), orNone(nv, inNew)))
		case label == "stage":
			out = append(out, fmt.Sprintf("stage kind changed: %s → %s", o, nv))
		case strings.HasPrefix(label, "file."):
			out = append(out, fmt.Sprintf("input file %s changed", strings.TrimPrefix(label, "file.")))
		case !inOld:
			out = append(out, fmt.Sprintf("attribute %s added: %s", name, short(nv)))
		case !inNew:
			out = append(out, fmt.Sprintf("attribute %s removed", name))
		case strings.Contains(o, `{"artifact":`) || strings.Contains(nv, `{"artifact":`):
			out = append(out, fmt.Sprintf("input %s changed", name))
		default:
			out = append(out, fmt.Sprintf("attribute %s changed: %s → %s", name, short(o), short(nv)))
		}
	}
	if len(out) == 0 {
		out = []string{"key changed"}
	}
	return out
}

// orNone is a key line's value, or "none" where the key has no such line.
func orNone(v string, in bool) string {
	if !in {
		return "none"
	}
	return v
}

func short(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max-1] + "…"
	}
	return s
}

// cost is the number of worker slots a node takes. It is computed from the plan's
// configuration, which may hold unknowns: Kind.Cost must guess when it cannot see.
func cost(inst *Instance, cfg cty.Value) int {
	k := inst.Block.Kind
	if k.Cost == nil {
		return 1
	}
	c := k.Cost(cfg)
	if c < 1 {
		c = 1
	}
	return c
}

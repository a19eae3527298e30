package pipelines

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/artifacts/remote"
	"github.com/modulo-ml/modulo/dag"
	"github.com/modulo-ml/modulo/stages"
)

// Applier runs a plan: each node is evaluated once its upstream results are known, looked up
// in the cache by content-addressed key, and run only on a miss.
type Applier struct {
	Plan      *Plan
	Cache     *artifacts.Cache
	State     *State
	Observe   Observer
	Workers   int
	KeepGoing bool
	Force     map[string]bool
	// VerifyAll reads and checks every cached output, as if each were about to be read;
	// without it, only the outputs a node of this run reads are (modulo run -verify).
	VerifyAll bool
	// Executor, if set, computes the nodes that miss the cache elsewhere (a Slurm cluster)
	// instead of in this process; the cache must then have a writable remote, which is
	// where the executor's workers read inputs and publish results.
	Executor Executor

	mu      sync.Mutex
	results map[string]cty.Value
	actions map[string]artifacts.ActionID // of the resolved nodes
	ran     map[string]bool
	pulled  map[string]bool       // cached nodes fetched from the remote
	local   map[string]localEntry // cached nodes found here, not yet shared (see share)
	feeds   map[string]bool       // nodes a node of this run may read (see feedsRun)
}

// maxElsewhere bounds the nodes handed to an executor at once; the executor's own limit
// (max_jobs) is normally the smaller.
const maxElsewhere = 4096

// Report summarises a run.
type Report struct {
	Walk   *dag.WalkReport
	Ran    []string
	Cached []string
	// Downloaded are the cached nodes whose results came from the remote cache.
	Downloaded []string
	// Interrupted is set when the run was cancelled (Ctrl-C); the nodes it stopped are in
	// Walk.Failed with errors wrapping context.Canceled, and nothing of theirs was stored.
	Interrupted bool
}

// Apply runs the plan and returns what happened. Cancelling ctx stops new nodes from
// starting and cancels running ones, and is reported at once as an EventStopping; nothing
// half-written reaches the cache either way.
func (a *Applier) Apply(ctx context.Context) *Report {
	a.results = map[string]cty.Value{}
	a.actions = map[string]artifacts.ActionID{}
	a.ran = map[string]bool{}
	a.pulled = map[string]bool{}
	a.local = map[string]localEntry{}
	a.feeds = a.feedsRun()
	g := a.Plan.Graph
	sub := g.DAG.Subgraph(a.Plan.Order)
	// Cancellation is acknowledged at once, while the running nodes stop, so that a user
	// who pressed Ctrl-C sees it was heard. The event is never sent after Apply returns.
	stopping := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() {
		defer close(stopping)
		a.emit(Event{Type: EventStopping, Message: context.Cause(ctx).Error()})
	})
	defer func() {
		if !stopWatch() {
			<-stopping
		}
	}()
	opts := dag.WalkOptions{
		Workers:   a.workers(),
		KeepGoing: a.KeepGoing,
		Cost:      func(v string) int { return a.Plan.Nodes[v].Cost },
	}
	if a.Executor != nil {
		// The nodes run elsewhere: this machine's cores do not bound them, the executor
		// does (Slurm's max_jobs). A node here only evaluates, uploads and waits.
		opts.Workers, opts.Cost = maxElsewhere, nil
	}
	walk := sub.Walk(ctx, opts, a.node)
	if ctx.Err() == nil {
		for v, causes := range walk.Skipped {
			a.emit(Event{Type: EventSkipped, Addr: v, Message: fmt.Sprintf("upstream failed: %v", causes)})
		}
	}
	if a.State != nil {
		if err := a.State.Save(); err != nil {
			a.emit(Event{Type: EventWarning, Message: "could not save the pipeline state: " + err.Error()})
		}
	}
	rep := &Report{Walk: walk, Interrupted: ctx.Err() != nil}
	for _, v := range walk.Succeeded {
		switch {
		case a.ran[v]:
			rep.Ran = append(rep.Ran, v)
		case a.pulled[v]:
			rep.Cached = append(rep.Cached, v)
			rep.Downloaded = append(rep.Downloaded, v)
		default:
			rep.Cached = append(rep.Cached, v)
		}
	}
	return rep
}

func (a *Applier) emit(e Event) {
	if a.Observe == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	a.Observe(e)
}

// ValueOf returns the value of inst after the run: its outputs, or unknowns if it did not
// finish. Use it to evaluate output blocks (Graph.Outputs) once Apply has returned.
func (a *Applier) ValueOf(inst *Instance) cty.Value { return a.valueOf(inst) }

// Action returns the action of addr if the run resolved it (ran it or found it cached),
// known even for a node the plan deferred.
func (a *Applier) Action(addr string) (artifacts.ActionID, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.actions[addr]
	return id, ok
}

func (a *Applier) valueOf(inst *Instance) cty.Value {
	a.mu.Lock()
	defer a.mu.Unlock()
	if v, ok := a.results[inst.Addr]; ok {
		return v
	}
	return unknownOutputs(inst.Block.Kind)
}

// node resolves one instance: cached, or run and stored.
func (a *Applier) node(ctx context.Context, addr string) (err error) {
	g := a.Plan.Graph
	inst := g.Instances[addr]
	kind := inst.Block.Kind
	defer func() {
		// A node stopped by cancellation did not fail: the display says the run was
		// interrupted once, rather than blaming every node in flight.
		if err != nil && ctx.Err() == nil {
			a.emit(Event{Type: EventFailed, Addr: addr, Kind: kind.Name, Err: err})
		}
	}()
	forced := a.Force[addr]
	if pn := a.Plan.Nodes[addr]; pn.Status == Cached && !forced {
		// The plan evaluated this node with known inputs and found it cached: here (checked
		// then, or remembered by the state), or in the remote cache. Its outputs are read and
		// checked only if a node of this run reads them or they are to be fetched; a result
		// nobody reads is left alone, so a no-op run touches no cache file.
		check := a.VerifyAll || a.feeds[addr] || pn.Entry.FromRemote()
		switch {
		case !check:
			a.keep(addr, pn.Action, pn.Entry)
			var seen *artifacts.Entry // a remembered entry is no news to the state
			if !pn.Trusted {
				seen = pn.Entry
			}
			a.resolved(addr, pn.Value, pn.Action, pn.Entry.Key, seen, false)
			return nil
		case pn.Trusted:
			// Remembered, not seen: looked up below like any other node.
		case a.pull(ctx, addr, pn.Action, pn.Entry) && a.verify(addr, pn.Entry):
			a.keep(addr, pn.Action, pn.Entry)
			a.resolved(addr, pn.Value, pn.Action, pn.Entry.Key, pn.Entry, false)
			return nil
		}
	}
	cfg, diags := g.Eval(inst, a.valueOf)
	if diags.HasErrors() {
		return &DiagError{Diags: diags}
	}
	if !stages.WhollyKnown(cfg) {
		return fmt.Errorf("configuration is not known after its inputs were resolved (an upstream output is unknown)")
	}
	key, files, diags := nodeKey(inst, cfg)
	if diags.HasErrors() {
		return &DiagError{Diags: diags}
	}
	id := key.ID()
	keyID := artifacts.NewOutputID(key.Description())
	if !forced {
		if v, e, ok := a.lookup(addr, kind, id); ok {
			a.resolved(addr, v, id, keyID, e, false)
			return nil
		}
	}
	unlock, err := a.lock(ctx, addr, id)
	if err != nil {
		return err
	}
	defer unlock()
	if !forced {
		// Another process may have finished this action while we waited for the lock.
		if v, e, ok := a.lookup(addr, kind, id); ok {
			a.resolved(addr, v, id, keyID, e, false)
			return nil
		}
	}
	if _, _, err := a.Cache.Put(key.Description(), artifacts.Raw); err != nil {
		return fmt.Errorf("storing the key description: %w", err)
	}
	// With an executor, every node runs elsewhere but one that reads files outside the
	// cache at their paths (a dataset's): that one runs here, where the plan found them; it
	// is quick, and its entry carries the files to the workers. A kind that reads them
	// through the cache (a command's scripts) gets them there from the driver.
	if a.Executor != nil && (len(files) == 0 || kind.PortableFiles) {
		return a.runElsewhere(ctx, inst, cfg, id, keyID, files)
	}
	start := time.Now()
	a.emit(Event{Type: EventStart, Addr: addr, Kind: kind.Name, Time: start})
	res, err := a.run(ctx, inst, cfg, files)
	if err != nil {
		return err
	}
	e, err := newEntry(ctx, a.Cache, kind, keyID, res, files, start)
	if err != nil {
		return err
	}
	if err := a.Cache.PutEntry(id, e); err != nil {
		return fmt.Errorf("storing the result: %w", err)
	}
	v, err := entryValue(kind, e)
	if err != nil {
		return err
	}
	a.emit(Event{Type: EventDone, Addr: addr, Kind: kind.Name, Duration: e.Duration})
	a.resolved(addr, v, id, keyID, e, true)
	return nil
}

// lookup returns the cached outputs of action id and its entry, verifying every output
// blob: a corrupt blob is a miss, reported as a warning, and the node recomputes.
func (a *Applier) lookup(addr string, kind *stages.Kind, id artifacts.ActionID) (cty.Value, *artifacts.Entry, bool) {
	e, err := a.Cache.GetEntry(id)
	if err != nil {
		a.warnCorrupt(addr, err)
		return cty.NilVal, nil, false
	}
	if !a.pull(context.Background(), addr, id, e) || !a.verify(addr, e) {
		return cty.NilVal, nil, false
	}
	a.keep(addr, id, e)
	v, err := entryValue(kind, e)
	if err != nil {
		a.emit(Event{Type: EventWarning, Addr: addr, Message: "ignoring a cached result: " + err.Error()})
		return cty.NilVal, nil, false
	}
	return v, e, true
}

// feedsRun returns the cached nodes of the plan that a node of this run may read: those
// with a dependant that is to run, forced, or deferred (it may run). Their outputs are
// checked before the run goes on, so a damaged or missing blob is recomputed rather than
// failing the node that reads it.
func (a *Applier) feedsRun() map[string]bool {
	feeds := map[string]bool{}
	dag := a.Plan.Graph.DAG
	for addr, n := range a.Plan.Nodes {
		if n.Status == Cached && !a.Force[addr] {
			continue
		}
		for _, up := range dag.DependenciesOf(addr) {
			feeds[up] = true
		}
	}
	return feeds
}

// pull fetches the blobs of an entry found in the remote cache. A failure is a warning:
// the node is computed here.
func (a *Applier) pull(ctx context.Context, addr string, id artifacts.ActionID, e *artifacts.Entry) bool {
	if !e.FromRemote() {
		return true
	}
	if err := a.Cache.Pull(ctx, id, e); err != nil {
		if errors.Is(err, remote.ErrUnavailable) {
			return false // the remote said once that it is down
		}
		a.emit(Event{Type: EventWarning, Addr: addr, Message: fmt.Sprintf("could not fetch the result from the remote cache (%v); computing it here", err)})
		return false
	}
	a.mu.Lock()
	a.pulled[addr] = true
	a.mu.Unlock()
	return true
}

// verify reads every output blob of e, checking its digest, as Go's build cache does on
// every read: a result is only reused if its bytes are intact.
func (a *Applier) verify(addr string, e *artifacts.Entry) bool {
	for _, out := range e.Outputs {
		for _, it := range out.Items {
			if _, err := a.Cache.Get(it.ID); err != nil {
				a.warnCorrupt(addr, err)
				return false
			}
		}
	}
	return true
}

func (a *Applier) warnCorrupt(addr string, err error) {
	var ce *artifacts.CorruptError
	if errors.As(err, &ce) {
		a.emit(Event{Type: EventWarning, Addr: addr, Message: fmt.Sprintf("corrupt cache file %s (%s): removed; recomputing", ce.Path, ce.Reason)})
	}
}

// lock takes the cross-process lock of action id, telling the display when another process
// holds it so that a wait does not look like a hang.
func (a *Applier) lock(ctx context.Context, addr string, id artifacts.ActionID) (func(), error) {
	waiting := time.AfterFunc(200*time.Millisecond, func() {
		a.emit(Event{Type: EventWaiting, Addr: addr, Message: "another modulo process is computing this node; waiting for it"})
	})
	unlock, err := a.Cache.Lock(ctx, id)
	waiting.Stop()
	return unlock, err
}

// resolved records the outcome of addr. seen is the entry found in the cache or stored by
// this run, which the state remembers so that the next plan need not look it up; nil when
// there is nothing new to remember.
func (a *Applier) resolved(addr string, v cty.Value, id artifacts.ActionID, keyID artifacts.OutputID, seen *artifacts.Entry, ran bool) {
	a.mu.Lock()
	a.results[addr] = v
	a.actions[addr] = id
	a.ran[addr] = ran
	a.mu.Unlock()
	if !ran {
		a.mu.Lock()
		msg := ""
		if a.pulled[addr] {
			msg = "downloaded from the remote cache"
		}
		a.mu.Unlock()
		a.emit(Event{Type: EventCached, Addr: addr, Kind: a.Plan.Graph.Instances[addr].Block.Kind.Name, Message: msg})
	}
	if a.State != nil && seen != nil {
		a.State.Set(addr, newStateNode(id, keyID, a.Plan.Generation, seen))
	}
}

// run calls the stage in this process.
func (a *Applier) run(ctx context.Context, inst *Instance, cfg cty.Value, files []stages.File) (*stages.Result, error) {
	kind := inst.Block.Kind
	return runKind(ctx, kind, &stages.Input{
		Address: inst.Addr,
		Config:  cfg,
		Threads: a.threads(inst.Addr),
		Read: func(r *stages.Ref) ([]byte, error) {
			b, err := a.Cache.Get(r.ID)
			if err != nil {
				return nil, fmt.Errorf("reading input %s: %w", r.String(), err)
			}
			return b, nil
		},
		Progress: func(p stages.Progress) {
			a.emit(Event{Type: EventProgress, Addr: inst.Addr, Kind: kind.Name, Progress: &p})
		},
		Files:       files,
		ReadFile:    func(f stages.File) ([]byte, error) { return readFile(ctx, a.Cache, f) },
		Materialize: func(files map[string]string) (string, error) { return materialize(ctx, a.Cache, files) },
	})
}

// keep remembers the entry of a node found cached when an executor runs nodes elsewhere:
// before a dependant is submitted, share uploads it.
func (a *Applier) keep(addr string, id artifacts.ActionID, e *artifacts.Entry) {
	if a.Executor == nil || e.FromRemote() {
		return
	}
	a.mu.Lock()
	a.local[addr] = localEntry{id, e}
	a.mu.Unlock()
}

// localEntry is a cached result found here, which the remote may lack.
type localEntry struct {
	id artifacts.ActionID
	e  *artifacts.Entry
}

// share makes sure that the results addr depends on are in the remote, with the files they
// carry: its worker reads them there. Each is uploaded once a run, and only when a
// dependant runs elsewhere, so a run with nothing to do makes no requests for it.
func (a *Applier) share(ctx context.Context, addr string) error {
	a.mu.Lock()
	pending := len(a.local)
	a.mu.Unlock()
	if pending == 0 { // the usual case once the first jobs are out: no walk of the graph
		return nil
	}
	// Ancestors, not only dependencies: a stage may read an artifact that an upstream
	// artifact names (prune reads the dataset its train node's recipe names).
	for _, up := range a.Plan.Graph.DAG.Ancestors(addr) {
		a.mu.Lock()
		le, ok := a.local[up]
		delete(a.local, up)
		a.mu.Unlock()
		if !ok {
			continue
		}
		if err := a.Cache.Push(ctx, le.id, le.e); err != nil {
			return fmt.Errorf("uploading the result of %s for the workers: %w", up, err)
		}
	}
	return nil
}

// threads is the number of worker slots granted to addr: its cost, within the budget.
func (a *Applier) threads(addr string) int {
	n := a.Plan.Nodes[addr].Cost
	if w := a.workers(); n > w {
		n = w
	}
	return max(n, 1)
}

func (a *Applier) workers() int {
	if a.Workers > 0 {
		return a.Workers
	}
	return runtime.NumCPU()
}

// DiagError carries configuration diagnostics found while running a node.
type DiagError struct{ Diags hcl.Diagnostics }

func (e *DiagError) Error() string { return e.Diags.Error() }

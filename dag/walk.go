package dag

import (
	"context"
	"errors"
	"math"
	"runtime"
)

// WalkOptions configures Graph.Walk.
type WalkOptions struct {
	// Workers is the slot budget: the sum of Cost over the vertices running
	// at any moment never exceeds it. Zero or negative means runtime.NumCPU().
	Workers int
	// Cost returns how many slots v occupies while it runs, for example the
	// number of BLAS threads a training node uses. Nil means every vertex
	// costs 1. Results are clamped to [1, Workers] so that an oversized
	// vertex still runs (alone) instead of waiting forever. Cost is called
	// exactly once per vertex, from the goroutine that called Walk, before
	// any fn starts; it need not be safe for concurrent use.
	Cost func(v string) int
	// KeepGoing selects what happens after a vertex fails. When false, no new
	// vertex starts after the first failure, though vertices already running
	// are not interrupted and finish normally. When true, every vertex that
	// does not depend on a failure still runs; only the failures' dependents
	// are skipped.
	KeepGoing bool
}

// Walk calls fn for every vertex once all of its dependencies have
// succeeded, running independent vertices in parallel within the slot budget
// of opts, and returns a report of what happened to each vertex. It never
// returns nil. fn is called at most once per vertex, but from several
// goroutines at once, so it must be safe for concurrent use.
//
// Scheduling. Walk's own goroutine owns all scheduling state; each fn runs in
// its own goroutine and reports back over a channel. There is therefore no
// lock at all, and in particular none is held while fn runs. Among the ready
// vertices, the one with the smallest topological rank (its index in
// TopoOrder: dependencies first, ties by name) is the head, and it starts as
// soon as enough slots are free. While the head needs more slots than are
// free, other ready vertices that do fit may start in the gaps (backfill),
// best rank first, so that slots do not sit idle behind a large vertex. Backfill is
// bounded so that it cannot starve the head: after Workers backfill starts
// without the head having started, nothing but the head may start, and the
// running vertices drain until it fits. The counter resets whenever a head
// starts. With one worker the start order is exactly TopoOrder; in general it
// is deterministic for a given sequence of completions.
//
// Failures. An error returned by fn, or a panic in fn (recovered into a
// *PanicError), marks the vertex Failed. Its transitive dependents never run
// and are reported as Skipped, with the failed vertices upstream as causes.
// Without opts.KeepGoing, no vertex starts after the first failure.
//
// Cancellation. The ctx passed to fn is ctx itself. Once ctx is done no new
// vertex starts; running fns see the canceled ctx and Walk returns only after
// they all return, so fn never outlives Walk. Walk itself never cancels ctx,
// not even after a failure: running vertices always finish, because killing a half-written training
// step is worse than waiting for it.
//
// Cycles. If the graph has a cycle, fn is never called: the report lists
// every vertex as NotRun and carries the *CycleError in Cycle.
func (g *Graph) Walk(ctx context.Context, opts WalkOptions, fn func(ctx context.Context, v string) error) *WalkReport {
	r := &WalkReport{Failed: map[string]error{}, Skipped: map[string][]string{}}
	if g.Len() == 0 {
		return r
	}
	ix := g.index()
	order, ok := ix.topo()
	if !ok {
		r.NotRun = ix.names
		r.Cycle = &CycleError{Cycles: ix.cycles()}
		return r
	}
	w := newWalker(ctx, ix, order, opts, fn)
	w.run()
	w.fill(r)
	return r
}

// vertexState tracks a vertex through a walk. Vertices only move forward.
type vertexState uint8

const (
	statePending   vertexState = iota // waiting for dependencies
	stateReady                        // dependencies succeeded, waiting for slots
	stateRunning                      // fn is running
	stateSucceeded                    // fn returned nil
	stateFailed                       // fn returned an error or panicked
)

// result is what a worker goroutine sends back when fn returns.
type result struct {
	v   int // vertex number
	err error
}

// errGoexit is reported for a vertex whose fn called runtime.Goexit (for
// example t.FailNow in a test helper), which unwinds without returning.
var errGoexit = errors.New("dag: fn called runtime.Goexit instead of returning")

// walker holds the state of one Walk. Every field is owned by the goroutine
// that called Walk; worker goroutines touch only ctx, fn, ix.names and done.
type walker struct {
	ctx       context.Context
	fn        func(context.Context, string) error
	ix        *indexed
	workers   int
	keepGoing bool

	order     []int // rank -> vertex number (topological order)
	rank      []int // vertex number -> rank
	cost      []int // vertex number -> slots, clamped to [1, workers]
	remaining []int // vertex number -> dependencies not yet succeeded
	state     []vertexState
	errs      []error // vertex number -> error from fn, if it failed

	ready   readyQueue
	free    int // slots not in use
	running int // fns started but not yet reported back
	done    chan result

	stopping    bool // no new vertex may start
	interrupted bool // stopping was caused by ctx, not by a failure

	// overtakes counts backfill starts since the best ready vertex last
	// started; see Walk.
	overtakes int
}

func newWalker(ctx context.Context, ix *indexed, order []int, opts WalkOptions, fn func(context.Context, string) error) *walker {
	n := len(ix.names)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	w := &walker{
		ctx:       ctx,
		fn:        fn,
		ix:        ix,
		workers:   workers,
		keepGoing: opts.KeepGoing,
		order:     order,
		rank:      make([]int, n),
		cost:      make([]int, n),
		remaining: make([]int, n),
		state:     make([]vertexState, n),
		errs:      make([]error, n),
		free:      workers,
		// At most workers fns run at once (each costs at least one slot),
		// so with this buffer a finishing worker never blocks on the send.
		done: make(chan result, workers),
	}
	for r, v := range order {
		w.rank[v] = r
	}
	for v, name := range ix.names {
		c := 1
		if opts.Cost != nil {
			c = min(max(opts.Cost(name), 1), workers)
		}
		w.cost[v] = c
		w.remaining[v] = len(ix.deps[v])
	}
	w.ready.init(w.cost)
	for v := range n {
		if w.remaining[v] == 0 {
			w.state[v] = stateReady
			w.ready.push(w.rank[v], w.cost[v])
		}
	}
	return w
}

// run is the scheduling loop: start what fits, then wait for a completion or
// for cancellation, until nothing is running and nothing more may start.
func (w *walker) run() {
	ctxDone := w.ctx.Done()
	for {
		w.schedule()
		if w.running == 0 {
			return
		}
		select {
		case res := <-w.done:
			w.finish(res)
		case <-ctxDone:
			// If a failure already stopped the walk, cancellation changes
			// nothing and is not what kept the remaining vertices from
			// running.
			w.interrupted = w.interrupted || !w.stopping
			w.stopping = true
			ctxDone = nil // already handled; don't spin on the closed channel
		}
	}
}

// schedule starts ready vertices while slots allow, applying the
// bounded-backfill rule described on Walk.
func (w *walker) schedule() {
	for !w.stopping {
		if w.ctx.Err() != nil {
			w.stopping, w.interrupted = true, true
			return
		}
		r, c, ok := w.ready.best(math.MaxInt)
		if !ok {
			return
		}
		if c <= w.free {
			w.ready.pop(c)
			w.overtakes = 0
			w.start(r)
			continue
		}
		// The head of the queue does not fit. Backfill with the best vertex
		// that does, unless the head has already been overtaken enough.
		if w.overtakes >= w.workers {
			return
		}
		if r, c, ok = w.ready.best(w.free); !ok {
			return
		}
		w.ready.pop(c)
		w.overtakes++
		w.start(r)
	}
}

// start launches fn for the vertex at rank r. The caller has already removed
// it from the ready queue.
func (w *walker) start(r int) {
	v := w.order[r]
	w.state[v] = stateRunning
	w.free -= w.cost[v]
	w.running++
	go w.exec(v)
}

// exec runs fn for v on a worker goroutine and reports the outcome. The
// report is deferred so that it is sent even if fn calls runtime.Goexit;
// otherwise the scheduling loop would wait for it forever.
func (w *walker) exec(v int) {
	err := errGoexit
	defer func() { w.done <- result{v: v, err: err} }()
	err = w.call(v)
}

// call invokes fn, converting a panic into a *PanicError so that one broken
// vertex cannot take down the whole run (or leave Walk waiting forever).
func (w *walker) call(v int) (err error) {
	name := w.ix.names[v]
	defer func() {
		if p := recover(); p != nil {
			err = newPanicError(name, p)
		}
	}()
	return w.fn(w.ctx, name)
}

// finish records the outcome of one fn and releases its slots. On success,
// dependents whose last dependency this was become ready; on failure they
// simply never become ready, and fill classifies them as Skipped.
func (w *walker) finish(res result) {
	v := res.v
	w.running--
	w.free += w.cost[v]
	if res.err != nil {
		w.state[v] = stateFailed
		w.errs[v] = res.err
		if !w.keepGoing {
			w.stopping = true
		}
		return
	}
	w.state[v] = stateSucceeded
	for _, d := range w.ix.rdeps[v] {
		w.remaining[d]--
		if w.remaining[d] == 0 {
			w.state[d] = stateReady
			w.ready.push(w.rank[d], w.cost[d])
		}
	}
}

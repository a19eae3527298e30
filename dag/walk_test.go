package dag

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder logs, safely for concurrent use, the order in which fns start and
// which have finished.
type recorder struct {
	mu       sync.Mutex
	started  []string
	finished map[string]bool
}

func newRecorder() *recorder { return &recorder{finished: map[string]bool{}} }

// start logs v as started and returns the dependencies of v in g that had
// not finished yet (which must be none).
func (r *recorder) start(g *Graph, v string) (unfinished []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, v)
	for _, d := range g.DependenciesOf(v) {
		if !r.finished[d] {
			unfinished = append(unfinished, d)
		}
	}
	return unfinished
}

func (r *recorder) finish(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished[v] = true
}

func (r *recorder) startedSoFar() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.started)
}

func TestWalkEmptyGraph(t *testing.T) {
	called := false
	r := New().Walk(context.Background(), WalkOptions{}, func(context.Context, string) error {
		called = true
		return nil
	})
	if !r.OK() || r.Err() != nil || called {
		t.Errorf("Walk(empty) = %+v, Err %v, fn called %v; want OK, nil, false", r, r.Err(), called)
	}
}

// randomDAG returns a DAG of n vertices whose edges only point to
// lower-numbered vertices, so it is acyclic by construction.
func randomDAG(seed uint64, n int) *Graph {
	rng := rand.New(rand.NewPCG(seed, 3))
	g := New()
	for i := range n {
		v := fmt.Sprintf("v%03d", i)
		g.Add(v)
		for range rng.IntN(4) {
			if i > 0 {
				g.Connect(v, fmt.Sprintf("v%03d", rng.IntN(i)))
			}
		}
	}
	return g
}

func TestWalkRespectsDependencies(t *testing.T) {
	tests := []struct {
		name    string
		g       *Graph
		workers int
	}{
		{"random, 1 worker", randomDAG(1, 80), 1},
		{"random, 3 workers", randomDAG(2, 80), 3},
		{"random, 16 workers", randomDAG(3, 150), 16},
		{"layered, default workers", layered(8, 25), 0},
		{"diamond, 2 workers", build(nil, diamond), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			r := tt.g.Walk(context.Background(), WalkOptions{Workers: tt.workers}, func(_ context.Context, v string) error {
				defer rec.finish(v)
				if early := rec.start(tt.g, v); len(early) > 0 {
					return fmt.Errorf("started before dependencies %q finished", early)
				}
				return nil
			})
			if err := r.Err(); err != nil {
				t.Fatalf("Walk() error = %v", err)
			}
			if got, want := r.Succeeded, tt.g.Vertices(); !slices.Equal(got, want) {
				t.Errorf("Succeeded = %q, want all %d vertices", got, len(want))
			}
			if got := len(rec.startedSoFar()); got != tt.g.Len() {
				t.Errorf("fn called %d times, want %d", got, tt.g.Len())
			}
		})
	}
}

// TestWalkOneWorkerFollowsTopoOrder pins the start order: with one slot the
// walk is sequential and must start vertices in exactly TopoOrder.
func TestWalkOneWorkerFollowsTopoOrder(t *testing.T) {
	g := randomDAG(4, 100)
	want, err := g.TopoOrder()
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	g.Walk(context.Background(), WalkOptions{Workers: 1}, func(_ context.Context, v string) error {
		rec.start(g, v)
		return nil
	})
	if got := rec.startedSoFar(); !slices.Equal(got, want) {
		t.Errorf("start order = %q, want TopoOrder %q", got, want)
	}
}

// costOf derives a stable pseudo-random cost in [-1, 6] from a name, so that
// tests cover clamping at both ends.
func costOf(v string) int {
	h := fnv.New32a()
	h.Write([]byte(v))
	return int(h.Sum32()%8) - 1
}

func TestWalkBudget(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		cost    func(string) int
	}{
		{"unit cost, 3 workers", 3, nil},
		{"mixed costs, 4 workers", 4, costOf},
		{"mixed costs, 7 workers", 7, costOf},
		{"everything oversized, 2 workers", 2, func(string) int { return 100 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := randomDAG(5, 60)
			for i := range 30 { // plenty of independent vertices to fill the budget
				g.Add(fmt.Sprintf("free%02d", i))
			}
			slots := func(v string) int {
				if tt.cost == nil {
					return 1
				}
				return min(max(tt.cost(v), 1), tt.workers)
			}
			var costCalls atomic.Int64
			opts := WalkOptions{Workers: tt.workers}
			if tt.cost != nil {
				opts.Cost = func(v string) int { costCalls.Add(1); return tt.cost(v) }
			}
			var inUse, peak atomic.Int64
			r := g.Walk(context.Background(), opts, func(_ context.Context, v string) error {
				n := inUse.Add(int64(slots(v)))
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(200 * time.Microsecond)
				inUse.Add(-int64(slots(v)))
				return nil
			})
			if err := r.Err(); err != nil {
				t.Fatalf("Walk() error = %v", err)
			}
			if got := peak.Load(); got > int64(tt.workers) {
				t.Errorf("peak slots in use = %d, want <= %d", got, tt.workers)
			} else {
				t.Logf("peak slots in use = %d of %d", got, tt.workers)
			}
			if tt.cost != nil && costCalls.Load() != int64(g.Len()) {
				t.Errorf("Cost called %d times, want once per vertex (%d)", costCalls.Load(), g.Len())
			}
		})
	}
}

// TestWalkBackfillIsBounded checks the anti-starvation rule. "a" (rank 0)
// takes one of four slots, so "big" (cost 4, rank 1) must wait. Small
// vertices may backfill, but only Workers (4) of them may overtake "big";
// then nothing starts until "big" has all four slots. The count is exact
// whatever the timing: overtakes are counted when starts are decided.
func TestWalkBackfillIsBounded(t *testing.T) {
	const workers = 4
	g := New()
	g.Add("a")
	g.Add("big")
	for i := range 12 {
		g.Add(fmt.Sprintf("s%02d", i))
	}
	cost := func(v string) int {
		if v == "big" {
			return workers
		}
		return 1
	}
	rec := newRecorder()
	var smallsBeforeBig atomic.Int64
	smallsBeforeBig.Store(-1)
	r := g.Walk(context.Background(), WalkOptions{Workers: workers, Cost: cost}, func(_ context.Context, v string) error {
		rec.start(g, v)
		if v == "big" {
			// "big" holds every slot, so all the vertices started before
			// it have already finished and none can start concurrently.
			smallsBeforeBig.Store(int64(len(rec.startedSoFar()) - 2)) // minus "a" and "big"
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	if err := r.Err(); err != nil {
		t.Fatalf("Walk() error = %v", err)
	}
	if got := smallsBeforeBig.Load(); got != workers {
		t.Errorf("small vertices started before big = %d, want %d (backfill bounded by Workers)", got, workers)
	}
}

// BenchmarkWalk10000 measures pure scheduling overhead: 10,000 vertices in
// 100 layers, with a no-op fn.
func BenchmarkWalk10000(b *testing.B) {
	g := layered(100, 100)
	noop := func(context.Context, string) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if r := g.Walk(context.Background(), WalkOptions{}, noop); !r.OK() {
			b.Fatal(r.Err())
		}
	}
}

// BenchmarkWalk10000Costs is BenchmarkWalk10000 with mixed costs and a wide
// budget, which exercises reservation and backfill.
func BenchmarkWalk10000Costs(b *testing.B) {
	g := layered(100, 100)
	noop := func(context.Context, string) error { return nil }
	opts := WalkOptions{Workers: 8, Cost: costOf}
	b.ReportAllocs()
	for b.Loop() {
		if r := g.Walk(context.Background(), opts, noop); !r.OK() {
			b.Fatal(r.Err())
		}
	}
}

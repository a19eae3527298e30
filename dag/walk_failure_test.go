package dag

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// failingGraph is the diamond, a vertex "roof" that depends on both "top"
// and "left" (to test cause deduplication), and an independent chain y → x.
func failingGraph() *Graph {
	return build(nil, append([]edge{{"roof", "top"}, {"roof", "left"}, {"y", "x"}}, diamond...))
}

var errBoom = errors.New("boom")

func TestWalkFailures(t *testing.T) {
	tests := []struct {
		name          string
		fail          []string
		opts          WalkOptions
		wantSucceeded []string
		wantFailed    []string
		wantSkipped   map[string][]string
		wantNotRun    []string
		wantErr       string
	}{
		{
			name:          "root cause reported once, independent branch runs with KeepGoing",
			fail:          []string{"base"},
			opts:          WalkOptions{Workers: 4, KeepGoing: true},
			wantSucceeded: []string{"x", "y"},
			wantFailed:    []string{"base"},
			wantSkipped:   map[string][]string{"left": {"base"}, "right": {"base"}, "top": {"base"}, "roof": {"base"}},
			wantErr:       "1 vertex failed (4 skipped because an upstream vertex failed)\n  base: boom",
		},
		{
			// With one worker, "base" (rank 0) runs first and fails; nothing
			// else may start.
			name:        "independent branch not run without KeepGoing",
			fail:        []string{"base"},
			opts:        WalkOptions{Workers: 1},
			wantFailed:  []string{"base"},
			wantSkipped: map[string][]string{"left": {"base"}, "right": {"base"}, "top": {"base"}, "roof": {"base"}},
			wantNotRun:  []string{"x", "y"},
			wantErr:     "1 vertex failed (4 skipped because an upstream vertex failed, 2 not run)\n  base: boom",
		},
		{
			name:          "failure in the middle of the diamond",
			fail:          []string{"left"},
			opts:          WalkOptions{Workers: 2, KeepGoing: true},
			wantSucceeded: []string{"base", "right", "x", "y"},
			wantFailed:    []string{"left"},
			wantSkipped:   map[string][]string{"top": {"left"}, "roof": {"left"}},
			wantErr:       "1 vertex failed (2 skipped because an upstream vertex failed)\n  left: boom",
		},
		{
			name:          "two root causes, merged and deduplicated downstream",
			fail:          []string{"right", "left", "y"},
			opts:          WalkOptions{Workers: 3, KeepGoing: true},
			wantSucceeded: []string{"base", "x"},
			wantFailed:    []string{"left", "right", "y"},
			wantSkipped:   map[string][]string{"top": {"left", "right"}, "roof": {"left", "right"}},
			wantErr:       "3 vertices failed (2 skipped because an upstream vertex failed)\n  left: boom\n  right: boom\n  y: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := failingGraph().Walk(context.Background(), tt.opts, func(_ context.Context, v string) error {
				for _, f := range tt.fail {
					if v == f {
						return errBoom
					}
				}
				return nil
			})
			if !equalNilEmpty(r.Succeeded, tt.wantSucceeded) {
				t.Errorf("Succeeded = %q, want %q", r.Succeeded, tt.wantSucceeded)
			}
			if got := sortedKeys(r.Failed); !equalNilEmpty(got, tt.wantFailed) {
				t.Errorf("Failed = %q, want %q", got, tt.wantFailed)
			}
			if !reflect.DeepEqual(r.Skipped, tt.wantSkipped) && (len(r.Skipped) > 0 || len(tt.wantSkipped) > 0) {
				t.Errorf("Skipped = %q, want %q", r.Skipped, tt.wantSkipped)
			}
			if !equalNilEmpty(r.NotRun, tt.wantNotRun) {
				t.Errorf("NotRun = %q, want %q", r.NotRun, tt.wantNotRun)
			}
			err := r.Err()
			if r.OK() || err == nil || err.Error() != tt.wantErr {
				t.Errorf("OK() = %v, Err() = %q, want false, %q", r.OK(), err, tt.wantErr)
			}
			if !errors.Is(err, errBoom) {
				t.Errorf("errors.Is(Err(), errBoom) = false, want true")
			}
		})
	}
}

// TestWalkFailureLetsRunningFinish checks that, without KeepGoing, a failure
// stops new starts but does not cancel or discard a vertex already running.
// "x" runs alongside "base" and is still running when "base" fails; "z"
// (cost 2) can only start once both slots are free, so it never starts
// whichever of the two completions is seen first.
func TestWalkFailureLetsRunningFinish(t *testing.T) {
	g := build([]string{"base", "x", "z"}, nil)
	xStarted, baseFailing := make(chan struct{}), make(chan struct{})
	cost := func(v string) int {
		if v == "z" {
			return 2
		}
		return 1
	}
	r := g.Walk(context.Background(), WalkOptions{Workers: 2, Cost: cost}, func(ctx context.Context, v string) error {
		switch v {
		case "base":
			<-xStarted
			close(baseFailing)
			return errBoom
		case "x":
			close(xStarted)
			<-baseFailing
			if ctx.Err() != nil {
				return errors.New("running vertex was canceled by a failure")
			}
			return nil
		}
		return nil
	})
	if !equalNilEmpty(r.Succeeded, []string{"x"}) || !equalNilEmpty(r.NotRun, []string{"z"}) || len(r.Failed) != 1 {
		t.Errorf("report = %+v, want Succeeded [x], Failed {base}, NotRun [z]", r)
	}
}

func TestWalkCancel(t *testing.T) {
	// Ranks: a, b, c, d, e, f (f depends on a). Two workers start a and b;
	// a cancels once b is running, so nothing else may start.
	g := build([]string{"a", "b", "c", "d", "e"}, []edge{{"f", "a"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bStarted := make(chan struct{})
	rec := newRecorder()
	r := g.Walk(ctx, WalkOptions{Workers: 2}, func(ctx context.Context, v string) error {
		rec.start(g, v)
		switch v {
		case "a":
			<-bStarted
			cancel()
		case "b":
			close(bStarted)
			select {
			case <-ctx.Done(): // running vertices see the cancellation
			case <-time.After(5 * time.Second):
				return errors.New("ctx passed to fn was not canceled")
			}
		}
		return nil
	})
	if got, want := rec.startedSoFar(), []string{"a", "b"}; !equalNilEmpty(sortedCopy(got), want) {
		t.Errorf("started %q, want %q", got, want)
	}
	if want := []string{"a", "b"}; !equalNilEmpty(r.Succeeded, want) {
		t.Errorf("Succeeded = %q, want %q", r.Succeeded, want)
	}
	if want := []string{"c", "d", "e", "f"}; !equalNilEmpty(r.NotRun, want) {
		t.Errorf("NotRun = %q, want %q", r.NotRun, want)
	}
	if len(r.Failed) != 0 || len(r.Skipped) != 0 {
		t.Errorf("Failed = %v, Skipped = %v, want none", r.Failed, r.Skipped)
	}
	if err := r.Err(); !errors.Is(err, context.Canceled) || r.Canceled == nil {
		t.Errorf("Err() = %v, Canceled = %v, want context.Canceled", err, r.Canceled)
	}
}

// TestWalkCancelWhileSleeping cancels from outside while vertices sleep and
// checks that Walk returns promptly, waits for running fns, and starts
// nothing once it has returned.
func TestWalkCancelWhileSleeping(t *testing.T) {
	g := layered(4, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	var running, started atomic.Int64
	begin := time.Now()
	r := g.Walk(ctx, WalkOptions{Workers: 3}, func(ctx context.Context, v string) error {
		started.Add(1)
		running.Add(1)
		defer running.Add(-1)
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
	if elapsed := time.Since(begin); elapsed > 2*time.Second {
		t.Errorf("Walk took %v after cancellation", elapsed)
	}
	if n := running.Load(); n != 0 {
		t.Errorf("%d fns still running after Walk returned", n)
	}
	n := started.Load()
	if int(n) != len(r.Succeeded) || len(r.Succeeded)+len(r.NotRun) != g.Len() || len(r.NotRun) == 0 {
		t.Errorf("started %d; report has %d succeeded, %d not run; want started = succeeded, sum = %d, some not run",
			n, len(r.Succeeded), len(r.NotRun), g.Len())
	}
	time.Sleep(20 * time.Millisecond)
	if started.Load() != n {
		t.Errorf("fns started after Walk returned")
	}
	if !errors.Is(r.Err(), context.DeadlineExceeded) {
		t.Errorf("Err() = %v, want context.DeadlineExceeded", r.Err())
	}
}

func TestWalkAlreadyCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := build(nil, diamond).Walk(ctx, WalkOptions{}, func(context.Context, string) error {
		t.Error("fn called with a canceled ctx")
		return nil
	})
	if want := []string{"base", "left", "right", "top"}; !equalNilEmpty(r.NotRun, want) || r.Canceled == nil {
		t.Errorf("NotRun = %q, Canceled = %v, want %q, context.Canceled", r.NotRun, r.Canceled, want)
	}
}

func TestWalkPanic(t *testing.T) {
	errValue := errors.New("panicked with an error")
	tests := []struct {
		name    string
		value   any
		wantMsg string
	}{
		{"string", "kaboom", "panic: kaboom"},
		{"error", errValue, "panic: panicked with an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build([]string{"r"}, []edge{{"q", "p"}})
			r := g.Walk(context.Background(), WalkOptions{KeepGoing: true}, func(_ context.Context, v string) error {
				if v == "p" {
					panic(tt.value)
				}
				return nil
			})
			var pe *PanicError
			if !errors.As(r.Failed["p"], &pe) {
				t.Fatalf("Failed[p] = %v, want *PanicError", r.Failed["p"])
			}
			if pe.Vertex != "p" || pe.Value != tt.value || pe.Error() != tt.wantMsg {
				t.Errorf("PanicError = {%q, %v, %q}, want {p, %v, %q}", pe.Vertex, pe.Value, pe.Error(), tt.value, tt.wantMsg)
			}
			if !strings.Contains(string(pe.Stack), "walk_failure_test.go") {
				t.Errorf("Stack does not show the panicking frame:\n%s", pe.Stack)
			}
			if err, ok := tt.value.(error); ok && !errors.Is(r.Err(), err) {
				t.Errorf("errors.Is(Err(), panic value) = false, want true")
			}
			if !equalNilEmpty(r.Succeeded, []string{"r"}) || !reflect.DeepEqual(r.Skipped, map[string][]string{"q": {"p"}}) {
				t.Errorf("Succeeded = %q, Skipped = %q, want [r], {q: [p]}", r.Succeeded, r.Skipped)
			}
		})
	}
}

func TestWalkGoexit(t *testing.T) {
	r := build([]string{"a"}, nil).Walk(context.Background(), WalkOptions{}, func(context.Context, string) error {
		runtime.Goexit()
		return nil
	})
	if !errors.Is(r.Failed["a"], errGoexit) {
		t.Errorf("Failed[a] = %v, want errGoexit", r.Failed["a"])
	}
}

func TestWalkCycle(t *testing.T) {
	g := build([]string{"d"}, []edge{{"a", "b"}, {"b", "a"}, {"c", "a"}})
	done := make(chan *WalkReport)
	go func() {
		done <- g.Walk(context.Background(), WalkOptions{}, func(context.Context, string) error {
			t.Error("fn called on a cyclic graph")
			return nil
		})
	}()
	var r *WalkReport
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Walk on a cyclic graph did not return")
	}
	if want := []string{"a", "b", "c", "d"}; !equalNilEmpty(r.NotRun, want) || len(r.Failed) != 0 || len(r.Succeeded) != 0 {
		t.Errorf("report = %+v, want every vertex NotRun and nothing Failed", r)
	}
	var ce *CycleError
	if r.Cycle == nil || !errors.As(r.Err(), &ce) {
		t.Fatalf("Cycle = %v, Err() = %v, want a *CycleError", r.Cycle, r.Err())
	}
	if got, want := r.Err().Error(), "dependency cycle: a -> b -> a (4 not run)"; got != want {
		t.Errorf("Err() = %q, want %q", got, want)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sortedCopy(out)
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}

package dag

import (
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
)

// WalkReport records the outcome of a Walk. Every vertex of the graph
// appears in exactly one of Succeeded, Failed, Skipped and NotRun.
type WalkReport struct {
	// Succeeded lists the vertices whose fn returned nil, sorted.
	Succeeded []string
	// Failed holds the root causes: the vertices whose fn returned an error
	// or panicked (see PanicError), with that error. Never nil.
	Failed map[string]error
	// Skipped maps each vertex that did not run because something upstream
	// failed to the failed vertices upstream of it (sorted, deduplicated).
	// Keeping only root causes here means a failure is reported once, not
	// once per dependent. Never nil.
	Skipped map[string][]string
	// NotRun lists, sorted, the vertices that never started for a reason
	// other than an upstream failure: ctx was canceled, KeepGoing was false
	// and another vertex failed, or the graph has a cycle.
	NotRun []string
	// Cycle is set when the graph has a cycle, in which case nothing ran and
	// every vertex is in NotRun.
	Cycle *CycleError
	// Canceled is ctx.Err() when cancellation of the walk's context kept
	// vertices from starting, and nil otherwise.
	Canceled error
}

// OK reports whether every vertex ran and succeeded.
func (r *WalkReport) OK() bool {
	return r.Cycle == nil && r.Canceled == nil &&
		len(r.Failed) == 0 && len(r.Skipped) == 0 && len(r.NotRun) == 0
}

// Err returns nil if the walk was OK, and otherwise a single error that
// names each root cause once, in sorted order, followed by how many vertices
// were skipped or not run. Listing root causes rather than every casualty
// keeps the message proportional to what the user has to fix. The returned
// error unwraps to the cycle error, the cancellation cause and every root
// cause error, so errors.Is(err, context.Canceled) and errors.As work.
func (r *WalkReport) Err() error {
	if r.OK() {
		return nil
	}
	var (
		b    strings.Builder
		errs []error
	)
	switch {
	case r.Cycle != nil:
		b.WriteString(r.Cycle.Error())
		errs = append(errs, r.Cycle)
	case r.Canceled != nil:
		fmt.Fprintf(&b, "walk interrupted: %v", r.Canceled)
		errs = append(errs, r.Canceled)
	case len(r.Failed) == 1:
		b.WriteString("1 vertex failed")
	default:
		fmt.Fprintf(&b, "%d vertices failed", len(r.Failed))
	}
	var counts []string
	if (r.Cycle != nil || r.Canceled != nil) && len(r.Failed) > 0 {
		counts = append(counts, fmt.Sprintf("%d failed", len(r.Failed)))
	}
	if len(r.Skipped) > 0 {
		counts = append(counts, fmt.Sprintf("%d skipped because an upstream vertex failed", len(r.Skipped)))
	}
	if len(r.NotRun) > 0 {
		counts = append(counts, fmt.Sprintf("%d not run", len(r.NotRun)))
	}
	if len(counts) > 0 {
		b.WriteString(" (" + strings.Join(counts, ", ") + ")")
	}
	for _, v := range slices.Sorted(maps.Keys(r.Failed)) {
		msg := strings.ReplaceAll(r.Failed[v].Error(), "\n", "\n    ")
		fmt.Fprintf(&b, "\n  %s: %s", v, msg)
		errs = append(errs, r.Failed[v])
	}
	return &walkError{msg: b.String(), errs: errs}
}

// walkError is the error returned by WalkReport.Err. It is unexported
// because callers should inspect the report, not the error's structure; the
// error only needs a message and the Unwrap chain.
type walkError struct {
	msg  string
	errs []error
}

func (e *walkError) Error() string   { return e.msg }
func (e *walkError) Unwrap() []error { return e.errs }

// PanicError is the error recorded in WalkReport.Failed when fn panics.
// Error returns only the vertex and panic value, so that summaries stay
// readable; the goroutine stack at the point of the panic is kept in Stack
// for logs and bug reports (use errors.As to get at it).
type PanicError struct {
	Vertex string // the vertex whose fn panicked
	Value  any    // the value passed to panic
	Stack  []byte // output of runtime/debug.Stack in the recovering goroutine
}

func newPanicError(v string, p any) *PanicError {
	return &PanicError{Vertex: v, Value: p, Stack: debug.Stack()}
}

// Error returns "panic: <value>".
func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v", e.Value)
}

// Unwrap returns the panic value if it is an error (for example a runtime
// error such as a nil dereference), so errors.Is and errors.As see through
// the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// fill classifies every vertex into r once the walk has stopped. Vertices
// that never started are visited in topological order so that the
// root causes of each dependency are known before the vertex itself: a
// vertex is Skipped if some dependency failed or was itself skipped, and
// NotRun otherwise.
func (w *walker) fill(r *WalkReport) {
	names := w.ix.names
	causes := make([][]int, len(names)) // ascending vertex numbers = sorted names
	for _, v := range w.order {
		switch w.state[v] {
		case stateSucceeded:
			r.Succeeded = append(r.Succeeded, names[v])
		case stateFailed:
			r.Failed[names[v]] = w.errs[v]
		default:
			var cs []int
			for _, d := range w.ix.deps[v] {
				switch {
				case w.state[d] == stateFailed:
					cs = mergeSorted(cs, []int{d})
				case len(causes[d]) > 0:
					cs = mergeSorted(cs, causes[d])
				}
			}
			if len(cs) == 0 {
				r.NotRun = append(r.NotRun, names[v])
				continue
			}
			causes[v] = cs
			skipped := make([]string, len(cs))
			for i, c := range cs {
				skipped[i] = names[c]
			}
			r.Skipped[names[v]] = skipped
		}
	}
	slices.Sort(r.Succeeded)
	slices.Sort(r.NotRun)
	if w.interrupted && len(r.NotRun) > 0 {
		r.Canceled = w.ctx.Err()
	}
}

// mergeSorted returns the sorted, duplicate-free union of two ascending
// slices. It never modifies its arguments, and returns one of them unchanged
// when the other is empty, so cause lists can be shared between vertices.
func mergeSorted(a, b []int) []int {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default: // equal
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// Package safego runs work on helper goroutines without letting a panic there crash the
// process. The engine recovers a panic on a node's own goroutine and fails that node; a
// panic on a goroutine the node started cannot be recovered there and would take down every
// node of the run, and the cache's in-flight writes with it. Group carries such a panic back
// to the goroutine that waits, which re-raises it, so a bug in a parallel loop fails one
// node like any other.
package safego

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Panic is a panic recovered on a helper goroutine, with that goroutine's stack.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string {
	return fmt.Sprintf("panic on a helper goroutine: %v\n%s", p.Value, p.Stack)
}

// Group is a sync.WaitGroup whose Wait re-raises the first panic of its goroutines, as a
// *Panic. The zero Group is ready to use.
type Group struct {
	wg sync.WaitGroup
	mu sync.Mutex
	p  *Panic
}

// Go runs f on a new goroutine.
func (g *Group) Go(f func()) {
	g.wg.Go(func() { g.Catch(f) })
}

// Catch runs f on the calling goroutine, recording a panic instead of letting it unwind.
// Long-lived helpers (nn's crew) call it for each task.
func (g *Group) Catch(f func()) {
	defer func() {
		if r := recover(); r != nil {
			g.mu.Lock()
			if g.p == nil {
				g.p = &Panic{Value: r, Stack: debug.Stack()}
			}
			g.mu.Unlock()
		}
	}()
	f()
}

// Wait waits for every goroutine started by Go, then Raise.
func (g *Group) Wait() {
	g.wg.Wait()
	g.Raise()
}

// Raise panics with the first recorded panic, if any, on the calling goroutine.
func (g *Group) Raise() {
	g.mu.Lock()
	p := g.p
	g.mu.Unlock()
	if p != nil {
		panic(p)
	}
}

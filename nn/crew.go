package nn

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/modulo-ml/modulo/internal/safego"
)

// crew runs the second part of each half of a training step on a helper goroutine that
// outlives the step. Starting a goroutine for every half costs ~60 µs here (the other
// vCPU has gone idle and must be woken), twice a step; the helper instead waits for its
// next task by yielding for up to crewSpin, which covers the gap between two halves, and
// parks only when it runs out (at the end of an epoch, say).
type crew struct {
	f      func(part int)
	post   atomic.Uint64 // tasks handed out
	done   atomic.Uint64 // tasks the helper finished
	closed atomic.Bool
	parked atomic.Bool
	wake   chan struct{}
	began  atomic.Int64 // when the helper started its last task (UnixNano), for WaitTimer
	ended  atomic.Int64 // when it finished it
	// panics holds a panic of the helper's part, re-raised by run on the caller's
	// goroutine, where the engine recovers it into a failed node.
	panics safego.Group
}

// WaitTimer, when not nil, is called after each part-split half of a training step with
// how long its two cores idled in it, summed: the caller's core from the end of its part
// to the end of the helper's, the helper's core from the task's posting to the start of
// its part (a helper that had parked must be woken) and from its part's end to the
// caller's noticing it. A training step that meets at barriers inside its parts
// (unitLearner) reports those waits too, once a step. Benchmarks use it to tell the time a
// core idles from the work outside the matrix products. Set it before training starts.
var WaitTimer func(time.Duration)

// The crew runs exactly two parts; these fail to compile if stepParts changes.
const (
	_ = uint(stepParts - 2)
	_ = uint(2 - stepParts)
)

// crewSpin is how long the helper yields before it parks.
const crewSpin = 50 * time.Microsecond

// newCrew starts the helper; close stops it.
func newCrew() *crew {
	c := &crew{wake: make(chan struct{}, 1)}
	go c.helper()
	return c
}

// run calls f(0) on the calling goroutine and f(1) on the helper, and returns when both
// are done.
func (c *crew) run(f func(part int)) {
	c.f = f
	var posted, mine time.Time
	if WaitTimer != nil {
		posted = time.Now()
	}
	n := c.post.Add(1)
	c.rouse()
	f(0)
	if WaitTimer != nil {
		mine = time.Now()
	}
	for c.done.Load() < n {
		runtime.Gosched()
	}
	if WaitTimer != nil {
		end := time.Now()
		began, ended := time.Unix(0, c.began.Load()), time.Unix(0, c.ended.Load())
		WaitTimer(end.Sub(mine) + max(began.Sub(posted), 0) + end.Sub(ended))
	}
	c.panics.Raise()
}

// rouse wakes the helper if it parked. A wake-up it does not need (it saw the task before
// parking) only sends it once round its loop.
func (c *crew) rouse() {
	if c.parked.Load() {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

func (c *crew) close() {
	c.closed.Store(true)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *crew) helper() {
	var seen uint64
	for {
		idle := time.Now()
		for c.post.Load() == seen {
			if c.closed.Load() {
				return
			}
			if time.Since(idle) < crewSpin {
				runtime.Gosched()
				continue
			}
			// run posts before it looks at parked, so a task posted after the check
			// below finds parked set and sends a wake-up.
			c.parked.Store(true)
			if c.post.Load() == seen && !c.closed.Load() {
				<-c.wake
			}
			c.parked.Store(false)
			idle = time.Now()
		}
		seen++
		if WaitTimer != nil {
			c.began.Store(time.Now().UnixNano())
		}
		c.panics.Catch(func() { c.f(1) })
		if WaitTimer != nil {
			c.ended.Store(time.Now().UnixNano())
		}
		c.done.Store(seen)
	}
}

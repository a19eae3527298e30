package pipelines

import (
	"time"

	"github.com/modulo-ml/modulo/stages"
)

// EventType names what happened to a node.
type EventType string

const (
	EventStart    EventType = "started"  // the stage began running
	EventProgress EventType = "progress" // the running stage reported progress
	EventDone     EventType = "finished" // the stage ran and its outputs are stored
	EventCached   EventType = "cached"   // the result came from the cache
	EventFailed   EventType = "failed"   // the stage or its configuration failed
	EventSkipped  EventType = "skipped"  // an upstream node failed
	EventWaiting  EventType = "waiting"  // another process is computing the same action
	EventStatus   EventType = "status"   // where an executor's job is (Message: queued and why, running where)
	EventWarning  EventType = "warning"  // something went wrong that the run recovered from
	EventStopping EventType = "stopping" // the run was cancelled: running nodes are stopping (no Addr; Message: the cause)
)

// Event is one thing that happened during a run, for progress displays and logs. Observers
// are called from the walk's goroutines, concurrently; they must be safe for that and quick.
type Event struct {
	Time     time.Time
	Type     EventType
	Addr     string
	Kind     string
	Progress *stages.Progress
	Err      error
	Duration time.Duration
	Message  string
}

// Observer receives events.
type Observer func(Event)

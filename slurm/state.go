package slurm

import "strings"

// State is a job's state as Slurm names it: PENDING, RUNNING, COMPLETING, COMPLETED,
// FAILED, TIMEOUT, OUT_OF_MEMORY, CANCELLED, PREEMPTED, NODE_FAIL, BOOT_FAIL, DEADLINE,
// REQUEUED, SUSPENDED...
//
// It is kept as Slurm spells it, not mapped onto a closed enumeration, so that a state
// this package does not know (a newer Slurm's) still reaches the user's eyes verbatim.
type State string

// The states this package gives a meaning to. Slurm has others (CONFIGURING, RESIZING,
// SIGNALING, STAGE_OUT, STOPPED, REQUEUE_HOLD, ...), all of them not final.
const (
	Pending     State = "PENDING"
	Running     State = "RUNNING"
	Completing  State = "COMPLETING"
	Completed   State = "COMPLETED"
	Failed      State = "FAILED"
	Timeout     State = "TIMEOUT"
	OutOfMemory State = "OUT_OF_MEMORY"
	Cancelled   State = "CANCELLED"
	Preempted   State = "PREEMPTED"
	NodeFail    State = "NODE_FAIL"
	BootFail    State = "BOOT_FAIL"
	Deadline    State = "DEADLINE"
	Requeued    State = "REQUEUED"
	Suspended   State = "SUSPENDED"
	SpecialExit State = "SPECIAL_EXIT"
	Revoked     State = "REVOKED"
)

// final lists the states after which a job never runs again under the same id. COMPLETING
// is not one: the job's processes may still be running its epilog, and its exit code may
// not be known yet. SPECIAL_EXIT is a job held after a requeue that only an administrator
// can release, so it is final for whoever waits on it.
var final = map[State]bool{
	Completed: true, Failed: true, Timeout: true, OutOfMemory: true, Cancelled: true,
	Preempted: true, NodeFail: true, BootFail: true, Deadline: true, SpecialExit: true,
	Revoked: true,
}

// Done reports whether the state is final.
func (s State) Done() bool { return final[s] }

// Requeue reports whether the job died through no fault of its own (PREEMPTED, NODE_FAIL,
// BOOT_FAIL) and should be submitted again without counting a try.
func (s State) Requeue() bool {
	return s == Preempted || s == NodeFail || s == BootFail
}

// parseState turns a state as the commands print it into a State: sacct writes
// "CANCELLED by 0" for a job cancelled by uid 0, and squeue may pad with spaces.
func parseState(s string) State {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	return State(strings.TrimRight(s, "+"))
}

// Status is what Statuses knows of one job.
type Status struct {
	ID       string
	State    State
	Reason   string // squeue's reason for a pending job (e.g. "Resources", "Priority"), "" otherwise
	Node     string // the node it runs or ran on, "" if none yet
	ExitCode int    // the batch script's exit code once done (from "0:0" forms), -1 unknown

	// Signal is the signal that ended the batch script once done (the second number of
	// "0:15"), 0 if none or unknown. A script killed by a signal has ExitCode 0, so a
	// caller wanting a shell's "128+n" computes it from both.
	Signal int
}

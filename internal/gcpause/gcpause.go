// Package gcpause turns the garbage collector off for a burst of allocation whose garbage is
// cheaper to keep than to collect, up to a memory limit that keeps it safe.
//
// Building and planning a pipeline allocates about 12 KiB a node, most of which lives until
// planning ends: collections during it find little to free, and each one costs a mark of the
// whole live heap. `modulo plan` of 10,000 cached nodes (the pipeline of scripts/bench-plan.sh,
// AMD EPYC, 2 cores, VM), blocks of seven consecutive runs, old-new-new-old: collector at
// GOGC 200, best 201/202 ms, median 208/206 ms; off, best 173/172 ms, median 176/176 ms;
// peak RSS 88–95 → 132 MB. The limit is a quarter of the memory the process may use
// (physical memory, or its cgroup's limit when lower), at least 256 MiB: the runtime runs the
// collector as the heap approaches it, so a plan that outgrows it holds no more garbage than
// that, and a larger pipeline is planned as before, collecting.
package gcpause

import (
	"os"
	"runtime/debug"
)

// minLimit is the least memory limit Pause sets, for machines whose memory it cannot read.
const minLimit = 256 << 20

// Pause turns the collector off until resume is called, with the memory limit described in
// the package comment. It leaves the collector as it is when the user has set GOGC or
// GOMEMLIMIT: their choice is kept (GOGC=100 asks for the runtime's default). Calls may
// nest: each resume restores what its Pause found.
func Pause() (resume func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := max(usable()/4, minLimit)
	oldLimit := debug.SetMemoryLimit(limit)
	oldPercent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}

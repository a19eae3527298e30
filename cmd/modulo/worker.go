package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

const workerHelp = `Plumbing: what a job of the Slurm executor runs on a compute node. ACTION is the digest
of an action document in the remote cache (written by the driver, modulo run -executor
slurm); the worker fetches it and its inputs from the remote, runs the stage, and publishes
the outputs and then the entry to the remote. It needs neither the pipeline nor its
variables. Its own cache is node-local scratch: -cache, else $SLURM_TMPDIR, $TMPDIR or /tmp,
under modulo-worker. It exits 0 once the result is in the remote, 1 if the stage failed or
the result could not be published, 130/143 when interrupted (nothing is published then).`

func cmdWorker(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	var rf remoteFlags
	rf.register(fs)
	cacheDir := fs.String("cache", "", "the worker's own cache (default $SLURM_TMPDIR, $TMPDIR or /tmp, under modulo-worker)")
	rest, ok := parseFlags(fs, args, stderr)
	if !ok {
		return 1
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "modulo worker: want one argument, the action's digest")
		return 1
	}
	blob, err := artifacts.ParseOutputID(rest[0])
	if err != nil {
		fmt.Fprintf(stderr, "modulo worker: %q is not an action digest: %v\n", rest[0], err)
		return 1
	}
	dir := *cacheDir
	if dir == "" {
		dir = filepath.Join(scratchDir(), "modulo-worker")
	}
	c, ok := openCache(dir, stderr)
	if !ok {
		return 1
	}
	if !rf.attach(c, nil, stderr) {
		return 1
	}
	if r := c.Remote(); r == nil || r.ReadOnly {
		fmt.Fprintln(stderr, "modulo worker: no writable remote cache to read the action from and publish to: give -remote or set MODULO_REMOTE")
		return 1
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	disp := newPlainDisplay(stdout)
	start := time.Now()
	host, _ := os.Hostname()
	act, err := pipelines.Work(ctx, c, stages.Default, blob, func(p stages.Progress) {
		disp.Observe(pipelines.Event{Type: pipelines.EventProgress, Addr: "", Progress: &p})
	})
	name := rest[0]
	if act != nil {
		name = act.Address
	}
	if err != nil {
		if sig := interruptOf(ctx); sig != nil {
			fmt.Fprintf(stderr, "modulo worker: %s interrupted by %s; nothing was published\n", name, signalName(sig))
			return exitStatus(sig)
		}
		fmt.Fprintf(stderr, "modulo worker: %s failed on %s: %v\n", name, host, err)
		return 1
	}
	fmt.Fprintf(stdout, "modulo worker: %s done on %s in %s; published action %.12s\n", name, host, time.Since(start).Round(100*time.Millisecond), act.ID)
	return 0
}

// scratchDir is the node-local scratch directory of a job: Slurm's per-job $SLURM_TMPDIR
// where the site sets one, else $TMPDIR, else /tmp.
func scratchDir() string {
	for _, v := range []string{"SLURM_TMPDIR", "TMPDIR"} {
		if d := os.Getenv(v); d != "" {
			return d
		}
	}
	return "/tmp"
}

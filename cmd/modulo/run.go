package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/gcpause"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/pipelines/jsondoc"
	"github.com/modulo-ml/modulo/pipelines/slurmexec"
	"github.com/modulo-ml/modulo/slurm"
	"github.com/modulo-ml/modulo/stages"
)

// planFlags are shared by plan and run.
type planFlags struct {
	pipelineFlags
	remote  remoteFlags
	targets listFlag
	force   listFlag
	opened  *artifacts.Cache // see openCache
}

func (p *planFlags) register(fs *flag.FlagSet) {
	p.pipelineFlags.register(fs)
	p.remote.register(fs)
	fs.Var(&p.targets, "target", "only this node (kind.name or kind.name[\"key\"]) and what it needs (repeatable)")
	fs.Var(&p.force, "force", "run this node even if it is cached (repeatable)")
}

// plan loads the pipeline and plans it against the cache, printing what is wrong on stderr.
func (p *planFlags) plan(path string, stderr io.Writer) (*pipelines.Plan, *pipelines.Planner, *artifacts.Cache, bool) {
	pl := p.load(path, stderr)
	pl.report(stderr)
	return pl.plan, pl.planner, pl.cache, pl.ok()
}

// openCache opens the cache directory, once per command: the check of the no-op record
// and the plan after it both need it.
func (p *planFlags) openCache() (*artifacts.Cache, error) {
	if p.opened == nil {
		c, err := cacheAt(p.cacheDir)
		if err != nil {
			return nil, err
		}
		p.opened = c
	}
	return p.opened, nil
}

// loads counts the pipelines this process loaded and planned, for the tests that check
// that a no-op rerun does neither (see replayNoop).
var loads atomic.Int64

// planned is what loading and planning a pipeline gave.
type planned struct {
	plan    *pipelines.Plan // nil unless the pipeline loaded and the cache opened
	planner *pipelines.Planner
	cache   *artifacts.Cache
	cfg     *pipelines.Config // for rendering diagnostics; may be nil
	diags   hcl.Diagnostics
	// err is a failure outside the pipeline's source (the cache, the remote, a node that
	// cannot be shown), which stopped the command; errSummary says in a few words what
	// failed, for a JSON document's diagnostic.
	err        error
	errSummary string
}

// allDiags returns the diagnostics with err, if any, as one more.
func (pl *planned) allDiags() hcl.Diagnostics {
	if pl.err == nil {
		return pl.diags
	}
	return append(pl.diags[:len(pl.diags):len(pl.diags)], jsondoc.Message(pl.errSummary, pl.err.Error()))
}

// report prints what is wrong: the diagnostics (warnings too) and the failure, if any.
func (pl *planned) report(stderr io.Writer) {
	printDiags(stderr, pl.cfg, pl.diags)
	if pl.err != nil {
		fmt.Fprintf(stderr, "modulo: %v\n", pl.err)
	}
}

func (pl *planned) ok() bool { return pl.err == nil && !pl.diags.HasErrors() && pl.plan != nil }

// load loads the pipeline and plans it against the cache, returning what is wrong rather
// than printing it; the remote cache's warnings go to stderr as they happen.
func (p *planFlags) load(path string, stderr io.Writer) *planned {
	loads.Add(1)
	defer planningHeap()() // before the state's decoding starts to grow the heap
	pl := &planned{}
	c, err := p.openCache()
	state := func() *pipelines.State { return nil }
	if err == nil {
		state = pipelines.LoadStateAsync(c.Dir(), path) // read while the pipeline builds
	}
	g, cfg, diags := pipelines.Open(path, stages.Default, p.varSource())
	pl.cfg, pl.diags = cfg, diags
	if diags.HasErrors() {
		return pl
	}
	if err != nil {
		pl.err, pl.errSummary = err, "Cannot open the cache"
		return pl
	}
	d, err := p.remote.connect(c, g.Config, stderr)
	pl.diags = append(pl.diags, d...)
	if err != nil {
		pl.err, pl.errSummary = err, "Cannot connect to the remote cache"
	}
	if err != nil || d.HasErrors() {
		return pl
	}
	targets, d := pipelines.Selection(p.targets).Resolve(g)
	pl.diags = append(pl.diags, d...)
	force, d := pipelines.Selection(p.force).Resolve(g)
	pl.diags = append(pl.diags, d...)
	planner := &pipelines.Planner{Graph: g, Cache: c, State: state(), Force: force}
	plan, d := planner.Plan(targets)
	pl.diags = append(pl.diags, d...)
	pl.plan, pl.planner, pl.cache = plan, planner, c
	return pl
}

const planHelp = `
Each node is shown as cached (=), to run (+) with the reason (which input or attribute
changed), or known after run (?) when its configuration depends on results not yet computed.
A plan with nothing to do is answered from the record of the last no-op run or plan while
its inputs are unchanged. Exit status: 0 when there is nothing to do, 2 when there is work
to do, 1 on an error.`

func cmdPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var pf planFlags
	pf.register(fs)
	asJSON := fs.Bool("json", false, "print the plan as a JSON document on stdout, diagnostics included (docs/JSON.md)")
	path, ok := parsePipelineArgs(fs, args, stderr)
	if !ok {
		return 1
	}
	// The whole command is the burst load pauses the collector for: resumed after load, it
	// would start a collection as soon as the plan is printed, only to mark all of it
	// (8–12 ms of `modulo plan` of 10,000 nodes, of 180).
	defer gcpause.Pause()()
	if *asJSON {
		return planJSON(&pf, path, stdout, stderr)
	}
	inputs := pf.noopInputs(path)
	if n, ok := pf.lastNoop(path, inputs); ok {
		printNoopPlan(stdout, n)
		return 0
	}
	pl := pf.load(path, stderr)
	pl.report(stderr)
	if !pl.ok() {
		return 1
	}
	plan := pl.plan
	printPlan(stdout, plan)
	var outs strings.Builder
	ok = printOutputs(io.MultiWriter(stdout, &outs), stderr, plan.Graph, plan.ValueOf)
	if _, run, deferred := plan.Counts(); run+deferred > 0 {
		return 2
	}
	if ok && len(pl.diags) == 0 {
		_, _ = pipelines.RecordNoop(plan, pl.planner.State, inputs, outs.String(), time.Now())
	}
	return 0
}

// printNoopPlan prints what printPlan prints of a plan in which every node is cached, from
// the record of the last no-op run, and the outputs printOutputs printed then.
func printNoopPlan(w io.Writer, n *pipelines.Noop) {
	lines := make([]planLine, len(n.Nodes))
	for i, node := range n.Nodes {
		lines[i] = planLine{"=", node.Addr, "cached"}
	}
	printPlanLines(w, lines, len(lines), 0, 0, 0)
	io.WriteString(w, n.Outputs)
}

// printPlan lists every node with its status and reasons.
func printPlan(w io.Writer, plan *pipelines.Plan) {
	lines := make([]planLine, 0, len(plan.Order))
	remote := 0
	for _, a := range plan.Order {
		n := plan.Nodes[a]
		mark, text := "=", "cached"
		if n.Status == pipelines.Cached && n.Entry.FromRemote() {
			text = "cached in the remote cache: will be downloaded"
			remote++
		}
		switch n.Status {
		case pipelines.Run:
			mark, text = "+", "run: "+pipelines.Printable(strings.Join(n.Reasons, "; "))
		case pipelines.Deferred:
			mark, text = "?", "known after run"
			if len(n.Reasons) > 0 {
				text += ": " + pipelines.Printable(strings.Join(n.Reasons, "; "))
			}
		}
		lines = append(lines, planLine{mark, a, text})
	}
	cached, run, deferred := plan.Counts()
	printPlanLines(w, lines, cached, run, deferred, remote)
}

// planLine is one node of a printed plan: its mark (= + ?), address and status.
type planLine struct{ mark, addr, text string }

// printPlanLines prints a plan's nodes, aligned, and its counts, in one buffered write
// rather than a write per node.
func printPlanLines(out io.Writer, lines []planLine, cached, run, deferred, remote int) {
	w := bufio.NewWriterSize(out, 64<<10)
	defer w.Flush()
	width := 0
	for _, l := range lines {
		width = max(width, len(l.addr))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%s %-*s  %s\n", l.mark, width, l.addr, l.text)
	}
	inRemote := ""
	if remote > 0 {
		inRemote = fmt.Sprintf(" (%d to download)", remote)
	}
	if run+deferred == 0 {
		fmt.Fprintf(w, "Nothing to do: %d cached%s.\n", cached, inRemote)
		return
	}
	fmt.Fprintf(w, "Plan: %d to run, %d cached%s, %d known after run.\n", run, cached, inRemote, deferred)
}

const runHelp = `
Nodes whose inputs are unchanged are taken from the cache; the others run in parallel, as
their dependencies allow, within the worker budget -j: the cores that the running nodes may
use together, each node counting the BLAS threads it uses, so that nodes and threads never
oversubscribe the machine (a node that wants more than -j runs alone, with -j threads). -j is
a whole number from 1 up; the default is the number of CPUs. Ctrl-C stops cleanly: nothing
partial is stored, and the next run continues where this one stopped. A run that finds
everything cached records it, and the next run with the same pipeline files, variables,
flags and input files answers from that record without planning (see the README).`

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var pf planFlags
	pf.register(fs)
	jobs := fs.Int("j", runtime.NumCPU(), "worker budget: how many cores the running nodes may use together, 1 or more (default: the number of CPUs)")
	keepGoing := fs.Bool("keep-going", false, "after a failure, keep running every branch that does not depend on it")
	progress := fs.String("progress", "auto", "progress display: auto, tty, plain or json")
	executor := fs.String("executor", cmp.Or(os.Getenv("MODULO_EXECUTOR"), "local"), "where nodes that miss the cache run: local, or slurm (jobs on a Slurm cluster, configured by the pipeline's executor block; default $MODULO_EXECUTOR, else local)")
	asJSON := fs.Bool("json", false, "when the run is over, print its outcome as a JSON document on stdout (docs/JSON.md); progress, -progress json's too, goes to stderr")
	verify := fs.Bool("verify", false, "read and check every cached output the run relies on, not only those a node of this run reads (a damaged one is recomputed)")
	path, ok := parsePipelineArgs(fs, args, stderr)
	if !ok {
		return 1
	}
	if *jobs < 1 {
		// As GNU make refuses -j 0: 0 has no meaning a user could rely on (unlimited? one?
		// the CPUs?), and the dag's reading of it (the CPUs) would hide a mistyped value.
		fmt.Fprintf(stderr, "modulo run: -j %d is not a worker budget: -j is how many cores the running nodes may use together (a node counts its BLAS threads), "+
			"so it is a whole number from 1 (one node at a time) up; leave it out to use the %d CPUs of this machine\n", *jobs, runtime.NumCPU())
		return 1
	}
	if *executor != "local" && *executor != "slurm" {
		fmt.Fprintf(stderr, "modulo run: -executor %q: the executors are local (this machine, the default) and slurm (a Slurm cluster)\n", *executor)
		return 1
	}
	// A run that can only tell its outcome in words may be answered from the record of the
	// last no-op run with the same inputs, without planning (pipelines.Noop).
	quick := !*asJSON && *progress != "json" && *executor == "local" && !*verify
	inputs := ""
	if quick {
		inputs = pf.noopInputs(path)
		if n, ok := pf.lastNoop(path, inputs); ok {
			return replayNoop(n, *progress, stdout, stderr)
		}
	}
	pl := pf.load(path, stderr)
	if !*asJSON {
		pl.report(stderr)
	}
	// failed ends a run that could not start: with -json, with the document of a run in
	// which nothing ran.
	failed := func(diags hcl.Diagnostics) int {
		if *asJSON {
			writeJSON(stdout, stderr, jsondoc.NewRun(pl.plan, nil, nil, nil, diags, 0))
		}
		return 1
	}
	if !pl.ok() {
		return failed(pl.allDiags())
	}
	plan, planner, c := pl.plan, pl.planner, pl.cache
	var exec pipelines.Executor
	if *executor == "slurm" {
		x, err := slurmexec.New(planner.Graph.Config.Executor, pf.remote.resolved, planner.Graph.Config.Dir, &slurm.Client{})
		if err != nil {
			if !*asJSON {
				fmt.Fprintf(stderr, "modulo run: %v\n", err)
			}
			return failed(append(pl.diags, jsondoc.Message("Cannot use the Slurm executor", err.Error())))
		}
		exec = x
	}
	out := io.Writer(stderr)
	if *progress == "json" && !*asJSON {
		out = stdout
	}
	disp, err := newDisplay(*progress, out, len(plan.Order))
	if err != nil {
		fmt.Fprintf(stderr, "modulo: %v\n", err)
		return 1
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	start := time.Now()
	var runLog jsondoc.RunLog
	var eventful atomic.Bool // something other than a cached node happened
	app := &pipelines.Applier{
		Plan:  plan,
		Cache: c,
		State: planner.State,
		Observe: func(e pipelines.Event) {
			disp.Observe(e)
			runLog.Observe(e)
			if e.Type != pipelines.EventCached {
				eventful.Store(true)
			}
		},
		Workers:   *jobs,
		KeepGoing: *keepGoing,
		Force:     planner.Force,
		VerifyAll: *verify,
		Executor:  exec,
	}
	rep := app.Apply(ctx)
	disp.Close()
	if *asJSON {
		// The document says what the summary would: its counts, and each failure.
		code := summarize(io.Discard, io.Discard, plan, rep, interruptOf(ctx), 0, true)
		return max(code, writeJSON(stdout, stderr, jsondoc.NewRun(plan, app, rep, &runLog, pl.diags, time.Since(start))))
	}
	code := summarize(stdout, stderr, plan, rep, interruptOf(ctx), time.Since(start), *progress == "json")
	if *progress != "json" {
		var outs strings.Builder
		ok := printOutputs(io.MultiWriter(stdout, &outs), stderr, plan.Graph, app.ValueOf)
		if quick && ok && code == 0 && !eventful.Load() && len(pl.diags) == 0 {
			// Only an optimisation: a record that cannot be written is a slower next run.
			_, _ = pipelines.RecordNoop(plan, planner.State, inputs, outs.String(), time.Now())
		}
	}
	return code
}

// summarize prints the outcome: counts, and each root cause once. Nodes stopped by Ctrl-C
// or SIGTERM are not failures: the run says in one line that it was interrupted and exits
// with the shell's status for the signal, sig (130 for SIGINT, 143 for SIGTERM).
func summarize(stdout, stderr io.Writer, plan *pipelines.Plan, rep *pipelines.Report, sig os.Signal, d time.Duration, quiet bool) int {
	w := rep.Walk
	var failed, stopped []string
	for a, err := range w.Failed {
		if rep.Interrupted && errors.Is(err, context.Canceled) {
			stopped = append(stopped, a)
			continue
		}
		failed = append(failed, a)
	}
	sort.Strings(failed)
	sort.Strings(stopped)
	for _, a := range failed {
		err := w.Failed[a]
		var de *pipelines.DiagError
		if errors.As(err, &de) {
			fmt.Fprintf(stderr, "Error in %s:\n", a)
			printDiags(stderr, plan.Graph.Config, de.Diags)
			continue
		}
		fmt.Fprintf(stderr, "Error in %s: %s\n", a, pipelines.Printable(err.Error()))
	}
	if w.Cycle != nil {
		fmt.Fprintf(stderr, "Error: %v\n", w.Cycle)
	}
	if rep.Interrupted {
		by := ""
		if sig != nil {
			by = " by " + signalName(sig)
		}
		fmt.Fprintf(stderr, "Run interrupted%s: stopped %s; nothing half-written was stored. Run again to continue where it stopped.\n", by, plural(len(stopped), "running node"))
	}
	if !quiet {
		printSummary(stdout, len(rep.Ran), len(rep.Cached), len(rep.Downloaded), len(failed), len(w.Skipped), len(w.NotRun)+len(stopped), d)
	}
	switch {
	case len(failed) > 0 || w.Cycle != nil:
		return 1
	case rep.Interrupted && sig != nil:
		return exitStatus(sig)
	case rep.Interrupted:
		return 130
	case !w.OK():
		return 1
	}
	return 0
}

// printSummary prints the counts of a run's outcome and how long it took.
func printSummary(w io.Writer, ran, cached, downloaded, failed, skipped, notRun int, d time.Duration) {
	c := fmt.Sprintf("%d cached", cached)
	if downloaded > 0 {
		c += fmt.Sprintf(" (%d downloaded)", downloaded)
	}
	fmt.Fprintf(w, "%d ran, %s, %d failed, %d skipped, %d not run in %s.\n", ran, c, failed, skipped, notRun, d.Round(time.Millisecond))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Package slurmexec runs a pipeline's nodes as Slurm batch jobs: pipelines.Executor on
// package slurm. Each node that misses the cache becomes one job running `modulo worker`
// on the action's digest; the job's result is the action's entry in the remote cache,
// which the driver (pipelines.Applier) reads back.
//
// One node is one job. Grouping short nodes into job arrays would save Slurm's
// scheduling latency (a second or two a job on an idle cluster) but would tie the fate of
// unrelated nodes together: a group retried for one node's timeout reruns all of them, and
// one node's dependants could not start before the whole group ends. modulo's short nodes
// (interpolations, matching, reports) are also its cheap ones, and the driver runs no node
// twice, so the latency is paid once per node of a cold run; a warm run submits nothing.
//
// Jobs in flight are recorded in Dir/jobs, one file per action named by its ID and created
// with O_EXCL before sbatch runs: a driver restarted after kill -9, or a second driver on
// the same pipeline, finds the job and waits for it instead of submitting the action again.
// O_EXCL works on the network file systems clusters share (NFSv3 and later, Lustre, GPFS);
// nothing here relies on flock across hosts.
package slurmexec

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/modulo-ml/modulo/internal/lastlines"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/slurm"
)

// Defaults of the executor block's settings.
const (
	DefaultMaxJobs = 100
	DefaultRetries = 2
)

// Executor submits jobs to Slurm and waits for them.
type Executor struct {
	Client *slurm.Client
	Decl   pipelines.ExecutorDecl
	// Worker is the command line a job runs before the action's digest: the modulo binary,
	// "worker", and the flags naming the remote cache.
	Worker []string
	// Env are variables the jobs get besides the submitting environment.
	Env map[string]string
	// Dir holds job logs and the records of jobs in flight (shared with the nodes).
	Dir string
	// Poll is the first interval between status queries (default 200 ms); it grows by half
	// up to MaxPoll (default 2 s) while nothing changes. One query covers every job in
	// flight, so a driver costs the controller at most one squeue every two seconds, and
	// a job's end is noticed a second later on average.
	Poll, MaxPoll time.Duration

	once    sync.Once
	slots   chan struct{}
	mu      sync.Mutex
	waiting map[string]chan slurm.Status // job id → its watcher
	polling bool                         // a poll goroutine is running
	wake    chan struct{}
}

func (x *Executor) init() {
	x.once.Do(func() {
		n := x.Decl.MaxJobs
		if n <= 0 {
			n = DefaultMaxJobs
		}
		x.slots = make(chan struct{}, n)
		x.waiting = map[string]chan slurm.Status{}
		x.wake = make(chan struct{}, 1)
		if x.Poll <= 0 {
			x.Poll = 200 * time.Millisecond
		}
		if x.MaxPoll <= 0 {
			x.MaxPoll = 2 * time.Second
		}
	})
}

func (x *Executor) retries() int {
	if x.Decl.Retries < 0 {
		return DefaultRetries
	}
	return x.Decl.Retries
}

// Run submits j and waits for its job (and its retries) to end.
func (x *Executor) Run(ctx context.Context, j *pipelines.Job) error {
	x.init()
	select {
	case x.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-x.slots }()
	res := j.Resources.Over(x.Decl.ByKind[j.Kind]).Over(x.Decl.Resources)
	if res.CPUs == 0 {
		res.CPUs = max(j.Threads, 1)
	}
	rec := x.recordPath(j)
	tries := 0
	for {
		id, attached, err := x.start(ctx, j, res, rec, tries)
		if err != nil {
			return err
		}
		if attached {
			j.Submitted(fmt.Sprintf("attached to Slurm job %s, submitted earlier", id))
		} else {
			j.Submitted(fmt.Sprintf("submitted as Slurm job %s", id))
		}
		st, err := x.wait(ctx, id, j)
		if err != nil { // cancelled: the job goes too
			if x.cancel(id) == nil {
				os.Remove(rec)
			}
			return err
		}
		os.Remove(rec)
		log := x.logPath(j, id)
		switch {
		case st.State == slurm.Completed && st.ExitCode <= 0:
			return nil
		case st.State == "" || st.State == "UNKNOWN":
			// Slurm forgot the job (MinJobAge passed while the driver was down): the
			// remote cache tells whether it succeeded.
			return nil
		case st.State.Requeue():
			j.Status(fmt.Sprintf("Slurm job %s ended %s; submitting it again", id, st.State))
			continue
		case st.State == slurm.Timeout && tries < x.retries():
			tries++
			if res.Time == 0 {
				return fmt.Errorf("Slurm job %s hit the partition's time limit; give the executor block a time (time = \"4h\") larger than that, or a resources block for %s", id, j.Kind)
			}
			res.Time *= 2
			j.Status(fmt.Sprintf("Slurm job %s hit its time limit; retry %d/%d with time %s", id, tries, x.retries(), res.Time))
			continue
		case st.State == slurm.OutOfMemory && tries < x.retries():
			tries++
			if res.MemMB == 0 {
				return fmt.Errorf("Slurm job %s ran out of memory; give the executor block a mem (mem = \"8G\"), or a resources block for %s", id, j.Kind)
			}
			res.MemMB *= 2
			j.Status(fmt.Sprintf("Slurm job %s ran out of memory; retry %d/%d with mem %dM", id, tries, x.retries(), res.MemMB))
			continue
		case st.State == slurm.Cancelled:
			return fmt.Errorf("Slurm job %s was cancelled (scancel, or an administrator); its log is %s", id, log)
		}
		return fmt.Errorf("Slurm job %s %s%s%s; its log is %s%s", id, strings.ToLower(string(st.State)), exitText(st), onNode(st), log, tail(log))
	}
}

// cancel cancels job id and waits (up to half a minute) until Slurm has ended it, so that
// a driver stopped by Ctrl-C leaves no job of its own behind, not even one completing.
func (x *Executor) cancel(id string) error {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := x.Client.Cancel(ctx, id); err != nil {
		return err
	}
	for ctx.Err() == nil {
		sts, err := x.Client.Statuses(ctx, []string{id})
		if st, ok := sts[id]; err == nil && (!ok || st.State.Done()) {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return ctx.Err()
}

// start finds the job of a record left by an earlier driver, or submits one. attached says
// which.
func (x *Executor) start(ctx context.Context, j *pipelines.Job, res pipelines.Resources, rec string, tries int) (id string, attached bool, err error) {
	if err := os.MkdirAll(filepath.Dir(rec), 0o755); err != nil {
		return "", false, fmt.Errorf("the Slurm executor's directory: %w", err)
	}
	for {
		f, err := os.OpenFile(rec, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			id, err := x.submit(ctx, j, res)
			if err != nil {
				f.Close()
				os.Remove(rec)
				return "", false, err
			}
			_, werr := f.WriteString(id + "\n")
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return "", false, fmt.Errorf("recording Slurm job %s: %w", id, werr)
			}
			return id, false, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", false, fmt.Errorf("recording the job: %w", err)
		}
		// Someone submitted this action: an earlier driver, or another now. The record is
		// written right after sbatch returns, so an empty one is a submission under way.
		b, _ := os.ReadFile(rec)
		id := strings.TrimSpace(string(b))
		if id == "" {
			if fi, err := os.Stat(rec); err == nil && time.Since(fi.ModTime()) > time.Minute {
				os.Remove(rec) // its driver died between O_EXCL and sbatch
				continue
			}
			select {
			case <-time.After(100 * time.Millisecond):
				continue
			case <-ctx.Done():
				return "", false, ctx.Err()
			}
		}
		sts, err := x.Client.Statuses(ctx, []string{id})
		if err != nil {
			return "", false, err
		}
		if st, ok := sts[id]; ok && (!st.State.Done() || st.State == slurm.Completed) {
			return id, true, nil
		}
		os.Remove(rec) // a failed or forgotten job: submit again
	}
}

// submit runs sbatch for j.
func (x *Executor) submit(ctx context.Context, j *pipelines.Job, res pipelines.Resources) (string, error) {
	job := slurm.Job{
		Name:      "modulo:" + j.Addr,
		Script:    "exec " + slurm.ShellJoin(append(append([]string{}, x.Worker...), j.Blob.String())) + "\n",
		Output:    filepath.Join(x.Dir, "logs", logName(j)+"-%j.log"),
		Partition: cmp.Or(res.Partition, x.Decl.Partition),
		Account:   x.Decl.Account,
		QOS:       x.Decl.QOS,
		CPUs:      res.CPUs,
		MemMB:     res.MemMB,
		GPUs:      res.GPUs,
		Time:      res.Time,
		Extra:     x.Decl.ExtraArgs,
		Env:       x.Env,
	}
	return x.Client.Submit(ctx, job)
}

func (x *Executor) recordPath(j *pipelines.Job) string {
	return filepath.Join(x.Dir, "jobs", j.Action.String())
}

func (x *Executor) logPath(j *pipelines.Job, id string) string {
	return filepath.Join(x.Dir, "logs", logName(j)+"-"+id+".log")
}

var unsafeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// logName is a file name for j's logs: its address made safe, and its action.
func logName(j *pipelines.Job) string {
	return strings.Trim(unsafeName().ReplaceAllString(j.Addr, "_"), "_") + "-" + j.Action.String()[:12]
}

// wait returns the final status of job id, telling j of its changes on the way.
func (x *Executor) wait(ctx context.Context, id string, j *pipelines.Job) (slurm.Status, error) {
	ch := make(chan slurm.Status, 16)
	x.mu.Lock()
	x.waiting[id] = ch
	start := !x.polling
	x.polling = true
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		delete(x.waiting, id)
		x.mu.Unlock()
	}()
	if start {
		go x.poll()
	}
	select { // a new job is worth a query soon
	case x.wake <- struct{}{}:
	default:
	}
	last := ""
	for {
		select {
		case <-ctx.Done():
			return slurm.Status{}, ctx.Err()
		case st := <-ch:
			if st.State.Done() || st.State == "" {
				return st, nil
			}
			if msg := statusText(id, st); msg != last {
				last = msg
				j.Status(msg)
			}
		}
	}
}

// poll queries the status of every job waited on, backing off while nothing changes, until
// no job is left.
func (x *Executor) poll() {
	interval := x.Poll
	prev := map[string]slurm.Status{}
	missing := map[string]int{}
	for {
		x.mu.Lock()
		ids := make([]string, 0, len(x.waiting))
		for id := range x.waiting {
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			x.polling = false
			x.mu.Unlock()
			return
		}
		x.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		sts, err := x.Client.Statuses(ctx, ids)
		cancel()
		changed := false
		if err == nil {
			for _, id := range ids {
				st, ok := sts[id]
				if !ok {
					// Just submitted jobs can be missing for a moment; a job gone for
					// good reports an empty state, which Run takes to the remote cache.
					if missing[id]++; missing[id] < 5 {
						continue
					}
				}
				delete(missing, id)
				if prev[id] != st || st.State.Done() || st.State == "" {
					changed = changed || prev[id] != st
					prev[id] = st
					x.send(id, st)
				}
			}
		}
		if changed {
			interval = x.Poll
		} else {
			interval = min(interval*3/2, x.MaxPoll)
		}
		select {
		case <-time.After(interval):
		case <-x.wake:
			interval = x.Poll
		}
	}
}

func (x *Executor) send(id string, st slurm.Status) {
	x.mu.Lock()
	ch := x.waiting[id]
	x.mu.Unlock()
	if ch != nil {
		select {
		case ch <- st:
		default: // the waiter is behind; final states are sent again next poll
		}
	}
}

func statusText(id string, st slurm.Status) string {
	switch st.State {
	case slurm.Pending:
		if st.Reason != "" && st.Reason != "None" {
			return fmt.Sprintf("queued (%s), Slurm job %s", st.Reason, id)
		}
		return fmt.Sprintf("queued, Slurm job %s", id)
	case slurm.Running, slurm.Completing:
		if st.Node != "" {
			return fmt.Sprintf("running on %s, Slurm job %s", st.Node, id)
		}
	}
	return fmt.Sprintf("%s, Slurm job %s", strings.ToLower(string(st.State)), id)
}

func exitText(st slurm.Status) string {
	if st.ExitCode > 0 {
		return fmt.Sprintf(" with exit code %d", st.ExitCode)
	}
	return ""
}

func onNode(st slurm.Status) string {
	if st.Node != "" {
		return " on " + st.Node
	}
	return ""
}

// tail returns the last lines of the log at path, indented, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines, _ := lastlines.Of(string(b), 15)
	return ":\n    " + strings.Join(lines, "\n    ")
}

// New makes the executor of decl (nil: every setting at its default) for a pipeline in
// pipelineDir whose driver uses the remote rc. The jobs run modulo (decl's, else this
// binary) as `modulo worker -remote … -signing-key …`, so that they publish where the
// driver looks and sign as the driver would.
func New(decl *pipelines.ExecutorDecl, rc *pipelines.RemoteConfig, pipelineDir string, client *slurm.Client) (*Executor, error) {
	if rc == nil || rc.Location == nil {
		return nil, errors.New("the Slurm executor needs a remote cache that the compute nodes share with this machine: a directory on a shared file system, an S3 bucket or an HTTP cache (-remote, MODULO_REMOTE or the cache block's remote)")
	}
	if rc.ReadOnly {
		return nil, errors.New("the Slurm executor needs a writable remote cache: its jobs publish their results there; drop -remote-read-only (or MODULO_REMOTE_READ_ONLY, or the cache block's read_only)")
	}
	d := pipelines.ExecutorDecl{Type: "slurm", Retries: -1}
	if decl != nil {
		d = *decl
	}
	bin := d.Modulo
	if bin == "" {
		var err error
		if bin, err = thisBinary(); err != nil {
			return nil, fmt.Errorf("finding this modulo binary for the jobs: %w; set the executor block's modulo", err)
		}
	}
	key := rc.KeyFile
	if key == "" {
		key = "none"
	}
	dir := d.Dir
	if dir == "" {
		dir = filepath.Join(pipelineDir, ".modulo", "slurm")
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &Executor{
		Client: client,
		Decl:   d,
		Worker: []string{bin, "worker", "-remote", rc.Spec, "-signing-key", key},
		Dir:    dir,
	}, nil
}

// thisBinary is the path of the modulo the user ran, as they ran it: a name found on PATH
// is looked up there, so that a symbolic link (a version manager's, a module's) is kept
// rather than resolved to where it points, which the nodes may not see.
func thisBinary() (string, error) {
	arg0 := os.Args[0]
	if !strings.Contains(arg0, "/") {
		if p, err := exec.LookPath(arg0); err == nil {
			return filepath.Abs(p)
		}
		return os.Executable()
	}
	return filepath.Abs(arg0)
}

package slurm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/slurm"
	"github.com/modulo-ml/modulo/slurm/slurmtest"
)

// TestCluster submits jobs to a real single-node cluster and follows them to their ends.
// The subtests share the cluster and run in parallel, so that the whole takes about as
// long as the time limit test, the slowest (over a minute).
func TestCluster(t *testing.T) {
	c := slurmtest.Start(t)
	cl := c.Client()
	ctx := context.Background()

	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(c.Dir(), "completed")
		file := filepath.Join(dir, "result")
		id := submit(t, cl, slurm.Job{
			Name: "ok", Script: `echo "$MODULO_WORD" > "$MODULO_FILE"` + "\n", Dir: dir,
			Output: "logs/ok.out", Env: map[string]string{"MODULO_FILE": file, "MODULO_WORD": "a,b c"},
		})
		st := wait(t, cl, id, func(st slurm.Status) bool { return st.State.Done() })
		if st.State != slurm.Completed || st.ExitCode != 0 || st.Node != c.Node() {
			t.Errorf("status %+v, want COMPLETED, exit code 0 on %s", st, c.Node())
		}
		if b, err := os.ReadFile(file); err != nil || string(b) != "a,b c\n" {
			t.Errorf("the job wrote %q (%v), want %q", b, err, "a,b c\n")
		}
	})

	t.Run("failed", func(t *testing.T) {
		t.Parallel()
		out := filepath.Join(c.Dir(), "failed", "fail.out")
		id := submit(t, cl, slurm.Job{Name: "fail", Script: "echo about to fail\nexit 3\n", Output: out})
		st := wait(t, cl, id, func(st slurm.Status) bool { return st.State.Done() })
		if st.State != slurm.Failed || st.ExitCode != 3 {
			t.Errorf("status %+v, want FAILED with exit code 3", st)
		}
		if b, err := os.ReadFile(out); err != nil || string(b) != "about to fail\n" {
			t.Errorf("output %q (%v), want %q", b, err, "about to fail\n")
		}
	})

	// Slow: the job runs its minute, then slurmctld, which checks time limits every
	// 30 s, ends it (KillWait=2, OverTimeLimit=0): 60 to 95 s.
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		id := submit(t, cl, slurm.Job{
			Name: "slow", Script: "sleep 600\n", Time: time.Minute,
			Output: filepath.Join(c.Dir(), "timeout", "slow.out"),
		})
		st := wait(t, cl, id, func(st slurm.Status) bool { return st.State.Done() })
		if st.State != slurm.Timeout {
			t.Errorf("status %+v, want TIMEOUT", st)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		id := submit(t, cl, slurm.Job{Name: "long", Script: "sleep 600\n", Output: filepath.Join(c.Dir(), "cancel", "long.out")})
		wait(t, cl, id, func(st slurm.Status) bool { return st.State == slurm.Running })
		if err := cl.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
		st := wait(t, cl, id, func(st slurm.Status) bool { return st.State.Done() })
		if st.State != slurm.Cancelled {
			t.Errorf("status %+v, want CANCELLED", st)
		}
		if err := cl.Cancel(ctx, id, "999999"); err != nil {
			t.Errorf("cancelling a finished and an unknown job: %v", err)
		}
	})

	t.Run("pending", func(t *testing.T) {
		t.Parallel()
		id := submit(t, cl, slurm.Job{
			Name: "held", Script: "true\n", Extra: []string{"--hold"},
			Output: filepath.Join(c.Dir(), "pending", "held.out"),
		})
		st := wait(t, cl, id, func(st slurm.Status) bool { return st.Reason != "" })
		if st.State != slurm.Pending || st.Reason != "JobHeldUser" || st.Node != "" || st.ExitCode != -1 {
			t.Errorf("status %+v, want PENDING for JobHeldUser, no node, exit code -1", st)
		}
		if err := cl.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			job  slurm.Job
			want string
		}{
			{"partition", slurm.Job{Partition: "gpu"}, "sbatch: error: invalid partition specified: gpu"},
			{"memory", slurm.Job{MemMB: 1 << 30}, "sbatch: error: Memory specification can not be satisfied"},
		} {
			tc.job.Script = "true\n"
			tc.job.Output = filepath.Join(c.Dir(), "refused", tc.name+".out")
			id, err := cl.Submit(ctx, tc.job)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "sbatch ") {
				t.Errorf("%s: Submit = %q, %v; want an error from sbatch saying %q", tc.name, id, err, tc.want)
			}
		}
	})

	// Once the controller forgets a job (MinJobAge after its end), Statuses reads the job
	// completion log with sacct --completion, or as a last resort scontrol. A squeue (and
	// for the completion log, an scontrol) that knows no job, and a sacct without
	// accounting, stand in for that forgetting here.
	t.Run("forgotten", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(c.Dir(), "forgotten")
		ok := submit(t, cl, slurm.Job{Name: "ok", Script: "true\n", Output: filepath.Join(dir, "ok.out")})
		bad := submit(t, cl, slurm.Job{Name: "bad", Script: "exit 4\n", Output: filepath.Join(dir, "bad.out")})
		wait(t, cl, ok, func(st slurm.Status) bool { return st.State.Done() })
		wait(t, cl, bad, func(st slurm.Status) bool { return st.State.Done() })
		want := map[string]slurm.Status{
			ok:  {ID: ok, State: slurm.Completed, Node: c.Node(), ExitCode: 0},
			bad: {ID: bad, State: slurm.Failed, Node: c.Node(), ExitCode: 4},
		}
		for _, tc := range []struct {
			name  string
			fakes map[string]string
		}{
			{"completion log", map[string]string{"squeue": noJobs, "scontrol": noJobsScontrol}},
			{"scontrol", map[string]string{"squeue": noJobs, "sacct": noAccounting}},
		} {
			fake := *cl
			fake.Bin = fakeBin(t, cl.Bin, tc.fakes)
			got, err := fake.Statuses(ctx, []string{ok, bad, "999999"})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if len(got) != len(want) || got[ok] != want[ok] || got[bad] != want[bad] {
				t.Errorf("%s: got %+v\nwant %+v", tc.name, got, want)
			}
		}
	})
}

// Stand-ins for Slurm's commands, as they answer when the controller has forgotten the
// jobs and when there is no accounting storage.
const (
	noJobs         = "#!/bin/sh\necho 'slurm_load_jobs error: Invalid job id specified' >&2\nexit 1\n"
	noAccounting   = "#!/bin/sh\necho 'Slurm accounting storage is disabled' >&2\nexit 1\n"
	noJobsScontrol = "#!/bin/sh\necho 'No jobs in the system'\n"
)

// fakeBin returns a directory of Slurm's commands: the scripts of fakes by name, links to
// the real ones in bin for the others.
func fakeBin(t *testing.T, bin string, fakes map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"sbatch", "squeue", "sacct", "scancel", "scontrol"} {
		var err error
		if s, ok := fakes[name]; ok {
			err = os.WriteFile(filepath.Join(dir, name), []byte(s), 0o755)
		} else {
			err = os.Symlink(filepath.Join(bin, name), filepath.Join(dir, name))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// submit submits j, failing the test on an error.
func submit(t *testing.T, cl *slurm.Client, j slurm.Job) string {
	t.Helper()
	id, err := cl.Submit(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// wait polls the job's status, from every 100 ms up to every 2 s, until ok holds, and
// returns it; it fails the test after 3 minutes.
func wait(t *testing.T, cl *slurm.Client, id string, ok func(slurm.Status) bool) slurm.Status {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var last slurm.Status
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		sts, err := cl.Statuses(context.Background(), []string{id})
		if err != nil {
			t.Fatal(err)
		}
		st, found := sts[id]
		if found && ok(st) {
			return st
		}
		last = st
		if time.Now().After(deadline) {
			t.Fatalf("job %s: last status %+v (found %v) after 3 minutes", id, last, found)
		}
		time.Sleep(delay)
	}
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/slurm/slurmtest"
)

// slurmPipeline has 11 nodes of the real stage kinds (a dataset, three trainings, two
// matchings, four interpolations, a three-network merge): the jobs of a small experiment.
const slurmPipeline = `
dataset "d" {
  source        = "synthetic"
  examples      = 256
  test_examples = 128
  dims          = 6
  classes       = 3
  spread        = 0.25
}
train "net" {
  for_each = toset(["1", "2", "3"])
  data     = dataset.d
  seed     = tonumber(each.key)
  epochs   = 2
  model {
    hidden = [16]
  }
  optimizer {
    lr       = 0.1
    momentum = 0.9
  }
}
match "m" {
  for_each  = toset(["2", "3"])
  reference = train.net["1"].final
  target    = train.net[each.key].final
}
interpolate "before" {
  for_each = toset(["2", "3"])
  a        = train.net["1"].final
  b        = train.net[each.key].final
  data     = dataset.d
  points   = 3
}
interpolate "after" {
  for_each = toset(["2", "3"])
  a        = train.net["1"].final
  b        = match.m[each.key].aligned
  data     = dataset.d
  points   = 3
}
merge_three "tri" {
  networks   = [train.net["1"].final, train.net["2"].final, train.net["3"].final]
  data       = dataset.d
  resolution = 2
  points     = 3
}
`

var slurmNodes = []string{`dataset.d`, `train.net["1"]`, `train.net["2"]`, `train.net["3"]`, `match.m["2"]`, `match.m["3"]`,
	`interpolate.before["2"]`, `interpolate.before["3"]`, `interpolate.after["2"]`, `interpolate.after["3"]`, `merge_three.tri`}

// slurmEnv is a working directory with the modulo command (this test binary, which acts as
// modulo under that name) and the environment that reaches the test cluster.
type slurmEnv struct {
	t       testing.TB
	dir     string
	bin     string
	env     []string
	cluster *slurmtest.Cluster
}

func newSlurmEnv(t testing.TB, cluster *slurmtest.Cluster) *slurmEnv {
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "modulo")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), cluster.Client().Env...)
	// The jobs inherit TMPDIR, under which workers keep their scratch caches: each test's
	// own, so that no worker finds a result of an earlier run there.
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	env = append(env, "TERM=dumb", "MODULO_REMOTE="+filepath.Join(dir, "shared"), "MODULO_EXECUTOR=", "TMPDIR="+tmp)
	return &slurmEnv{t: t, dir: dir, bin: bin, env: env, cluster: cluster}
}

func (e *slurmEnv) write(name, src string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// cmd returns modulo with args, run in e's directory on cache.
func (e *slurmEnv) cmd(cache string, args ...string) *exec.Cmd {
	c := exec.Command(e.bin, args...)
	c.Dir = e.dir
	c.Env = append(append([]string{}, e.env...), "MODULO_CACHE="+filepath.Join(e.dir, cache))
	return c
}

// run runs modulo and returns its combined output, failing the test when the exit status
// is not want.
func (e *slurmEnv) run(want int, cache string, args ...string) string {
	e.t.Helper()
	c := e.cmd(cache, args...)
	out, err := c.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	if code != want {
		e.t.Fatalf("modulo %s: exit %d, want %d:\n%s", strings.Join(args, " "), code, want, out)
	}
	return string(out)
}

// start starts modulo with args on cache, its output collected in buf.
func (e *slurmEnv) start(cache string, args ...string) (c *exec.Cmd, buf *lockedBuf) {
	e.t.Helper()
	c, buf = e.cmd(cache, args...), &lockedBuf{}
	c.Stdout, c.Stderr = buf, buf
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	return c, buf
}

// outputs returns the outputs section of `modulo show` for addr: digests and values.
func (e *slurmEnv) outputs(cache, addr string) string {
	e.t.Helper()
	s := e.run(0, cache, "show", "-p", "p.hcl", addr)
	_, after, ok := strings.Cut(s, "outputs:\n")
	before, _, ok2 := strings.Cut(after, "provenance")
	if !ok || !ok2 {
		e.t.Fatalf("show %s:\n%s", addr, s)
	}
	return before
}

var submittedRE = regexp.MustCompile(`(\S+) started: submitted as Slurm job (\d+)`)

// TestSlurmExecutor runs a pipeline on a real single-node Slurm cluster: every node that
// misses the cache is one job, the results are the bits of a local run, and a second run
// submits nothing. Then the faults: a failing node (its log tail shown, dependants not
// submitted), a job cancelled from outside, Ctrl-C of the driver (every job cancelled,
// the cache clean), and a driver killed with kill -9 and restarted (re-attached).
func TestSlurmExecutor(t *testing.T) {
	cluster := slurmtest.Start(t)
	t.Run("pipeline", func(t *testing.T) {
		e := newSlurmEnv(t, cluster)
		e.write("p.hcl", slurmPipeline)
		local := e.run(0, "local", "run", "-remote", "none", "-progress", "plain", "p.hcl")
		if !strings.Contains(local, "11 ran") {
			t.Fatalf("local run:\n%s", local)
		}
		start := time.Now()
		out := e.run(0, "driver", "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
		t.Logf("11 nodes on Slurm in %s", time.Since(start).Round(100*time.Millisecond))
		if !strings.Contains(out, "11 ran, 0 cached") {
			t.Fatalf("slurm run:\n%s", out)
		}
		jobs := map[string]string{}
		for _, m := range submittedRE.FindAllStringSubmatch(out, -1) {
			jobs[m[1]] = m[2]
		}
		for _, n := range slurmNodes {
			if jobs[n] == "" {
				t.Errorf("%s was not submitted as a Slurm job:\n%s", n, out)
			}
			if got, want := e.outputs("driver", n), e.outputs("local", n); got != want {
				t.Errorf("%s: outputs on Slurm\n%s\nlocally\n%s", n, got, want)
			}
		}
		again := e.run(0, "driver", "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
		if strings.Contains(again, "Slurm job") || !strings.Contains(again, "0 ran, 11 cached") {
			t.Errorf("second run:\n%s", again)
		}
		verify := e.run(0, "driver", "cache", "verify")
		if !strings.Contains(verify, "0 corrupt, 0 incomplete") {
			t.Errorf("cache verify:\n%s", verify)
		}
	})
	t.Run("failure", func(t *testing.T) {
		e := newSlurmEnv(t, cluster)
		e.write("p.hcl", `
text "bad" {
  value = "x"
  fail  = "the stage says no"
}
concat "after" {
  parts = [text.bad.out]
}
text "ok" {
  value = "fine"
}
`)
		out := e.run(1, "driver", "run", "-executor", "slurm", "-keep-going", "-progress", "plain", "p.hcl")
		for _, want := range []string{"text.bad failed: Slurm job", "its log is", "the stage says no", "concat.after skipped", "1 ran"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "concat.after started") {
			t.Errorf("a dependant of the failed node was submitted:\n%s", out)
		}
	})
	t.Run("cancelled-outside", func(t *testing.T) {
		e := newSlurmEnv(t, cluster)
		e.write("p.hcl", `
text "slow" {
  value = "x"
  sleep = "60s"
}
`)
		c, buf := e.start("driver", "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
		id := waitFor(t, buf, regexp.MustCompile(`running on \S+, Slurm job (\d+)`))
		if err := cluster.Client().Cancel(t.Context(), id); err != nil { // as a user's scancel
			t.Fatal(err)
		}
		err := c.Wait()
		if err == nil || !strings.Contains(buf.String(), "Slurm job "+id+" was cancelled") {
			t.Errorf("exit %v:\n%s", err, buf.String())
		}
	})
	t.Run("interrupt", func(t *testing.T) {
		e := newSlurmEnv(t, cluster)
		e.write("p.hcl", `
text "slow" {
  for_each = toset(["a", "b"])
  value    = each.key
  sleep    = "60s"
}
`)
		c, buf := e.start("driver", "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
		id := waitFor(t, buf, regexp.MustCompile(`running on \S+, Slurm job (\d+)`))
		c.Process.Signal(syscall.SIGINT)
		err := c.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Errorf("exit %v, want 130:\n%s", err, buf.String())
		}
		sts, err := cluster.Client().Statuses(t.Context(), []string{id})
		if err != nil {
			t.Fatal(err)
		}
		if st := sts[id]; !st.State.Done() {
			t.Errorf("job %s is %s after the driver was interrupted", id, st.State)
		}
		if q := squeue(t, cluster); q != "" {
			t.Errorf("jobs left in squeue: %s", q)
		}
		if v := e.run(0, "driver", "cache", "verify"); !strings.Contains(v, "0 corrupt, 0 incomplete") {
			t.Errorf("cache verify:\n%s", v)
		}
	})
	t.Run("command-gpu", func(t *testing.T) {
		// A command node is a job like any other, with its resources { gpus } passed to
		// sbatch: Slurm records the request and gives the job a (fake) GPU. Its script
		// reaches the job through the cache, and its network comes back checked.
		e := newSlurmEnv(t, cluster)
		if err := os.Symlink(e.bin, filepath.Join(filepath.Dir(e.bin), "write-net")); err != nil {
			t.Fatal(err)
		}
		e.env = append(e.env, "PATH="+filepath.Dir(e.bin)+":"+os.Getenv("PATH"))
		e.write("train.sh", "echo \"gpus $SLURM_GPUS_ON_NODE, CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES\"\nwrite-net -input 6 -classes 3 -hidden 8 -seed 4 \"$MODULO_OUTPUT_NET\"\n")
		e.write("p.hcl", `
dataset "d" {
  source  = "synthetic"
  dims    = 6
  classes = 3
}
command "gpu" {
  run   = ["sh", "train.sh"]
  files = ["train.sh"]
  output "net" {
    type = "network"
    path = "net.safetensors"
    data = dataset.d
    model {
      hidden = [8]
    }
  }
  resources {
    gpus = 1
  }
}
interpolate "i" {
  a      = command.gpu.net
  b      = command.gpu.net
  data   = dataset.d
  points = 2
}
`)
		out := e.run(0, "driver", "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
		m := regexp.MustCompile(`command.gpu started: submitted as Slurm job (\d+)`).FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "3 ran") {
			t.Fatalf("the command node was not submitted as a job:\n%s", out)
		}
		if job := cluster.ShowJob(t, m[1]); !strings.Contains(job, "TresPerJob=gres:gpu:1") {
			t.Errorf("scontrol show job %s lacks the GPU request:\n%s", m[1], job)
		}
		show := e.run(0, "driver", "show", "-p", "p.hcl", "command.gpu")
		if !strings.Contains(show, "gpus 1, CUDA_VISIBLE_DEVICES=0") {
			t.Errorf("the job's log does not show its GPU:\n%s", show)
		}
	})
	t.Run("reattach", func(t *testing.T) {
		e := newSlurmEnv(t, cluster)
		e.write("p.hcl", `
text "slow" {
  value = "x"
  sleep = "4s"
}
concat "c" {
  parts = [text.slow.out]
}
`)
		c, buf := e.start("driver", "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
		id := waitFor(t, buf, regexp.MustCompile(`text.slow started: submitted as Slurm job (\d+)`))
		c.Process.Kill()
		c.Wait()
		out := e.run(0, "driver", "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
		if !strings.Contains(out, "attached to Slurm job "+id) || strings.Contains(out, "text.slow started: submitted") {
			t.Errorf("the restarted driver did not re-attach to job %s:\n%s", id, out)
		}
		if !strings.Contains(out, "2 ran") {
			t.Errorf("restarted run:\n%s", out)
		}
	})
}

// TestSlurmExecutorRetries: a job killed by its time limit is submitted again with twice
// the time, and succeeds. Slurm's limits are whole minutes and it checks them every half
// minute, so this takes about three; it runs beside the other Slurm tests.
func TestSlurmExecutorRetries(t *testing.T) {
	t.Parallel()
	cluster := slurmtest.Start(t)
	e := newSlurmEnv(t, cluster)
	e.write("p.hcl", `
executor "slurm" {
  time    = "1m"
  retries = 1
}
text "slow" {
  value = "x"
  sleep = "100s"
}
`)
	out := e.run(0, "driver", "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
	for _, want := range []string{"hit its time limit; retry 1/1 with time 2m0s", "started: submitted as Slurm job", "1 ran"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestSlurmTwoDrivers: two drivers started at once on one pipeline, with caches of their
// own and one shared remote, compute each node once between them.
func TestSlurmTwoDrivers(t *testing.T) {
	t.Parallel()
	cluster := slurmtest.Start(t)
	e := newSlurmEnv(t, cluster)
	log := filepath.Join(e.dir, "runs.log")
	e.env = append(e.env, "MODULO_TEST_LOG="+log)
	e.write("p.hcl", `
text "a" {
  for_each = toset(["1", "2", "3", "4"])
  value    = each.key
  sleep    = "2s"
}
concat "all" {
  parts = [for k, v in text.a : v.out]
}
`)
	var bufs [2]*lockedBuf
	var cmds [2]*exec.Cmd
	for i := range cmds {
		cmds[i], bufs[i] = e.start(fmt.Sprintf("driver%d", i), "run", "-executor", "slurm", "-progress", "plain", "p.hcl")
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("driver %d: %v\n%s", i, err, bufs[i].String())
		}
	}
	b, _ := os.ReadFile(log)
	runs := strings.Fields(string(b))
	sort.Strings(runs)
	if want := `concat.all text.a["1"] text.a["2"] text.a["3"] text.a["4"]`; strings.Join(runs, " ") != want {
		t.Errorf("stages ran %v, want each once: %s\ndriver 0:\n%s\ndriver 1:\n%s", runs, want, bufs[0].String(), bufs[1].String())
	}
}

func squeue(t *testing.T, cluster *slurmtest.Cluster) string {
	c := exec.Command("squeue", "-h", "-o", "%i %T")
	c.Env = append(os.Environ(), cluster.Client().Env...)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("squeue: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// waitFor waits up to a minute for re to match buf's text and returns its first group.
func waitFor(t *testing.T, buf *lockedBuf, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %q in:\n%s", re, buf.String())
	return ""
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

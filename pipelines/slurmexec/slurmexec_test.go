package slurmexec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/slurm"
)

// fakeSlurm writes stand-ins for sbatch and squeue into a directory: sbatch appends its
// arguments to a file and answers job ids 1, 2, …; squeue answers the state that the
// file states/<id> holds (RUNNING when there is none). The real cluster is exercised by
// cmd/modulo's TestSlurmExecutor; these tests pin down what the executor asks Slurm for.
func fakeSlurm(t *testing.T) (dir string, client *slurm.Client) {
	dir = t.TempDir()
	os.Mkdir(filepath.Join(dir, "states"), 0o755)
	sbatch := `#!/bin/bash
cat > /dev/null
n=$(( $(cat "$D/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$D/count"
echo "$@" >> "$D/sbatch.args"
echo $n
`
	squeue := `#!/bin/bash
for a in "$@"; do case $a in --jobs=*) ids=${a#--jobs=};; esac; done
for id in ${ids//,/ }; do
  if [ -f "$D/states/$id" ]; then cat "$D/states/$id"; else echo "$id|RUNNING|None|node7|0|"; fi
done
`
	for name, src := range map[string]string{"sbatch": sbatch, "squeue": squeue, "scancel": "#!/bin/bash\nexit 0\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, &slurm.Client{Bin: dir, Env: []string{"D=" + dir}}
}

func setState(t *testing.T, dir, id, line string) {
	if err := os.WriteFile(filepath.Join(dir, "states", id), []byte(id+"|"+line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testJob(kind string, res pipelines.Resources) (*pipelines.Job, *[]string) {
	var log []string
	j := &pipelines.Job{
		Addr: kind + `.x["a"]`, Kind: kind, Action: artifacts.ActionID{7}, Blob: artifacts.OutputID{9}, Threads: 3, Resources: res,
		Submitted: func(m string) { log = append(log, "submitted: "+m) },
		Status:    func(m string) { log = append(log, "status: "+m) },
	}
	return j, &log
}

func newTestExecutor(t *testing.T, client *slurm.Client, decl pipelines.ExecutorDecl) *Executor {
	return &Executor{Client: client, Decl: decl, Worker: []string{"/opt/modulo", "worker"}, Dir: t.TempDir(), Poll: 5 * time.Millisecond, MaxPoll: 20 * time.Millisecond}
}

func sbatchArgs(t *testing.T, dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, "sbatch.args"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestResourcesLayer: a block's resources over its kind's over the executor's defaults,
// and the node's threads when nothing sets cpus.
func TestResourcesLayer(t *testing.T) {
	decl := pipelines.ExecutorDecl{Retries: -1, Partition: "cpu", Resources: pipelines.Resources{MemMB: 1024, Time: time.Hour},
		ByKind: map[string]pipelines.Resources{"train": {Time: 3 * time.Hour}, "command": {GPUs: "1", Partition: "gpu"}}}
	for _, c := range []struct {
		kind string
		res  pipelines.Resources
		want []string
	}{
		{"match", pipelines.Resources{}, []string{"--cpus-per-task=3", "--mem=1024", "--time=60", "--partition=cpu"}},
		{"train", pipelines.Resources{}, []string{"--mem=1024", "--time=180"}},
		{"train", pipelines.Resources{CPUs: 8, MemMB: 4096}, []string{"--cpus-per-task=8", "--mem=4096", "--time=180"}},
		{"command", pipelines.Resources{}, []string{"--gpus=1", "--time=60", "--partition=gpu"}},
		{"command", pipelines.Resources{GPUs: "a100:2"}, []string{"--gpus=a100:2"}},
	} {
		dir, client := fakeSlurm(t)
		setState(t, dir, "1", "COMPLETED|None|node7|0|")
		x := newTestExecutor(t, client, decl)
		j, _ := testJob(c.kind, c.res)
		if err := x.Run(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		args := sbatchArgs(t, dir)[0]
		for _, w := range c.want {
			if !strings.Contains(args, w) {
				t.Errorf("%s %+v: sbatch %s lacks %s", c.kind, c.res, args, w)
			}
		}
	}
}

// TestRetries: TIMEOUT doubles the time and OUT_OF_MEMORY the memory, up to retries;
// NODE_FAIL is submitted again without counting; a failure names the log and its tail.
func TestRetries(t *testing.T) {
	dir, client := fakeSlurm(t)
	setState(t, dir, "1", "TIMEOUT|None|node7|15|")
	setState(t, dir, "2", "NODE_FAIL|None|node7|0|")
	setState(t, dir, "3", "OUT_OF_MEMORY|None|node7|0|")
	setState(t, dir, "4", "COMPLETED|None|node7|0|")
	x := newTestExecutor(t, client, pipelines.ExecutorDecl{Retries: 2, Resources: pipelines.Resources{MemMB: 100, Time: time.Minute}})
	j, log := testJob("train", pipelines.Resources{})
	if err := x.Run(context.Background(), j); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(*log, "\n"))
	}
	args := sbatchArgs(t, dir)
	if len(args) != 4 {
		t.Fatalf("%d submissions, want 4: %q", len(args), args)
	}
	for i, want := range []string{"--mem=100 --time=1", "--mem=100 --time=2", "--mem=100 --time=2", "--mem=200 --time=2"} {
		if !strings.Contains(args[i], want) {
			t.Errorf("submission %d: %s, want %s", i+1, args[i], want)
		}
	}

	dir, client = fakeSlurm(t)
	setState(t, dir, "1", "FAILED|NonZeroExitCode|node7|256|")
	x = newTestExecutor(t, client, pipelines.ExecutorDecl{Retries: -1})
	j, _ = testJob("train", pipelines.Resources{})
	logDir := filepath.Join(x.Dir, "logs")
	os.MkdirAll(logDir, 0o755)
	os.WriteFile(x.logPath(j, "1"), []byte("loading\nmodulo worker: train.x failed on node7: the stage says no\n"), 0o644)
	err := x.Run(context.Background(), j)
	if err == nil || !strings.Contains(err.Error(), "Slurm job 1 failed with exit code 1 on node7") || !strings.Contains(err.Error(), "the stage says no") {
		t.Errorf("failure: %v", err)
	}
	if _, err := os.Stat(x.recordPath(j)); !os.IsNotExist(err) {
		t.Errorf("the record of a finished job is left: %v", err)
	}
}

// TestAttach: a record of a job in flight, left by a driver that died, is attached to
// rather than submitted again.
func TestAttach(t *testing.T) {
	dir, client := fakeSlurm(t)
	setState(t, dir, "41", "COMPLETED|None|node7|0|")
	x := newTestExecutor(t, client, pipelines.ExecutorDecl{Retries: -1})
	j, log := testJob("train", pipelines.Resources{})
	os.MkdirAll(filepath.Dir(x.recordPath(j)), 0o755)
	os.WriteFile(x.recordPath(j), []byte("41\n"), 0o644)
	if err := x.Run(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sbatch.args")); err == nil {
		t.Errorf("submitted although job 41 was in flight: %q", sbatchArgs(t, dir))
	}
	if got := fmt.Sprint(*log); !strings.Contains(got, "attached to Slurm job 41") {
		t.Errorf("log %s", got)
	}
}

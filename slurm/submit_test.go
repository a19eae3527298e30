package slurm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSbatchArgs(t *testing.T) {
	tail := []string{"--export=ALL", "--no-requeue"}
	for _, tc := range []struct {
		name string
		job  Job
		want []string
	}{
		{"empty", Job{}, append([]string{"--parsable"}, tail...)},
		{"all", Job{
			Name: "train", Dir: "/w", Output: "logs/train.out", Partition: "gpu", Account: "ml",
			QOS: "high", CPUs: 4, MemMB: 2048, Time: 90 * time.Second, Extra: []string{"--gres=gpu:1"},
		}, append([]string{"--parsable", "--job-name=train", "--chdir=/w", "--output=logs/train.out",
			"--partition=gpu", "--account=ml", "--qos=high", "--cpus-per-task=4", "--mem=2048",
			"--time=2"}, append(tail, "--gres=gpu:1")...)},
		{"whole minutes", Job{Time: time.Hour}, append([]string{"--parsable", "--time=60"}, tail...)},
		{"gpus", Job{GPUs: "a100:2"}, append([]string{"--parsable", "--gpus=a100:2"}, tail...)},
		{"under a minute", Job{Time: time.Second}, append([]string{"--parsable", "--time=1"}, tail...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sbatchArgs(tc.job)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	if _, err := sbatchArgs(Job{CPUs: -1}); err == nil {
		t.Error("negative CPUs: no error")
	}
}

func TestJobEnv(t *testing.T) {
	got, err := jobEnv(map[string]string{"B": "x,y", "A": "1 2"})
	if want := []string{"A=1 2", "B=x,y"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("jobEnv = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"", "A=B"} {
		if _, err := jobEnv(map[string]string{bad: "v"}); err == nil {
			t.Errorf("jobEnv(%q): no error", bad)
		}
	}
}

func TestCmdError(t *testing.T) {
	err := &CmdError{
		Args:   []string{"sbatch", "--parsable", "--job-name=a b"},
		Stderr: "sbatch: error: invalid partition specified: gpu",
		Err:    errors.New("exit status 1"),
	}
	want := "sbatch --parsable '--job-name=a b': exit status 1: sbatch: error: invalid partition specified: gpu"
	if got := err.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, c := range []*Client{{}, {Bin: t.TempDir()}} {
		_, err := c.Submit(context.Background(), Job{Script: "true"})
		if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "install slurm-client or set PATH") {
			t.Errorf("Bin %q: err = %v, want ErrNotInstalled", c.Bin, err)
		}
	}
}

func TestOnlyFinishedErrors(t *testing.T) {
	for _, tc := range []struct {
		stderr string
		want   bool
	}{
		{"scancel: error: Kill job error on job id 1: Job/step already completing or completed", true},
		{"scancel: error: Kill job error on job id 99: Invalid job id specified\n" +
			"scancel: error: Kill job error on job id 1: Job/step already completing or completed", true},
		{"scancel: error: Kill job error on job id 5: Access/permission denied", false},
		{"scancel: error: Invalid job id 1x", false},
	} {
		if got := onlyFinishedErrors(tc.stderr); got != tc.want {
			t.Errorf("onlyFinishedErrors(%q) = %v, want %v", tc.stderr, got, tc.want)
		}
	}
}

// TestSubmitFake runs Submit against a stand-in sbatch that records what it was given:
// the script on stdin, the job's variables in its environment, and the output directory
// made beforehand.
func TestSubmitFake(t *testing.T) {
	bin, dir := t.TempDir(), t.TempDir()
	fake := `#!/bin/sh
cat > "$REC/script"
printf '%s\n' "$@" > "$REC/args"
printf '%s|%s\n' "$MODULO_X" "$SLURM_CONF" > "$REC/env"
[ -d "$REC/work/logs" ] || { echo "sbatch: error: no output directory" >&2; exit 1; }
echo "42;modulotest"
`
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &Client{Bin: bin, Env: []string{"REC=" + dir, "SLURM_CONF=/etc/x.conf"}}
	id, err := c.Submit(context.Background(), Job{
		Name: "n", Script: "#SBATCH --mem=1\necho hi\n", Dir: filepath.Join(dir, "work"),
		Output: "logs/n.out", Env: map[string]string{"MODULO_X": "a,b c"},
	})
	if err != nil || id != "42" {
		t.Fatalf("Submit = %q, %v; want 42", id, err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := read("script"), script("#SBATCH --mem=1\necho hi\n"); got != want {
		t.Errorf("script %q, want %q", got, want)
	}
	if got, want := read("env"), "a,b c|/etc/x.conf\n"; got != want {
		t.Errorf("environment %q, want %q", got, want)
	}
	if args := read("args"); !strings.Contains(args, "--export=ALL\n") {
		t.Errorf("args lack --export=ALL:\n%s", args)
	}
}

package slurmtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/slurm"
)

// TestStart starts a cluster and asks it about a job it never had.
func TestStart(t *testing.T) {
	c := Start(t)
	sts, err := c.Client().Statuses(context.Background(), []string{"999"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 0 {
		t.Errorf("Statuses of an unknown job = %+v, want none", sts)
	}
}

// TestGPUs submits a job asking for one of the fake GPUs: Slurm accepts and runs it,
// scontrol shows the request, and the job sees the GPU Slurm gave it.
func TestGPUs(t *testing.T) {
	c := Start(t)
	cl := c.Client()
	out := filepath.Join(c.Dir(), "gpus", "gpu.out")
	id, err := cl.Submit(context.Background(), slurm.Job{
		Name: "gpu", GPUs: "1", Output: out,
		Script: "echo SLURM_GPUS=${SLURM_GPUS-unset}\n" +
			"echo SLURM_GPUS_ON_NODE=${SLURM_GPUS_ON_NODE-unset}\n" +
			"echo CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-unset}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	st := waitDone(t, cl, id)
	if st.State != slurm.Completed || st.ExitCode != 0 {
		t.Errorf("status %+v, want COMPLETED with exit code 0", st)
	}
	if show := c.ShowJob(t, id); !strings.Contains(show, "TresPerJob=gres:gpu:1") {
		t.Errorf("scontrol show job %s does not say TresPerJob=gres:gpu:1:\n%s", id, show)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Slurm sets these from the allocation, devices or not; CUDA_VISIBLE_DEVICES is the
	// index of the GPU the job got, the first of the two as no other job holds one.
	for _, want := range []string{"SLURM_GPUS=1\n", "SLURM_GPUS_ON_NODE=1\n", "CUDA_VISIBLE_DEVICES=0\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the job's output %q does not hold %q", b, want)
		}
	}
}

// waitDone polls the job's status every 100 ms until it is done, and returns it; it fails
// the test after a minute.
func waitDone(t *testing.T, cl *slurm.Client, id string) slurm.Status {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		sts, err := cl.Statuses(context.Background(), []string{id})
		if err != nil {
			t.Fatal(err)
		}
		st, found := sts[id]
		if found && st.State.Done() {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: last status %+v (found %v) after a minute", id, st, found)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package slurm_test

import (
	"context"
	"fmt"
	"time"

	"github.com/modulo-ml/modulo/slurm"
)

// A driver submits a job, polls its status until it is done, and tells a failure of the
// job from one of the cluster. (No output: it needs a cluster.)
func Example() {
	ctx := context.Background()
	c := &slurm.Client{}
	id, err := c.Submit(ctx, slurm.Job{
		Name:   "train",
		Script: "exec modulo worker train\n",
		Output: "/scratch/run/logs/train.out",
		CPUs:   4,
		MemMB:  8192,
		Time:   2 * time.Hour,
		Env:    map[string]string{"MODULO_CACHE": "/scratch/cache"},
	})
	if err != nil {
		fmt.Println(err) // e.g. sbatch ...: exit status 1: sbatch: error: invalid partition specified: gpu
		return
	}
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 10*time.Second) {
		sts, err := c.Statuses(ctx, []string{id})
		if err != nil {
			fmt.Println(err)
			return
		}
		st, ok := sts[id]
		switch {
		case !ok:
			fmt.Println("Slurm no longer knows job", id)
			return
		case st.State.Requeue():
			fmt.Println("submit again, without counting a try:", st.State)
			return
		case st.State == slurm.Completed:
			fmt.Println("done on", st.Node)
			return
		case st.State.Done():
			fmt.Printf("%s: exit code %d, signal %d\n", st.State, st.ExitCode, st.Signal)
			return
		case st.State == slurm.Pending:
			fmt.Println("waiting:", st.Reason)
		}
		time.Sleep(delay)
	}
}

package slurm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Job is one batch job to submit.
type Job struct {
	Name      string            // --job-name
	Script    string            // body of the batch script, without #SBATCH lines (see Submit)
	Dir       string            // --chdir ("" = current)
	Output    string            // -o path for stdout+stderr (Submit creates its directory first: sbatch requires it)
	Partition string            // --partition ("" = default)
	Account   string            // --account
	QOS       string            // --qos
	CPUs      int               // --cpus-per-task (0 = omit)
	MemMB     int64             // --mem in MB (0 = omit)
	Time      time.Duration     // --time, rounded up to whole minutes (0 = omit)
	GPUs      string            // --gpus, a count or type:count ("2", "a100:2"; "" = omit)
	Extra     []string          // further sbatch arguments, verbatim
	Env       map[string]string // variables exported to the job (--export=ALL plus these)
}

// Submit runs sbatch --parsable and returns the job id (the part before any ';cluster').
//
// The script goes to sbatch on stdin as "#!/bin/bash", then a no-op line, then Script:
// sbatch reads #SBATCH directives only up to the first command, so the no-op makes any
// "#SBATCH" in Script a plain comment, and every option comes from Job's fields alone.
//
// The job's variables reach it through sbatch's own environment and --export=ALL rather
// than as --export=ALL,K=V,...: sbatch splits that list at commas, so a value holding one
// would be cut. (The job therefore also sees Client.Env, such as SLURM_CONF, and a
// variable sbatch itself reads, such as SBATCH_PARTITION, changes the submission too.)
//
// Submit passes --no-requeue before Extra: the caller decides what to do with a job that
// died of a node failure (State.Requeue), and a job Slurm requeued by itself under the
// same id would run twice when the caller also submits it again. An "--requeue" in Extra
// overrides it.
func (c *Client) Submit(ctx context.Context, j Job) (string, error) {
	args, err := sbatchArgs(j)
	if err != nil {
		return "", err
	}
	env, err := jobEnv(j.Env)
	if err != nil {
		return "", err
	}
	if j.Output != "" {
		dir := filepath.Dir(j.Output)
		if !filepath.IsAbs(j.Output) && j.Dir != "" {
			// sbatch resolves a relative -o against --chdir.
			dir = filepath.Join(j.Dir, dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("sbatch needs the output directory: %w", err)
		}
	}
	out, err := c.run(ctx, strings.NewReader(script(j.Script)), env, "sbatch", args...)
	if err != nil {
		return "", err
	}
	id, err := parseSubmit(string(out))
	if err != nil {
		return "", fmt.Errorf("sbatch %s: %w", ShellJoin(args), err)
	}
	return id, nil
}

// script is the batch script Submit passes on sbatch's stdin.
func script(body string) string {
	return "#!/bin/bash\n: options are sbatch arguments, not #SBATCH lines\n" + body
}

// sbatchArgs returns sbatch's arguments for j.
func sbatchArgs(j Job) ([]string, error) {
	if j.CPUs < 0 || j.MemMB < 0 || j.Time < 0 {
		return nil, fmt.Errorf("slurm: job %q: negative CPUs, MemMB or Time", j.Name)
	}
	args := []string{"--parsable"}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag+"="+v)
		}
	}
	add("--job-name", j.Name)
	add("--chdir", j.Dir)
	add("--output", j.Output)
	add("--partition", j.Partition)
	add("--account", j.Account)
	add("--qos", j.QOS)
	if j.CPUs > 0 {
		add("--cpus-per-task", strconv.Itoa(j.CPUs))
	}
	if j.MemMB > 0 {
		add("--mem", strconv.FormatInt(j.MemMB, 10)) // sbatch's default unit is MB
	}
	if j.Time > 0 {
		add("--time", strconv.FormatInt(int64((j.Time+time.Minute-1)/time.Minute), 10))
	}
	add("--gpus", j.GPUs)
	args = append(args, "--export=ALL", "--no-requeue")
	return append(args, j.Extra...), nil
}

// jobEnv returns env as NAME=value entries in a fixed order, refusing names that the
// environment cannot hold.
func jobEnv(env map[string]string) ([]string, error) {
	out := make([]string, 0, len(env))
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("slurm: cannot export variable %q to a job", k)
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// parseSubmit returns the job id in sbatch --parsable's output: "id" or "id;cluster".
func parseSubmit(out string) (string, error) {
	line := strings.TrimSpace(out)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[i+1:]) // warnings may come before the id
	}
	id, _, _ := strings.Cut(line, ";")
	if id == "" || strings.Trim(id, "0123456789_") != "" {
		return "", fmt.Errorf("no job id in sbatch's output %q", strings.TrimSpace(out))
	}
	return id, nil
}

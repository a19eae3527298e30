package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Client runs Slurm's commands. Env is added to the commands' environment (tests set
// SLURM_CONF); Bin, if set, is the directory holding sbatch, squeue, sacct, scancel,
// scontrol (else PATH).
//
// A Client holds no state of its own: every method runs commands and parses what they
// print, so one Client may be used from several goroutines at once.
type Client struct {
	Env []string
	Bin string
}

// ErrNotInstalled is wrapped by the error of a method whose command cannot be found: Slurm's
// client commands are not installed, or not on PATH (or not in Client.Bin).
var ErrNotInstalled = errors.New("Slurm's commands are not on PATH (install slurm-client or set PATH)")

// CmdError is a Slurm command that failed. Its message carries the command line and what
// the command wrote to stderr, since that is where Slurm says what is wrong (for example
// "sbatch: error: invalid partition specified: gpu").
type CmdError struct {
	Args   []string // the command and its arguments
	Stderr string   // what it wrote to stderr, trimmed
	Err    error    // how it ended: an *exec.ExitError, or a failure to start it
}

func (e *CmdError) Error() string {
	msg := ShellJoin(e.Args) + ": " + e.Err.Error()
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *CmdError) Unwrap() error { return e.Err }

// ShellJoin joins args into a bash command line, quoting the arguments that a shell would
// split or expand: for the scripts of jobs, and so that a command line in an error message
// can be pasted back into a shell.
func ShellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// path returns the path of Slurm command name, or an error wrapping ErrNotInstalled.
func (c *Client) path(name string) (string, error) {
	if c.Bin != "" {
		p := filepath.Join(c.Bin, name)
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s is not in %s: %w", name, c.Bin, ErrNotInstalled)
		}
		return p, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, ErrNotInstalled)
	}
	return p, nil
}

// run runs Slurm command name with args, stdin (may be nil) and extra environment variables
// added after c.Env, and returns its stdout. A failure is a *CmdError.
func (c *Client) run(ctx context.Context, stdin io.Reader, env []string, name string, args ...string) ([]byte, error) {
	p, err := c.path(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, p, args...)
	cmd.Stdin = stdin
	if len(c.Env) > 0 || len(env) > 0 {
		// Later entries win in exec.Cmd.Env, so c.Env overrides the process's environment
		// and env overrides both.
		cmd.Env = append(append(os.Environ(), c.Env...), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return stdout.Bytes(), &CmdError{
			Args:   append([]string{name}, args...),
			Stderr: strings.TrimSpace(stderr.String()),
			Err:    err,
		}
	}
	return stdout.Bytes(), nil
}

// Cancel runs scancel on the ids (no error for jobs already finished).
//
// scancel 22.05 exits 0 for jobs that are finished or unknown; the messages it prints
// for them in other versions or with verbose settings are ignored all the same, so that
// cancelling is idempotent.
func (c *Client) Cancel(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.run(ctx, nil, nil, "scancel", ids...)
	var ce *CmdError
	if errors.As(err, &ce) && ce.Stderr != "" && onlyFinishedErrors(ce.Stderr) {
		return nil
	}
	return err
}

// onlyFinishedErrors reports whether every line of scancel's stderr says that a job is
// already finished or no longer known.
func onlyFinishedErrors(stderr string) bool {
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if !strings.Contains(l, "already completing or completed") &&
			!strings.Contains(l, "Invalid job id specified") {
			return false
		}
	}
	return true
}

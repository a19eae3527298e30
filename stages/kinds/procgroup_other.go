//go:build !unix

package kinds

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// ownGroup is a no-op where there are no process groups: only the command itself is
// stopped, not what it started.
func ownGroup(cmd *exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ syscall.Signal) {
	if cmd.Process != nil {
		cmd.Process.Signal(os.Kill)
	}
}

func groupGone(*exec.Cmd, time.Duration) bool { return true }

const (
	sigTerm = syscall.Signal(15)
	sigKill = syscall.Signal(9)
)

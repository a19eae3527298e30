//go:build unix

package kinds

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the command in a process group of its own, so that stopping it stops
// everything it started (a data loader's workers, a shell's children), and a Ctrl-C sent to
// modulo's group reaches the command only through modulo, which stops it in order.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// signalGroup sends sig to the command's process group.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, sig)
	}
}

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

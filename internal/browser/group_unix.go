//go:build unix

package browser

import (
	"os/exec"
	"syscall"
)

// setGroup makes cmd the leader of a new process group. Chromium starts a
// zygote, renderers and a GPU process, which a kill of Chromium alone would
// leave running; the group holds them all.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills cmd's process group, if it started one. A group already
// gone is not an error.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}

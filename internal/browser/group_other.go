//go:build !unix

package browser

import "os/exec"

// Without process groups only Chromium itself is killed; its helpers exit
// when they lose their parent.
func setGroup(cmd *exec.Cmd) {}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}

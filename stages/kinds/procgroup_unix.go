//go:build unix

package kinds

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// groupGone waits up to d for every process of the command's group to have exited, so
// that a stopped node leaves nothing running behind it. An exited process that its new
// parent has not reaped yet (a zombie, which some init processes leave for a second or
// more) has stopped running and does not count.
func groupGone(cmd *exec.Cmd, d time.Duration) bool {
	if cmd.Process == nil {
		return true
	}
	pgid := cmd.Process.Pid
	deadline := time.Now().Add(d)
	for groupRunning(pgid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// groupRunning reports whether a process of group pgid runs: from /proc where there is
// one, else by signal 0 (which counts zombies too).
func groupRunning(pgid int) bool {
	if syscall.Kill(-pgid, 0) != nil {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

package slurmtest

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon is one of the cluster's daemons, run in the foreground as a child of the test,
// in a process group of its own.
type daemon struct {
	name string
	out  string // the file holding its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
}

// start starts a daemon, its output in dir/name.out, and adds it to *ds for the cleanup.
func start(t testing.TB, dir, name string, env []string, ds *[]*daemon, path string, args ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, out: filepath.Join(dir, name+".out"), done: make(chan struct{})}
	f, err := os.Create(d.out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d.cmd = exec.Command(path, args...)
	d.cmd.Env = env
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = f, f
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	*ds = append(*ds, d)
	return d
}

// exited reports whether the daemon has exited.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the daemon's process group, and SIGKILL if it has not exited
// 5 s later.
func (d *daemon) stop() {
	pgid := d.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-d.done
	}
}

// startMunge starts munged with a key, socket, pid, log and seed file of its own in dir,
// and returns the socket's path once munged listens on it.
//
// munged refuses a socket directory that not everyone may search (t.TempDir is 0700);
// --force makes that a warning. The socket's path must fit a sockaddr_un (108 bytes):
// when dir is too deep for that, the socket goes to a short directory of its own.
func startMunge(t testing.TB, dir, munged string, env []string, ds *[]*daemon) string {
	t.Helper()
	key := filepath.Join(dir, "munge.key")
	b := make([]byte, 1024)
	rand.Read(b)
	if err := os.WriteFile(key, b, 0o400); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "munge.socket")
	if len(socket) > 100 {
		short, err := os.MkdirTemp("", "munge")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(short) })
		socket = filepath.Join(short, "socket")
	}
	d := start(t, dir, "munged", env, ds, munged, "--foreground", "--force",
		"--socket="+socket, "--key-file="+key, "--pid-file="+filepath.Join(dir, "munged.pid"),
		"--log-file="+filepath.Join(dir, "munged.log"), "--seed-file="+filepath.Join(dir, "munged.seed"))
	for end := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(socket); err == nil {
			return socket
		}
		if d.exited() || time.Now().After(end) {
			out, _ := os.ReadFile(d.out)
			t.Fatalf("munged does not listen on %s:\n%s", socket, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// marked returns the processes whose environment holds marker.
func marked(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && hasEntry(env, marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// hasEntry reports whether the NUL-separated environment env holds entry.
func hasEntry(env []byte, entry string) bool {
	for _, e := range strings.Split(string(env), "\x00") {
		if e == entry {
			return true
		}
	}
	return false
}

// kill sends SIGKILL to every process left whose environment holds marker, and to its
// process group: slurmstepd and the jobs' scripts, which run in sessions of their own
// and so outlive the daemons' process groups. A process that changed its environment
// or cleared it escapes; jobs here are the tests' own short scripts.
func kill(marker string) {
	for try := 0; try < 3; try++ {
		pids := marked(marker)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			if pgid, err := syscall.Getpgid(pid); err == nil && pgid != syscall.Getpgrp() {
				syscall.Kill(-pgid, syscall.SIGKILL)
			}
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Package remotetest starts the real servers that the remote cache's backends are tested
// against, each on a free port of 127.0.0.1 and stopped when the test ends, the way
// net/http/httptest starts an in-process one:
//
//   - StartNginx: Debian's nginx with WebDAV PUT, an HTTP cache speaking Bazel's protocol;
//   - StartVersitygw: versitygw with its posix backend, an S3 server.
//
// A server that is not installed skips the test with a hint on how to install it (`make
// servers` installs both), except where Required says the test must fail instead: on CI, so
// that the backends cannot go untested there without anyone noticing.
//
// It is meant for tests only: it imports package testing.
package remotetest

import (
	"bytes"
	"fmt"
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Installing the servers the tests run against. `make servers` does both.
const (
	installNginx     = "sudo apt-get install nginx (or: make servers)"
	versitygwVersion = "v1.8.0"
	installVersitygw = "go install github.com/versity/versitygw/cmd/versitygw@" + versitygwVersion + " (or: make servers)"
)

// Required reports whether a missing server must fail the test rather than skip it: when
// MODULO_REQUIRE_SERVERS=1, or on CI (CI set to anything but "", "0" or "false").
func Required() bool {
	if os.Getenv("MODULO_REQUIRE_SERVERS") == "1" {
		return true
	}
	ci := strings.ToLower(os.Getenv("CI"))
	return ci != "" && ci != "0" && ci != "false"
}

// missingServer skips the test, or fails it where servers are required.
func missingServer(t testing.TB, name, install string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is not installed, and CI or MODULO_REQUIRE_SERVERS=1 requires it; install it with: %s", name, install)
	}
	t.Skipf("%s is not installed; install it with: %s", name, install)
}

// findBinary looks for name on PATH, then in the given directories.
func findBinary(name string, dirs ...string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// gopathBins returns the directories where go install puts commands: $(go env GOBIN) and
// $(go env GOPATH)/bin, which are not always on PATH (go test puts the go command there).
func gopathBins() []string {
	gobin, gopath := os.Getenv("GOBIN"), build.Default.GOPATH
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		if f := strings.Split(strings.TrimRight(string(out), "\n"), "\n"); len(f) == 2 {
			gobin, gopath = f[0], f[1]
		}
	}
	var dirs []string
	if gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, p := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	return dirs
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago: one to
// start a server on, or one where nothing listens.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// lockedBuffer collects a child's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer runs cmd, a server that will listen on addr, and waits until addr accepts
// connections. The server runs in its own process group and is stopped, with its
// children (nginx's workers), in t.Cleanup. logs are files whose contents explain a failure
// to start.
func startServer(t testing.TB, cmd *exec.Cmd, addr string, logs ...string) {
	t.Helper()
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
		}
	})
	explain := func() string {
		msg := out.String()
		for _, l := range logs {
			if b, err := os.ReadFile(l); err == nil {
				msg += fmt.Sprintf("\n%s:\n%s", l, b)
			}
		}
		return msg
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("%s exited before listening on %s (%v):\n%s", cmd.Path, addr, err, explain())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s after 15 s:\n%s", cmd.Path, addr, explain())
		}
	}
}

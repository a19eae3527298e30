package artifacts

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestLockBlocksUntilUnlock(t *testing.T) {
	c := newCache(t)
	id := NewKey("v").ID()
	unlock, err := c.Lock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	acquired := make(chan func())
	go func() {
		u, err := c.Lock(context.Background(), id)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		acquired <- u
	}()
	select {
	case <-acquired:
		t.Fatal("second Lock succeeded while the first was held")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	unlock() // idempotent
	select {
	case u := <-acquired:
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("second Lock still blocked after unlock")
	}
}

func TestLockIndependentIDs(t *testing.T) {
	c := newCache(t)
	u1, err := c.Lock(context.Background(), NewKey("a").ID())
	if err != nil {
		t.Fatal(err)
	}
	defer u1()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	u2, err := c.Lock(ctx, NewKey("b").ID())
	if err != nil {
		t.Fatalf("Lock of another ID: %v", err)
	}
	u2()
}

func TestLockContext(t *testing.T) {
	c := newCache(t)
	id := NewKey("v").ID()
	unlock, err := c.Lock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	timeout, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"deadline while blocked", timeout, context.DeadlineExceeded},
		{"already canceled", canceled, context.Canceled},
	}
	for _, tt := range tests {
		start := time.Now()
		u, err := c.Lock(tt.ctx, id)
		if !errors.Is(err, tt.want) || u != nil {
			t.Errorf("%s: Lock = %v, want %v", tt.name, err, tt.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: Lock took %v to notice", tt.name, d)
		}
	}
	// A canceled context does not acquire even a free lock.
	if _, err := c.Lock(canceled, NewKey("free").ID()); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock(canceled) of a free lock = %v, want context.Canceled", err)
	}
}

// TestFlockBetweenDescriptors checks the property Lock relies on within one
// process: flock locks conflict between two separate opens of one file, even
// in the same process (fcntl locks would not).
func TestFlockBetweenDescriptors(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no flock")
	}
	path := filepath.Join(t.TempDir(), "f")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := open(), open()
	defer b.Close()
	tests := []struct {
		step string
		f    *os.File
		want bool
	}{
		{"a locks", a, true},
		{"b while a holds", b, false},
	}
	for _, tt := range tests {
		if got, err := tryLock(tt.f); err != nil || got != tt.want {
			t.Fatalf("%s: tryLock = %v, %v; want %v", tt.step, got, err, tt.want)
		}
	}
	unlockFile(a)
	if got, err := tryLock(b); err != nil || !got {
		t.Fatalf("b after a unlocked: tryLock = %v, %v; want true", got, err)
	}
}

// TestLockCrossProcess runs a child process that takes the lock and is then
// killed with SIGKILL: the kernel must release the lock so the parent gets it.
func TestLockCrossProcess(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs flock and subprocesses")
	}
	c := newCache(t)
	id := NewKey("cross").ID()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=lock", "HELPER_DIR="+c.Dir(), "HELPER_ID="+id.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill() // no-op if already dead
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v; want locked", line, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := c.Lock(ctx, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while the helper holds it = %v, want deadline exceeded", err)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	cmd.Wait()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlock, err := c.Lock(ctx, id)
	if err != nil {
		t.Fatalf("Lock after the helper was killed: %v", err)
	}
	unlock()
}

// TestLockFileRemoval checks the protocol that lets gc remove lock files: a
// held lock file is never removed, an idle old one is, and Lock still works
// after the removal.
func TestLockFileRemoval(t *testing.T) {
	c := newCache(t)
	id := NewKey("v").ID()
	path := c.lockPath(id)
	unlock, err := c.Lock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	setAge(t, path, 48*time.Hour)
	cutoff := time.Now().Add(-staleAge)
	idle := func(dryRun bool) bool {
		t.Helper()
		ok, err := c.lockIdle(path, cutoff, dryRun)
		if err != nil {
			t.Fatalf("lockIdle(dryRun=%v): %v", dryRun, err)
		}
		return ok
	}
	if idle(false) {
		t.Error("lockIdle removed a held lock file")
	}
	unlock()
	if !idle(true) || !exists(path) {
		t.Error("dry run: lockIdle should report but keep an idle old lock file")
	}
	if !idle(false) || exists(path) {
		t.Error("lockIdle kept an idle old lock file")
	}
	unlock, err = c.Lock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if idle(false) {
		t.Error("lockIdle removed a recently used lock file")
	}
}

// TestLockStaleInode covers the check Lock makes after flock succeeds: if gc
// removed the file between Lock's open and its flock, the lock is on an
// unlinked inode that excludes nobody, and samePath must say so.
func TestLockStaleInode(t *testing.T) {
	c := newCache(t)
	id := NewKey("v").ID()
	path := c.lockPath(id)
	unlock, err := c.Lock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		step   string
		change func()
		want   bool
	}{
		{"untouched", func() {}, true},
		{"removed", func() { os.Remove(path) }, false},
		{"recreated", func() { os.WriteFile(path, nil, 0o666) }, false},
	}
	for _, tt := range tests {
		tt.change()
		if got := samePath(f, path); got != tt.want {
			t.Errorf("%s: samePath = %v, want %v", tt.step, got, tt.want)
		}
	}
	// Holding the orphaned inode must not block Lock on the new file.
	if ok, err := tryLock(f); !ok || err != nil {
		t.Fatalf("tryLock(orphan) = %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	u, err := c.Lock(ctx, id)
	if err != nil {
		t.Fatalf("Lock with an orphaned inode held: %v", err)
	}
	u()
}

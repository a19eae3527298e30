package artifacts

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// errWaited ends a Lock whose wait a test replaced (see noWait).
var errWaited = errors.New("Lock waited")

// noWait makes every Lock of c that finds its lock taken fail at once with errWaited,
// instead of polling, so a test can tell whether Lock was blocked without timing it.
func noWait(c *Cache) {
	c.lockWait = func(context.Context) error { return errWaited }
}

// TestLockBlocksUntilUnlock steps a second Lock through its polls: it is blocked (it
// waits) while the first holds the lock, and acquires at its first try after unlock.
func TestLockBlocksUntilUnlock(t *testing.T) {
	c := newCache(t)
	id := NewKey("v").ID()
	unlock, err := c.Lock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	blocked, proceed := make(chan struct{}), make(chan struct{})
	c.lockWait = func(context.Context) error {
		blocked <- struct{}{}
		<-proceed
		return nil
	}
	acquired := make(chan func(), 1)
	go func() {
		u, err := c.Lock(context.Background(), id)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		acquired <- u
	}()
	// Two polls while the lock is held: Lock only waits after a try failed.
	for i := range 2 {
		select {
		case u := <-acquired:
			u()
			t.Fatalf("second Lock succeeded at try %d while the first was held", i+1)
		case <-blocked:
		}
		if i == 0 {
			proceed <- struct{}{}
		}
	}
	unlock()
	unlock() // idempotent
	proceed <- struct{}{}
	select {
	case u := <-acquired:
		u()
	case <-blocked:
		proceed <- struct{}{} // let it go on; the test has failed
		t.Fatal("second Lock still blocked at its first try after unlock")
	}
}

func TestLockIndependentIDs(t *testing.T) {
	c := newCache(t)
	u1, err := c.Lock(context.Background(), NewKey("a").ID())
	if err != nil {
		t.Fatal(err)
	}
	defer u1()
	noWait(c)
	u2, err := c.Lock(context.Background(), NewKey("b").ID())
	if err != nil {
		t.Fatalf("Lock of another ID: %v", err)
	}
	u2()
}

// TestLockContext checks that a Lock blocked on a held lock gives up when its context
// ends. It counts Lock's tries (opens of the lock file) and waits instead of timing it:
// once the context is canceled, Lock must neither try nor wait again, whether its wait
// saw the cancellation or its poll timer fired first.
func TestLockContext(t *testing.T) {
	c := newCache(t)
	id := NewKey("v").ID()
	unlock, err := c.Lock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var tries int
	c.fs.openFile = func(name string, flag int, perm fs.FileMode) (*os.File, error) {
		tries++
		return os.OpenFile(name, flag, perm)
	}

	tests := []struct {
		name     string
		cancelAt int  // cancel during this wait; 0: before Lock
		waitErr  bool // the wait returns the cancellation, rather than its timer firing
	}{
		{name: "already canceled"},
		{name: "canceled while waiting", cancelAt: 3, waitErr: true},
		{name: "canceled as the poll timer fires", cancelAt: 3},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithCancel(context.Background())
		if tt.cancelAt == 0 {
			cancel()
		}
		waits := 0
		c.lockWait = func(ctx context.Context) error {
			waits++
			if waits == tt.cancelAt {
				cancel()
				if tt.waitErr {
					return ctx.Err()
				}
			}
			if waits == tt.cancelAt+10 {
				// Lock ignores the cancellation: free the lock so that the test
				// ends (failing) instead of hanging.
				unlock()
			}
			return nil
		}
		tries = 0
		u, err := c.Lock(ctx, id)
		if u != nil {
			u()
		}
		if !errors.Is(err, context.Canceled) || u != nil {
			t.Errorf("%s: Lock = %v, want context.Canceled", tt.name, err)
		}
		if waits != tt.cancelAt || tries != tt.cancelAt {
			t.Errorf("%s: Lock tried %d times and waited %d; want %d of each: nothing after the cancellation", tt.name, tries, waits, tt.cancelAt)
		}
		cancel()
	}

	// A canceled context does not acquire even a free lock.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Lock(canceled, NewKey("free").ID()); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock(canceled) of a free lock = %v, want context.Canceled", err)
	}

	// The real wait ends at a deadline too. How long that took is logged, not asserted.
	c.lockWait = waitPoll
	tries = 0
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	start := time.Now()
	if u, err := c.Lock(ctx, id); !errors.Is(err, context.DeadlineExceeded) || u != nil {
		t.Errorf("Lock past its deadline = %v, want context.DeadlineExceeded", err)
	}
	t.Logf("a 60 ms deadline ended a blocked Lock after %v (%d tries)", time.Since(start), tries)
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

	// Lock tries once and finds the lock taken: it would wait.
	noWait(c)
	if _, err := c.Lock(context.Background(), id); !errors.Is(err, errWaited) {
		t.Fatalf("Lock while the helper holds it = %v, want it blocked", err)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	// The helper's descriptors, and with them its lock, are gone once Wait returns, so
	// the first try succeeds.
	cmd.Wait()
	unlock, err := c.Lock(context.Background(), id)
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
	noWait(c)
	u, err := c.Lock(context.Background(), id)
	if err != nil {
		t.Fatalf("Lock with an orphaned inode held: %v", err)
	}
	u()
}

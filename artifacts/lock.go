package artifacts

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// lockPoll is how often a blocked Lock retries. Waiting for another stage to
// finish takes seconds to hours, so 25 ms adds no noticeable latency, and
// polling a non-blocking flock lets Lock honour its context without a
// goroutine stuck in a blocking system call.
const lockPoll = 25 * time.Millisecond

// Lock takes the exclusive lock for action id, blocking until it is free or
// ctx is done, and returns the function that releases it.
//
// The lock lets several modulo processes sharing a cache compute each action
// once: process A locks, misses, computes and writes the entry, then unlocks;
// process B, which blocked in Lock meanwhile, checks GetEntry again after
// locking and finds A's result. Correctness never depends on it (writes are
// atomic and content-addressed, so two processes computing the same action
// merely waste time); it only saves work.
//
// The lock is a flock(2) on locks/xx/<id>, so the kernel releases it when
// the holder exits for any reason, including SIGKILL. flock locks belong to
// an open file description, and Lock opens the file anew on each call, so
// two goroutines of one process exclude each other just as two processes do.
// The returned unlock function may be called more than once; calls after the
// first do nothing. Unlock leaves the file in place (removing it would race
// with a process that has just opened it); gc removes lock files that have
// not been used for a day.
//
// A lock file that cannot be created or opened (a read-only or full cache)
// is a [*DiskError] naming it and the remedy.
func (c *Cache) Lock(ctx context.Context, id ActionID) (unlock func(), err error) {
	path := c.lockPath(id)
	if err := c.fs.mkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, diskError("take", roleLock, path, c.dir, err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// O_RDWR although flock needs no write access: on NFS, flock is
		// emulated with POSIX locks, and an exclusive one needs it.
		f, err := c.fs.openFile(path, os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			return nil, diskError("take", roleLock, path, c.dir, err)
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, diskError("take", roleLock, path, c.dir, err)
		}
		if ok && samePath(f, path) {
			// Touching the file marks it as in use for gc, which only
			// removes lock files idle for a day. Best effort: a lock
			// file removed by gc is simply recreated by the next Lock.
			now := time.Now()
			_ = os.Chtimes(path, now, now)
			var once sync.Once
			return func() { once.Do(func() { unlockFile(f) }) }, nil
		}
		if ok {
			// gc removed the file between our open and our flock: we hold
			// a lock on an unlinked inode that excludes nobody. Start over
			// with whatever file is at path now.
			unlockFile(f)
			continue
		}
		f.Close()
		if err := c.lockWait(ctx); err != nil {
			return nil, err
		}
	}
}

// waitPoll is how a blocked Lock waits before trying again: lockPoll, or
// until ctx is done, in which case it returns ctx's error. It is a field of
// Cache (lockWait) so that tests can count the tries of a blocked Lock and
// end its wait when they choose, instead of timing it.
func waitPoll(ctx context.Context) error {
	t := time.NewTimer(lockPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// samePath reports whether the open file f is still the file named path.
func samePath(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// lockIdle removes the lock file at path if nobody holds it and it has not
// been used since before cutoff, and reports whether it did (or, with
// dryRun, would have). Removing while holding the lock is what makes this
// safe: a process that opened the old file will find after locking it that
// the path no longer names it, and retry.
//
// The error reports a lock file unused since cutoff that could not be
// opened for writing or removed (a read-only cache); a dry run, which
// changes nothing, reports none.
func (c *Cache) lockIdle(path string, cutoff time.Time, dryRun bool) (bool, error) {
	f, err := c.fs.openFile(path, os.O_RDWR, 0)
	if err != nil {
		if dryRun || errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	ok, err := tryLock(f)
	if err != nil || !ok {
		return false, nil // held, or not lockable: in use either way
	}
	defer unlockFile(f)
	fi, err := f.Stat()
	if err != nil || !fi.ModTime().Before(cutoff) || !samePath(f, path) {
		return false, nil
	}
	if dryRun {
		return true, nil
	}
	return c.removeFile(path)
}

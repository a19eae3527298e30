package artifacts

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A fault says which file system call fails, and how: it is given the call ("mkdir",
// "create", "write", "rename", "remove", "open") and the path it acts on (the directory
// for create, the destination for rename) and returns the error number to fail with, or
// 0 to let the call through.
type fault func(op, path string) syscall.Errno

// faultFS is the real file system, except where fail says otherwise; a failing call
// returns what the real one would, an *fs.PathError (an *os.LinkError for rename).
//
// This is how these tests make a cache read-only or full: they run as root, here and in
// CI, and root writes through any mode bits chmod sets.
func faultFS(fail fault) fsys {
	check := func(op, path string) error {
		if e := fail(op, path); e != 0 {
			return &fs.PathError{Op: op, Path: path, Err: e}
		}
		return nil
	}
	return fsys{
		mkdirAll: func(path string, perm fs.FileMode) error {
			if err := check("mkdir", path); err != nil {
				return err
			}
			return os.MkdirAll(path, perm)
		},
		createTemp: func(dir, pattern string) (*os.File, error) {
			if err := check("create", dir); err != nil {
				return nil, err
			}
			return os.CreateTemp(dir, pattern)
		},
		write: func(f *os.File, b []byte) (int, error) {
			if err := check("write", f.Name()); err != nil {
				return 0, err
			}
			return f.Write(b)
		},
		rename: func(oldpath, newpath string) error {
			if e := fail("rename", newpath); e != 0 {
				return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: e}
			}
			return os.Rename(oldpath, newpath)
		},
		remove: func(path string) error {
			if err := check("remove", path); err != nil {
				return err
			}
			return os.Remove(path)
		},
		openFile: func(name string, flag int, perm fs.FileMode) (*os.File, error) {
			if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) != 0 {
				if err := check("open", name); err != nil {
					return nil, err
				}
			}
			return os.OpenFile(name, flag, perm)
		},
	}
}

// readOnlyFS fails every change with errno, as a file system mounted read-only (EROFS)
// or a tree without write permission (EACCES) does. Creating a directory that exists
// succeeds there, as os.MkdirAll does on a read-only mount.
func readOnlyFS(errno syscall.Errno) fault {
	return func(op, path string) syscall.Errno {
		if op == "mkdir" {
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				return 0
			}
		}
		return errno
	}
}

// under fails op with errno on the paths under dir, and lets everything else through.
func under(dir, op string, errno syscall.Errno) fault {
	return func(o, path string) syscall.Errno {
		if o == op && strings.HasPrefix(path, dir+string(filepath.Separator)) {
			return errno
		}
		return 0
	}
}

// roRemedy is what every message about a read-only cache in dir must say.
func roRemedy(dir string) string {
	return "make the cache writable (chmod -R u+w " + dir + ") or point MODULO_CACHE or -cache at a cache you can write"
}

// TestGCVerifyReadOnly runs gc and verify on a cache they cannot change. Where they would
// change it, they must fail, naming the file, its role and the remedy, and keep the
// cause reachable with errors.Is; they must remove nothing and report what they did.
// A dry run and a verify without repair change nothing, so they still succeed.
//
// The cache holds entry "old" (two days unused; its key blob and blob "x", which is
// damaged) and entry "new" (an hour; blob "y"), so that gc -max-age 24h would remove
// "old" and its two blobs, and verify -repair the blob "x" and the entry "old" that
// needs it.
func TestGCVerifyReadOnly(t *testing.T) {
	type paths struct{ dir, oldEntry, x string }
	tests := []struct {
		name  string
		fault func(p paths) fault
		run   func(c *Cache) (report any, err error)
		// want is the report; wantIs the cause errors.Is must find (nil: no error);
		// wantMsg what the message must contain.
		want    any
		wantIs  error
		wantMsg func(p paths) []string
		removed int // files gone afterwards
	}{{
		name:  "gc, read-only file system",
		fault: func(paths) fault { return readOnlyFS(syscall.EROFS) },
		run:   gc(GCOptions{MaxAge: 24 * time.Hour}),
		want:  GCReport{}, wantIs: syscall.EROFS,
		wantMsg: func(p paths) []string {
			return []string{"cannot write to the cache directory " + p.dir + ": ", "read-only file system", roRemedy(p.dir)}
		},
	}, {
		name:  "gc, no write permission",
		fault: func(paths) fault { return readOnlyFS(syscall.EACCES) },
		run:   gc(GCOptions{MaxAge: 24 * time.Hour}),
		want:  GCReport{}, wantIs: fs.ErrPermission,
		wantMsg: func(p paths) []string {
			return []string{"cannot write to the cache directory " + p.dir + ": ", "permission denied", roRemedy(p.dir)}
		},
	}, {
		name:  "gc dry run, read-only file system",
		fault: func(paths) fault { return readOnlyFS(syscall.EROFS) },
		run:   gc(GCOptions{MaxAge: 24 * time.Hour, DryRun: true}),
		want:  GCReport{RemovedEntries: 1, RemovedBlobs: 2, Kept: 1},
	}, {
		name:  "gc, entries cannot be removed",
		fault: func(p paths) fault { return under(filepath.Join(p.dir, acDir), "remove", syscall.EACCES) },
		run:   gc(GCOptions{MaxAge: 24 * time.Hour}),
		// The entry stays, so its blobs are still referenced and stay too.
		want: GCReport{Kept: 2, Failed: 1}, wantIs: fs.ErrPermission,
		wantMsg: func(p paths) []string {
			return []string{"cannot remove action entry " + p.oldEntry + ": permission denied; " + roRemedy(p.dir)}
		},
	}, {
		name:  "gc, blobs cannot be removed",
		fault: func(p paths) fault { return under(filepath.Join(p.dir, casDir), "remove", syscall.EROFS) },
		run:   gc(GCOptions{MaxAge: 24 * time.Hour}),
		want:  GCReport{RemovedEntries: 1, Kept: 1, Failed: 2}, wantIs: syscall.EROFS,
		wantMsg: func(p paths) []string {
			return []string{"2 files could not be removed; the first: cannot remove blob " + filepath.Join(p.dir, casDir), "read-only file system; " + roRemedy(p.dir)}
		},
		removed: 1,
	}, {
		name:  "verify -repair, read-only file system",
		fault: func(paths) fault { return readOnlyFS(syscall.EROFS) },
		run:   verify(true),
		want:  verifyCounts{}, wantIs: syscall.EROFS,
		wantMsg: func(p paths) []string {
			return []string{"cannot write to the cache directory " + p.dir + ": ", roRemedy(p.dir)}
		},
	}, {
		name:  "verify, read-only file system",
		fault: func(paths) fault { return readOnlyFS(syscall.EROFS) },
		run:   verify(false),
		want:  verifyCounts{Blobs: 4, Entries: 2, Corrupt: 1, Incomplete: 1},
	}, {
		name:  "verify -repair, damaged blob cannot be removed",
		fault: func(p paths) fault { return under(filepath.Join(p.dir, casDir), "remove", syscall.EPERM) },
		run:   verify(true),
		// The entry that needs the blob is removed: it is a miss either way.
		want: verifyCounts{Blobs: 4, Entries: 2, Corrupt: 1, Incomplete: 1, Removed: 1, Failed: 1}, wantIs: fs.ErrPermission,
		wantMsg: func(p paths) []string {
			return []string{"cannot remove blob " + p.x + ": operation not permitted; " + roRemedy(p.dir)}
		},
		removed: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			old, ids := putEntry(t, c, "old", "x")
			putEntry(t, c, "new", "y")
			p := paths{dir: c.Dir(), oldEntry: c.entryPath(old), x: c.BlobPath(ids[1])}
			flipByte(t, p.x, -2)
			setAge(t, p.oldEntry, 48*time.Hour)
			for _, id := range ids {
				setAge(t, c.BlobPath(id), 48*time.Hour)
			}
			before := fileSizes(t, c)
			c.fs = faultFS(tt.fault(p))

			got, err := tt.run(c)
			if got != tt.want {
				t.Errorf("report = %+v, want %+v", got, tt.want)
			}
			if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
			} else if !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want one wrapping %v", err, tt.wantIs)
			}
			var de *DiskError
			if tt.wantIs != nil && !errors.As(err, &de) {
				t.Errorf("err = %T, want it to wrap a *DiskError", err)
			}
			if tt.wantMsg != nil {
				for _, want := range tt.wantMsg(p) {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("message %q\ndoes not say %q", err, want)
					}
				}
			}
			if gone := len(before) - len(fileSizes(t, c)); gone != tt.removed {
				t.Errorf("%d files removed, want %d", gone, tt.removed)
			}
		})
	}
}

// gc and verify adapt GC and Verify to TestGCVerifyReadOnly's table. The verify report
// is reduced to counts, so that it can be compared with ==.
func gc(opts GCOptions) func(c *Cache) (any, error) {
	return func(c *Cache) (any, error) {
		rep, err := c.GC(opts)
		rep.FreedBytes = 0
		return rep, err
	}
}

type verifyCounts struct{ Blobs, Entries, Corrupt, Incomplete, Removed, Failed int }

func verify(repair bool) func(c *Cache) (any, error) {
	return func(c *Cache) (any, error) {
		rep, err := c.Verify(context.Background(), repair)
		return verifyCounts{rep.Blobs, rep.Entries, len(rep.Corrupt), len(rep.Incomplete), rep.Removed, rep.Failed}, err
	}
}

// TestWriteFaults makes each place the cache writes fail as a read-only or full file
// system would. The error must be a *DiskError that names the file, its role and the
// remedy, with the cause still found by errors.Is; and nothing half-written may be left
// visible, nor any temporary file behind.
func TestWriteFaults(t *testing.T) {
	data := []byte("some output")
	blob := NewOutputID(data)
	action := NewKey("action").ID()
	full := func(dir string) string {
		return "free space on the file system holding " + dir + " (modulo cache gc -max-size 10GB, say) or move the cache with MODULO_CACHE"
	}
	tests := []struct {
		name   string
		fault  fault
		do     func(c *Cache) error
		path   func(c *Cache) string // the file the message must name
		role   string
		wantIs error
		remedy func(dir string) string
		// gone checks that the failed write left nothing visible.
		gone func(c *Cache) bool
	}{{
		name:   "blob, disk full",
		fault:  func(op, _ string) syscall.Errno { return map[string]syscall.Errno{"write": syscall.ENOSPC}[op] },
		do:     func(c *Cache) error { _, _, err := c.Put(data, Raw); return err },
		path:   func(c *Cache) string { return c.BlobPath(blob) },
		role:   "store blob",
		wantIs: syscall.ENOSPC, remedy: full,
		gone: func(c *Cache) bool { return !c.Has(blob) },
	}, {
		name:   "blob, quota exceeded",
		fault:  func(op, _ string) syscall.Errno { return map[string]syscall.Errno{"write": syscall.EDQUOT}[op] },
		do:     func(c *Cache) error { _, _, err := c.Put(data, Raw); return err },
		path:   func(c *Cache) string { return c.BlobPath(blob) },
		role:   "store blob",
		wantIs: syscall.EDQUOT, remedy: full,
		gone: func(c *Cache) bool { return !c.Has(blob) },
	}, {
		name:   "blob, read-only",
		fault:  readOnlyFS(syscall.EROFS),
		do:     func(c *Cache) error { _, _, err := c.Put(data, Raw); return err },
		path:   func(c *Cache) string { return c.BlobPath(blob) },
		role:   "store blob",
		wantIs: syscall.EROFS, remedy: roRemedy,
		gone: func(c *Cache) bool { return !c.Has(blob) },
	}, {
		name:   "action entry, disk full at rename",
		fault:  func(op, _ string) syscall.Errno { return map[string]syscall.Errno{"rename": syscall.ENOSPC}[op] },
		do:     func(c *Cache) error { return c.PutEntry(action, &Entry{Stage: "s", Outputs: map[string]Output{}}) },
		path:   func(c *Cache) string { return c.entryPath(action) },
		role:   "store action entry",
		wantIs: syscall.ENOSPC, remedy: full,
		gone: func(c *Cache) bool { _, err := c.GetEntry(action); return errors.Is(err, ErrMiss) },
	}, {
		name:   "action entry, no permission",
		fault:  readOnlyFS(syscall.EACCES),
		do:     func(c *Cache) error { return c.PutEntry(action, &Entry{Stage: "s", Outputs: map[string]Output{}}) },
		path:   func(c *Cache) string { return c.entryPath(action) },
		role:   "store action entry",
		wantIs: fs.ErrPermission, remedy: roRemedy,
		gone: func(c *Cache) bool { _, err := c.GetEntry(action); return errors.Is(err, ErrMiss) },
	}, {
		name:   "lock, read-only",
		fault:  readOnlyFS(syscall.EROFS),
		do:     func(c *Cache) error { _, err := c.Lock(t.Context(), action); return err },
		path:   func(c *Cache) string { return c.lockPath(action) },
		role:   "take the lock",
		wantIs: syscall.EROFS, remedy: roRemedy,
		gone: func(c *Cache) bool { return !exists(c.lockPath(action)) },
	}, {
		name:   "lock, disk full",
		fault:  func(op, _ string) syscall.Errno { return map[string]syscall.Errno{"open": syscall.ENOSPC}[op] },
		do:     func(c *Cache) error { _, err := c.Lock(t.Context(), action); return err },
		path:   func(c *Cache) string { return c.lockPath(action) },
		role:   "take the lock",
		wantIs: syscall.ENOSPC, remedy: full,
		gone: func(c *Cache) bool { return !exists(c.lockPath(action)) },
	}, {
		name:  "cache directory, read-only",
		fault: readOnlyFS(syscall.EROFS),
		do: func(c *Cache) error {
			_, err := open(filepath.Join(c.Dir(), "sub"), c.fs)
			return err
		},
		path:   func(c *Cache) string { return filepath.Join(c.Dir(), "sub") },
		role:   "create the cache directory",
		wantIs: syscall.EROFS, remedy: roRemedy,
		gone: func(c *Cache) bool { return !exists(filepath.Join(c.Dir(), "sub")) },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			c.fs = faultFS(tt.fault)
			err := tt.do(c)
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want one wrapping %v", err, tt.wantIs)
			}
			var de *DiskError
			if !errors.As(err, &de) {
				t.Fatalf("err = %T %v, want a *DiskError", err, err)
			}
			dir := c.Dir()
			if tt.role == "create the cache directory" {
				dir = tt.path(c)
			}
			msg := err.Error()
			for _, want := range []string{"cannot " + tt.role + " " + tt.path(c) + ": ", tt.remedy(dir)} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q\ndoes not say %q", msg, want)
				}
			}
			if !tt.gone(c) {
				t.Errorf("the failed write left its file visible")
			}
			if tmps, _ := os.ReadDir(filepath.Join(c.Dir(), tmpDir)); len(tmps) > 0 {
				t.Errorf("the failed write left %d temporary files", len(tmps))
			}
		})
	}
}

// TestOpenNotADirectory opens a cache where a regular file is in the way, at the cache
// directory or above it: something chmod cannot stand in for but a user can do, and
// that fails even for root. The message names the file in the way and the remedy.
func TestOpenNotADirectory(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("not a cache"), 0o666); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir string
	}{
		{"the cache directory is a file", file},
		{"its parent is a file", filepath.Join(file, "cache")},
	}
	for _, tt := range tests {
		_, err := Open(tt.dir)
		if !errors.Is(err, syscall.ENOTDIR) {
			t.Fatalf("%s: Open = %v, want ENOTDIR", tt.name, err)
		}
		msg := err.Error()
		for _, want := range []string{
			"cannot create the cache directory " + tt.dir + ": ",
			"move away the file at " + file + ", which is in the way of a directory, or point MODULO_CACHE or -cache at another directory",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message %q\ndoes not say %q", tt.name, msg, want)
			}
		}
	}
}

// TestGCDebrisFaults: stale temporary and lock files that cannot be removed are counted
// and named with their role, like entries and blobs.
func TestGCDebrisFaults(t *testing.T) {
	tests := []struct {
		name, sub, role string
		errno           syscall.Errno
	}{
		{"temporary file", tmpDir, "temporary file", syscall.EROFS},
		{"lock file", locksDir, "the lock", syscall.EACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			tmp := filepath.Join(c.Dir(), tmpDir, "w-old")
			if err := os.WriteFile(tmp, []byte("partial"), 0o666); err != nil {
				t.Fatal(err)
			}
			setAge(t, tmp, 48*time.Hour)
			id := NewKey("old").ID()
			unlock, err := c.Lock(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			unlock()
			setAge(t, c.lockPath(id), 48*time.Hour)
			bad := map[string]string{tmpDir: tmp, locksDir: c.lockPath(id)}[tt.sub]
			c.fs = faultFS(func(op, path string) syscall.Errno {
				if op == "remove" && path == bad {
					return tt.errno
				}
				return 0
			})

			rep, err := c.GC(GCOptions{})
			want := GCReport{RemovedTemp: 1, RemovedLocks: 1, Failed: 1}
			if tt.sub == tmpDir {
				want.RemovedTemp = 0
			} else {
				want.RemovedLocks = 0
			}
			rep.FreedBytes = 0
			if rep != want {
				t.Errorf("report = %+v, want %+v", rep, want)
			}
			if !errors.Is(err, tt.errno) {
				t.Fatalf("err = %v, want one wrapping %v", err, tt.errno)
			}
			if want := "cannot remove " + tt.role + " " + bad + ": "; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), roRemedy(c.Dir())) {
				t.Errorf("message %q\ndoes not say %q and the remedy", err, want)
			}
			if !exists(bad) {
				t.Errorf("%s is gone", bad)
			}
		})
	}
}

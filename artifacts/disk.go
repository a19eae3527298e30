package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrMiss is returned (possibly wrapped) when the cache cannot serve a
// request. Callers treat every miss alike: compute the result and store it.
var ErrMiss = errors.New("cache miss")

// ErrIncomplete is returned (wrapped, with the action and blob) by
// [Cache.GetEntry] when an entry exists but a blob it references does not,
// typically because gc or a user removed it. It wraps [ErrMiss].
var ErrIncomplete = fmt.Errorf("%w: incomplete entry", ErrMiss)

// A CorruptError reports a cache file that exists but cannot be trusted:
// undecodable, truncated, or whose content does not match its name. It is a
// miss (errors.Is(err, ErrMiss) is true) so callers recompute, and it is a
// distinct type so they can warn "corrupt cache entry ..., recomputing". The
// file has already been removed (best effort) when the error is returned, so
// the recomputed result replaces it.
type CorruptError struct {
	Path   string
	Reason string
}

var _ error = (*CorruptError)(nil)

func (e *CorruptError) Error() string {
	return "corrupt cache entry " + e.Path + ": " + e.Reason
}

// Is makes every CorruptError match ErrMiss.
func (e *CorruptError) Is(target error) bool { return target == ErrMiss }

// A Cache is a cache directory on local disk. Its methods are safe for
// concurrent use by many goroutines and by many processes sharing the
// directory: files are only ever created by renaming a complete temporary
// file into place, and content-addressed files with the same name have the
// same content, so concurrent writers cannot conflict.
type Cache struct {
	dir    string
	remote *Remote // nil: local only
	fs     fsys    // how the cache changes dir; tests inject faults here
	// lockWait is how a blocked Lock waits before trying again: waitPoll,
	// except in tests that count the tries.
	lockWait func(context.Context) error
}

// Subdirectories of a cache directory; README.md explains them to humans.
const (
	casDir   = "cas"
	acDir    = "ac"
	tmpDir   = "tmp"
	locksDir = "locks"
)

const readme = `This directory is modulo's result cache.

modulo runs pipelines of machine-learning stages and keeps every result here,
keyed by a hash of everything that influenced it, so a stage whose inputs,
parameters and code are unchanged is never run twice. The layout follows Go's
build cache:

  cas/xx/<hash>    content-addressed blobs: each output's bytes, compressed
                   with zstd, named by the SHA-256 of the uncompressed bytes.
  ac/xx/<hash>     action entries (JSON): for each stage run, named by the hash
                   of its description, the list of blobs it produced.
  locks/xx/<hash>  empty lock files that let several modulo processes share
                   this directory without computing the same stage twice.
  tmp/             files being written; they are renamed into place when
                   complete, so a killed process never leaves a partial entry.
  state/           per pipeline, the entry each node last found (.state), so
                   that a rerun with nothing to do need not open every entry,
                   and the record of the last such rerun (.noop), so that the
                   next need not even plan.
  generation       a token that changes whenever a blob or an entry is
                   removed (gc, verify -repair, a damaged file): while it is
                   unchanged, what state/ remembers is still here. Deleting
                   files by hand bypasses it; run 'modulo cache verify' after.

It is safe to delete this whole directory at any time when no modulo process
is running: everything in it can be recomputed. Damaged files are detected on
read and recomputed rather than trusted.

'modulo cache gc' trims the cache by age and size, and 'modulo cache verify'
checks every file (with -repair it removes the damaged ones). The location
can be changed with the MODULO_CACHE environment variable.

A read-only copy of this directory still serves cached results; storing a new
one, gc and verify -repair need write access and say so when they lack it.
`

// DefaultDir returns the cache directory to use when none is configured:
// $MODULO_CACHE if set (made absolute), else $XDG_CACHE_HOME/modulo, else
// the OS user cache directory plus "modulo". A relative $XDG_CACHE_HOME is
// an error, as the XDG specification and os.UserCacheDir have it.
func DefaultDir() (string, error) {
	if d := os.Getenv("MODULO_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "modulo"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate cache directory (set MODULO_CACHE): %w", err)
	}
	return filepath.Join(d, "modulo"), nil
}

// Open opens the cache in dir, creating dir and its layout as needed. Several
// processes may open the same directory at once. The 256 shard directories
// under cas/, ac/ and locks/ are created lazily on first write, which keeps
// Open cheap for commands that only read.
//
// A directory that cannot be created is a [*DiskError] that names it and the remedy;
// a cache that exists but is read-only opens without error, since it still serves hits.
func Open(dir string) (*Cache, error) {
	return open(dir, osFS)
}

// open is Open with the file system calls to use.
func open(dir string, fsys fsys) (*Cache, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open cache: %w", err)
	}
	for _, sub := range []string{casDir, acDir, tmpDir, locksDir} {
		if err := fsys.mkdirAll(filepath.Join(dir, sub), 0o777); err != nil {
			return nil, diskError("create", roleDir, dir, dir, err)
		}
	}
	c := &Cache{dir: dir, fs: fsys, lockWait: waitPoll}
	p := filepath.Join(dir, "README.md")
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		// The README is documentation only; failing to write it must not
		// stop a run, and a racing Open writes the same text.
		_ = c.writeAtomic(p, roleReadme, []byte(readme))
	}
	return c, nil
}

// Dir returns the cache's absolute directory.
func (c *Cache) Dir() string { return c.dir }

// BlobPath returns the path of the blob for id, whether or not it exists.
func (c *Cache) BlobPath(id OutputID) string {
	h := id.String()
	return filepath.Join(c.dir, casDir, shard(h), h)
}

func (c *Cache) entryPath(id ActionID) string {
	h := id.String()
	return filepath.Join(c.dir, acDir, shard(h), h)
}

func (c *Cache) lockPath(id ActionID) string {
	h := id.String()
	return filepath.Join(c.dir, locksDir, shard(h), h)
}

// writeAtomic writes data to path by way of a temporary file in tmp/ and a
// rename, so readers see either the old file or the complete new one. The
// temporary file is on the same file system as its destination (both are in
// the cache), which rename requires.
//
// There is deliberately no fsync: after a power loss the renamed file may be
// empty or torn, but every read checks a digest and turns that into a miss,
// and an fsync per write would cost milliseconds on every stage.
//
// A failure is a [*DiskError] naming path in its role (a blob, an action
// entry), whichever step failed: the user needs to know what could not be
// stored and why, not the name of a temporary file.
func (c *Cache) writeAtomic(path, role string, data []byte) error {
	if err := c.writeTemp(path, data); err != nil {
		return diskError("store", role, path, c.dir, err)
	}
	return nil
}

func (c *Cache) writeTemp(path string, data []byte) (err error) {
	if err := c.fs.mkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	f, err := c.fs.createTemp(filepath.Join(c.dir, tmpDir), "w-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			// Best effort: a leftover temp file is removed by gc after a day.
			_ = c.fs.remove(tmp)
		}
	}()
	if _, err := c.fs.write(f, data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return c.fs.rename(tmp, path)
}

// checkWritable makes sure the cache can be changed before a command that
// exists to change it (gc, verify -repair) starts: on a read-only cache
// every removal would fail, and one clear error up front is better than as
// many as there are files. It creates and removes a temporary file.
func (c *Cache) checkWritable() error {
	f, err := c.fs.createTemp(filepath.Join(c.dir, tmpDir), "probe-*")
	if err != nil {
		return diskError("write to", roleDir, c.dir, c.dir, err)
	}
	name := f.Name()
	f.Close()
	if err := c.fs.remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return diskError("write to", roleDir, c.dir, c.dir, err)
	}
	return nil
}

// errNotRegular is returned by readFile for a directory, device or the like
// where a cache file should be: something no cache writer creates.
var errNotRegular = errors.New("not a regular file")

// readFile reads path and returns its content with the file's metadata from
// the same open file, so a later removeIfSame can make sure it removes the
// file it read and not one renamed into place since.
func readFile(path string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi, errNotRegular
	}
	// Read at most one byte past the size Stat reported, which also bounds
	// memory if the file is growing under us (it should never be).
	data, err := io.ReadAll(io.LimitReader(f, fi.Size()+1))
	if err != nil {
		return nil, fi, err
	}
	return data, fi, nil
}

// corrupt removes the untrustworthy file at path, if it is still the file
// described by fi, and returns the CorruptError describing it.
//
// Removal is best effort: if it fails the next reader finds the same damage
// and misses again, and the next writer's rename replaces the file anyway.
// The SameFile check keeps us from deleting a valid file that a concurrent
// writer renamed over the damaged one after we read it; a tiny window between
// that check and the remove remains, and losing that race only costs a
// recomputation.
func (c *Cache) corrupt(path string, fi fs.FileInfo, reason string) *CorruptError {
	_, _ = c.removeIfSame(path, fi)
	return &CorruptError{Path: path, Reason: reason}
}

// removeIfSame removes path if it still names the file described by fi (or
// unconditionally if fi is nil) and reports whether it did. A file that is
// gone or has been replaced is not an error; a removal that fails is, and
// the caller wraps it with the file's role.
func (c *Cache) removeIfSame(path string, fi fs.FileInfo) (bool, error) {
	if fi != nil {
		now, err := os.Lstat(path)
		if err != nil || !os.SameFile(fi, now) {
			return false, nil
		}
	}
	return c.removeFile(path)
}

// removeFile removes path and reports whether it did. A file already gone,
// removed by a concurrent gc or repair, is not an error.
func (c *Cache) removeFile(path string) (bool, error) {
	if c.holdsResult(path) {
		if err := c.newGeneration(); err != nil {
			return false, err
		}
	}
	err := c.fs.remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

package artifacts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// DefaultGrace is how old an unreferenced blob must be before gc removes it.
// A running modulo process stores a stage's blobs first and its entry last,
// so for a while its fresh blobs are referenced by nothing; any stage that
// takes less than an hour between its first Put and its PutEntry (and Put
// refreshes the mtime of a blob it finds already present) is safe from a
// concurrent gc.
const DefaultGrace = time.Hour

// staleAge is how old a temporary or lock file must be before gc removes
// it. A temporary file lives for the duration of one write and a lock file
// is touched whenever it is taken, so a day-old one belongs to a process
// that was killed or has long finished.
const staleAge = 24 * time.Hour

// GCOptions says what [Cache.GC] may remove.
type GCOptions struct {
	// MaxAge removes entries not used (by mtime) for longer than this;
	// 0 means no age limit. A hit refreshes an entry's mtime at most once
	// an hour (see mtimeInterval), so limits under a few hours are
	// imprecise.
	MaxAge time.Duration
	// MaxSize then removes least recently used entries until the entries
	// and the blobs they reference total at most MaxSize bytes on disk;
	// 0 means no size limit.
	MaxSize int64
	// Keep lists entries that are never removed, nor any blob they
	// reference (the entries of the pipeline being run, say).
	Keep map[ActionID]bool
	// DryRun reports what would be removed without removing anything.
	DryRun bool
	// Grace is how old an unreferenced blob must be to be removed; 0
	// means DefaultGrace and a negative value means no grace at all,
	// which is only safe when no other process uses the cache.
	Grace time.Duration
}

// GCReport says what [Cache.GC] removed (or, with DryRun, would remove).
type GCReport struct {
	RemovedEntries, RemovedBlobs int
	FreedBytes                   int64
	Kept                         int // entries remaining
	RemovedTemp, RemovedLocks    int // stale tmp/ and locks/ files
	// Failed counts the files GC meant to remove but could not; the
	// error GC returns then names the first and the remedy.
	Failed int
}

// gcEntry is an entry as gc sees it.
type gcEntry struct {
	f    file
	refs []OutputID
	keep bool
}

// GC trims the cache. It removes entries by age, then by size in least
// recently used order, then every blob no remaining entry references (if
// older than the grace period), then stale temporary and lock files.
// Unparsable entries are removed too, unless kept: they are misses anyway.
//
// GC may run while other processes use the cache. Each removal re-checks the
// file's mtime first, so an entry hit or a blob re-Put since the scan
// survives; the remaining races cost at most a recomputation, never a wrong
// result, because a reader checks everything it reads.
//
// GC does what it can and says what it could not. Unless it is a dry run,
// it first makes sure it can write the cache at all, and returns a
// [*DiskError] naming the cache directory and the remedy if not (a read-only
// cache). A file it then fails to remove is counted in the report's Failed,
// left in place (the next GC retries it), and GC goes on; the error returned
// names the first such file, its role and the remedy. A file already
// removed by someone else is not a failure.
func (c *Cache) GC(opts GCOptions) (GCReport, error) {
	now := time.Now()
	grace := opts.Grace
	if grace == 0 {
		grace = DefaultGrace
	}
	var rep GCReport
	if !opts.DryRun {
		if err := c.checkWritable(); err != nil {
			return rep, err
		}
	}
	var failures removeFailures
	remove := func(f file, role string) bool {
		if !unchanged(f) {
			return false
		}
		if !opts.DryRun {
			ok, err := c.removeFile(f.path)
			if err != nil {
				failures.add(diskError("remove", role, f.path, c.dir, err))
				return false
			}
			if !ok {
				return false
			}
		}
		rep.FreedBytes += f.size
		return true
	}

	// Scan entries and blobs.
	var entries []*gcEntry
	err := c.walk(acDir, func(f file) error {
		id, err := ParseActionID(f.name)
		if err != nil {
			return nil // not ours; leave it alone
		}
		keep := opts.Keep[id]
		e, err := readEntryQuiet(f.path, id)
		if err != nil {
			if errors.Is(err, ErrMiss) && !keep && remove(f, roleEntry) {
				rep.RemovedEntries++
			}
			return nil
		}
		entries = append(entries, &gcEntry{f: f, refs: e.Refs(), keep: keep})
		return nil
	})
	if err != nil {
		return rep, err
	}
	blobs := map[OutputID]file{}
	err = c.walk(casDir, func(f file) error {
		if id, err := ParseOutputID(f.name); err == nil {
			blobs[id] = f
		}
		return nil
	})
	if err != nil {
		return rep, err
	}

	// Reference counts and the total size of what the entries hold.
	refs := map[OutputID]int{}
	var total int64
	for _, e := range entries {
		total += e.f.size
		for _, id := range e.refs {
			if refs[id] == 0 {
				total += blobs[id].size
			}
			refs[id]++
		}
	}
	drop := func(e *gcEntry) {
		if e.keep || !remove(e.f, roleEntry) {
			return
		}
		rep.RemovedEntries++
		total -= e.f.size
		for _, id := range e.refs {
			if refs[id]--; refs[id] == 0 {
				total -= blobs[id].size
			}
		}
		e.f.path = "" // mark as gone
	}

	// Oldest first, for both limits.
	slices.SortFunc(entries, func(a, b *gcEntry) int { return a.f.mtime.Compare(b.f.mtime) })
	if opts.MaxAge > 0 {
		cutoff := now.Add(-opts.MaxAge)
		for _, e := range entries {
			if e.f.mtime.Before(cutoff) {
				drop(e)
			}
		}
	}
	if opts.MaxSize > 0 {
		for _, e := range entries {
			if total <= opts.MaxSize {
				break
			}
			if e.f.path != "" {
				drop(e)
			}
		}
	}
	for _, e := range entries {
		if e.f.path != "" {
			rep.Kept++
		}
	}

	// Unreferenced blobs past the grace period.
	blobCutoff := now.Add(-grace)
	for id, f := range blobs {
		if refs[id] == 0 && (grace < 0 || f.mtime.Before(blobCutoff)) && remove(f, roleBlob) {
			rep.RemovedBlobs++
		}
	}

	err = c.gcDebris(now.Add(-staleAge), opts.DryRun, remove, &failures, &rep)
	rep.Failed = failures.n
	if err == nil {
		err = failures.err()
	}
	return rep, err
}

// removeFailures collects the removals that failed: how many, and the first,
// which stands for the rest (on a read-only cache they all fail alike).
type removeFailures struct {
	n     int
	first error
}

func (r *removeFailures) add(err error) {
	if r.n == 0 {
		r.first = err
	}
	r.n++
}

// err summarises the failures as one error wrapping the first, or nil.
func (r *removeFailures) err() error {
	switch r.n {
	case 0:
		return nil
	case 1:
		return r.first
	}
	return fmt.Errorf("%d files could not be removed; the first: %w", r.n, r.first)
}

// gcDebris removes what killed processes leave behind: temporary files and
// lock files last touched before cutoff.
func (c *Cache) gcDebris(cutoff time.Time, dryRun bool, remove func(file, string) bool, failures *removeFailures, rep *GCReport) error {
	dir := filepath.Join(c.dir, tmpDir)
	tmps, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, de := range tmps {
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
			continue
		}
		if remove(file{de.Name(), filepath.Join(dir, de.Name()), fi.Size(), fi.ModTime(), fi}, roleTemp) {
			rep.RemovedTemp++
		}
	}
	return c.walk(locksDir, func(f file) error {
		if !f.mtime.Before(cutoff) {
			return nil
		}
		ok, err := c.lockIdle(f.path, cutoff, dryRun)
		if err != nil {
			failures.add(diskError("remove", roleLock, f.path, c.dir, err))
		}
		if ok {
			rep.RemovedLocks++
		}
		return nil
	})
}

// readEntryQuiet is readEntry without its side effect of removing a corrupt
// file, so that gc's DryRun really removes nothing.
func readEntryQuiet(path string, id ActionID) (*Entry, error) {
	data, _, err := readFile(path)
	if errors.Is(err, errNotRegular) {
		return nil, &CorruptError{Path: path, Reason: err.Error()}
	}
	if err != nil {
		// Vanished, or unreadable for a reason that removing would not
		// cure (permissions): not a miss, so gc leaves the file alone.
		return nil, err
	}
	e, reason := parseEntry(data, id)
	if reason != "" {
		return nil, &CorruptError{Path: path, Reason: reason}
	}
	return e, nil
}

// unchanged reports whether f is still at its path with the mtime gc saw.
// A changed mtime means someone used the file since the scan (a hit on an
// entry, a re-Put of a blob), which makes it no longer a candidate.
func unchanged(f file) bool {
	fi, err := os.Lstat(f.path)
	return err == nil && os.SameFile(fi, f.info) && fi.ModTime().Equal(f.mtime)
}

package artifacts

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
)

// VerifyReport says what [Cache.Verify] found.
type VerifyReport struct {
	Blobs, Entries int      // files examined
	Corrupt        []string // paths of damaged blobs and entries, sorted
	// Incomplete lists the paths of well-formed entries that reference a
	// missing or damaged blob; such entries are misses, like corrupt ones.
	Incomplete []string
	Removed    int // files removed by repair
	// Failed counts the damaged files repair could not remove; the error
	// Verify returns then names the first and the remedy.
	Failed int
}

// verifyWorkers bounds how many blobs Verify decodes at once. Decoding is
// CPU-bound, so more workers help, but each holds a whole blob and its
// decoded bytes in memory, which for model weights can be gigabytes.
var verifyWorkers = min(runtime.GOMAXPROCS(0), 4)

// Verify reads every blob, decodes it and checks that its content hashes to
// its name, then parses every entry and checks that the blobs it references
// exist and are sound. With repair, it removes the damaged files and the
// entries that reference missing or damaged blobs, so that the next run
// recomputes them instead of missing on them one at a time.
//
// Verify is safe to run while other processes use the cache: files are
// written by rename, so it never sees a partial one, and a file replaced
// while Verify was reading it is left alone. It stops early, returning the
// partial report and ctx's error, when ctx is done.
//
// Repair needs a cache it can write: on a read-only one Verify returns at
// once a [*DiskError] naming the cache directory and the remedy (verifying
// without repair works there). A damaged file that repair then fails to
// remove is counted in Failed; the error returned names the first one, its
// role and the remedy.
func (c *Cache) Verify(ctx context.Context, repair bool) (VerifyReport, error) {
	var rep VerifyReport
	if repair {
		if err := c.checkWritable(); err != nil {
			return rep, err
		}
	}
	var failures removeFailures
	// fix removes a damaged file of the given role, counting the removal
	// or its failure.
	fix := func(f file, role string) {
		ok, err := c.removeIfSame(f.path, f.info)
		if err != nil {
			failures.add(diskError("remove", role, f.path, c.dir, err))
		}
		if ok {
			rep.Removed++
		}
	}
	var blobs []file
	if err := c.walk(casDir, func(f file) error { blobs = append(blobs, f); return nil }); err != nil {
		return rep, err
	}
	rep.Blobs = len(blobs)

	var (
		mu  sync.Mutex
		bad = map[OutputID]bool{}
		wg  sync.WaitGroup
	)
	jobs := make(chan file)
	for range verifyWorkers {
		wg.Go(func() {
			for f := range jobs {
				reason, id := checkBlob(f)
				if reason == "" {
					continue
				}
				mu.Lock()
				bad[id] = true
				rep.Corrupt = append(rep.Corrupt, f.path)
				if repair {
					fix(f, roleBlob)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, f := range blobs {
		select {
		case jobs <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		slices.Sort(rep.Corrupt)
		rep.Failed = failures.n
		return rep, err
	}

	err := c.walk(acDir, func(f file) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep.Entries++
		drop := func(list *[]string) {
			*list = append(*list, f.path)
			if repair {
				fix(f, roleEntry)
			}
		}
		id, err := ParseActionID(f.name)
		if err != nil {
			drop(&rep.Corrupt)
			return nil
		}
		e, err := readEntryQuiet(f.path, id)
		if err != nil {
			if _, ok := err.(*CorruptError); ok {
				drop(&rep.Corrupt)
			}
			return nil
		}
		for _, ref := range e.Refs() {
			// Has, not the list walked above: a blob written after that
			// walk for an entry written since is not missing.
			if bad[ref] || !c.Has(ref) {
				drop(&rep.Incomplete)
				break
			}
		}
		return nil
	})
	slices.Sort(rep.Corrupt)
	slices.Sort(rep.Incomplete)
	rep.Failed = failures.n
	if err == nil {
		err = failures.err()
	}
	return rep, err
}

// checkBlob reads and decodes one blob and returns why it cannot be trusted,
// or "" if it can, along with the ID its name claims. A file that vanished
// since the walk is not a problem.
func checkBlob(f file) (reason string, id OutputID) {
	id, err := ParseOutputID(f.name)
	if err != nil {
		return "name is not an output ID", id
	}
	blob, _, err := readFile(f.path)
	if os.IsNotExist(err) {
		return "", id
	}
	if err != nil {
		return err.Error(), id
	}
	data, err := Decode(blob)
	if err != nil {
		return err.Error(), id
	}
	if got := NewOutputID(data); got != id {
		return fmt.Sprintf("content hashes to %s", got), id
	}
	return "", id
}

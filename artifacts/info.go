package artifacts

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Info summarises what a cache holds, for `modulo cache info`.
type Info struct {
	Blobs, Entries        int
	BlobBytes, EntryBytes int64 // bytes on disk
	// Oldest and Newest are the least and most recent entry modification
	// times, that is, roughly when an entry was last used (see
	// mtimeInterval). Both are zero when there are no entries.
	Oldest, Newest time.Time
}

// Info walks the cache and totals its blobs and entries. It reads only
// directory metadata, never file contents, so it is quick even for a large
// cache; it does not lock anything, so with concurrent writers the totals are
// a snapshot that may be slightly stale.
func (c *Cache) Info() (Info, error) {
	var in Info
	err := c.walk(casDir, func(f file) error {
		if _, err := ParseOutputID(f.name); err == nil {
			in.Blobs++
			in.BlobBytes += f.size
		}
		return nil
	})
	if err != nil {
		return Info{}, err
	}
	err = c.walk(acDir, func(f file) error {
		if _, err := ParseActionID(f.name); err != nil {
			return nil
		}
		in.Entries++
		in.EntryBytes += f.size
		if in.Oldest.IsZero() || f.mtime.Before(in.Oldest) {
			in.Oldest = f.mtime
		}
		if f.mtime.After(in.Newest) {
			in.Newest = f.mtime
		}
		return nil
	})
	if err != nil {
		return Info{}, err
	}
	return in, nil
}

// file is one file found by walk.
type file struct {
	name  string // base name
	path  string
	size  int64
	mtime time.Time
	info  fs.FileInfo
}

// walk calls fn for every regular file in the two-level tree sub/xx/*. Files
// that vanish while it runs (removed by a concurrent gc or repair) are
// skipped rather than reported as errors.
func (c *Cache) walk(sub string, fn func(file) error) error {
	root := filepath.Join(c.dir, sub)
	shards, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		dir := filepath.Join(root, sh.Name())
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, de := range ents {
			if !de.Type().IsRegular() {
				continue
			}
			fi, err := de.Info()
			if err != nil {
				continue // vanished since ReadDir
			}
			f := file{de.Name(), filepath.Join(dir, de.Name()), fi.Size(), fi.ModTime(), fi}
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

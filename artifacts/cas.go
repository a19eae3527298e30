package artifacts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Put stores data in the content-addressed store, compressed with codec, and
// returns its OutputID and the number of bytes the blob occupies on disk.
//
// Put is idempotent. If a blob for the same content already exists and
// decodes to exactly data, it is kept (whatever codec wrote it) and only its
// modification time is refreshed; otherwise a new blob replaces it
// atomically. Verifying rather than trusting an existing file costs one
// decode, which is cheaper than the encode it saves, and means a damaged blob
// is repaired by the next Put of the same content, not only by the next Get.
//
// Concurrent Puts of the same content, in one process or several, are safe:
// each writes its own temporary file and the last rename wins, and all
// candidates have the same content.
//
// A blob that cannot be written (a read-only or full cache) is a [*DiskError]
// naming it and the remedy; nothing half-written is left visible.
func (c *Cache) Put(data []byte, codec Codec) (OutputID, int64, error) {
	id := NewOutputID(data)
	path := c.BlobPath(id)
	if size, ok := sameBlob(path, data); ok {
		// Refreshing the mtime matters: gc removes unreferenced blobs only
		// once they are older than its grace period, and the caller is
		// about to write an entry referencing this one. It is best effort
		// because a read-only cache still serves hits; the worst outcome
		// is a later miss.
		now := time.Now()
		_ = os.Chtimes(path, now, now)
		return id, size, nil
	}
	blob, err := Encode(data, codec)
	if err != nil {
		return OutputID{}, 0, fmt.Errorf("put %s: %w", id, err)
	}
	if err := c.writeAtomic(path, roleBlob, blob); err != nil {
		return OutputID{}, 0, err // a *DiskError naming the blob
	}
	return id, int64(len(blob)), nil
}

// sameBlob reports whether the blob at path decodes to data, and if so its
// size on disk. Any problem reading or decoding it means "no": Put then
// overwrites the file.
func sameBlob(path string, data []byte) (int64, bool) {
	blob, _, err := readFile(path)
	if err != nil {
		return 0, false
	}
	got, err := Decode(blob)
	if err != nil || !bytes.Equal(got, data) {
		return 0, false
	}
	return int64(len(blob)), true
}

// Get returns the bytes stored under id. It returns [ErrMiss] if there is no
// such blob, and a [*CorruptError] (which is also a miss) if the blob cannot
// be decoded or its content does not hash to id; the damaged file is then
// removed so that the recomputed result can take its place. Other errors,
// such as a permission problem, are returned as they are: retrying would not
// help, so they are not misses.
func (c *Cache) Get(id OutputID) ([]byte, error) {
	path := c.BlobPath(id)
	blob, fi, err := readFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrMiss
	case errors.Is(err, errNotRegular):
		// Not ours to remove: something other than modulo put it there.
		return nil, &CorruptError{Path: path, Reason: err.Error()}
	case err != nil:
		return nil, fmt.Errorf("get %s: %w", id, err)
	}
	data, err := Decode(blob)
	if err != nil {
		return nil, c.corrupt(path, fi, err.Error())
	}
	if NewOutputID(data) != id {
		return nil, c.corrupt(path, fi, "content does not match its name")
	}
	return data, nil
}

// Has reports whether a blob for id exists. It only looks at the directory,
// which makes it cheap enough to call for every item of every entry; the
// content is checked when the blob is read with [Cache.Get].
func (c *Cache) Has(id OutputID) bool {
	fi, err := os.Stat(c.BlobPath(id))
	return err == nil && fi.Mode().IsRegular()
}

package artifacts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	fastjson "github.com/segmentio/encoding/json"
)

// An Entry is the action cache's record of one stage run: what ran, when, for
// how long, and which blobs hold its outputs.
type Entry struct {
	Stage   string `json:"stage"`
	Version int    `json:"version"`
	// Key is the blob holding the Key.Description that produced the
	// entry's ActionID, kept for provenance ("why did this re-run?"). The
	// zero OutputID means none was recorded.
	Key     OutputID          `json:"key"`
	Outputs map[string]Output `json:"outputs"`
	// Files are the files outside the cache that the run read (a dataset's source
	// files), by base name, stored as blobs so that they travel with the result to
	// machines without them: cluster nodes, teammates.
	Files    map[string]Item `json:"files,omitempty"`
	Created  time.Time       `json:"created"`
	Duration time.Duration   `json:"duration"`

	remote bool // found in the remote cache, not yet pulled
}

// An Output is one named output of a stage: either an artifact (Items, with
// a media type) or a small value stored inline in the entry (Value).
type Output struct {
	// Media is the artifact's media type, such as
	// "application/vnd.modulo.network+safetensors"; empty for values.
	Media string `json:"media,omitempty"`
	// Items holds one item for a single artifact, several for a sequence.
	Items Items `json:"items,omitempty"`
	// Value is opaque JSON chosen by the caller; nil for artifacts.
	Value json.RawMessage `json:"value,omitempty"`
}

// Items are the blobs of one output.
type Items []Item

// UnmarshalJSON decodes the items into a slice of one to start with, where segmentio's
// decoder, which pipelines' State uses, starts with room for ten: nearly every output is one
// artifact, and a plan of 10,000 cached nodes keeps a decoded entry for each, which made
// 15 MB of empty items per plan, a fifth of its live heap.
func (s *Items) UnmarshalJSON(b []byte) error {
	*s = make(Items, 0, 1)
	return fastjson.Unmarshal(b, (*[]Item)(s))
}

// An Item is one stored blob of an artifact output.
type Item struct {
	ID     OutputID `json:"id"`
	Size   int64    `json:"size"`   // uncompressed bytes
	Stored int64    `json:"stored"` // compressed bytes on disk
	// Meta is a short description the producer derived from the bytes (a network's
	// architecture), so that consumers can check compatibility at plan time without
	// reading the blob. It is not part of any key: it follows from the content.
	Meta string `json:"meta,omitempty"`
	// Codec is how the blob is stored here, so that a teammate who fetches its bytes
	// from a remote cache stores them the same way.
	Codec Codec `json:"codec,omitempty"`
}

// Refs returns every blob the entry depends on: its Key blob, if recorded,
// all items and files, in a deterministic order, possibly with repeats.
func (e *Entry) Refs() []OutputID {
	var ids []OutputID
	if !e.Key.IsZero() {
		ids = append(ids, e.Key)
	}
	for _, name := range slices.Sorted(maps.Keys(e.Outputs)) {
		for _, it := range e.Outputs[name].Items {
			ids = append(ids, it.ID)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(e.Files)) {
		ids = append(ids, e.Files[name].ID)
	}
	return ids
}

// entryMagic and entryFormat start every entry file.
const (
	entryMagic  = "modulo-entry"
	entryFormat = 1
)

// An entry file is one header line and the entry as compact JSON:
//
//	modulo-entry 1 <action id> <sha256 of the JSON>
//	{"stage":…}
//
// The header names the action the entry belongs to, so a file copied or renamed to the
// wrong place is caught, and the checksum catches a flipped byte that would still parse (a
// digit in a size, a hex digit in an ID). A header line rather than a JSON envelope keeps
// reads to one JSON decode: a no-op run of a large pipeline reads thousands of entries.
func encodeEntry(id ActionID, e *Entry) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	header := fmt.Sprintf("%s %d %s %s\n", entryMagic, entryFormat, id, hex.EncodeToString(sum[:]))
	return append(append([]byte(header), body...), '\n'), nil
}

// mtimeInterval is how stale an entry's modification time may get before a
// hit refreshes it. gc ages entries by mtime, so it must track use, but
// rewriting the inode on every hit would turn reads into writes; like cmd/go,
// refreshing once an hour is precise enough for a limit measured in days.
const mtimeInterval = time.Hour

// PutEntry records e as the result of action id, replacing any previous
// entry (modulo run --force relies on this). The file is written to tmp/ and
// renamed, so concurrent readers see the old entry or the new one, never a
// mixture. Callers must Put the blobs e references first: an entry that
// points at missing blobs is a miss. An entry that cannot be written is a
// [*DiskError] naming it and the remedy.
//
// With a writable remote attached, the entry and its blobs are then uploaded; a failed
// upload is a warning, not an error: the result is safe here.
func (c *Cache) PutEntry(id ActionID, e *Entry) error {
	if err := c.putEntryLocal(id, e); err != nil {
		return err
	}
	if r := c.remote; r != nil && !r.ReadOnly {
		if err := c.Push(context.Background(), id, e); err != nil {
			r.warn("remote cache %s: upload failed: %v", r.Store, err)
		}
	}
	return nil
}

func (c *Cache) putEntryLocal(id ActionID, e *Entry) error {
	file, err := encodeEntry(id, e)
	if err != nil {
		return fmt.Errorf("put entry %s: %w", id, err)
	}
	// A *DiskError names the entry's file, which holds the action ID.
	return c.writeAtomic(c.entryPath(id), roleEntry, file)
}

// GetEntry returns the entry recorded for id. It returns [ErrMiss] if there
// is none; a [*CorruptError] if the file cannot be parsed or fails its
// checksum (the file is then removed); and an error wrapping [ErrIncomplete]
// (hence ErrMiss) if a blob the entry references is missing. A hit refreshes
// the entry's mtime if it is more than an hour old, which is what gc's
// least-recently-used ordering reads.
//
// With a remote attached, a local miss looks there: an entry found, intact and trusted,
// whose blobs are all in the remote, is returned with FromRemote true; Pull then fetches
// its blobs. Remote problems are warnings and misses.
func (c *Cache) GetEntry(id ActionID) (*Entry, error) {
	path := c.entryPath(id)
	e, fi, err := c.readEntry(path, id)
	if err != nil {
		if c.remote != nil && errors.Is(err, ErrMiss) {
			if re, rerr := c.remoteEntry(id); rerr == nil {
				return re, nil
			}
		}
		return nil, err
	}
	for _, ref := range e.Refs() {
		if !c.Has(ref) {
			return nil, fmt.Errorf("%w %s: blob %s missing", ErrIncomplete, id, ref)
		}
	}
	if now := time.Now(); now.Sub(fi.ModTime()) > mtimeInterval {
		// Best effort: on a read-only cache the entry merely ages out of
		// gc's window sooner than it should.
		_ = os.Chtimes(path, now, now)
	}
	return e, nil
}

// readEntry reads and checks the entry file at path, which should belong to
// action id. Errors follow GetEntry's contract, minus the blob check.
func (c *Cache) readEntry(path string, id ActionID) (*Entry, fs.FileInfo, error) {
	data, fi, err := readFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, ErrMiss
	case errors.Is(err, errNotRegular):
		return nil, nil, &CorruptError{Path: path, Reason: err.Error()}
	case err != nil:
		return nil, nil, fmt.Errorf("get entry %s: %w", id, err)
	}
	e, reason := parseEntry(data, id)
	if reason != "" {
		return nil, nil, c.corrupt(path, fi, reason)
	}
	return e, fi, nil
}

// parseEntry decodes an entry file's content and checks it against id. It
// returns the reason the content cannot be trusted, or "" if it can.
func parseEntry(data []byte, id ActionID) (*Entry, string) {
	header, body, ok := bytes.Cut(data, []byte{'\n'})
	if !ok {
		return nil, "no header line"
	}
	f := strings.Fields(string(header))
	if len(f) != 4 || f[0] != entryMagic {
		return nil, "not an entry file"
	}
	if f[1] != strconv.Itoa(entryFormat) {
		return nil, fmt.Sprintf("unknown entry format %s", f[1])
	}
	if f[2] != id.String() {
		return nil, fmt.Sprintf("entry belongs to action %.64s", f[2])
	}
	body = bytes.TrimSuffix(body, []byte{'\n'})
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != f[3] {
		return nil, "checksum mismatch"
	}
	var e Entry
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, "unparsable: " + err.Error()
	}
	return &e, ""
}

// Entries returns the IDs of all entries in the cache, in no particular
// order. Files whose names are not action IDs are ignored.
func (c *Cache) Entries() ([]ActionID, error) {
	var ids []ActionID
	err := c.walk(acDir, func(f file) error {
		id, err := ParseActionID(f.name)
		if err == nil {
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

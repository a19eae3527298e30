package data

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/modulo-ml/modulo/internal/atomicfile"
)

// persisted is the file HashFile's memo is kept in across processes, once PersistHashes
// names it. Without it every `modulo plan` would hash the files its datasets read again:
// MNIST's are 10 ms, CIFAR-10's 180 MB over 100 ms, each plan.
var persisted hashLog

// racyWindow is how much older than the moment it was hashed a file's mtime and change
// time must be for its digest to be persisted (git's rule for racily clean files): a file
// written again within the same tick of the file system's clock could keep its stamp, and
// a process that lives on notices nothing either way, but the next one would trust a
// stale digest. Such files are hashed again by the next process. Tests shorten it.
var racyWindow = 2 * time.Second

// compactSlack is how many superseded records the log may hold before it is rewritten
// with one record per path.
const compactSlack = 256

// A hashLog is an append-only file of digests, a JSON record a line; the last record of a
// path is its digest. Appends are single writes to a file opened for appending, so
// processes that share a cache directory can add to it at once; a line that does not
// parse (a torn write) is skipped, and a record only ever stands while its file's stamp
// matches, so the worst a damaged log costs is hashing a file again.
type hashLog struct {
	mu   sync.Mutex
	path string
}

type hashRecord struct {
	Path string `json:"path"`
	fileStamp
	SHA256 string `json:"sha256"`
}

// PersistHashes loads the digests recorded in the file at path into the memo and keeps
// recording there those that HashFile takes from now on. Errors are ignored: the file
// only saves reading.
func PersistHashes(path string) {
	persisted.mu.Lock()
	defer persisted.mu.Unlock()
	if persisted.path == path {
		return
	}
	persisted.path = path
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	last := map[string]hashRecord{}
	lines := 0
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		var r hashRecord
		if len(line) == 0 || json.Unmarshal(line, &r) != nil || r.Path == "" || len(r.SHA256) != 64 {
			continue
		}
		lines++
		last[r.Path] = r
	}
	for p, r := range last {
		// What this process hashed itself is newer than anything in the file.
		hashes.LoadOrStore(p, hashMemo{stamp: r.fileStamp, file: File{Path: r.Path, Size: r.Size, SHA256: r.SHA256}})
	}
	if lines > len(last)+compactSlack {
		persisted.rewrite(last)
	}
}

// rewrite replaces the log by one record per path, atomically. h.mu must be held.
func (h *hashLog) rewrite(recs map[string]hashRecord) {
	var buf bytes.Buffer
	for _, r := range recs {
		line, _ := json.Marshal(r)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	atomicfile.WriteFile(h.path, buf.Bytes(), 0o644)
}

// add appends the digest m of the file at abs, taken at now, unless the log is not set or
// the file changed too recently to be trusted by another process (racyWindow).
func (h *hashLog) add(abs string, m hashMemo, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.path == "" {
		return
	}
	t := now.UnixNano()
	if t-m.stamp.MTime < int64(racyWindow) || t-m.stamp.CTime < int64(racyWindow) {
		return
	}
	line, err := json.Marshal(hashRecord{Path: abs, fileStamp: m.stamp, SHA256: m.file.SHA256})
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	f.Write(append(line, '\n'))
	f.Close()
}

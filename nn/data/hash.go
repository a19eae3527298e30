package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// hashes memoises file digests by absolute path. The dataset stage hashes its input files
// every time a pipeline is planned, to put their content into cache keys; re-reading 40 MB
// of Fashion-MNIST for each plan would dominate planning, while a stat is nearly free.
var hashes sync.Map // string → hashMemo

// hashReads counts the files HashFile actually read, so tests can see the memo work.
var hashReads atomic.Int64

// hashMemo is a digest with the stat it was taken under.
type hashMemo struct {
	stamp fileStamp
	file  File
}

// A fileStamp is what a stat tells of a file's identity and last change. Size and mtime
// are what make and go trust; the inode and the change time (which no program can set
// back, unlike the mtime) catch a file replaced or rewritten with its old mtime restored.
// Where the system does not report them they are zero.
type fileStamp struct {
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"` // ModTime().UnixNano()
	CTime int64  `json:"ctime"` // nanoseconds
	Ino   uint64 `json:"ino"`
	Dev   uint64 `json:"dev"`
}

func stampOf(st fs.FileInfo) fileStamp {
	s := fileStamp{Size: st.Size(), MTime: st.ModTime().UnixNano()}
	s.CTime, s.Ino, s.Dev = sysStamp(st)
	return s
}

// HashFile returns path's size and SHA-256. The result is memoised while the file's path,
// size, modification time, inode and change time stay the same: the usual trade of build
// tools (make, go, git), which trusts that content does not change without them changing.
// With PersistHashes the memo outlives the process. Loading a file
// with ReadIDX or LoadIDXDir fills the memo too, since it hashes what it reads.
func HashFile(path string) (File, error) {
	abs := absPath(path)
	st, err := os.Stat(abs)
	if err != nil {
		return File{}, err
	}
	if st.IsDir() {
		return File{}, fmt.Errorf("%s: is a directory, not a file", path)
	}
	if v, ok := hashes.Load(abs); ok {
		if m := v.(hashMemo); m.stamp == stampOf(st) {
			return m.file, nil
		}
	}
	f, err := os.Open(abs)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	// Stat the open file: the digest below belongs to this file, even if the path is
	// replaced meanwhile. Stat before reading, so a write during the read leaves a newer
	// mtime than the one remembered, and the next call hashes again.
	st, err = f.Stat()
	if err != nil {
		return File{}, err
	}
	hashReads.Add(1)
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("hashing %s: %w", path, err)
	}
	file := File{Path: abs, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	if n == st.Size() {
		rememberHash(abs, st, file)
	}
	return file, nil
}

// rememberHash records a digest taken of the file described by st.
func rememberHash(abs string, st fs.FileInfo, file File) {
	m := hashMemo{stamp: stampOf(st), file: file}
	hashes.Store(abs, m)
	persisted.add(abs, m, time.Now())
}

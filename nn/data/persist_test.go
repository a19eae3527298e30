package data

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newProcess forgets what this process hashed and which log it keeps, as a new `modulo`
// process starts: only the log on disk remains.
func newProcess(t *testing.T) {
	t.Helper()
	hashes.Clear()
	persisted.mu.Lock()
	persisted.path = ""
	persisted.mu.Unlock()
}

// hashCounted returns path's digest and how many files HashFile read for it.
func hashCounted(t *testing.T, path string) (File, int64) {
	t.Helper()
	before := hashReads.Load()
	f, err := HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f, hashReads.Load() - before
}

// TestPersistedHashes checks that a digest outlives the process through the log, and
// that it is trusted only while the file's stamp holds: content rewritten with the old
// size and mtime put back, a file that changed too recently to be trusted (racyWindow),
// a damaged log.
func TestPersistedHashes(t *testing.T) {
	t.Cleanup(func() { newProcess(t); racyWindow = 2 * time.Second })
	newProcess(t)
	racyWindow = 0
	dir := t.TempDir()
	log := filepath.Join(dir, "state", "file-digests") // its directory does not exist yet
	f := filepath.Join(dir, "train.bin")
	if err := os.WriteFile(f, []byte("content A"), 0o644); err != nil {
		t.Fatal(err)
	}

	PersistHashes(log)
	a, reads := hashCounted(t, f)
	if reads != 1 {
		t.Fatalf("first hash read %d files, want 1", reads)
	}
	newProcess(t)
	PersistHashes(log)
	if got, reads := hashCounted(t, f); reads != 0 || got != a {
		t.Errorf("next process: read %d files, digest %+v; want 0 reads and %+v from the log", reads, got, a)
	}

	if !changeTimes(t) {
		t.Skip("no change time in this system's stat")
	}
	// Same size, the old mtime restored: only the change time tells.
	st, _ := os.Stat(f)
	if err := os.WriteFile(f, []byte("content B"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(f, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	newProcess(t)
	PersistHashes(log)
	b, reads := hashCounted(t, f)
	if reads != 1 || b.SHA256 == a.SHA256 {
		t.Errorf("rewritten file: read %d files, digest %s (old %s); want it hashed again", reads, b.SHA256, a.SHA256)
	}

	// A file changed within the racy window is not written to the log.
	racyWindow = time.Hour
	g := filepath.Join(dir, "fresh.bin")
	if err := os.WriteFile(g, []byte("fresh"), 0o644); err != nil {
		t.Fatal(err)
	}
	hashCounted(t, g)
	newProcess(t)
	PersistHashes(log)
	if _, reads := hashCounted(t, g); reads != 1 {
		t.Errorf("racily fresh file: the next process read %d files, want 1 (not trusted from the log)", reads)
	}
	if _, reads := hashCounted(t, f); reads != 0 {
		t.Errorf("the rewritten file's new digest was not kept (read %d files)", reads)
	}

	// Damage: torn and foreign lines are skipped, the good records still count.
	racyWindow = 0
	fh, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(`{"path":"` + f + `","size":9,"sha2` + "\nnot json\n" + `{"path":"` + f + `","sha256":"abc"}` + "\n")
	fh.Close()
	newProcess(t)
	PersistHashes(log)
	if got, reads := hashCounted(t, f); reads != 0 || got != b {
		t.Errorf("after damage: read %d files, digest %+v; want 0 reads and %+v", reads, got, b)
	}
}

// TestPersistedHashesCompact checks that a log of superseded records is rewritten with
// one record per path, keeping the last.
func TestPersistedHashesCompact(t *testing.T) {
	t.Cleanup(func() { newProcess(t) })
	newProcess(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "x.bin")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(f)
	good := hashRecord{Path: f, fileStamp: stampOf(st), SHA256: strings.Repeat("ab", 32)}
	stale := good
	stale.SHA256 = strings.Repeat("cd", 32)
	stale.Size = 7
	var lines []string
	for range compactSlack + 10 {
		lines = append(lines, mustJSON(t, stale))
	}
	lines = append(lines, mustJSON(t, good))
	log := filepath.Join(dir, "file-digests")
	if err := os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	PersistHashes(log)
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != mustJSON(t, good) {
		t.Errorf("compacted log:\n%s\nwant only the last record:\n%s", got, mustJSON(t, good))
	}
	if got, reads := hashCounted(t, f); reads != 0 || got.SHA256 != good.SHA256 {
		t.Errorf("read %d files, digest %s; want the last record's", reads, got.SHA256)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

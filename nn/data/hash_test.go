package data

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHashFileMemo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(content string, mt time.Time) {
		t.Helper()
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		step      string
		content   string
		mtime     time.Time
		wantSum   string
		wantReads int64
	}{
		{"first hash reads", "hello", mtime, sum([]byte("hello")), 1},
		{"same stat: memoised, no read", "", mtime, sum([]byte("hello")), 0},
		// Same size, the mtime put back: the change time, which no program sets, tells.
		{"content changed, mtime restored: read again", "HELLO", mtime, sum([]byte("HELLO")), 1},
		{"mtime changed: read again", "HELLO", mtime.Add(time.Second), sum([]byte("HELLO")), 1},
		{"size changed: read again", "HELLO!", mtime.Add(time.Second), sum([]byte("HELLO!")), 1},
	}
	for _, tt := range tests {
		if strings.Contains(tt.step, "mtime restored") && !changeTimes(t) {
			continue
		}
		if tt.content != "" { // "": the file as it is
			write(tt.content, tt.mtime)
		}
		before := hashReads.Load()
		f, err := HashFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if reads := hashReads.Load() - before; f.SHA256 != tt.wantSum || reads != tt.wantReads {
			t.Errorf("%s: got %s after %d reads, want %s after %d", tt.step, f.SHA256, reads, tt.wantSum, tt.wantReads)
		}
		if f.Path != p || tt.content != "" && f.Size != int64(len(tt.content)) {
			t.Errorf("%s: got %+v", tt.step, f)
		}
	}
	if _, err := HashFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("hashing a missing file succeeded")
	}
}

// TestReadIDXFillsHashMemo checks that loading a file makes hashing it free.
func TestReadIDXFillsHashMemo(t *testing.T) {
	b := gz(t, idxBytes(magicLabels, []uint32{3}, []byte{1, 2, 3}))
	p := writeFile(t, t.TempDir(), "labels.gz", b)
	if _, _, err := ReadIDX(p); err != nil {
		t.Fatal(err)
	}
	before := hashReads.Load()
	f, err := HashFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	if f.SHA256 != hex.EncodeToString(s[:]) || f.Size != int64(len(b)) || hashReads.Load() != before {
		t.Errorf("got %+v after %d reads, want the digest of the raw gzip bytes without reading", f, hashReads.Load()-before)
	}
}

// changeTimes says whether this system's stat reports a change time (sysStamp).
func changeTimes(t *testing.T) bool {
	st, err := os.Stat(t.TempDir())
	return err == nil && stampOf(st).CTime != 0
}

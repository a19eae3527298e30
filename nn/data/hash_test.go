package data

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
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
		{"same stat: memoised, no read", "hello", mtime, sum([]byte("hello")), 0},
		// Same size and mtime: the memo cannot tell, and says so by returning the old digest.
		{"content changed behind the memo", "HELLO", mtime, sum([]byte("hello")), 0},
		{"mtime changed: read again", "HELLO", mtime.Add(time.Second), sum([]byte("HELLO")), 1},
		{"size changed: read again", "HELLO!", mtime.Add(time.Second), sum([]byte("HELLO!")), 1},
	}
	for _, tt := range tests {
		write(tt.content, tt.mtime)
		before := hashReads.Load()
		f, err := HashFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if reads := hashReads.Load() - before; f.SHA256 != tt.wantSum || reads != tt.wantReads {
			t.Errorf("%s: got %s after %d reads, want %s after %d", tt.step, f.SHA256, reads, tt.wantSum, tt.wantReads)
		}
		if f.Path != p || f.Size != int64(len(tt.content)) && tt.wantReads > 0 {
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

package remote

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestDir(t *testing.T) {
	// The root does not exist yet: the first Put creates it.
	root := filepath.Join(t.TempDir(), "shared", "cache")
	s := openStore(t, root)
	testStore(t, s)

	t.Run("Layout", func(t *testing.T) {
		data, key := newBlob(t, 10)
		if err := s.Put(context.Background(), CAS, key, data); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "cas", key[:2], key)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("NoTempFiles", func(t *testing.T) {
		n := 0
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") || strings.HasSuffix(d.Name(), ".tmp") {
				t.Errorf("left behind: %s", path)
			}
			if d.Type().IsRegular() {
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("no files at all under the root")
		}
	})
}

func TestFileURL(t *testing.T) {
	root := t.TempDir()
	s, err := Open(context.Background(), "file://"+filepath.ToSlash(root))
	if err != nil {
		t.Fatal(err)
	}
	data, key := newBlob(t, 10)
	if err := s.Put(context.Background(), AC, key, data); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "ac", key[:2], key)); err != nil {
		t.Fatal(err)
	}
}

// TestDirNoPartialReads reads an AC key while it is being rewritten: every read must see
// one whole value, never a mix or a prefix.
func TestDirNoPartialReads(t *testing.T) {
	ctx := context.Background()
	s, _ := openDir(t.TempDir())
	key := randomKey()
	values := [][]byte{bytes.Repeat([]byte{'a'}, 1<<20), bytes.Repeat([]byte{'b'}, 1<<20+1)}
	if err := s.Put(ctx, AC, key, values[0]); err != nil {
		t.Fatal(err)
	}
	const rounds = 100
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := range rounds {
			if err := s.Put(ctx, AC, key, values[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var reads atomic.Int64
	for i := range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := s.Get(ctx, AC, key)
				if err != nil {
					t.Errorf("reader %d: %v", i, err)
					return
				}
				if !bytes.Equal(got, values[0]) && !bytes.Equal(got, values[1]) {
					t.Errorf("reader %d saw a partial or mixed file of %d bytes", i, len(got))
					return
				}
				reads.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("%d writes, %d reads", rounds, reads.Load())
}

// TestDirRepair replaces a CAS file of the wrong size, so that a truncated blob does not
// stay in the cache for ever; one of the right size is left alone.
func TestDirRepair(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, _ := openDir(root)
	data, key := newBlob(t, 1000)
	p := filepath.Join(root, "cas", key[:2], key)
	os.MkdirAll(filepath.Dir(p), 0o777)
	os.WriteFile(p, data[:500], 0o666)
	if err := s.Put(ctx, CAS, key, data); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Fatalf("truncated blob not replaced: %d bytes", len(got))
	}
	fi1, _ := os.Stat(p)
	if err := s.Put(ctx, CAS, key, data); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(p)
	if !os.SameFile(fi1, fi2) {
		t.Fatal("an intact CAS blob was rewritten")
	}
}

// TestDirErrors: a root that cannot be a directory gives an error naming the path, and the
// Reliable wrapper gives up on it rather than retrying for ever.
func TestDirErrors(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o666)
	s, _ := openDir(file)
	data, key := newBlob(t, 10)
	err := s.Put(ctx, CAS, key, data)
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Put under a file: %v", err)
	}
	if _, err := s.Get(ctx, CAS, key); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get under a file: %v, want an error other than ErrNotFound", err)
	}
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		os.Chmod(ro, 0o555)
		s, _ := openDir(ro)
		err := s.Put(ctx, CAS, key, data)
		if !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("Put in a read-only directory: %v", err)
		}
		if transient(err) {
			t.Fatalf("permission denied counted as transient: %v", err)
		}
	}
}

package artifacts

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestOpenLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "cache")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", c.Dir(), dir)
	}
	for _, sub := range []string{"cas", "ac", "tmp", "locks"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Errorf("%s: not a directory (%v)", sub, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cas/", "ac/", "locks/", "tmp/", "safe to delete", "modulo cache gc", "modulo cache verify"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md does not mention %q", want)
		}
	}
	// A second Open keeps a README the user may have edited.
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("mine"), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(b) != "mine" {
		t.Errorf("second Open rewrote README.md")
	}
}

func TestDefaultDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("expectations below follow the Linux os.UserCacheDir")
	}
	tests := []struct {
		name, modulo, xdg, home, want string
		wantErr                       bool
	}{
		{"MODULO_CACHE wins", "/m/cache", "/xdg", "/h", "/m/cache", false},
		{"MODULO_CACHE made absolute", "rel", "", "/h", "", false},
		{"XDG", "", "/xdg", "/h", "/xdg/modulo", false},
		{"home", "", "", "/h", "/h/.cache/modulo", false},
		{"relative XDG", "", "rel", "/h", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MODULO_CACHE", tt.modulo)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultDir()
			if (err != nil) != tt.wantErr {
				t.Fatalf("DefaultDir() error = %v, want error %v", err, tt.wantErr)
			}
			if tt.want == "" && err == nil {
				tt.want, _ = filepath.Abs(tt.modulo)
			}
			if got != tt.want {
				t.Errorf("DefaultDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPutGet(t *testing.T) {
	c := newCache(t)
	tests := []struct {
		name  string
		data  []byte
		codec Codec
	}{
		{"empty", nil, Raw},
		{"text", []byte("hello"), Raw},
		{"tensor shuffled", normalTensor(10000, 1, 0), Shuffle4},
		{"odd length shuffled", randomBytes(4099, 2), Shuffle4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, stored, err := c.Put(tt.data, tt.codec)
			if err != nil {
				t.Fatal(err)
			}
			if want := NewOutputID(tt.data); id != want {
				t.Errorf("Put id = %s, want %s", id, want)
			}
			fi, err := os.Stat(c.BlobPath(id))
			if err != nil || fi.Size() != stored {
				t.Errorf("stored size %d, file %v (%v)", stored, fi, err)
			}
			if !c.Has(id) {
				t.Error("Has = false after Put")
			}
			got, err := c.Get(id)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Errorf("Get = %d bytes, %v; want the %d bytes put", len(got), err, len(tt.data))
			}
			// Idempotent: a second Put, even with another codec, keeps
			// the existing blob.
			id2, stored2, err := c.Put(tt.data, tt.codec^1)
			if err != nil || id2 != id || stored2 != stored {
				t.Errorf("second Put = %s, %d, %v; want %s, %d, nil", id2, stored2, err, id, stored)
			}
		})
	}
	if ents, _ := os.ReadDir(filepath.Join(c.Dir(), "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ holds %d leftover files", len(ents))
	}
}

func TestGetMissing(t *testing.T) {
	c := newCache(t)
	id := NewOutputID([]byte("never stored"))
	if c.Has(id) {
		t.Error("Has = true for a missing blob")
	}
	_, err := c.Get(id)
	if !errors.Is(err, ErrMiss) {
		t.Errorf("Get = %v, want ErrMiss", err)
	}
	var ce *CorruptError
	if errors.As(err, &ce) {
		t.Errorf("Get of a missing blob returned CorruptError %v", ce)
	}
}

func TestGetCorrupt(t *testing.T) {
	data := normalTensor(5000, 3, 0)
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		reason string
	}{
		{"flipped byte", func(t *testing.T, path string) { flipByte(t, path, -10) }, "malformed blob"},
		{"flipped header", func(t *testing.T, path string) { flipByte(t, path, 0) }, "bad magic"},
		{"truncated", func(t *testing.T, path string) { os.Truncate(path, 20) }, "malformed blob"},
		{"empty", func(t *testing.T, path string) { os.Truncate(path, 0) }, "bad magic"},
		{"other content", func(t *testing.T, path string) {
			blob, _ := Encode([]byte("something else"), Raw)
			os.WriteFile(path, blob, 0o666)
		}, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			id, _, err := c.Put(data, Shuffle4)
			if err != nil {
				t.Fatal(err)
			}
			path := c.BlobPath(id)
			tt.damage(t, path)

			_, err = c.Get(id)
			if !errors.Is(err, ErrMiss) {
				t.Errorf("Get = %v, want an ErrMiss", err)
			}
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Get = %v, want a *CorruptError", err)
			}
			if ce.Path != path || !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("CorruptError = %+v, want path %s and reason containing %q", ce, path, tt.reason)
			}
			if exists(path) {
				t.Error("corrupt blob was not removed")
			}
			if _, _, err := c.Put(data, Shuffle4); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Get(id); err != nil || !bytes.Equal(got, data) {
				t.Errorf("Get after repairing Put = %v", err)
			}
		})
	}
}

// TestPutRepairsInPlace checks that Put does not trust a damaged blob that
// no Get has removed yet.
func TestPutRepairsInPlace(t *testing.T) {
	c := newCache(t)
	data := []byte("precious result")
	id, _, err := c.Put(data, Raw)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, c.BlobPath(id), -1)
	if _, _, err := c.Put(data, Raw); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(id); err != nil || !bytes.Equal(got, data) {
		t.Errorf("Get = %q, %v; want %q", got, err, data)
	}
}

func TestConcurrentPut(t *testing.T) {
	c := newCache(t)
	data := normalTensor(1<<16, 4, 0)
	want := NewOutputID(data)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			// Alternate codecs so that the racing writers produce
			// different files with the same content.
			id, _, err := c.Put(data, Codec(i%2))
			if err == nil && id != want {
				err = errors.New("wrong id " + id.String())
			}
			if err == nil {
				var got []byte
				got, err = c.Get(id)
				if err == nil && !bytes.Equal(got, data) {
					err = errors.New("wrong content")
				}
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}

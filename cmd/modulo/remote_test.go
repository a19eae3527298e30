package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// bazelCache is an HTTP remote cache in memory, speaking Bazel's protocol, with faults to
// switch on: down (every request fails), garbage (CAS reads return other bytes).
type bazelCache struct {
	mu      sync.Mutex
	objects map[string][]byte
	down    bool
	garbage bool
	puts    int
	// downAfter, when positive, turns the cache down after that many more blob
	// downloads (GET /cas/…): a remote that stops in the middle of a run.
	downAfter int
}

func (b *bazelCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	switch r.Method {
	case http.MethodPut:
		data, _ := io.ReadAll(r.Body)
		b.objects[key] = data
		b.puts++
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet, http.MethodHead:
		data, ok := b.objects[key]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if b.garbage && strings.HasPrefix(key, "cas/") {
			data = []byte("not what you asked for")
		}
		if b.downAfter > 0 && r.Method == http.MethodGet && strings.HasPrefix(key, "cas/") {
			if b.downAfter--; b.downAfter == 0 {
				b.down = true
			}
		}
		w.Write(data)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

const teamPipeline = `
text "a" {
  value = "modulo"
}

text "b" {
  value = "shared"
}

concat "c" {
  parts = [text.a.out, text.b.out]
}
`

// modulo runs the command in-process with the given cache and remote.
func modulo(t *testing.T, cache, remote string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("MODULO_CACHE", cache)
	t.Setenv("MODULO_REMOTE", remote)
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func verifyClean(t *testing.T, cache string) {
	t.Helper()
	if code, out, _ := modulo(t, cache, "", "cache", "verify"); code != 0 || !strings.Contains(out, "0 corrupt, 0 incomplete") {
		t.Errorf("cache verify of %s: exit %d\n%s", cache, code, out)
	}
}

// TestRemoteFaults plays the faults of the remote-cache issue against an HTTP cache on
// 127.0.0.1: a remote that goes down, one that answers with wrong bytes, and entries signed
// by a key the reader does not trust. Each costs a warning; the run computes locally and
// succeeds; nothing corrupt enters the local cache.
func TestRemoteFaults(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(p, []byte(teamPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := &bazelCache{objects: map[string][]byte{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	keyFile := filepath.Join(dir, "a.key")
	code, pub, _ := modulo(t, filepath.Join(dir, "ignored"), "", "cache", "keygen", "-o", keyFile)
	if code != 0 {
		t.Fatal("keygen failed")
	}
	t.Setenv("MODULO_SIGNING_KEY", keyFile)
	cacheA := filepath.Join(dir, "A")
	if code, out, errs := modulo(t, cacheA, ts.URL, "run", "-progress", "plain", p); code != 0 || !strings.Contains(out, "3 ran") {
		t.Fatalf("A: exit %d\n%s%s", code, out, errs)
	}
	os.Unsetenv("MODULO_SIGNING_KEY")
	if srv.puts == 0 {
		t.Fatal("A uploaded nothing")
	}

	t.Run("trusted", func(t *testing.T) {
		t.Setenv("MODULO_TRUSTED_KEYS", strings.TrimSpace(pub))
		cache := filepath.Join(dir, "trusted")
		code, out, errs := modulo(t, cache, ts.URL, "run", "-progress", "plain", p)
		if code != 0 || !strings.Contains(out, "0 ran, 3 cached (3 downloaded)") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		verifyClean(t, cache)
	})

	t.Run("untrusted signature", func(t *testing.T) {
		_, other, _ := modulo(t, filepath.Join(dir, "ignored"), "", "cache", "keygen", "-o", filepath.Join(dir, "other.key"))
		t.Setenv("MODULO_TRUSTED_KEYS", strings.TrimSpace(other))
		cache := filepath.Join(dir, "untrusted")
		code, out, errs := modulo(t, cache, ts.URL, "run", "-progress", "plain", "-remote-read-only", p)
		if code != 0 || !strings.Contains(out, "3 ran, 0 cached") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		if n := strings.Count(errs, "which is not in trusted_keys"); n != 3 {
			t.Errorf("%d warnings about untrusted entries, want one per node:\n%s", n, errs)
		}
		verifyClean(t, cache)
	})

	t.Run("wrong bytes", func(t *testing.T) {
		srv.mu.Lock()
		srv.garbage = true
		srv.mu.Unlock()
		defer func() { srv.mu.Lock(); srv.garbage = false; srv.mu.Unlock() }()
		cache := filepath.Join(dir, "garbage")
		code, out, errs := modulo(t, cache, ts.URL, "run", "-progress", "plain", "-remote-read-only", p)
		if code != 0 || !strings.Contains(out, "3 ran, 0 cached") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		if !strings.Contains(errs, "computing it here") {
			t.Errorf("no warning about the remote's wrong bytes:\n%s", errs)
		}
		verifyClean(t, cache)
	})

	t.Run("down mid-run", func(t *testing.T) {
		srv.mu.Lock()
		// The plan finds all three nodes in the remote; the run downloads the first
		// node's two blobs (its key description and its output), then the remote stops.
		srv.downAfter = 2
		srv.mu.Unlock()
		defer func() { srv.mu.Lock(); srv.down = false; srv.mu.Unlock() }()
		cache := filepath.Join(dir, "down")
		code, out, errs := modulo(t, cache, ts.URL, "run", "-progress", "plain", "-j", "1", p)
		if code != 0 || !strings.Contains(out, "2 ran, 1 cached (1 downloaded), 0 failed") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		if n := strings.Count(errs, "Warning: remote cache unavailable"); n != 1 || strings.Count(errs, "Warning") != 1 {
			t.Errorf("%d warnings about the remote being down, want 1 and no other:\n%s", n, errs)
		}
		verifyClean(t, cache)
	})

	t.Run("stopped", func(t *testing.T) {
		ts.Close() // the server is gone: connections are refused
		cache := filepath.Join(dir, "stopped")
		code, out, errs := modulo(t, cache, ts.URL, "run", "-progress", "plain", p)
		if code != 0 || !strings.Contains(out, "3 ran, 0 cached") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		if n := strings.Count(errs, "Warning: remote cache unavailable"); n != 1 || strings.Count(errs, "Warning") != 1 {
			t.Errorf("%d warnings about the remote being gone, want 1 and no other:\n%s", n, errs)
		}
		verifyClean(t, cache)
	})
}

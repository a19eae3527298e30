package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modulo-ml/modulo/artifacts/remote/remotetest"
)

func TestHTTPNginx(t *testing.T) {
	base, root := remotetest.StartNginx(t)
	s := openStore(t, base+"/modulo/")
	testStore(t, s)

	t.Run("Layout", func(t *testing.T) {
		data, key := newBlob(t, 10)
		if err := s.Put(context.Background(), CAS, key, data); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(filepath.Join(root, "modulo", "cas", key)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s/modulo/cas/<key>: %q, %v", root, got, err)
		}
	})
}

// TestHTTPStatus checks how each kind of answer comes back, against a server that answers
// as told by the request's area: /ac/ with status, /cas/ with a good blob.
func TestHTTPStatus(t *testing.T) {
	longBody := strings.Repeat("quota exceeded ", 100)
	for _, tc := range []struct {
		code      int
		body      string
		notFound  bool
		transient bool
	}{
		{code: 404, body: "no such file", notFound: true},
		{code: 500, body: "<html><title>500 Internal Server Error</title></html>", transient: true},
		{code: 502, body: "bad gateway", transient: true},
		{code: 503, transient: true},
		{code: 429, body: "slow down", transient: true},
		{code: 401, body: "who are you"},
		{code: 403, body: "forbidden"},
		{code: 507, body: longBody, transient: true},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.code)
				io.WriteString(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			s, err := Open(context.Background(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			key := randomKey()
			_, getErr := s.Get(ctx, AC, key)
			putErr := s.Put(ctx, AC, key, []byte("x"))
			ok, hasErr := s.Has(ctx, AC, key)
			if tc.notFound {
				if !errors.Is(getErr, ErrNotFound) || ok || hasErr != nil {
					t.Fatalf("404: Get %v, Has %v %v", getErr, ok, hasErr)
				}
				if putErr == nil {
					t.Fatal("Put answered 404 succeeded")
				}
				return
			}
			for _, err := range []error{getErr, putErr, hasErr} {
				if err == nil || errors.Is(err, ErrNotFound) {
					t.Fatalf("got %v, want a status error", err)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tc.code)) {
					t.Errorf("%q does not give the status", err)
				}
				if transient(err) != tc.transient {
					t.Errorf("transient(%v) = %v", err, !tc.transient)
				}
			}
			if tc.body != "" && !strings.Contains(getErr.Error(), tc.body[:min(len(tc.body), 10)]) {
				t.Errorf("%q does not quote the body", getErr)
			}
			if len(getErr.Error()) > 400 {
				t.Errorf("error of %d bytes: %q", len(getErr.Error()), getErr)
			}
		})
	}
}

func TestHTTPAuthAndPaths(t *testing.T) {
	var (
		mu      sync.Mutex
		paths   []string
		objects = map[string][]byte{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		paths = append(paths, r.Method+" "+r.URL.Path)
		switch r.Method {
		case http.MethodPut:
			objects[r.URL.Path], _ = io.ReadAll(r.Body)
			w.WriteHeader(http.StatusCreated)
		case http.MethodGet, http.MethodHead:
			b, ok := objects[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Write(b)
		}
	}))
	t.Cleanup(srv.Close)
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1) + "/team"
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.String(), "s3cret") || strings.Contains(s.String(), "alice") {
		t.Errorf("String() = %q shows the credentials", s)
	}
	ctx := context.Background()
	data, key := newBlob(t, 100)
	if err := s.Put(ctx, CAS, key, data); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, CAS, key); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get: %v", err)
	}
	if ok, err := s.Has(ctx, AC, key); ok || err != nil {
		t.Fatalf("Has(AC): %v, %v", ok, err)
	}
	want := []string{"PUT /team/cas/" + key, "GET /team/cas/" + key, "HEAD /team/ac/" + key}
	mu.Lock()
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Errorf("requests %q, want %q", paths, want)
	}

	mu.Unlock()
	// Without the password: 401, an error that is not a miss and not worth retrying.
	s2, _ := Open(ctx, srv.URL+"/team")
	_, err = s2.Get(ctx, CAS, key)
	if err == nil || errors.Is(err, ErrNotFound) || transient(err) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Get without credentials: %v", err)
	}
}

// TestHTTPTruncated: a body shorter than its Content-Length is an error, not short data.
func TestHTTPTruncated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 10))
	}))
	t.Cleanup(srv.Close)
	s, _ := Open(context.Background(), srv.URL)
	_, err := s.Get(context.Background(), AC, randomKey())
	if !errors.Is(err, io.ErrUnexpectedEOF) || !transient(err) {
		t.Fatalf("Get of a truncated body: %v", err)
	}
}

package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// openStore opens url and closes the store when the test ends.
func openStore(t testing.TB, url string) Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newBlob returns n random bytes and their CAS key.
func newBlob(t testing.TB, n int) ([]byte, string) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:])
}

// randomKey returns a key that no test has used.
func randomKey() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testStore is the conformance suite every backend passes: what the artifacts package
// relies on, whatever the store.
func testStore(t *testing.T, s Store) {
	ctx := context.Background()

	t.Run("GetMissing", func(t *testing.T) {
		for _, area := range []Area{CAS, AC} {
			_, err := s.Get(ctx, area, randomKey())
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Get of a missing %s key: %v, want ErrNotFound", area, err)
			}
		}
	})

	t.Run("Has", func(t *testing.T) {
		for _, area := range []Area{CAS, AC} {
			data, key := newBlob(t, 100)
			if ok, err := s.Has(ctx, area, key); ok || err != nil {
				t.Fatalf("Has before Put = %v, %v; want false, nil", ok, err)
			}
			if err := s.Put(ctx, area, key, data); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.Has(ctx, area, key); !ok || err != nil {
				t.Fatalf("Has after Put = %v, %v; want true, nil", ok, err)
			}
		}
	})

	t.Run("PutGet", func(t *testing.T) {
		for _, n := range []int{0, 1, 1000, 100 << 10} {
			for _, area := range []Area{CAS, AC} {
				data, key := newBlob(t, n)
				if area == AC {
					key = randomKey()
				}
				if err := s.Put(ctx, area, key, data); err != nil {
					t.Fatalf("Put %s, %d bytes: %v", area, n, err)
				}
				got, err := s.Get(ctx, area, key)
				if err != nil {
					t.Fatalf("Get %s, %d bytes: %v", area, n, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("Get %s returned %d bytes that differ from the %d put", area, len(got), n)
				}
			}
		}
	})

	t.Run("PutCASTwice", func(t *testing.T) {
		data, key := newBlob(t, 5000)
		for i := range 2 {
			if err := s.Put(ctx, CAS, key, data); err != nil {
				t.Fatalf("Put #%d: %v", i+1, err)
			}
		}
		if got, err := s.Get(ctx, CAS, key); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get after two Puts: %d bytes, %v", len(got), err)
		}
	})

	t.Run("ACOverwrite", func(t *testing.T) {
		key := randomKey()
		for _, v := range []string{"first entry, the longer of the two", "second"} {
			if err := s.Put(ctx, AC, key, []byte(v)); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, AC, key); err != nil || string(got) != v {
				t.Fatalf("Get = %q, %v; want %q", got, err, v)
			}
		}
	})

	t.Run("BadKeys", func(t *testing.T) {
		good := randomKey()
		for _, tc := range []struct {
			name string
			area Area
			key  string
		}{
			{"empty", CAS, ""},
			{"short", CAS, good[:63]},
			{"long", AC, good + "0"},
			{"upper", CAS, "ABCDEF" + good[6:]},
			{"not hex", AC, "g" + good[1:]},
			{"traversal", CAS, "../../" + good[6:]},
			{"slash", AC, good[:30] + "/" + good[31:]},
			{"area", Area("tmp"), good},
			{"empty area", Area(""), good},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := s.Get(ctx, tc.area, tc.key); !errors.Is(err, errInvalidKey) {
					t.Errorf("Get: %v, want errInvalidKey", err)
				}
				if _, err := s.Has(ctx, tc.area, tc.key); !errors.Is(err, errInvalidKey) {
					t.Errorf("Has: %v, want errInvalidKey", err)
				}
				if err := s.Put(ctx, tc.area, tc.key, []byte("x")); !errors.Is(err, errInvalidKey) {
					t.Errorf("Put: %v, want errInvalidKey", err)
				}
			})
		}
	})

	t.Run("ConcurrentPut", func(t *testing.T) {
		const writers = 8
		data, key := newBlob(t, 1<<20)
		acKey := randomKey()
		values := make([][]byte, writers)
		var wg sync.WaitGroup
		errs := make(chan error, 2*writers)
		for i := range writers {
			values[i] = bytes.Repeat([]byte{byte('a' + i)}, 256<<10+i)
			wg.Go(func() {
				errs <- s.Put(ctx, CAS, key, data)
				errs <- s.Put(ctx, AC, acKey, values[i])
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.Get(ctx, CAS, key); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("CAS after concurrent Puts: %d bytes, %v", len(got), err)
		}
		got, err := s.Get(ctx, AC, acKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if bytes.Equal(got, v) {
				return
			}
		}
		t.Fatalf("AC after concurrent Puts holds %d bytes that are none of the values written", len(got))
	})

	t.Run("Large", func(t *testing.T) {
		data, key := newBlob(t, 8<<20)
		if err := s.Put(ctx, CAS, key, data); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, CAS, key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("8 MiB round trip: got %d bytes, not the ones put", len(got))
		}
	})

	t.Run("Reliable", func(t *testing.T) {
		// The wrapper changes nothing for a healthy store.
		r := Reliable(s, Options{Warn: func(err error) { t.Errorf("Warn: %v", err) }})
		data, key := newBlob(t, 3000)
		if err := r.Put(ctx, CAS, key, data); err != nil {
			t.Fatal(err)
		}
		if got, err := r.Get(ctx, CAS, key); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get: %d bytes, %v", len(got), err)
		}
		if _, err := r.Get(ctx, AC, randomKey()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get missing: %v", err)
		}
		if r.String() != s.String() {
			t.Errorf("String() = %q, want %q", r.String(), s.String())
		}
	})
}

func TestOpen(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	ctx := context.Background()
	for _, tc := range []struct {
		url     string
		want    string // String() of the store, or a substring of the error
		wantErr bool
	}{
		{url: "/shared/cache", want: "/shared/cache"},
		{url: "file:///shared/cache", want: "/shared/cache"},
		{url: "file://localhost/shared/cache", want: "/shared/cache"},
		{url: "file://otherhost/shared/cache", want: "not host", wantErr: true},
		{url: "http://cache.example:8080/modulo/", want: "http://cache.example:8080/modulo"},
		{url: "https://alice:s3cret@cache.example/modulo", want: "https://cache.example/modulo"},
		{url: "s3://bucket", want: "s3://bucket"},
		{url: "s3://bucket/team/cache?endpoint=http://127.0.0.1:7070&region=us-east-1", want: "s3://bucket/team/cache at http://127.0.0.1:7070"},
		{url: "s3://bucket?colour=blue", want: `unknown parameter "colour"`, wantErr: true},
		{url: "s3://bucket?endpoint=127.0.0.1:7070", want: "not an http:// or https:// URL", wantErr: true},
		{url: "s3://bucket?use_path_style=maybe", want: "not a boolean", wantErr: true},
		{url: "s3://key:secret@bucket", want: "AWS_ACCESS_KEY_ID", wantErr: true},
		{url: "s3:///prefix", want: "no bucket", wantErr: true},
		{url: "ftp://alice:s3cret@host/x", want: "supported: a directory path, file:///path, http://", wantErr: true},
		{url: "s3://bucket?endpoint=http://h:1&region=%zz", want: "malformed query", wantErr: true},
		{url: "s3://bucket?region=a;b", want: "malformed query", wantErr: true},
		{url: "http:///prefix", want: "no host", wantErr: true},
		{url: "https://alice:s3cret@[::1/x", want: "not a URL", wantErr: true},
		{url: "file://", want: "no path", wantErr: true},
		{url: "", want: "empty URL", wantErr: true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			s, err := Open(ctx, tc.url)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Open succeeded: %v", s)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %q does not mention %q", err, tc.want)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error %q shows the password", err)
				}
				if _, perr := Parse(tc.url); !errors.As(perr, new(*URLError)) {
					t.Fatalf("Parse: %v, want a *URLError: Parse, not Open, finds every mistake in a URL", perr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			if l, _ := Parse(tc.url); l.String() != s.String() {
				t.Fatalf("Location.String() = %q, want the store's %q", l.String(), s.String())
			}
		})
	}
}

func TestCheckKey(t *testing.T) {
	if err := checkKey(CAS, strings.Repeat("0123456789abcdef", 4)); err != nil {
		t.Fatal(err)
	}
	for _, c := range "GZ/.-_ " {
		key := fmt.Sprintf("%c%s", c, strings.Repeat("a", 63))
		if err := checkKey(AC, key); !errors.Is(err, errInvalidKey) {
			t.Errorf("checkKey(%q) = %v", key, err)
		}
	}
}

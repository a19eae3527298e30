package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/artifacts/remote/remotetest"
)

func TestS3Versitygw(t *testing.T) {
	endpoint, root := remotetest.StartVersitygw(t, "modulo")
	ctx := context.Background()
	s := openStore(t, "s3://modulo/team/cache?region=us-east-1&endpoint="+endpoint)
	testStore(t, s)

	t.Run("Layout", func(t *testing.T) {
		data, key := newBlob(t, 10)
		if err := s.Put(ctx, CAS, key, data); err != nil {
			t.Fatal(err)
		}
		// The posix backend keeps object a/b/c as file <root>/<bucket>/a/b/c.
		if got, err := os.ReadFile(filepath.Join(root, "modulo", "team", "cache", "cas", key)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("object team/cache/cas/<key>: %q, %v", got, err)
		}
	})

	t.Run("NoSuchBucket", func(t *testing.T) {
		s, err := Open(ctx, "s3://nosuchbucket?endpoint="+endpoint)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Get(ctx, AC, randomKey())
		if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "bucket does not exist") {
			t.Fatalf("Get from a missing bucket: %v, want an error that is not a miss", err)
		}
		if transient(err) {
			t.Errorf("a missing bucket counts as transient: %v", err)
		}
	})

	t.Run("WrongSecret", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		s, err := Open(ctx, "s3://modulo?endpoint="+endpoint)
		if err != nil {
			t.Fatal(err)
		}
		data, key := newBlob(t, 10)
		err = s.Put(ctx, CAS, key, data)
		if err == nil || transient(err) {
			t.Fatalf("Put with a wrong secret: %v, want a refusal", err)
		}
		r := Reliable(s, Options{Warn: func(error) {}})
		if _, err := r.Has(ctx, CAS, key); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Reliable Has with a wrong secret: %v", err)
		}
	})

	t.Run("ServerGone", func(t *testing.T) {
		// Nothing listens on this port any more: a connection error, transient.
		s, err := Open(ctx, "s3://modulo?endpoint=http://"+remotetest.FreeAddr(t))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Has(ctx, CAS, randomKey())
		if err == nil || !transient(err) {
			t.Fatalf("Has with no server: %v, want a transient error", err)
		}
	})
}

// BenchmarkS3Put and BenchmarkS3Get measure the S3 store's throughput against versitygw on
// loopback, the ceiling of what the client side costs:
//
//	go test -run xxx -bench S3 -benchtime 20x ./artifacts/remote/
func BenchmarkS3Put(b *testing.B) {
	endpoint, _ := remotetest.StartVersitygw(b, "bench")
	s := openStore(b, "s3://bench/b?endpoint="+endpoint)
	for _, n := range []int{1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dMiB", n>>20), func(b *testing.B) {
			data, _ := newBlob(b, n)
			b.SetBytes(int64(n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// AC keys: the store checks nothing, so any bytes go under any key.
				if err := s.Put(context.Background(), AC, randomKey(), data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkS3Get(b *testing.B) {
	endpoint, _ := remotetest.StartVersitygw(b, "bench")
	s := openStore(b, "s3://bench/b?endpoint="+endpoint)
	for _, n := range []int{1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dMiB", n>>20), func(b *testing.B) {
			data, key := newBlob(b, n)
			if err := s.Put(context.Background(), CAS, key, data); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got, err := s.Get(context.Background(), CAS, key)
				if err != nil || len(got) != n {
					b.Fatalf("Get: %d bytes, %v", len(got), err)
				}
			}
		})
	}
}

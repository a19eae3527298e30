package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	testAccessKey = "AKIAMODULOTEST"
	testSecretKey = "modulo-test-secret-key"
)

// startVersitygw runs versitygw with its posix backend on a temporary directory, on a free
// port of 127.0.0.1, creates bucket through the S3 API, and points the standard AWS
// variables at its root account (and away from the developer's own AWS configuration).
// It returns the endpoint URL and the posix root.
func startVersitygw(t testing.TB, bucket string) (string, string) {
	bin := findBinary("versitygw", gopathBins()...)
	if bin == "" {
		missingServer(t, "versitygw", installVersitygw)
	}
	root := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--port", addr, "--access", testAccessKey, "--secret", testSecretKey,
		"--region", "us-east-1", "--quiet", "posix", root)
	// versitygw also reads its keys from ROOT_ACCESS_KEY_ID and friends; the flags win, and
	// nothing else of the environment matters to it.
	startServer(t, cmd, addr)
	endpoint := "http://" + addr

	cfgDir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           testAccessKey,
		"AWS_SECRET_ACCESS_KEY":       testSecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_CONFIG_FILE":             filepath.Join(cfgDir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(cfgDir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}

	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")))
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s at %s: %v", bucket, endpoint, err)
	}
	return endpoint, root
}

func TestS3Versitygw(t *testing.T) {
	endpoint, root := startVersitygw(t, "modulo")
	ctx := context.Background()
	s, err := Open(ctx, "s3://modulo/team/cache?region=us-east-1&endpoint="+endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
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
		s, err := Open(ctx, "s3://modulo?endpoint=http://"+freeAddr(t))
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
	endpoint, _ := startVersitygw(b, "bench")
	s, err := Open(context.Background(), "s3://bench/b?endpoint="+endpoint)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
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
	endpoint, _ := startVersitygw(b, "bench")
	s, err := Open(context.Background(), "s3://bench/b?endpoint="+endpoint)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
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

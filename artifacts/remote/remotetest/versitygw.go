package remotetest

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The root account of the server StartVersitygw starts.
const (
	AccessKey = "AKIAMODULOTEST"
	SecretKey = "modulo-test-secret-key"
)

// StartVersitygw runs versitygw with its posix backend on a temporary directory, on a free
// port of 127.0.0.1, until the test ends, and creates bucket through the S3 API. It returns
// the endpoint URL (http://127.0.0.1:port; a remote cache in the bucket is
// s3://bucket/prefix?endpoint=<url>) and the posix root, where object k of the bucket is the
// file root/bucket/k. Without versitygw it skips the test, or fails it where Required.
//
// It points the standard AWS variables, with t.Setenv, at the server's root account
// (AWS_ACCESS_KEY_ID=AccessKey, AWS_SECRET_ACCESS_KEY=SecretKey) and away from the
// developer's own AWS configuration (AWS_PROFILE, AWS_REGION, the config and credentials
// files, instance metadata), so that an S3 store opened in the test, or a command run in
// process, signs its requests for this server. Like t.Setenv, it cannot be used in parallel
// tests.
func StartVersitygw(t testing.TB, bucket string) (url, root string) {
	t.Helper()
	bin := findBinary("versitygw", gopathBins()...)
	if bin == "" {
		missingServer(t, "versitygw", installVersitygw)
	}
	root = t.TempDir()
	addr := FreeAddr(t)
	cmd := exec.Command(bin, "--port", addr, "--access", AccessKey, "--secret", SecretKey,
		"--region", "us-east-1", "--quiet", "posix", root)
	// versitygw also reads its keys from ROOT_ACCESS_KEY_ID and friends; the flags win, and
	// nothing else of the environment matters to it.
	startServer(t, cmd, addr)
	endpoint := "http://" + addr

	cfgDir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           AccessKey,
		"AWS_SECRET_ACCESS_KEY":       SecretKey,
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
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")))
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

package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// s3Store keeps the cache in an S3 bucket, or on any server speaking S3's API (MinIO,
// Ceph, versitygw, ...), under <prefix>/cas/<hex> and <prefix>/ac/<hex>. S3 writes are
// atomic per object, so concurrent writers of one key need no coordination.
//
// It calls the AWS SDK's S3 client directly: three operations (GetObject, PutObject,
// HeadObject) are all it needs. gocloud.dev/blob would wrap them portably, but it links
// gRPC, protobuf and the OpenTelemetry SDK into modulo, whose binary grew by 27 MB with it
// against 10 MB with the bare SDK, and its URL opener keeps the SDK's own retries on. A
// blob goes up in one PutObject: cache blobs are megabytes, far below S3's 5 GiB limit
// for one request, and a multipart upload would only add round trips.
//
// The client makes one attempt per call: retries and timeouts are Reliable's job, and the
// SDK's own three attempts under each of Reliable's would multiply the wait before a dead
// server is noticed.
type s3Store struct {
	client *s3.Client
	bucket string
	name   string // for String: s3://bucket/prefix, plus the endpoint when one is set
	prefix string // "" or "prefix/"
}

// s3Params are the query parameters an s3:// URL may carry.
var s3Params = map[string]string{
	"region":         "the bucket's region (default: AWS_REGION, the AWS config file, or us-east-1)",
	"endpoint":       "an S3-compatible server, e.g. http://127.0.0.1:7070",
	"use_path_style": "true for http://endpoint/bucket/key addressing (the default when endpoint is set)",
	"profile":        "a profile of the AWS shared config and credentials files",
}

// s3Spec is an s3:// URL that parseS3 accepted.
type s3Spec struct {
	bucket, prefix  string // prefix is "" or "prefix/"
	region, profile string // "" for the AWS SDK's default
	endpoint        string // "" for AWS itself
	pathStyle       bool
}

// String is what the store calls itself: s3://bucket/prefix, plus the endpoint when one is set.
func (s *s3Spec) String() string {
	name := "s3://" + s.bucket
	if s.prefix != "" {
		name += "/" + strings.TrimSuffix(s.prefix, "/")
	}
	if s.endpoint != "" {
		name += " at " + s.endpoint
	}
	return name
}

// parseS3 checks an s3:// URL: a bucket, no credentials, known parameters with valid
// values. It returns what is wrong, with the remedy, or "".
func parseS3(u *url.URL) (*s3Spec, string) {
	if u.Host == "" {
		return nil, "no bucket; write s3://bucket/prefix"
	}
	if u.User != nil {
		return nil, "credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile), not the URL; remove the user:password@ part"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Sprintf("malformed query %q (%v); write ?name=value&name=value, with %%26 for a & inside a value", u.RawQuery, err)
	}
	var known []string
	for p := range s3Params {
		known = append(known, p)
	}
	sort.Strings(known)
	for k := range q {
		if _, ok := s3Params[k]; !ok {
			return nil, fmt.Sprintf("unknown parameter %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	s := &s3Spec{bucket: u.Host, region: q.Get("region"), profile: q.Get("profile"), endpoint: q.Get("endpoint")}
	if p := strings.Trim(u.Path, "/"); p != "" {
		s.prefix = p + "/"
	}
	s.pathStyle = s.endpoint != ""
	if v := q.Get("use_path_style"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Sprintf("use_path_style=%q is not a boolean; write true or false", v)
		}
		s.pathStyle = b
	}
	if s.endpoint != "" {
		e, err := url.Parse(s.endpoint)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return nil, fmt.Sprintf("endpoint %q is not an http:// or https:// URL; write endpoint=http://host:port", s.endpoint)
		}
	}
	return s, ""
}

// openS3 builds the client from the standard AWS sources (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/...) plus the URL's parameters. Path-style
// addressing is the default with a custom endpoint because servers on 127.0.0.1 or a bare
// host name cannot serve bucket.host virtual hosts.
func openS3(ctx context.Context, spec *s3Spec) (*s3Store, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(1)}
	if spec.region != "" {
		opts = append(opts, config.WithRegion(spec.region))
	}
	if spec.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(spec.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("remote cache %s: AWS configuration: %w", spec, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if spec.endpoint != "" {
			o.BaseEndpoint = aws.String(spec.endpoint)
		}
		o.UsePathStyle = spec.pathStyle
		// The transport the HTTP stores share: its connections outlive a store reopened.
		o.HTTPClient = &http.Client{Transport: transport}
		// An object uploaded in parts (by another tool, say) has a composite checksum that
		// the SDK cannot check on GET, and says so on stderr at each GET. Reliable checks
		// CAS blobs itself.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &s3Store{client: client, bucket: spec.bucket, name: spec.String(), prefix: spec.prefix}, nil
}

func (s *s3Store) String() string { return s.name }

// Close drops the idle connections of the shared transport. Other stores lose nothing but
// warm connections.
func (s *s3Store) Close() error {
	transport.CloseIdleConnections()
	return nil
}

func (s *s3Store) key(area Area, key string) *string {
	return aws.String(s.prefix + string(area) + "/" + key)
}

func (s *s3Store) Get(ctx context.Context, area Area, key string) ([]byte, error) {
	if err := checkKey(area, key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: s.key(area, key)})
	if err != nil {
		return nil, s.error("GET", area, key, err)
	}
	defer out.Body.Close()
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	data, err := readBody(out.Body, size)
	if err != nil {
		return nil, s.error("GET", area, key, err)
	}
	return data, nil
}

func (s *s3Store) Put(ctx context.Context, area Area, key string, data []byte) error {
	if err := checkKey(area, key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket,
		Key:    s.key(area, key),
		// A bytes.Reader, so that the SDK can hash the payload for its signature and
		// rewind it, without a copy.
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/octet-stream"),
	})
	if err != nil {
		return s.error("PUT", area, key, err)
	}
	return nil
}

// Has asks with HEAD, whose answer has no body: a missing bucket is a 404 like a missing
// key, so Has reports false for both (Get and Put tell them apart).
func (s *s3Store) Has(ctx context.Context, area Area, key string) (bool, error) {
	if err := checkKey(area, key); err != nil {
		return false, err
	}
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.key(area, key)})
	if err != nil {
		err = s.error("HEAD", area, key, err)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// error turns S3's "no such key" into ErrNotFound. A missing bucket is not a miss but a
// misconfiguration, and is said so.
func (s *s3Store) error(op string, area Area, key string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%s: %s/%s: %w", s, area, key, ErrNotFound)
		case "NoSuchBucket":
			return fmt.Errorf("remote cache %s: %s %s/%s: the bucket does not exist: %w", s, op, area, key, err)
		}
	}
	return fmt.Errorf("remote cache %s: %s %s/%s: %w", s, op, area, key, err)
}

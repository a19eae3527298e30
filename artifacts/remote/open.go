package remote

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// errInvalidKey is wrapped by the error for a key that is not 64 lowercase hex digits or an
// area that is neither CAS nor AC. It is the caller's mistake, not the store's, so Reliable
// neither retries it nor marks the store down for it.
var errInvalidKey = errors.New("invalid remote cache key")

// checkKey rejects anything but a known area and a SHA-256 in lowercase hex. Every backend
// calls it first: a key turns into a file name or a URL path, so "../x" must never get
// through, and the two-digit fan-out needs at least two digits.
func checkKey(area Area, key string) error {
	if area != CAS && area != AC {
		return fmt.Errorf("%w: area %q (want %q or %q)", errInvalidKey, area, CAS, AC)
	}
	if len(key) != 64 {
		return fmt.Errorf("%w: %q is not 64 hex digits", errInvalidKey, key)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: %q is not 64 lowercase hex digits", errInvalidKey, key)
		}
	}
	return nil
}

// Open returns the store named by rawURL:
//
//	/shared/modulo-cache, ./cache, file:///shared/modulo-cache
//	    a directory, created on first Put; <dir>/cas/ab/<hex> and <dir>/ac/ab/<hex>
//	http://host:port/prefix, https://user:password@host/prefix
//	    an HTTP cache speaking Bazel's protocol (bazel-remote, nginx with WebDAV PUT, ...);
//	    <prefix>/cas/<hex> and <prefix>/ac/<hex>, with basic auth if the URL has a user
//	s3://bucket/prefix?region=eu-west-1
//	s3://bucket/prefix?endpoint=http://127.0.0.1:7070&region=us-east-1
//	    an S3 bucket, or an S3-compatible server at endpoint; objects <prefix>/cas/<hex>
//	    and <prefix>/ac/<hex>
//
// A directory may be shared over NFS or SMB: writes go to a unique temporary file that is
// then renamed into place, so they need no locks, which such file systems often lack.
//
// An s3 URL takes the parameters region, endpoint, use_path_style (true by default when
// endpoint is set, since a server at an IP address cannot serve bucket.host names) and
// profile. Credentials come from the AWS SDK's usual sources: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials, an instance role.
//
// Open makes no network request, so a store that is down fails on first use, where Reliable
// handles it, not here.
func Open(ctx context.Context, rawURL string) (Store, error) {
	if rawURL == "" {
		return nil, errors.New("remote cache: empty URL; " + supported)
	}
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return openDir(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("remote cache: %w", err)
	}
	switch strings.ToLower(scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("remote cache %q: a file URL names a local path (file:///path), not host %q", rawURL, u.Host)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("remote cache %q: no path", rawURL)
		}
		return openDir(filepath.FromSlash(u.Path))
	case "http", "https":
		return openHTTP(u)
	case "s3":
		return openS3(ctx, u)
	}
	return nil, fmt.Errorf("remote cache %q: unsupported scheme %q; %s", redact(rawURL), scheme, supported)
}

const supported = "supported: a directory path, file:///path, http://host/prefix, https://host/prefix, s3://bucket/prefix"

// redact drops a password from a URL for messages; unparsable input is returned as it is.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.Redacted()
}

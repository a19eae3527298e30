package remote

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Location is a remote cache URL that Parse accepted: which kind of store and where. It
// holds no connection; Open makes one. The forms are:
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
// An s3 URL takes the parameters region, endpoint, use_path_style (true by default when
// endpoint is set, since a server at an IP address cannot serve bucket.host names) and
// profile. Credentials come from the AWS SDK's usual sources: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials, an instance role.
type Location struct {
	// Dir is a directory store's path as written, or from file:///path; "" for an HTTP or
	// S3 store. A caller that knows better than the working directory what a relative path
	// means (a pipeline file's directory) may rewrite it before Open.
	Dir  string
	http *url.URL // an http or https store
	s3   *s3Spec  // an s3 store
}

// URLError is Parse's error: the URL, without its password, and what is wrong with it,
// followed by how to write it.
type URLError struct {
	URL     string
	Problem string
}

func (e *URLError) Error() string { return fmt.Sprintf("remote cache %q: %s", e.URL, e.Problem) }

// supported lists the forms Parse accepts, for the remedy of its errors.
const supported = "supported: a directory path, file:///path, http://host/prefix, https://host/prefix, s3://bucket/prefix"

// Parse checks rawURL against the forms Location lists, without any network request or
// file system access, so a mistake in a configuration is found when it is loaded rather
// than on first use. Its errors are *URLError.
func Parse(rawURL string) (*Location, error) {
	if rawURL == "" {
		return nil, &URLError{URL: rawURL, Problem: "empty URL; " + supported}
	}
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return &Location{Dir: rawURL}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &URLError{URL: redact(rawURL), Problem: fmt.Sprintf("not a URL (%v); %s", err, supported)}
	}
	bad := func(format string, args ...any) (*Location, error) {
		return nil, &URLError{URL: redact(rawURL), Problem: fmt.Sprintf(format, args...)}
	}
	switch strings.ToLower(scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return bad("a file URL names a local path (file:///path), not host %q", u.Host)
		}
		if u.Path == "" {
			return bad("no path; write file:///absolute/path, or the directory's path itself")
		}
		return &Location{Dir: filepath.FromSlash(u.Path)}, nil
	case "http", "https":
		if u.Host == "" {
			return bad("no host; write %s://host[:port]/prefix", strings.ToLower(scheme))
		}
		return &Location{http: u}, nil
	case "s3":
		spec, problem := parseS3(u)
		if problem != "" {
			return bad("%s", problem)
		}
		return &Location{s3: spec}, nil
	}
	return bad("unsupported scheme %q; %s", scheme, supported)
}

// Open connects to the store at l; see the package's Open.
func (l *Location) Open(ctx context.Context) (Store, error) {
	switch {
	case l.http != nil:
		return openHTTP(l.http), nil
	case l.s3 != nil:
		return openS3(ctx, l.s3)
	}
	return openDir(l.Dir)
}

// String names the location for messages, without credentials.
func (l *Location) String() string {
	switch {
	case l.http != nil:
		return httpBase(l.http)
	case l.s3 != nil:
		return l.s3.String()
	}
	return l.Dir
}

// redact drops a password from a URL for messages, and leaves any other URL as it is. From a URL that does not parse it drops
// everything between "://" and an "@" of the host part, which may be a password too.
func redact(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
		return rawURL // as written: url.URL.String would turn s3:// into s3:
	}
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	host := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host = rest[:i]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		return scheme + "://xxxxx" + rest[i:]
	}
	return rawURL
}

package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// transport is shared by every HTTP and S3 store so that a process talking to one cache
// through several stores (or reopening it) reuses connections. Its idle pool per host is
// larger than net/http's default of 2 because uploads and downloads of one pipeline run in
// parallel.
var transport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}()

// httpStore speaks the HTTP flavour of Bazel's remote cache protocol: GET, PUT and HEAD on
// <base>/ac/<hex> and <base>/cas/<hex>. bazel-remote, nginx with WebDAV PUT and most
// artifact servers serve it. Requests have no timeout of their own; the caller's context
// (and Reliable's per-attempt timeout) bounds them.
type httpStore struct {
	base       string // scheme://host[:port][/path], no trailing slash, no credentials
	user, pass string
	auth       bool
	client     *http.Client
}

// openHTTP makes the store for u, which Parse checked.
func openHTTP(u *url.URL) *httpStore {
	s := &httpStore{client: &http.Client{Transport: transport}}
	if u.User != nil {
		s.auth = true
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	s.base = httpBase(u)
	return s
}

// httpBase is u without credentials, query, fragment or trailing slash: the prefix of
// every object's URL, and the store's name in messages.
func httpBase(u *url.URL) string {
	b := *u
	b.User = nil
	b.RawQuery, b.Fragment, b.RawFragment = "", "", ""
	return strings.TrimRight(b.String(), "/")
}

func (s *httpStore) String() string { return s.base }

// Close drops the idle connections of the shared transport. Other stores lose nothing but
// warm connections.
func (s *httpStore) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

func (s *httpStore) do(ctx context.Context, method string, area Area, key string, body []byte) (*http.Response, error) {
	if err := checkKey(area, key); err != nil {
		return nil, err
	}
	u := s.base + "/" + string(area) + "/" + key
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, fmt.Errorf("remote cache: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	if s.auth {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error carries the URL, which has no credentials: they travel in a header.
		return nil, fmt.Errorf("remote cache: %w", err)
	}
	return resp, nil
}

func (s *httpStore) Get(ctx context.Context, area Area, key string) ([]byte, error) {
	resp, err := s.do(ctx, http.MethodGet, area, key, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s/%s/%s: %w", s.base, area, key, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, newStatusError(resp)
	}
	data, err := readBody(resp.Body, resp.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("remote cache: GET %s/%s/%s: %w", s.base, area, key, err)
	}
	return data, nil
}

func (s *httpStore) Put(ctx context.Context, area Area, key string, data []byte) error {
	if data == nil {
		data = []byte{} // a nil body would send no Content-Length
	}
	resp, err := s.do(ctx, http.MethodPut, area, key, data)
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode/100 != 2 {
		return newStatusError(resp)
	}
	return nil
}

func (s *httpStore) Has(ctx context.Context, area Area, key string) (bool, error) {
	resp, err := s.do(ctx, http.MethodHead, area, key, nil)
	if err != nil {
		return false, err
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode/100 == 2:
		return true, nil
	}
	return false, newStatusError(resp)
}

// readBody reads a response body of size bytes (-1 if unknown) in one allocation when the
// size is known: io.ReadAll's doubling would copy a 16 MiB blob about 20 times over. A body
// shorter than its Content-Length is io.ErrUnexpectedEOF, a transient error.
func readBody(r io.Reader, size int64) ([]byte, error) {
	if size < 0 || size > 1<<30 {
		return io.ReadAll(r)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return data, nil
}

// drain reads a little of what is left of a body before closing it, so that the
// connection can be reused for the next request.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

// statusError is an HTTP answer other than success or 404. Its HTTPStatusCode method is the
// one the AWS SDK's errors have too, through which Reliable tells a server's transient
// trouble (5xx, 408, 429) from a refusal (401, 403, ...).
type statusError struct {
	method, url string
	code        int
	status      string
	excerpt     string
}

// newStatusError keeps the start of the body: servers explain themselves there ("quota
// exceeded", an HTML error page's title), and 200 bytes are enough to recognize it without
// flooding a warning line.
func newStatusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	e := &statusError{method: resp.Request.Method, url: resp.Request.URL.Redacted(), code: resp.StatusCode, status: resp.Status}
	e.excerpt = oneLine(b)
	return e
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("remote cache: %s %s: %s", e.method, e.url, e.status)
	if e.excerpt != "" {
		msg += ": " + e.excerpt
	}
	return msg
}

func (e *statusError) HTTPStatusCode() int { return e.code }

// oneLine squeezes a body excerpt into one printable line.
func oneLine(b []byte) string {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("?"))
	}
	f := strings.FieldsFunc(string(b), func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) })
	return strings.Join(f, " ")
}

// Package remote stores a modulo cache's two areas, content-addressed blobs (cas) and
// action entries (ac), somewhere teammates share: a directory, an S3-compatible bucket, or
// an HTTP cache speaking Bazel's protocol (GET, PUT and HEAD on /ac/<hash> and
// /cas/<hash>). It moves bytes only; what they mean, and whether to trust them, is the
// artifacts package's business.
package remote

import (
	"context"
	"errors"
)

// Area is one of a cache's two namespaces.
type Area string

const (
	// CAS holds blobs under the lowercase hex SHA-256 of their (uncompressed) bytes.
	CAS Area = "cas"
	// AC holds action entries under the lowercase hex ActionID.
	AC Area = "ac"
)

// ErrNotFound is wrapped by the error of a Get or Has of a key the store does not hold: a
// miss, not a fault.
var ErrNotFound = errors.New("not in the remote cache")

// Store is a remote cache. Implementations are safe for concurrent use. Keys are 64
// lowercase hex digits; anything else is an error.
type Store interface {
	// Get returns the bytes under area/key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, area Area, key string) ([]byte, error)
	// Put stores data under area/key, atomically: a reader sees all of it or nothing.
	// Putting a CAS key that exists is harmless.
	Put(ctx context.Context, area Area, key string, data []byte) error
	// Has reports whether area/key exists.
	Has(ctx context.Context, area Area, key string) (bool, error)
	// String names the store for messages, without credentials.
	String() string
	// Close releases connections.
	Close() error
}

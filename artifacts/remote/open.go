package remote

import (
	"context"
	"errors"
	"fmt"
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

// Open returns the store named by rawURL, which Parse checks first (see Location for the
// forms it takes). A relative directory is resolved against the working directory.
//
// A directory may be shared over NFS or SMB: writes go to a unique temporary file that is
// then renamed into place, so they need no locks, which such file systems often lack.
//
// Open makes no network request, so a store that is down fails on first use, where Reliable
// handles it, not here.
func Open(ctx context.Context, rawURL string) (Store, error) {
	l, err := Parse(rawURL)
	if err != nil {
		return nil, err
	}
	return l.Open(ctx)
}

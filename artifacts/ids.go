// Package artifacts is modulo's content-addressed result cache.
//
// It is modelled on Go's build cache (cmd/go/internal/cache) and on Bazel's
// two-level remote cache. A stage run is described by a [Key]: labelled lines
// naming everything that can influence its result (stage name and version,
// parameters, input output IDs, tool version). The hash of that description
// is the run's [ActionID]. Every result byte string is stored once, compressed,
// in the content-addressed store (CAS) under its [OutputID], the hash of its
// uncompressed bytes. The action cache (AC) maps an ActionID to an [Entry]
// listing the OutputIDs the run produced.
//
// Two runs that produce identical bytes share one blob, and a stage that
// reproduces an old result lets downstream stages hit the cache even when its
// own inputs changed, because downstream keys mention OutputIDs, not
// ActionIDs.
//
// Everything on disk is treated as untrusted: a damaged or truncated file is a
// cache miss (reported as a [*CorruptError] so callers can warn), never a
// crash or a wrong result. All writes go through a temporary file and a
// rename, so a reader never sees a half-written file, even if the writer was
// killed with SIGKILL.
package artifacts

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"io"
)

// IDs are written into entry JSON through their text form.
var (
	_ encoding.TextMarshaler   = ActionID{}
	_ encoding.TextUnmarshaler = (*ActionID)(nil)
	_ encoding.TextMarshaler   = OutputID{}
	_ encoding.TextUnmarshaler = (*OutputID)(nil)
)

// idLen is the length in bytes of both ID kinds: a SHA-256 digest.
const idLen = sha256.Size

// ActionID is the SHA-256 of a complete description of a repeatable
// computation (see [Key]). Two runs with the same ActionID are expected to
// produce the same outputs, so the second one can be served from the cache.
type ActionID [idLen]byte

// OutputID is the SHA-256 of an output's uncompressed bytes. Because it
// depends only on the content, never on the codec or the tool version, the
// same bytes always land in the same blob.
type OutputID [idLen]byte

// NewOutputID returns the OutputID of data: its SHA-256.
func NewOutputID(data []byte) OutputID {
	return OutputID(sha256.Sum256(data))
}

// ReadOutputID returns the OutputID of everything r yields, hashed as it is read, for
// files better not held whole: a pipeline's state is read on every no-op rerun, and
// reading 700 KB into fresh memory cost about 170 page faults, milliseconds on a virtual
// machine.
func ReadOutputID(r io.Reader) (OutputID, error) {
	h := sha256.New()
	buf := make([]byte, 32<<10)
	// Only the Reader: an *os.File's WriteTo would make CopyBuffer ignore buf and allocate.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{r}, buf); err != nil {
		return OutputID{}, err
	}
	var id OutputID
	h.Sum(id[:0])
	return id, nil
}

// String returns the ID as 64 lowercase hex digits, the spelling used in
// file names and in entry JSON.
func (id ActionID) String() string { return hex.EncodeToString(id[:]) }

// String returns the ID as 64 lowercase hex digits, the spelling used in
// file names and in entry JSON.
func (id OutputID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the all-zero ID, which no real hash produces
// in practice and which [Entry] uses for "no provenance recorded".
func (id OutputID) IsZero() bool { return id == OutputID{} }

// ParseActionID parses the 64-hex-digit form produced by [ActionID.String].
// Upper-case digits are accepted so IDs pasted from elsewhere work.
func ParseActionID(s string) (ActionID, error) {
	var id ActionID
	if err := parseHex(id[:], s); err != nil {
		return ActionID{}, fmt.Errorf("parse action ID %q: %w", s, err)
	}
	return id, nil
}

// ParseOutputID parses the 64-hex-digit form produced by [OutputID.String].
// Upper-case digits are accepted so IDs pasted from elsewhere work.
func ParseOutputID(s string) (OutputID, error) {
	var id OutputID
	if err := parseHex(id[:], s); err != nil {
		return OutputID{}, fmt.Errorf("parse output ID %q: %w", s, err)
	}
	return id, nil
}

// parseHex decodes s into dst, requiring exactly 2*len(dst) hex digits.
func parseHex(dst []byte, s string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("want %d hex digits, have %d characters", 2*len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return err
	}
	return nil
}

// MarshalText makes IDs appear as hex strings in JSON rather than as arrays
// of 32 numbers.
func (id ActionID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText is the inverse of [ActionID.MarshalText].
func (id *ActionID) UnmarshalText(b []byte) error {
	v, err := ParseActionID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// MarshalText makes IDs appear as hex strings in JSON rather than as arrays
// of 32 numbers.
func (id OutputID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText is the inverse of [OutputID.MarshalText].
func (id *OutputID) UnmarshalText(b []byte) error {
	v, err := ParseOutputID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// shard returns the two-hex-digit directory name that spreads files over 256
// subdirectories, so no single directory grows too large to list quickly.
func shard(hexID string) string { return hexID[:2] }

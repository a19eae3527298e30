package artifacts

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// debugKeyEnv names the environment variable that, when set to "1", makes
// [Key.ID] print every hashed line to stderr. Comparing the output of two runs
// with diff shows exactly which influence changed an ActionID, the same trick
// as GODEBUG=gocachehash=1 in cmd/go.
const debugKeyEnv = "MODULO_DEBUG_KEY"

// debugOut is where the MODULO_DEBUG_KEY lines go; tests replace it.
var debugOut io.Writer = os.Stderr

// A Key accumulates the description of a computation, one "label value" line
// per influence, and hashes it into an [ActionID]. It mirrors buildActionID
// in cmd/go: the description is kept (not just the running hash) so it can be
// stored next to the result and shown when someone asks why a stage re-ran.
//
// A Key is not safe for concurrent use; build it in one goroutine.
type Key struct {
	buf []byte
}

// KeyLine is one parsed line of a key description.
type KeyLine struct {
	Label string
	Value string
}

// NewKey starts a description whose first line is "salt <salt>". The salt
// (the tool version, say) enters every ActionID so a new modulo never trusts
// results computed by an old one, but it never enters OutputIDs: identical
// bytes produced by two versions still share one blob.
func NewKey(salt string) *Key {
	// Room for a typical stage's description: growing from nothing took about five
	// allocations per key, 3% of the allocations of a plan of 10,000 nodes.
	k := &Key{buf: make([]byte, 0, 512)}
	k.Add("salt", salt)
	return k
}

// Add appends the line "label value". Labels are meant to be identifiers
// without spaces; values may contain anything. Both are escaped so that each
// influence stays on exactly one line and [ParseDescription] can recover it:
// backslash becomes `\\`, newline `\n`, carriage return `\r`, and, in labels
// only, space becomes `\s`. Escaping rather than rejecting odd labels keeps
// Add total, so a label built from user input can never crash a run.
func (k *Key) Add(label, value string) {
	k.buf = appendEscaped(k.buf, label, true)
	k.buf = append(k.buf, ' ')
	k.buf = appendEscaped(k.buf, value, false)
	k.buf = append(k.buf, '\n')
}

// Description returns a copy of all lines, in the order they were added. It
// is exactly what [Key.ID] hashes.
func (k *Key) Description() []byte {
	return bytes.Clone(k.buf)
}

// ID returns the SHA-256 of [Key.Description]. When MODULO_DEBUG_KEY=1 it also
// prints every hashed line to stderr prefixed by "HASH ", in a single write so
// that lines from concurrent keys do not interleave.
func (k *Key) ID() ActionID {
	if os.Getenv(debugKeyEnv) == "1" {
		var b bytes.Buffer
		for line := range bytes.Lines(k.buf) {
			b.WriteString("HASH ")
			b.Write(line)
		}
		// Debug output is best effort: a closed stderr must not change IDs.
		_, _ = debugOut.Write(b.Bytes())
	}
	return ActionID(sha256.Sum256(k.buf))
}

// ParseDescription is the inverse of [Key.Description]: it splits b into
// lines and unescapes labels and values. It rejects input that Description
// cannot produce: a missing final newline, a line without a space, an unknown
// escape, or a first line that is not the salt.
func ParseDescription(b []byte) ([]KeyLine, error) {
	if len(b) == 0 {
		return nil, errors.New("key description: empty")
	}
	if b[len(b)-1] != '\n' {
		return nil, errors.New("key description: missing final newline")
	}
	var lines []KeyLine
	n := 0
	for line := range bytes.Lines(b) {
		n++
		line = line[:len(line)-1]
		rawLabel, rawValue, ok := bytes.Cut(line, []byte{' '})
		if !ok {
			return nil, fmt.Errorf("key description line %d: no space between label and value", n)
		}
		label, err := unescape(rawLabel)
		if err != nil {
			return nil, fmt.Errorf("key description line %d: label: %w", n, err)
		}
		value, err := unescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("key description line %d: value: %w", n, err)
		}
		lines = append(lines, KeyLine{Label: label, Value: value})
	}
	if lines[0].Label != "salt" {
		return nil, fmt.Errorf("key description: first line is %q, want salt", lines[0].Label)
	}
	return lines, nil
}

// appendEscaped appends s to dst, escaping the bytes that would break the
// one-line-per-influence format. Spaces are escaped only in labels, where the
// first space separates label from value.
func appendEscaped(dst []byte, s string, label bool) []byte {
	special := "\\\n\r"
	if label {
		special = "\\\n\r "
	}
	if !strings.ContainsAny(s, special) {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			dst = append(dst, `\\`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == ' ' && label:
			dst = append(dst, `\s`...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// unescape reverses appendEscaped. A raw newline cannot occur because the
// caller has already split on newlines.
func unescape(b []byte) (string, error) {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b), nil
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		i++
		if i == len(b) {
			return "", errors.New("trailing backslash")
		}
		switch b[i] {
		case '\\':
			out = append(out, '\\')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 's':
			out = append(out, ' ')
		default:
			return "", fmt.Errorf("unknown escape \\%c", b[i])
		}
	}
	return string(out), nil
}

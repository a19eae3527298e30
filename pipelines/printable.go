package pipelines

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diags as HCL tools do, each with its source lines from files, to
// a terminal of the given width (0: no wrapping) in colour or not. What the user wrote is made
// printable first: a control character in a string literal, a file name or a message (an
// escape sequence, a carriage return, a bidirectional override) would otherwise reach the
// terminal and act there, clearing the screen or hiding text.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	safeFiles := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		if f == nil {
			continue
		}
		g := *f
		g.Bytes = printableSource(f.Bytes)
		safeFiles[Printable(name)] = &g
	}
	safe := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		if d == nil {
			continue
		}
		c := *d
		c.Summary = Printable(d.Summary)
		c.Detail = Printable(d.Detail)
		c.Subject = printableRange(d.Subject)
		c.Context = printableRange(d.Context)
		safe = append(safe, &c)
	}
	return hcl.NewDiagnosticTextWriter(w, safeFiles, width, color).WriteDiagnostics(safe)
}

func printableRange(r *hcl.Range) *hcl.Range {
	if r == nil {
		return nil
	}
	c := *r
	c.Filename = Printable(r.Filename)
	return &c
}

// Printable returns s with every character that a terminal would act on instead of showing
// written as a Go escape (\x1b, \u202e) and every byte that is not UTF-8 as \xNN. Newlines
// and tabs are kept: they are how messages are laid out.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&sb, `\x%02x`, s[i])
		case unprintable(r):
			if r < 0x80 {
				fmt.Fprintf(&sb, `\x%02x`, r)
			} else {
				fmt.Fprintf(&sb, `\u%04x`, r)
			}
		default:
			sb.WriteString(s[i : i+n])
		}
		i += n
	}
	return sb.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unprintable(r) {
			return true
		}
		i += n
	}
	return false
}

// unprintable reports whether a terminal would act on r instead of showing it: the control
// characters but newline and tab, and the bidirectional controls that reorder what follows.
func unprintable(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

// printableSource is Printable for source files shown in diagnostics, which must keep every
// byte at its offset (diagnostic ranges are byte offsets): each byte of an unprintable
// character becomes '?'. A carriage return before a newline is kept, as the line end it is.
func printableSource(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		bad := r == utf8.RuneError && n == 1 || unprintable(r) && !(r == '\r' && i+1 < len(src) && src[i+1] == '\n')
		if bad {
			if out == nil {
				out = append(make([]byte, 0, len(src)), src...)
			}
			for j := i; j < i+n; j++ {
				out[j] = '?'
			}
		}
		i += n
	}
	if out == nil {
		return src
	}
	return out
}

package pipelines

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// parseTextFile reads and parses one HCL file, refusing a file that is not UTF-8 text with
// one diagnostic instead of the parser's many: a binary file or a Latin-1 one would otherwise
// give an error per stray byte, each echoing the raw bytes of its line to the terminal.
func parseTextFile(p *hclparse.Parser, filename string) (*hcl.File, hcl.Diagnostics) {
	src, err := os.ReadFile(filename)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Failed to read file",
			Detail:   fmt.Sprintf("Cannot read the pipeline file %s: %v. Check that it exists and is readable.", filename, pathErrCause(err)),
		}}
	}
	if d := CheckText(filename, src); d != nil {
		return nil, d
	}
	return p.ParseHCL(src, filename)
}

// CheckText returns one diagnostic when src, the contents of filename, is not UTF-8 text:
// when it holds a NUL byte (a binary file, or text saved as UTF-16) or a byte sequence that
// is not UTF-8 (text saved as Latin-1 or Windows-1252). It returns nil for text. The
// diagnostic's Subject is the position of the first offending byte; its file is not meant to
// be shown, since its bytes are what cannot be printed.
func CheckText(filename string, src []byte) hcl.Diagnostics {
	if i := bytes.IndexByte(src, 0); i >= 0 {
		pos := bytePos(src, i)
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Not a text file",
			Detail: fmt.Sprintf("%s holds a NUL byte at offset %d (line %d, column %d), so it is not a text file: it may be a binary file named .hcl, or text saved as UTF-16. "+
				"modulo reads pipeline files as UTF-8 text: save the file as UTF-8, or move it out of the pipeline's directory.", filename, i, pos.Line, pos.Column),
			Subject: &hcl.Range{Filename: filename, Start: pos, End: pos},
		}}
	}
	if utf8.Valid(src) {
		return nil
	}
	i := invalidUTF8(src)
	pos := bytePos(src, i)
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid UTF-8",
		Detail: fmt.Sprintf("%s is not valid UTF-8 at line %d, column %d (byte offset %d is 0x%02X): it was probably saved in another encoding such as Latin-1. "+
			"modulo reads pipeline files as UTF-8 text: save the file as UTF-8 in your editor, or convert it with iconv -f LATIN1 -t UTF-8.", filename, pos.Line, pos.Column, i, src[i]),
		Subject: &hcl.Range{Filename: filename, Start: pos, End: pos},
	}}
}

// invalidUTF8 returns the offset of the first byte of src that does not start a valid UTF-8
// sequence; src must hold one.
func invalidUTF8(src []byte) int {
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(src)
}

// bytePos turns a byte offset of src into an hcl.Pos: lines from 1, columns from 1 counted in
// characters, as HCL counts them (a stray byte counts as one).
func bytePos(src []byte, offset int) hcl.Pos {
	before := src[:offset]
	line := 1 + bytes.Count(before, []byte{'\n'})
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(before[lineStart:]), Byte: offset}
}

// pathErrCause drops the path an *fs.PathError repeats, for messages that name it already.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

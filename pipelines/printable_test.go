package pipelines

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, src string
		summary   string // "" for text
		line, col int
		detail    string
	}{
		{name: "ascii", src: "a = 1\n"},
		{name: "utf8", src: "a = \"café ∑ 🙂\"\n"},
		{name: "empty", src: ""},
		{name: "control characters are text", src: "a = \"\x1b[2J\"\n"},
		{name: "nul", src: "a = 1\nb = \"x\x00\"\n", summary: "Not a text file", line: 2, col: 7, detail: "holds a NUL byte at offset 12 (line 2, column 7)"},
		{name: "utf16", src: "\xff\xfea\x00", summary: "Not a text file", line: 1, col: 4, detail: "offset 3"},
		{name: "latin1", src: "a = 1\nb = \"caf\xe9\"\n", summary: "Invalid UTF-8", line: 2, col: 9, detail: "line 2, column 9 (byte offset 14 is 0xE9)"},
		{name: "after multibyte", src: "é\xff", summary: "Invalid UTF-8", line: 1, col: 2, detail: "byte offset 2 is 0xFF"},
		{name: "truncated sequence", src: "a\n\xe2\x82", summary: "Invalid UTF-8", line: 2, col: 1, detail: "byte offset 2 is 0xE2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := CheckText("f.hcl", []byte(tt.src))
			if tt.summary == "" {
				if diags != nil {
					t.Fatalf("CheckText(%q) = %v, want nil", tt.src, diags)
				}
				return
			}
			if len(diags) != 1 {
				t.Fatalf("CheckText(%q) gave %d diagnostics, want 1", tt.src, len(diags))
			}
			d := diags[0]
			if d.Summary != tt.summary || d.Subject == nil || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("got %q at %v, want %q at line %d column %d", d.Summary, d.Subject, tt.summary, tt.line, tt.col)
			}
			if !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", d.Detail, tt.detail)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"two\nlines\tand a tab", "two\nlines\tand a tab"},
		{"caf\u00e9 ∑", "caf\u00e9 ∑"},
		{"\x1b[2Jclear", `\x1b[2Jclear`},
		{"bell\a cr\r del\x7f", `bell\x07 cr\x0d del\x7f`},
		{"csi\u009b", `csi\u009b`},
		{"rlo\u202eevil", `rlo\u202eevil`},
		{"latin\xe9", `latin\xe9`},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPrintableSource checks that each byte keeps its offset, so that diagnostic ranges still
// point at the same text.
func TestPrintableSource(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a = \"x\"\r\nb = 1\n", "a = \"x\"\r\nb = 1\n"},
		{"a = \"\x1b[2J\"\n", "a = \"?[2J\"\n"},
		{"a = \"\u202e\"\n", "a = \"???\"\n"},
		{"lone\rcr", "lone?cr"},
		{"bad\xffbyte", "bad?byte"},
	}
	for _, tt := range tests {
		got := string(printableSource([]byte(tt.in)))
		if got != tt.want {
			t.Errorf("printableSource(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(got) != len(tt.in) {
			t.Errorf("printableSource(%q) changed the length from %d to %d", tt.in, len(tt.in), len(got))
		}
	}
}

// TestWriteDiagnosticsEscapes renders a diagnostic on a line holding an escape sequence, with
// its file name and messages holding more: nothing but newlines and the colour codes the
// writer adds itself may be a control character.
func TestWriteDiagnosticsEscapes(t *testing.T) {
	src := []byte("text \"a\" {\n  value = \"\x1b]0;pwned\x07\"\n}\n")
	name := "evil\x1b[31m.hcl"
	f := &hcl.File{Bytes: src}
	rng := hcl.Range{Filename: name, Start: hcl.Pos{Line: 2, Column: 3, Byte: 13}, End: hcl.Pos{Line: 2, Column: 8, Byte: 18}}
	diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Bad \x1b[2J", Detail: "Value \u009b1m\nnext line", Subject: &rng}}
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteDiagnostics(&buf, map[string]*hcl.File{name: f}, diags, 0, color); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, code := range []string{"\x1b[31m", "\x1b[0m", "\x1b[1;4m"} { // the writer's own
			out = strings.ReplaceAll(out, code, "")
		}
		for i, r := range out {
			if r != '\n' && unprintable(r) {
				t.Errorf("color %v: output holds %U at offset %d:\n%q", color, r, i, buf.String())
				break
			}
		}
		for _, want := range []string{`Bad \x1b[2J`, `evil\x1b[31m.hcl line 2`, `value = "?]0;pwned?"`, `Value \u009b1m`} {
			if !strings.Contains(out, want) {
				t.Errorf("color %v: output lacks %q:\n%s", color, want, out)
			}
		}
	}
	if !bytes.Contains(f.Bytes, []byte{0x1b}) {
		t.Errorf("WriteDiagnostics changed the caller's file")
	}
}

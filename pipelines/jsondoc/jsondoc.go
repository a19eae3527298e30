// Package jsondoc builds the machine-readable documents that modulo's commands print with
// -json: validate, plan, run, show, graph and cache info. docs/JSON.md describes them for
// their readers; this package is where they are made, so that the command line only
// marshals them.
//
// Every document is a JSON object whose first member is "format_version" (FormatVersion),
// and which ends with "error_count", "warning_count" and "diagnostics" (Problems): the
// mistakes the command found, each with its location, as validate reports them. Within
// one major version, members are only ever added; a reader ignores those it does not know.
// A change that removes or redefines a member bumps the major version.
//
// Statuses are lower-case words (cached, run, known_after_run, …), addresses are written
// as the text output writes them (train.net["w64-s1"]), digests are lower-case hex SHA-256,
// sizes are bytes and durations are seconds ("duration_s"). Lists are never null: an empty
// list is [].
package jsondoc

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// FormatVersion is the version of every document's format, major.minor: the minor version
// grows when members are added, the major one when a member is removed or changes meaning.
const FormatVersion = "1.0"

// Problems are the diagnostics of a document, with their counts; every document embeds it.
type Problems struct {
	ErrorCount   int          `json:"error_count"`
	WarningCount int          `json:"warning_count"`
	Diagnostics  []Diagnostic `json:"diagnostics"`
}

// Add appends diags, converted, to p and counts them. addr names the node each diagnostic
// is about, if it is known (by the diagnostic's identity), and may be nil.
func (p *Problems) Add(diags hcl.Diagnostics, addr map[*hcl.Diagnostic]string) {
	for _, d := range diags {
		if d == nil {
			continue
		}
		jd := NewDiagnostic(d)
		jd.Address = addr[d]
		if jd.Severity == "warning" {
			p.WarningCount++
		} else {
			p.ErrorCount++
		}
		p.Diagnostics = append(p.Diagnostics, jd)
	}
	if p.Diagnostics == nil {
		p.Diagnostics = []Diagnostic{}
	}
}

// Diagnostic is an hcl.Diagnostic, as terraform validate -json writes one.
type Diagnostic struct {
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	// Detail says what is wrong and how to fix it, in sentences; it may be empty.
	Detail string `json:"detail"`
	// Address is the node the diagnostic is about, when it arose from one (planning or
	// running it); empty otherwise.
	Address string `json:"address,omitempty"`
	// Range is where in the pipeline's files the mistake is; absent when it is nowhere in
	// particular (a missing pipeline, a flag naming no node).
	Range *Range `json:"range,omitempty"`
}

// Range is a span of a source file, as hcl.Range.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Pos is a position in a source file: line and column from 1 (columns count characters),
// byte from 0.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// NewDiagnostic converts d.
func NewDiagnostic(d *hcl.Diagnostic) Diagnostic {
	jd := Diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
	if d.Severity == hcl.DiagWarning {
		jd.Severity = "warning"
	}
	if r := d.Subject; r != nil {
		jd.Range = &Range{
			Filename: r.Filename,
			Start:    Pos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
			End:      Pos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
		}
	}
	return jd
}

// Message returns an error diagnostic for a failure that is not about the pipeline's
// source, such as a cache directory that cannot be opened: summary is terse, detail says
// what happened.
func Message(summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
}

// Write writes doc to w as indented JSON and a newline. HTML's characters (<, >, &) are
// written as they are, not escaped: the reader is a program or a person, not a browser.
func Write(w io.Writer, doc any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1000) / 1000
}

// nonNil returns s, or an empty slice for nil, so that JSON has [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/pipelines/jsondoc"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// jsonMasked are the members of the JSON documents whose values differ from one run to the
// next, or with the machine, and that golden files therefore hold as "*" (maskJSON):
// durations and times; the size on disk of cache entries (they hold times and durations)
// and compressed sizes (they follow the compressor's version, not modulo's format).
var jsonMasked = regexp.MustCompile(`("(?:duration_s|created|oldest|newest|entry_bytes|blob_bytes|stored)": )("[^"]*"|-?[0-9][0-9.eE+-]*)`)

// maskJSON replaces what varies in a document (jsonMasked) with "*", and the test's work
// directory with $WORK, so that a document can be compared with a golden file; docs/JSON.md
// describes the convention for scripts that test against modulo's documents.
func maskJSON(doc []byte, work string) []byte {
	doc = jsonMasked.ReplaceAll(doc, []byte(`$1"*"`))
	return bytes.ReplaceAll(doc, []byte(work), []byte("$WORK"))
}

// TestJSONDocuments runs every command that has -json, in turn, on the pipelines of
// testdata/json (in a fresh cache: a plan, a run, a failing run, show, graph, cache info),
// and compares each document, masked (maskJSON), with its golden file testdata/json/NAME.json.
// Run it with MODULO_UPDATE_GOLDEN=1 to rewrite them after a deliberate change of format,
// and bump jsondoc.FormatVersion if a member was removed or changed meaning.
func TestJSONDocuments(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "json"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, f := range []string{"p.hcl", "bad.hcl", "types.hcl", "unplanned.hcl", "late.hcl"} {
		b, err := os.ReadFile(filepath.Join(golden, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(work)
	t.Setenv("MODULO_CACHE", filepath.Join(work, "cache"))
	t.Setenv(stagetest.LogEnv, filepath.Join(work, "runs.log"))
	t.Setenv("TERM", "dumb")
	update := os.Getenv(stagetest.UpdateEnv) == "1"
	steps := []struct {
		name   string // the golden file, NAME.json
		code   int
		args   []string
		stderr string // what stderr must hold; without it, stderr must be empty (but run's, its progress)
	}{
		{"validate", 0, []string{"validate", "-json", "p.hcl"}, ""},
		{"validate_load_errors", 1, []string{"validate", "-json", "bad.hcl"}, ""},
		{"validate_config_errors", 1, []string{"validate", "-json", "types.hcl"}, ""},
		{"validate_missing", 1, []string{"validate", "-json", "missing.hcl"}, ""},
		{"graph", 0, []string{"graph", "-json", "p.hcl"}, ""},
		{"plan_new", 2, []string{"plan", "-json", "p.hcl"}, ""},
		{"plan_error", 1, []string{"plan", "-json", "unplanned.hcl"}, ""},
		{"run_plan_error", 1, []string{"run", "-json", "unplanned.hcl"}, ""},
		{"run", 0, []string{"run", "-json", "-progress", "json", "p.hcl"}, `"event":"finished","node":"concat.c"`},
		{"plan_cached", 0, []string{"plan", "-json", "p.hcl"}, ""},
		{"run_cached", 0, []string{"run", "-json", "p.hcl"}, ""},
		{"run_failed", 1, []string{"run", "-json", "-keep-going", "-var", "fail=boom", "p.hcl"}, ""},
		{"graph_plan", 0, []string{"graph", "-format", "json", "-plan", "-var", "fail=boom", "p.hcl"}, ""},
		{"show", 0, []string{"show", "-json", "-p", "p.hcl", "text.a"}, ""},
		{"show_table", 0, []string{"show", "-json", "-p", "p.hcl", "command.table"}, ""},
		{"show_not_cached", 1, []string{"show", "-json", "-p", "p.hcl", "-var", "fail=boom", "text.a"}, ""},
		{"show_not_a_node", 1, []string{"show", "-json", "-p", "p.hcl", "text.k"}, ""},
		{"run_config_error", 1, []string{"run", "-json", "late.hcl"}, ""},
		{"cache_info", 0, []string{"cache", "info", "-json"}, ""},
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		code := Main(s.args, &stdout, &stderr)
		cmd := "modulo " + strings.Join(s.args, " ")
		if code != s.code {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmd, code, s.code, stdout.Bytes(), stderr.Bytes())
		}
		if !json.Valid(stdout.Bytes()) {
			t.Errorf("%s: stdout is not one JSON document:\n%s", cmd, stdout.Bytes())
			continue
		}
		switch {
		case s.stderr != "" && !strings.Contains(stderr.String(), s.stderr):
			t.Errorf("%s: stderr lacks %s:\n%s", cmd, s.stderr, stderr.Bytes())
		case s.stderr == "" && s.args[0] != "run" && stderr.Len() > 0:
			t.Errorf("%s: stderr is not empty:\n%s", cmd, stderr.Bytes())
		}
		got := maskJSON(stdout.Bytes(), work)
		path := filepath.Join(golden, s.name+".json")
		if update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (record it with %s=1)", cmd, err, stagetest.UpdateEnv)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the document differs from %s (if the change is deliberate, rewrite it with %s=1 and say so in docs/JSON.md):\ngot:\n%s\nwant:\n%s", cmd, path, stagetest.UpdateEnv, got, want)
		}
	}
}

// TestJSONDocExamples checks the examples of docs/JSON.md against the documents' types:
// each is JSON of its section's document, with no member the document does not have.
func TestJSONDocExamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "JSON.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]func() any{
		"validate":   func() any { return new(jsondoc.Validate) },
		"plan":       func() any { return new(jsondoc.Plan) },
		"run":        func() any { return new(jsondoc.Run) },
		"show":       func() any { return new(jsondoc.Show) },
		"graph":      func() any { return new(jsondoc.Graph) },
		"cache info": func() any { return new(jsondoc.CacheInfo) },
	}
	section, seen := "", map[string]bool{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if h, ok := strings.CutPrefix(lines[i], "## "); ok {
			section = h
			continue
		}
		if lines[i] != "```json" {
			continue
		}
		start := i + 1
		for i++; i < len(lines) && lines[i] != "```"; i++ {
		}
		example := strings.Join(lines[start:i], "\n")
		newDoc, ok := docs[section]
		if !ok {
			t.Errorf("docs/JSON.md line %d: a JSON example in section %q, which is no document's", start, section)
			continue
		}
		seen[section] = true
		dec := json.NewDecoder(strings.NewReader(example))
		dec.DisallowUnknownFields()
		doc := newDoc()
		if err := dec.Decode(doc); err != nil {
			t.Errorf("docs/JSON.md line %d (%s): %v", start, section, err)
			continue
		}
		var v struct {
			FormatVersion string `json:"format_version"`
		}
		json.Unmarshal([]byte(example), &v)
		if v.FormatVersion != jsondoc.FormatVersion {
			t.Errorf("docs/JSON.md line %d (%s): format_version %q, want %q", start, section, v.FormatVersion, jsondoc.FormatVersion)
		}
	}
	for name := range docs {
		if !seen[name] {
			t.Errorf("docs/JSON.md has no example of the %s document", name)
		}
	}
}

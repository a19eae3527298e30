package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/reference"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// shippedKinds holds the kinds of stages.Default but the engine's test kinds, which
// TestMain registers there: the kinds a modulo binary runs, which the reference and its
// golden files describe.
func shippedKinds(t *testing.T) *stages.Registry {
	t.Helper()
	test := &stages.Registry{}
	stagetest.Register(test)
	r := &stages.Registry{}
	for _, name := range stages.Default.Names() {
		if _, ok := test.Lookup(name); !ok {
			k, _ := stages.Default.Lookup(name)
			r.Register(k)
		}
	}
	return r
}

// doc runs modulo doc with args, describing the shipped kinds, and returns its standard
// output.
func doc(t *testing.T, args ...string) string {
	t.Helper()
	defer func(r *stages.Registry) { docKinds = r }(docKinds)
	docKinds = shippedKinds(t)
	var out, stderr bytes.Buffer
	if code := Main(append([]string{"doc"}, args...), &out, &stderr); code != 0 {
		t.Fatalf("modulo doc %s: exit %d, stderr %s", strings.Join(args, " "), code, &stderr)
	}
	return out.String()
}

// TestDocGolden compares modulo doc train and modulo doc command with their golden files
// in testdata/doc; MODULO_UPDATE_GOLDEN=1 rewrites them. A change in a kind's schema shows
// up here as a readable diff of what users are told.
func TestDocGolden(t *testing.T) {
	for _, kind := range []string{"train", "command"} {
		got := doc(t, kind)
		path := filepath.Join("testdata", "doc", kind+".txt")
		if os.Getenv(stagetest.UpdateEnv) == "1" {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (create it with %s=1 go test -run TestDocGolden ./cmd/modulo/)", err, stagetest.UpdateEnv)
		}
		if got != string(want) {
			t.Errorf("modulo doc %s differs from %s; if on purpose, regenerate it with %s=1 go test -run TestDocGolden ./cmd/modulo/\ngot:\n%s", kind, path, stagetest.UpdateEnv, got)
		}
	}
}

// TestLanguageMarkdownFresh keeps docs/LANGUAGE.md what modulo doc -markdown writes, so an
// attribute added to a kind without regenerating the file fails here.
func TestLanguageMarkdownFresh(t *testing.T) {
	got := doc(t, "-markdown")
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "LANGUAGE.md"))
	if err != nil {
		t.Fatalf("docs/LANGUAGE.md: %v; run make docs", err)
	}
	if got != string(want) {
		t.Errorf("docs/LANGUAGE.md is stale: run make docs (%s)", firstDiff(string(want), got))
	}
}

// firstDiff describes the first line where the file and the rendering differ.
func firstDiff(file, fresh string) string {
	a, b := strings.Split(file, "\n"), strings.Split(fresh, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("line %d is %q, modulo doc -markdown writes %q", i+1, x, y)
		}
	}
	return "they differ"
}

// TestDocListsEveryAttribute walks every registered kind's schema, nested blocks included,
// and its outputs, and finds each in modulo doc KIND (as a line name = type at its depth)
// and in the kind's section of the Markdown (as a row of a table); likewise the language's
// own blocks. It counts what it checked, so that it cannot pass by checking nothing.
func TestDocListsEveryAttribute(t *testing.T) {
	markdown := doc(t, "-markdown")
	kinds := shippedKinds(t)
	names := kinds.Names()
	for _, want := range []string{"dataset", "train", "prune", "match", "interpolate", "merge_three", "report", "command"} {
		if _, ok := kinds.Lookup(want); !ok {
			t.Errorf("the kind %s is not registered: the command must link package stages/kinds", want)
		}
	}
	attrs, outputs := 0, 0
	for _, name := range names {
		k, _ := kinds.Lookup(name)
		text := doc(t, name)
		_, section, ok := strings.Cut(markdown, "\n## `"+name+"`\n")
		if !ok {
			t.Errorf("the Markdown has no section ## `%s`", name)
		}
		section, _, _ = strings.Cut(section, "\n## ")
		attrs += checkSchema(t, name, k.Schema, text, section, "  ")
		for _, o := range k.Outputs {
			outputs++
			if line := "  " + o.Name + " (" + reference.Type(o.Type) + ")"; !strings.Contains(text, "\n"+line) {
				t.Errorf("modulo doc %s lacks the output line %q", name, line)
			}
			if row := fmt.Sprintf("| `%s` | `%s` |", o.Name, reference.Type(o.Type)); !strings.Contains(section, row) {
				t.Errorf("the Markdown of %s lacks the output row %q", name, row)
			}
		}
		if k.Declares != "" {
			for _, s := range []string{text, section} {
				if !strings.Contains(strings.Join(strings.Fields(s), " "), "declares an output of its own") {
					t.Errorf("the reference of %s does not say that its %s blocks declare outputs", name, k.Declares)
				}
			}
		}
	}
	lang := pipelines.Language()
	for _, b := range lang.Blocks {
		attrs += checkSchema(t, b.Name, b.Schema, doc(t, b.Name), markdown, "  ")
	}
	attrs += checkSchema(t, "every stage block", lang.Meta, doc(t), markdown, "  ")
	if len(names) < 8 || attrs < 100 || outputs < 30 {
		t.Errorf("checked %d kinds, %d attributes and %d outputs: fewer than there are", len(names), attrs, outputs)
	}
}

// checkSchema finds every attribute and nested block of s in text, indented by indent,
// and in markdown, and returns how many attributes it checked.
func checkSchema(t *testing.T, where string, s stages.Schema, text, markdown, indent string) int {
	t.Helper()
	n := 0
	for _, a := range s.Attributes {
		n++
		if line := "\n" + indent + a.Name + " = " + reference.Type(a.Type) + " ("; !strings.Contains(text, line) {
			t.Errorf("modulo doc %s lacks the attribute line %q", where, strings.TrimPrefix(line, "\n"))
		}
		if row := fmt.Sprintf("| `%s` | `%s` |", a.Name, reference.Type(a.Type)); !strings.Contains(markdown, row) {
			t.Errorf("the Markdown of %s lacks the attribute row %q", where, row)
		}
	}
	for _, b := range s.Blocks {
		head := b.Name
		for _, l := range b.Labels {
			head += fmt.Sprintf(" %q", strings.ToUpper(l))
		}
		head += " { … }"
		if !strings.Contains(text, "\n"+indent+head+" (") {
			t.Errorf("modulo doc %s lacks the block %q", where, head)
		}
		if !strings.Contains(markdown, "`"+head+"` in ") {
			t.Errorf("the Markdown of %s lacks the block %q", where, head)
		}
		n += checkSchema(t, where+" "+b.Name, b.Schema, text, markdown, indent+"    ")
	}
	return n
}

func TestDocUnknownTopic(t *testing.T) {
	var out, stderr bytes.Buffer
	code := Main([]string{"doc", "trian"}, &out, &stderr)
	if code != 1 || out.Len() > 0 || !strings.Contains(stderr.String(), `did you mean "train"?`) {
		t.Errorf("modulo doc trian: exit %d, stdout %q, stderr %q; want 1 and a did you mean", code, &out, &stderr)
	}
	code = Main([]string{"doc", "-markdown", "train"}, &out, &stderr)
	if code != 2 {
		t.Errorf("modulo doc -markdown train: exit %d, want 2", code)
	}
}

func TestHelpListsDoc(t *testing.T) {
	var out, stderr bytes.Buffer
	Main([]string{"help"}, &out, &stderr)
	if !strings.Contains(out.String(), "\n  doc ") {
		t.Errorf("modulo help does not list doc:\n%s", &out)
	}
}

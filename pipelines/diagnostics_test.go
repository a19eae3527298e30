package pipelines

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// The fixtures under testdata/invalid are small pipelines, each with deliberate mistakes. A
// mistake is marked by a trailing comment
//
//	# ERROR: <diagnostic Summary>
//
// on the line where the diagnostic's Subject starts. The full check (what `modulo validate`
// does) must report exactly the marked errors: each marker matches one error diagnostic with
// that Summary and a Subject on that line, and no error goes unmarked. Fixtures under
// testdata/valid must produce no error at all.

// checkPipeline runs the full check of the pipeline at path, as `modulo validate` does: open
// (load and build with no variable values given) and, when that succeeds, plan with no cache.
func checkPipeline(path string) (*Graph, hcl.Diagnostics) {
	g, _, diags := Open(path, testRegistry(), VarSource{})
	if !diags.HasErrors() {
		_, d := (&Planner{Graph: g}).Plan(nil)
		diags = append(diags, d...)
	}
	return g, diags
}

// checkNoPanic is checkPipeline that turns a panic into a test failure with its stack.
func checkNoPanic(t *testing.T, path string) (g *Graph, diags hcl.Diagnostics) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("checking %s panicked: %v\n%s", path, r, debug.Stack())
		}
	}()
	return checkPipeline(path)
}

// marker is one expected error: its Summary and the line its Subject starts on.
type marker struct {
	line    int
	summary string
}

func (m marker) String() string { return fmt.Sprintf("line %d: %s", m.line, m.summary) }

const markerTag = "# ERROR:"

// parseMarkers reads the # ERROR: markers of a fixture; a line may hold several.
func parseMarkers(src string) []marker {
	var out []marker
	for i, line := range strings.Split(src, "\n") {
		parts := strings.Split(line, markerTag)
		for _, p := range parts[1:] {
			out = append(out, marker{line: i + 1, summary: strings.TrimSpace(p)})
		}
	}
	return out
}

// formatDiag renders d as file:line:col: severity: Summary — Detail.
func formatDiag(d *hcl.Diagnostic) string {
	pos := "<no subject>"
	if d.Subject != nil {
		pos = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	return fmt.Sprintf("%s: %s: %s — %q", pos, sev, d.Summary, d.Detail)
}

func formatDiags(diags hcl.Diagnostics) string {
	if len(diags) == 0 {
		return "  (no diagnostics)"
	}
	var sb strings.Builder
	for _, d := range diags {
		sb.WriteString("  " + formatDiag(d) + "\n")
	}
	return strings.TrimRight(sb.String(), "\n")
}

func fixtures(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	return files
}

func sameFile(a, b string) bool { return filepath.Clean(a) == filepath.Clean(b) }

func TestInvalidPipelines(t *testing.T) {
	files := fixtures(t, "invalid")
	if len(files) < 30 {
		t.Errorf("only %d invalid fixtures, want at least 30", len(files))
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			markers := parseMarkers(string(src))
			if len(markers) == 0 {
				t.Fatalf("%s has no %s markers", path, markerTag)
			}
			_, diags := checkNoPanic(t, path)

			used := make([]bool, len(markers))
			var problems []string
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					continue
				}
				if strings.TrimSpace(d.Detail) == "" {
					problems = append(problems, "error without Detail: "+formatDiag(d))
				}
				if d.Subject == nil {
					problems = append(problems, "error without Subject: "+formatDiag(d))
					continue
				}
				matched := false
				for i, m := range markers {
					if !used[i] && m.summary == d.Summary && m.line == d.Subject.Start.Line && sameFile(d.Subject.Filename, path) {
						used[i], matched = true, true
						break
					}
				}
				if !matched {
					problems = append(problems, "unexpected error: "+formatDiag(d))
				}
			}
			for i, m := range markers {
				if !used[i] {
					problems = append(problems, fmt.Sprintf("missing error at %s:%s", path, m))
				}
			}
			if len(problems) > 0 {
				t.Errorf("%s:\n  %s\nall diagnostics:\n%s", path, strings.Join(problems, "\n  "), formatDiags(diags))
			}
		})
	}
}

func TestValidPipelines(t *testing.T) {
	files := fixtures(t, "valid")
	if len(files) < 3 {
		t.Errorf("only %d valid fixtures, want at least 3", len(files))
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			g, diags := checkNoPanic(t, path)
			if len(diags) > 0 {
				t.Fatalf("%s: want no diagnostics, got:\n%s", path, formatDiags(diags))
			}
			order, err := g.DAG.TopoOrder()
			if err != nil {
				t.Fatalf("%s: TopoOrder: %v", path, err)
			}
			if len(order) != len(g.Instances) {
				t.Errorf("%s: TopoOrder has %d nodes, the graph %d instances", path, len(order), len(g.Instances))
			}
		})
	}
}

// TestCycleDiagnosticsDeterministic loads every cycle fixture many times: the diagnostics,
// Detail text included, must be the same on every load and match the golden text.
func TestCycleDiagnosticsDeterministic(t *testing.T) {
	golden := map[string][]string{
		"cycle_2.hcl": {
			"testdata/invalid/cycle_2.hcl:1:1: error: Dependency cycle — " + cycleDetail("text.a -> text.b -> text.a"),
		},
		"cycle_3.hcl": {
			"testdata/invalid/cycle_3.hcl:1:1: error: Dependency cycle — " + cycleDetail("concat.c -> text.a -> text.b -> concat.c"),
		},
		"cycle_self.hcl": {
			"testdata/invalid/cycle_self.hcl:1:1: error: Dependency cycle — " + cycleDetail("text.a -> text.a"),
		},
		"cycle_two_separate.hcl": {
			"testdata/invalid/cycle_two_separate.hcl:1:1: error: Dependency cycle — " + cycleDetail("text.a -> text.b -> text.a"),
			"testdata/invalid/cycle_two_separate.hcl:13:1: error: Dependency cycle — " + cycleDetail(`text.x["k"] -> text.y -> text.x["k"]`),
		},
		"local_cycle.hcl": {
			"testdata/invalid/local_cycle.hcl:2:3: error: Cycle in local values — " +
				fmt.Sprintf("%q", "These local values refer to each other: a -> b -> c -> a. Break the cycle by removing one of the references."),
		},
	}
	for name, want := range golden {
		t.Run(strings.TrimSuffix(name, ".hcl"), func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", name)
			for i := 0; i < 20; i++ {
				_, diags := checkNoPanic(t, path)
				var got []string
				for _, d := range diags {
					got = append(got, filepath.ToSlash(formatDiag(d)))
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("load %d of %s:\ngot:\n  %s\nwant:\n  %s", i+1, path, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
			}
		})
	}
}

func cycleDetail(path string) string {
	return fmt.Sprintf("%q", "These stages refer to each other in a cycle, so none of them can run first:\n  "+path+"\nBreak the cycle by removing one of the references.")
}

// TestDiagnosticsDeterministic checks that every invalid fixture gives the same diagnostics,
// in the same order and with the same text, on every load: the order of Go map iteration
// must not leak into what the user reads.
func TestDiagnosticsDeterministic(t *testing.T) {
	for _, path := range fixtures(t, "invalid") {
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			var first string
			for i := 0; i < 20; i++ {
				_, diags := checkNoPanic(t, path)
				got := formatDiags(diags)
				if i == 0 {
					first = got
					continue
				}
				if got != first {
					t.Fatalf("load %d of %s differs from load 1:\n%s\nload 1:\n%s", i+1, path, got, first)
				}
			}
		})
	}
}

// diagsOf runs the full check on src, written to a temporary pipeline file.
func diagsOf(t *testing.T, src string) hcl.Diagnostics {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := checkNoPanic(t, path)
	return diags
}

// A diagCheck inspects the diagnostics of a pipeline and describes what is wrong with them,
// or returns "" when they are as they should be.
type diagCheck func(diags hcl.Diagnostics) string

// oneError wants exactly one error, with the given Summary, on line, whose Detail contains
// every string of want and none of avoid.
func oneError(summary string, line int, want []string, avoid ...string) diagCheck {
	return func(diags hcl.Diagnostics) string {
		var errs []*hcl.Diagnostic
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				errs = append(errs, d)
			}
		}
		if len(errs) != 1 {
			return fmt.Sprintf("want exactly one error, got %d", len(errs))
		}
		d := errs[0]
		var p []string
		if d.Summary != summary {
			p = append(p, fmt.Sprintf("Summary is %q, want %q", d.Summary, summary))
		}
		if d.Subject == nil || d.Subject.Start.Line != line {
			p = append(p, fmt.Sprintf("Subject is not on line %d", line))
		}
		for _, w := range want {
			if !strings.Contains(d.Detail, w) {
				p = append(p, fmt.Sprintf("Detail lacks %q", w))
			}
		}
		for _, a := range avoid {
			if strings.Contains(d.Detail, a) {
				p = append(p, fmt.Sprintf("Detail contains %q", a))
			}
		}
		return strings.Join(p, "; ")
	}
}

// noErrors wants no error at all.
func noErrors(diags hcl.Diagnostics) string {
	if diags.HasErrors() {
		return "want no errors"
	}
	return ""
}

// errorOnLine wants at least one error whose Subject is on line and whose Detail contains
// none of avoid.
func errorOnLine(line int, avoid ...string) diagCheck {
	return func(diags hcl.Diagnostics) string {
	next:
		for _, d := range diags {
			if d.Severity != hcl.DiagError || d.Subject == nil || d.Subject.Start.Line != line {
				continue
			}
			for _, a := range avoid {
				if strings.Contains(d.Detail, a) {
					continue next
				}
			}
			return ""
		}
		if len(avoid) > 0 {
			return fmt.Sprintf("want an error on line %d whose Detail contains none of %q", line, avoid)
		}
		return fmt.Sprintf("want an error on line %d", line)
	}
}

// TestDiagnosticDetails checks what the messages say, beyond their Summary: suggestions for
// near names and none for far ones, lists of what exists, the author's validation message.
func TestDiagnosticDetails(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check diagCheck
	}{
		{
			name:  "kind typo suggests the kind",
			src:   "txet \"a\" {\n  value = \"x\"\n}\n",
			check: oneError("Unknown block type", 1, []string{`Did you mean "text"?`, "concat, emit, file, text"}),
		},
		{
			name:  "far block type suggests nothing",
			src:   "resource \"a\" \"b\" {}\n",
			check: oneError("Unknown block type", 1, nil, "Did you mean"),
		},
		{
			name:  "near argument suggests the argument",
			src:   "text \"a\" {\n  value = \"x\"\n  uppr = true\n}\n",
			check: oneError("Unsupported argument", 3, []string{`Did you mean "upper"?`}),
		},
		{
			name:  "far argument suggests nothing",
			src:   "text \"a\" {\n  value = \"x\"\n  colour = \"red\"\n}\n",
			check: oneError("Unsupported argument", 3, nil, "Did you mean"),
		},
		{
			name:  "undeclared stage lists the blocks of the kind",
			src:   "text \"alpha\" {\n  value = \"a\"\n}\nconcat \"c\" {\n  parts = [text.alpah.out]\n}\n",
			check: oneError("Reference to undeclared stage", 5, []string{"The text blocks are: alpha.", `Did you mean "alpha"?`}),
		},
		{
			name:  "undeclared instance lists the keys",
			src:   "text \"b\" {\n  for_each = toset([\"x\", \"y\"])\n  value = each.key\n}\nconcat \"c\" {\n  parts = [text.b[\"z\"].out]\n}\n",
			check: oneError("Reference to undeclared instance", 6, []string{"Its keys are: x, y."}),
		},
		{
			name:  "undeclared output lists the outputs",
			src:   "text \"a\" {\n  value = \"a\"\n}\nconcat \"c\" {\n  parts = [text.a.outt]\n}\n",
			check: oneError("Reference to undeclared output", 5, []string{"Its outputs are: out, length, words.", `Did you mean "out"?`}),
		},
		{
			name:  "undeclared variable suggests a near one",
			src:   "variable \"name\" {\n  default = \"n\"\n}\ntext \"a\" {\n  value = var.nmae\n}\n",
			check: oneError("Reference to undeclared variable", 5, []string{`Did you mean "name"?`}),
		},
		{
			name:  "failed validation shows the author's message",
			src:   "variable \"w\" {\n  default = 3\n  validation {\n    condition     = var.w % 8 == 0\n    error_message = \"w must be a multiple of 8, not ${var.w}.\"\n  }\n}\n",
			check: oneError("Invalid value for variable", 1, []string{"w must be a multiple of 8, not 3."}),
		},
		{
			name:  "kind Validate error is placed at the attribute",
			src:   "text \"a\" {\n  value = \"a\"\n  sleep = \"soon\"\n}\n",
			check: oneError("Invalid text configuration", 3, []string{`"soon" is not a duration`}),
		},
		{
			name:  "set of numbers suggests tostring",
			src:   "text \"a\" {\n  for_each = toset([1, 2])\n  value = each.key\n}\n",
			check: oneError("Invalid for_each argument", 2, []string{"set of number", "tostring"}),
		},
		{
			name:  "one mistake in a for_each block is one error",
			src:   "text \"a\" {\n  for_each = toset([\"x\", \"y\", \"z\"])\n  value = \"${each.key}${var.nope}\"\n}\n",
			check: oneError("Reference to undeclared variable", 3, nil),
		},
		{
			name:  "a cycle among the instances of one block names every member",
			src:   "text \"b\" {\n  for_each = toset([\"x\", \"y\"])\n  value = \"${length([for k, v in text.b : k])}\"\n}\n",
			check: oneError("Dependency cycle", 1, []string{`text.b["x"]`, `text.b["y"]`}),
		},

		// Mistakes the first fixtures found in the loader, kept as regressions.
		{
			name:  "label on a locals block",
			src:   "locals \"x\" {\n  a = 1\n}\ntext \"t\" {\n  value = \"${local.a}\"\n}\n",
			check: errorOnLine(1),
		},
		{
			name:  "empty list through the tostring idiom",
			src:   "variable \"widths\" {\n  type    = list(number)\n  default = []\n}\ntext \"w\" {\n  for_each = toset([for w in var.widths : tostring(w)])\n  value    = each.key\n}\n",
			check: noErrors,
		},
		{
			name:  "depends_on naming a variable",
			src:   "variable \"x\" {\n  default = 1\n}\ntext \"a\" {\n  value      = \"a\"\n  depends_on = [var.x]\n}\n",
			check: oneError("Invalid depends_on reference", 6, nil, "var block"),
		},
		{
			name:  "depends_on naming something that is not a stage",
			src:   "text \"a\" {\n  value      = \"a\"\n  depends_on = [foo]\n}\n",
			check: oneError("Invalid depends_on reference", 3, nil, "foo stage"),
		},
		{
			name:  "each in for_each",
			src:   "text \"a\" {\n  for_each = each.value\n  value    = \"a\"\n}\n",
			check: oneError("Invalid for_each argument", 2, []string{"each"}, "not known before running"),
		},
		{
			name:  "undeclared variable in for_each",
			src:   "variable \"keys\" {\n  default = {}\n}\ntext \"a\" {\n  for_each = var.kyes\n  value    = \"a\"\n}\n",
			check: oneError("Reference to undeclared variable", 5, []string{`Did you mean "keys"?`}),
		},
		{
			name:  "undeclared output of the instance with the empty key",
			src:   "text \"a\" {\n  for_each = toset([\"\"])\n  value    = \"a\"\n}\nconcat \"c\" {\n  parts = [text.a[\"\"].outt]\n}\n",
			check: oneError("Reference to undeclared output", 6, []string{`Did you mean "out"?`}),
		},
		{
			name:  "undeclared instance of a block without instances",
			src:   "text \"b\" {\n  for_each = {}\n  value    = each.key\n}\nconcat \"c\" {\n  parts = [text.b[\"x\"].out]\n}\n",
			check: oneError("Reference to undeclared instance", 6, nil, "Its keys are: ."),
		},
		{
			name:  "validation referring to another variable",
			src:   "variable \"a\" {\n  default = 1\n}\nvariable \"b\" {\n  default = 2\n  validation {\n    condition     = var.b > var.a\n    error_message = \"b must exceed a.\"\n  }\n}\n",
			check: errorOnLine(7, `does not have an attribute named "a"`),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			diags := diagsOf(t, tc.src)
			if problem := tc.check(diags); problem != "" {
				t.Errorf("%s\ndiagnostics:\n%s", problem, formatDiags(diags))
			}
		})
	}
}

// TestVariableOptionalDefaults checks that the defaults of optional object attributes apply
// to a variable's value whatever its source: -var, -var-file and MODULO_VAR_ values too.
func TestVariableOptionalDefaults(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.hcl")
	src := `variable "opts" {
  type    = object({ upper = optional(bool, false), label = optional(string, "net") })
  default = {}
}
text "a" {
  value = var.opts.label
  upper = var.opts.upper
}
`
	varFile := filepath.Join(dir, "vars.hcl")
	for name, content := range map[string]string{path: src, varFile: "opts = { upper = true }\n"} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sources := map[string]VarSource{
		"default": {},
		"var":     {Values: map[string]string{"opts": "{ upper = true }"}},
		"env":     {Env: []string{EnvPrefix + "opts={ upper = true }"}},
		"file":    {Files: []string{varFile}},
	}
	for name, vs := range sources {
		t.Run(name, func(t *testing.T) {
			g, _, diags := Open(path, testRegistry(), vs)
			if diags.HasErrors() {
				t.Fatalf("open:\n%s", formatDiags(diags))
			}
			label := g.Vars["opts"].GetAttr("label")
			if label.IsNull() || label.AsString() != "net" {
				t.Fatalf("label is %#v, want \"net\"", label)
			}
		})
	}
}

package kinds_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/dag"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

// The pipelines under testdata/adversarial are the mistakes a new user makes (fractions and
// negatives for every count, NaN, infinities and huge values, empty lists, wrong shapes,
// mismatched architectures, misspellings, a huge for_each, deep nesting) and valid edge
// cases (a model without hidden layers, sequences of one network). Each mistake is marked
// on the line its diagnostic points at:
//
//	epochs = 1.5 # ERROR: <Summary> | <part of the Detail>
//
// Each pipeline is a directory of two files: _common.hcl, a small synthetic dataset d and
// three small trainings a, b and c that most of them use, and the case itself.
//
// TestAdversarial checks each as `modulo validate` does and requires exactly the marked
// errors, then runs it as `modulo run` does, on a fresh cache: a pipeline with errors must be
// refused before anything runs, a valid one must run to the end, and nothing may panic.
func TestAdversarial(t *testing.T) {
	cases := adversarialCases(t)
	if len(cases) < 60 {
		t.Fatalf("%d adversarial pipelines, want at least 60", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A file saved as UTF-16 carries its markers between NUL bytes.
			want := parseAdversarialMarkers(strings.ReplaceAll(string(c.src), "\x00", ""))
			path := c.dir(t)
			diags := validateNoPanic(t, path)
			for _, d := range diags {
				if d.Subject != nil && filepath.Base(d.Subject.Filename) != "case.hcl" {
					t.Errorf("diagnostic in the common file: %s", formatDiag(d))
				}
			}
			checkMarkers(t, want, diags)
			runNoPanic(t, path, len(want) > 0)
		})
	}
}

// adversarialCase is one pipeline under testdata/adversarial, with the common file.
type adversarialCase struct {
	name        string
	src, common []byte
}

func adversarialCases(t testing.TB) []adversarialCase {
	dir := filepath.Join("testdata", "adversarial")
	common, err := os.ReadFile(filepath.Join(dir, "_common.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	var out []adversarialCase
	for _, p := range paths {
		if strings.HasPrefix(filepath.Base(p), "_") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, adversarialCase{name: strings.TrimSuffix(filepath.Base(p), ".hcl"), src: src, common: common})
	}
	return out
}

// dir writes the case as a pipeline directory and returns its path.
func (c adversarialCase) dir(t *testing.T) string {
	d := t.TempDir()
	for name, b := range map[string][]byte{"_common.hcl": c.common, "case.hcl": c.src} {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// marker is one expected error: the line of its Subject, its Summary and a part of its
// Detail.
type marker struct {
	line            int
	summary, detail string
}

func (m marker) String() string { return fmt.Sprintf("line %d: %s | %s", m.line, m.summary, m.detail) }

func parseAdversarialMarkers(src string) []marker {
	var out []marker
	for i, line := range strings.Split(src, "\n") {
		parts := strings.Split(line, "# ERROR:")
		for _, p := range parts[1:] {
			summary, detail, _ := strings.Cut(p, "|")
			out = append(out, marker{line: i + 1, summary: strings.TrimSpace(summary), detail: strings.TrimSpace(detail)})
		}
	}
	return out
}

// checkMarkers matches every marker to one error diagnostic and requires that no error is
// left unmatched.
func checkMarkers(t *testing.T, want []marker, diags hcl.Diagnostics) {
	t.Helper()
	used := make([]bool, len(diags))
	for _, m := range want {
		found := false
		for i, d := range diags {
			if used[i] || d.Severity != hcl.DiagError || d.Subject == nil {
				continue
			}
			if d.Subject.Start.Line == m.line && d.Summary == m.summary && strings.Contains(strings.ToLower(d.Detail), strings.ToLower(m.detail)) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("no diagnostic for %v", m)
		}
	}
	for i, d := range diags {
		if d.Severity == hcl.DiagError && !used[i] {
			t.Errorf("unexpected diagnostic: %s", formatDiag(d))
		}
	}
	if t.Failed() {
		var all []string
		for _, d := range diags {
			all = append(all, formatDiag(d))
		}
		t.Logf("diagnostics:\n  %s", strings.Join(all, "\n  "))
	}
}

func formatDiag(d *hcl.Diagnostic) string {
	pos := "<no subject>"
	if d.Subject != nil {
		pos = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
	}
	return fmt.Sprintf("%s: %s — %q", pos, d.Summary, d.Detail)
}

// validateNoPanic is `modulo validate`: open, then plan without a cache.
func validateNoPanic(t *testing.T, path string) (diags hcl.Diagnostics) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("validate panicked: %v\n%s", r, debug.Stack())
		}
	}()
	g, _, diags := pipelines.Open(path, stages.Default, pipelines.VarSource{})
	if g != nil {
		_, d := (&pipelines.Planner{Graph: g}).Plan(nil)
		diags = append(diags, d...)
	}
	return diags
}

// runNoPanic is `modulo run` on a fresh cache, bounded in time. A pipeline with errors must
// be refused before anything runs; a valid one must run every node.
func runNoPanic(t *testing.T, path string, wantErrors bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("run panicked: %v\n%s", r, debug.Stack())
		}
	}()
	plan, c, diags := openAndPlan(t, path)
	if plan == nil {
		if !wantErrors {
			t.Fatalf("run refused a valid pipeline: %v", diags)
		}
		return
	}
	if wantErrors {
		t.Fatalf("a pipeline with mistakes passed validate and plan")
	}
	failed := applyBounded(t, plan, c, 2*time.Minute)
	if len(failed) > 0 {
		t.Errorf("valid pipeline failed at run:\n  %s", strings.Join(failed, "\n  "))
	}
}

// openAndPlan opens the pipeline at path and plans it against a fresh cache, as `modulo
// run` does before running; plan is nil when there are errors.
func openAndPlan(t *testing.T, path string) (*pipelines.Plan, *artifacts.Cache, hcl.Diagnostics) {
	g, _, diags := pipelines.Open(path, stages.Default, pipelines.VarSource{})
	if g == nil {
		return nil, nil, diags
	}
	c, err := artifacts.Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	plan, diags := (&pipelines.Planner{Graph: g, Cache: c}).Plan(nil)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	return plan, c, diags
}

// applyBounded runs plan, cancelling it after budget, and returns its failures sorted; a
// stage that panicked fails the test.
func applyBounded(t *testing.T, plan *pipelines.Plan, c *artifacts.Cache, budget time.Duration) []string {
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	rep := (&pipelines.Applier{Plan: plan, Cache: c, Workers: 2}).Apply(ctx)
	var failed []string
	for addr, err := range rep.Walk.Failed {
		var pe *dag.PanicError
		if errors.As(err, &pe) {
			t.Fatalf("%s panicked: %v", addr, err)
		}
		failed = append(failed, fmt.Sprintf("%s: %v", addr, err))
	}
	sort.Strings(failed)
	return failed
}

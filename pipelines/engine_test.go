package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

func testRegistry() *stages.Registry {
	r := &stages.Registry{}
	stagetest.Register(r)
	return r
}

// env is one pipeline file and one cache, for engine tests.
type env struct {
	t     *testing.T
	dir   string
	cache *artifacts.Cache
	log   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	c, err := artifacts.Open(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "runs.log")
	t.Setenv(stagetest.LogEnv, log)
	return &env{t: t, dir: dir, cache: c, log: log}
}

func (e *env) write(src string) string {
	p := filepath.Join(e.dir, "p.hcl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// runs returns the addresses that ran since the last call, and resets the log.
func (e *env) runs() []string {
	b, _ := os.ReadFile(e.log)
	os.Remove(e.log)
	return strings.Fields(string(b))
}

func (e *env) graph(path string, vars map[string]string) *Graph {
	e.t.Helper()
	g, _, diags := Open(path, testRegistry(), VarSource{Values: vars})
	if diags.HasErrors() {
		e.t.Fatalf("open: %s", diags.Error())
	}
	return g
}

func (e *env) plan(path string, vars map[string]string) *Plan {
	e.t.Helper()
	state := LoadStateAsync(e.cache.Dir(), path) // as the command does
	g := e.graph(path, vars)
	p, diags := (&Planner{Graph: g, Cache: e.cache, State: state()}).Plan(nil)
	if diags.HasErrors() {
		e.t.Fatalf("plan: %s", diags.Error())
	}
	return p
}

func (e *env) apply(path string, vars map[string]string) *Report {
	e.t.Helper()
	p := e.plan(path, vars)
	a := &Applier{Plan: p, Cache: e.cache, State: LoadState(e.cache.Dir(), path), Workers: 2}
	rep := a.Apply(context.Background())
	if !rep.Walk.OK() {
		e.t.Fatalf("apply: %v", rep.Walk.Err())
	}
	return rep
}

const chain = `
variable "sep" {
  type    = string
  default = "-"
}
text "a" {
  value = "hello world"
}
text "b" {
  for_each = toset(["x", "y"])
  value    = "b ${each.key}"
  salt     = var.sep == "+" ? "" : "s"
}
concat "c" {
  parts = [text.a.out, text.b["x"].out]
  sep   = var.sep
}
concat "d" {
  parts = [for k, v in text.b : v.out]
}
`

func TestIncrementalRuns(t *testing.T) {
	e := newEnv(t)
	p := e.write(chain)
	e.apply(p, nil)
	if got := e.runs(); len(got) != 5 {
		t.Fatalf("first run ran %v, want 5 nodes", got)
	}
	e.apply(p, nil)
	if got := e.runs(); len(got) != 0 {
		t.Fatalf("second run ran %v, want nothing", got)
	}
	plan := e.plan(p, map[string]string{"sep": "+"})
	if n := plan.Nodes[`text.b["x"]`]; n.Status != Run || strings.Join(n.Reasons, ";") != `attribute salt changed: "s" → ""` {
		t.Errorf(`text.b["x"]: %v %v`, n.Status, n.Reasons)
	}
	if n := plan.Nodes[`concat.c`]; n.Status != Deferred || strings.Join(n.Reasons, ";") != `waits for text.b["x"]` {
		t.Errorf("concat.c: %v %v", n.Status, n.Reasons)
	}
	if n := plan.Nodes[`text.a`]; n.Status != Cached {
		t.Errorf("text.a: %v %v", n.Status, n.Reasons)
	}
	// salt changes for text.b, whose output is unchanged: c and d stay cached (early cutoff).
	e.apply(p, map[string]string{"sep": "+"})
	got := strings.Join(e.runs(), " ")
	want := `concat.c text.b["x"] text.b["y"]`
	if sortedFields(got) != sortedFields(want) {
		t.Errorf("after change ran %q, want %q", got, want)
	}
}

func sortedFields(s string) string {
	f := strings.Fields(s)
	for i := range f {
		for j := i + 1; j < len(f); j++ {
			if f[j] < f[i] {
				f[i], f[j] = f[j], f[i]
			}
		}
	}
	return strings.Join(f, " ")
}

var _ = hcl.Pos{}

package kinds_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/dag"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

// FuzzPipeline drives `modulo validate` and then a bounded `modulo run` with arbitrary
// pipeline text, seeded with the adversarial pipelines (mostly small synthetic
// experiments, so mutations keep reaching the stages). Whatever the input, neither may
// panic, in the engine or in a stage. A run is bounded: only pipelines whose datasets are
// all synthetic run, on a fresh cache, and a run is cancelled after runBudget, which every
// stage must honour.
//
//	go test -run '^$' -fuzz FuzzPipeline -fuzztime 10m ./stages/kinds/
func FuzzPipeline(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "adversarial", "*.hcl"))
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "p.hcl")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		g, _, _ := pipelines.Open(path, stages.Default, pipelines.VarSource{})
		if g == nil {
			return
		}
		c, err := artifacts.Open(filepath.Join(dir, "cache"))
		if err != nil {
			t.Fatal(err)
		}
		plan, diags := (&pipelines.Planner{Graph: g, Cache: c}).Plan(nil)
		if diags.HasErrors() || !syntheticOnly(plan) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), runBudget)
		defer cancel()
		rep := (&pipelines.Applier{Plan: plan, Cache: c, Workers: 2}).Apply(ctx)
		for addr, err := range rep.Walk.Failed {
			var pe *dag.PanicError
			if errors.As(err, &pe) {
				t.Fatalf("%s panicked: %v", addr, err)
			}
		}
	})
}

// runBudget bounds a fuzzed run; a stage that ignored the cancellation would show as a
// fuzz input that hangs.
const runBudget = 3 * time.Second

// syntheticOnly reports whether every dataset of plan is synthetic, so a run reads no
// files and its size is what the text says.
func syntheticOnly(plan *pipelines.Plan) bool {
	for _, n := range plan.Nodes {
		if n.Inst.Block.Kind.Name != "dataset" {
			continue
		}
		if src := n.Config.GetAttr("source"); !src.IsKnown() || src.IsNull() || src.AsString() != "synthetic" {
			return false
		}
	}
	return true
}

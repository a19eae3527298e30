package kinds_test

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/pipelines"
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
	for _, c := range adversarialCases(f) {
		f.Add(append(append(c.common, '\n'), c.src...))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		path := filepath.Join(t.TempDir(), "p.hcl")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		plan, c, _ := openAndPlan(t, path)
		if plan == nil || !syntheticOnly(plan) {
			return
		}
		applyBounded(t, plan, c, runBudget)
	})
}

// runBudget bounds a fuzzed run; a stage that ignored the cancellation would show as a
// fuzz input that hangs.
const runBudget = 3 * time.Second

// syntheticOnly reports whether every dataset of plan is synthetic, so a run reads no
// files and its size is what the text says, and plan runs no command: a fuzzer must not
// run whatever program a mutation names.
func syntheticOnly(plan *pipelines.Plan) bool {
	for _, n := range plan.Nodes {
		if n.Inst.Block.Kind.Name == "command" {
			return false
		}
		if n.Inst.Block.Kind.Name != "dataset" {
			continue
		}
		if src := n.Config.GetAttr("source"); !src.IsKnown() || src.IsNull() || src.AsString() != "synthetic" {
			return false
		}
	}
	return true
}

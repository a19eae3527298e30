package pipelines

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
)

// bigPipeline has 2n nodes (n a multiple of 100): n text leaves and n concats, each reading one leaf through a
// dynamic index, which exercises for_each expansion, reference narrowing and evaluation.
func bigPipeline(n int) string {
	return fmt.Sprintf(`
locals {
  keys = toset([for p in setproduct(range(%d), range(100)) : format("k%%03d-%%02d", p[0], p[1])])
}
text "leaf" {
  for_each = local.keys
  value    = each.key
}
concat "join" {
  for_each = local.keys
  parts    = [text.leaf[each.key].out]
  sep      = ","
}
`, n/100)
}

func benchSetup(b testing.TB, n int) (string, *artifacts.Cache) {
	dir := b.TempDir()
	p := filepath.Join(dir, "big.hcl")
	if err := os.WriteFile(p, []byte(bigPipeline(n)), 0o644); err != nil {
		b.Fatal(err)
	}
	c, err := artifacts.Open(filepath.Join(dir, "cache"))
	if err != nil {
		b.Fatal(err)
	}
	return p, c
}

// planOnce loads and plans the pipeline at p as `modulo plan` does.
func planOnce(b *testing.B, p string, c *artifacts.Cache) *Plan {
	plan, _ := planPhases(b, p, c)
	return plan
}

// planPhases is planOnce that also says how long loading and building the graph took (the
// state is decoded meanwhile) and how long planning it took.
func planPhases(b *testing.B, p string, c *artifacts.Cache) (*Plan, [2]time.Duration) {
	t0 := time.Now()
	state := LoadStateAsync(c.Dir(), p)
	g, _, diags := Open(p, testRegistry(), VarSource{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	t1 := time.Now()
	plan, diags := (&Planner{Graph: g, Cache: c, State: state()}).Plan(nil)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	return plan, [2]time.Duration{t1.Sub(t0), time.Since(t1)}
}

// BenchmarkPlan10000 measures load + build + plan of a 10,000-node pipeline whose results
// are all cached, the common case while iterating (target: 200 ms), and reports the two
// phases' shares: build-ms (parse, locals, for_each, references; the state is decoded
// meanwhile) and plan-ms (evaluate, key and look up every node).
func BenchmarkPlan10000(b *testing.B) {
	p, c := benchSetup(b, 5000)
	run(b, p, c)
	b.ResetTimer()
	var phases [2]time.Duration
	for i := 0; i < b.N; i++ {
		plan, d := planPhases(b, p, c)
		if cached, _, _ := plan.Counts(); cached != 10000 {
			b.Fatalf("cached %d, want 10000", cached)
		}
		phases[0] += d[0]
		phases[1] += d[1]
	}
	b.ReportMetric(float64(phases[0])/1e6/float64(b.N), "build-ms/op")
	b.ReportMetric(float64(phases[1])/1e6/float64(b.N), "plan-ms/op")
}

// BenchmarkNoopRun10000 measures plan plus a run that finds everything cached (target: < 2 s).
func BenchmarkNoopRun10000(b *testing.B) {
	p, c := benchSetup(b, 5000)
	run(b, p, c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep := run(b, p, c)
		if len(rep.Ran) != 0 {
			b.Fatalf("ran %d nodes, want 0", len(rep.Ran))
		}
	}
}

// BenchmarkNoopRun1000 measures what `modulo run` does in-process on a no-op rerun of a
// 1,000-node pipeline: load, plan against the state and the cache, and a run that finds
// everything cached (the target for the whole process: 20 ms on 2 cores).
func BenchmarkNoopRun1000(b *testing.B) {
	p, c := benchSetup(b, 500)
	run(b, p, c)
	run(b, p, c) // the first no-op run records what the state remembers
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep := run(b, p, c)
		if len(rep.Ran) != 0 || len(rep.Cached) != 1000 {
			b.Fatalf("ran %d nodes, cached %d, want 0 and 1000", len(rep.Ran), len(rep.Cached))
		}
	}
}

// BenchmarkNoopAnswered1000 measures what `modulo run` and `modulo plan` do in-process to
// answer a no-op rerun of a 1,000-node pipeline from the record of the last one (Noop):
// digest the inputs and check the record. With the process's start and printing a line per
// node, this is the no-op rerun the issue times (target: 20 ms for the whole process).
func BenchmarkNoopAnswered1000(b *testing.B) {
	p, c := benchSetup(b, 500)
	run(b, p, c)
	plan := planOnce(b, p, c)
	inputs, err := NoopInputs(p, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	if ok, err := RecordNoop(plan, LoadState(c.Dir(), p), inputs, "", time.Now()); !ok {
		b.Fatalf("no record of the no-op plan: %v", err)
	}
	reg := testRegistry()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in, err := NoopInputs(p, nil, "")
		if err != nil {
			b.Fatal(err)
		}
		if n, ok := CheckNoop(c.Dir(), p, in, c.Generation(), reg, time.Now()); !ok || len(n.Nodes) != 1000 {
			b.Fatal("the record does not hold")
		}
	}
}

// BenchmarkColdRun10000 measures the engine's overhead when every node runs.
func BenchmarkColdRun10000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, c := benchSetup(b, 5000)
		b.StartTimer()
		rep := run(b, p, c)
		if len(rep.Ran) != 10000 {
			b.Fatalf("ran %d nodes", len(rep.Ran))
		}
	}
}

func run(b testing.TB, p string, c *artifacts.Cache) *Report {
	g, _, diags := Open(p, testRegistry(), VarSource{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	st := LoadState(c.Dir(), p)
	plan, diags := (&Planner{Graph: g, Cache: c, State: st}).Plan(nil)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	rep := (&Applier{Plan: plan, Cache: c, State: st, Workers: 2}).Apply(context.Background())
	if !rep.Walk.OK() {
		b.Fatal(rep.Walk.Err())
	}
	return rep
}

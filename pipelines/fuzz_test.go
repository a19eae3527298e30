package pipelines

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary text to the full check of `modulo validate` (open, then plan with
// no cache) and, when that finds no error, to a topological sort of the graph. Whatever the
// input, nothing may panic; a pipeline without errors must also have an acyclic graph with
// one vertex per instance. It is seeded with every fixture under testdata.
//
//	go test -run '^$' -fuzz FuzzLoad -fuzztime 3m ./pipelines/
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, path := range fixtures(f, dir) {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	for _, src := range extraSeeds {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		path := filepath.Join(t.TempDir(), "p.hcl")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		g, diags := checkPipeline(path)
		if diags.HasErrors() {
			return
		}
		if g == nil {
			t.Fatalf("no errors but no graph; diagnostics:\n%s", formatDiags(diags))
		}
		order, err := g.DAG.TopoOrder()
		if err != nil {
			t.Fatalf("no errors but TopoOrder failed: %v", err)
		}
		if len(order) != len(g.Instances) {
			t.Fatalf("TopoOrder has %d vertices, the graph %d instances", len(order), len(g.Instances))
		}
	})
}

// extraSeeds reach the expression-heavy paths that the fixtures touch lightly: dynamic
// instance keys, splats, conditionals, templates with directives, functions on artifacts.
var extraSeeds = []string{
	`locals { k = "x" }
text "b" {
  for_each = { x = "1", y = "2" }
  value    = "${each.key}=${each.value}"
}
concat "c" {
  parts = [text.b[local.k].out, text.b["${local.k}"].out]
  sep   = %{ if local.k == "x" }","%{ else }";"%{ endif }
}
concat "d" {
  parts = flatten([for k in keys(text.b) : text.b[k].words])
}`,
	`variable "v" {
  type    = map(object({ n = number, s = optional(string, "z") }))
  default = { a = { n = 1 } }
}
text "t" {
  for_each = var.v
  value    = <<-EOT
    ${each.key}: ${each.value.n} ${each.value.s}
    EOT
  threads  = each.value.n * 2
  upper    = each.value.n > 0 ? true : null
}
concat "all" {
  parts = values(text.t)[*].out
  sep   = jsonencode([for k, t in text.t : t.length])
}`,
	`text "a" { value = "a" }
text "b" {
  value      = try(tostring(text.a.length), "x")
  depends_on = [text.a]
  sleep      = can(text.a.out) ? "1ms" : "2ms"
}
concat "c" {
  parts = concat(text.a.words, [text.a.out], [for w in text.b.words : w])
  fail  = format("%s", text.a.out)
}`,
}

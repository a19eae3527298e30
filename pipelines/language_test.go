package pipelines

import (
	"slices"
	"strings"
	"testing"
)

// TestLanguageBlocksLoad checks that the blocks the reference describes as the language's
// own are the ones the loader reads: each loads, and an unknown block type lists exactly
// them besides the stage kinds.
func TestLanguageBlocksLoad(t *testing.T) {
	sources := map[string]string{
		"variable": "variable \"x\" {\n  type    = number\n  default = 1\n  validation {\n    condition     = var.x > 0\n    error_message = \"x must be positive.\"\n  }\n}\n",
		"locals":   "locals {\n  y = 2\n}\n",
		"output":   "output \"z\" {\n  value       = 3\n  description = \"three\"\n}\n",
		"cache":    "cache {\n  read_only = true\n}\n",
		"executor": "executor \"slurm\" {\n  max_jobs = 3\n  resources \"text\" {\n    cpus = 1\n  }\n}\n",
	}
	var names []string
	for _, b := range Language().Blocks {
		names = append(names, b.Name)
		src, ok := sources[b.Name]
		if !ok {
			t.Errorf("no test source for the block %s", b.Name)
			continue
		}
		if diags := diagsOf(t, src); diags.HasErrors() {
			t.Errorf("%s block:\n%s", b.Name, formatDiags(diags))
		}
	}
	if len(names) != len(sources) {
		t.Errorf("the reference's blocks are %v; the test knows %d", names, len(sources))
	}
	diags := diagsOf(t, "nosuch {\n}\n")
	want := "the other blocks are " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + "."
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, want) {
		t.Errorf("an unknown block type: got %s, want a detail with %q", formatDiags(diags), want)
	}
	if slices.Contains(names, "") {
		t.Error("a block of the language has no name")
	}
}

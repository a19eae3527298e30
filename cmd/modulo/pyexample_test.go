package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/slurm/slurmtest"
)

// TestPythonExample runs docs/examples/load_results.py, the Python example of docs/JSON.md,
// on a small pipeline's plan document, report table and network: what a notebook user does.
func TestPythonExample(t *testing.T) {
	py := torchPython()
	if py == "" {
		if slurmtest.Required() {
			t.Fatal("python3-torch is not installed, and CI requires it; install it with: make test (as root) or apt-get install python3-torch")
		}
		t.Skip("no /usr/bin/python3 with torch (apt-get install python3-torch)")
	}
	dir := t.TempDir()
	t.Setenv("MODULO_CACHE", filepath.Join(dir, "cache"))
	t.Setenv("TERM", "dumb")
	p := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(p, []byte(`
dataset "d" {
  source = "synthetic"
}
train "net" {
  data   = dataset.d
  seed   = 1
  epochs = 1
  model {
    hidden = [8]
  }
  optimizer {
    lr = 0.1
  }
}
report "r" {
  table = train.net.metrics
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		if code := Main(args, &out, &out); code != 0 && !(args[0] == "plan" && code == 2) {
			t.Fatalf("modulo %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
		}
		return out.String()
	}
	plan := run("plan", "-json", p)
	if err := os.WriteFile(filepath.Join(dir, "plan.json"), []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	run("run", "-progress", "plain", p)
	run("export", "-p", p, "report.r", "-o", filepath.Join(dir, "report"))
	run("export", "-p", p, "train.net", "final", "-o", filepath.Join(dir, "net.safetensors"))
	out, err := exec.Command(py, filepath.Join("..", "..", "docs", "examples", "load_results.py"),
		filepath.Join(dir, "plan.json"), filepath.Join(dir, "report", "table.csv"), filepath.Join(dir, "net.safetensors")).CombinedOutput()
	if err != nil {
		t.Fatalf("load_results.py: %v\n%s", err, out)
	}
	for _, want := range []string{"plan format 1.0: 3 nodes", "table: 2 rows", "network 20-8-4", "finite True"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the example's output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("%s", out)
}

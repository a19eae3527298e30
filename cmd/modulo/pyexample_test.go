package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/internal/npy"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/slurm/slurmtest"
)

// TestPythonExample runs docs/examples/load_results.py, the example of docs/python.md, on a
// small pipeline's plan document, report table (CSV, then JSON) and network, as a notebook
// user would, and checks that PyTorch computes the logits modulo computes for a few inputs.
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
	netPath := filepath.Join(dir, "net.safetensors")
	run("export", "-p", p, "train.net", "final", "-o", netPath)

	// A few inputs, and the logits modulo itself computes for them.
	const rows, features, classes = 5, 20, 4
	x := make([]float32, rows*features)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) // deterministic, of both signs
	}
	f, err := os.Create(filepath.Join(dir, "x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteFloat32(f, []int{rows, features}, x); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, err := os.ReadFile(netPath)
	if err != nil {
		t.Fatal(err)
	}
	net, _, err := nn.DecodeNetwork(b)
	if err != nil {
		t.Fatal(err)
	}
	want := nn.NewForwarder(net, rows, blas.Default()).Forward(x, rows)

	// The report's table as CSV and as JSON: the same columns and rows either way.
	for _, table := range []string{"table.csv", "table.json"} {
		result := filepath.Join(dir, "result.json")
		out, err := exec.Command(py, filepath.Join("..", "..", "docs", "examples", "load_results.py"),
			filepath.Join(dir, "plan.json"), filepath.Join(dir, "report", table), netPath,
			"--inputs", filepath.Join(dir, "x.npy"), "--out", result).CombinedOutput()
		if err != nil {
			t.Fatalf("load_results.py with %s: %v\n%s", table, err, out)
		}
		for _, want := range []string{"plan format 1.0: 3 nodes", "table: 2 rows", "'epoch'", "'test_accuracy'", "network mlp 20-8-4 relu", "5 inputs: logits (5, 4)"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("with %s, the example's output lacks %q:\n%s", table, want, out)
			}
		}
		t.Logf("with %s:\n%s", table, out)
		var got struct {
			Logits [][]float64 `json:"logits"`
		}
		b, err := os.ReadFile(result)
		if err == nil {
			err = json.Unmarshal(b, &got)
		}
		if err != nil || len(got.Logits) != rows {
			t.Fatalf("%s: %v, %d rows of logits", result, err, len(got.Logits))
		}
		for r := range rows {
			for c := range classes {
				g, w := got.Logits[r][c], float64(want[r*classes+c])
				if math.Abs(g-w) > 1e-5*max(1, math.Abs(w)) {
					t.Errorf("logit [%d][%d]: %.7g in PyTorch, %.7g in modulo", r, c, g, w)
				}
			}
		}
	}
}

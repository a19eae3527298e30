package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/slurm/slurmtest"
)

// torchPython is Debian's Python when it has torch and numpy (python3-torch), else "".
func torchPython() string {
	const py = "/usr/bin/python3"
	if exec.Command(py, "-c", "import torch, numpy").Run() != nil {
		return ""
	}
	return py
}

// TestPyTorchCommand runs examples/pytorch.hcl (shortened): networks trained by a PyTorch
// script in command nodes are matched and interpolated against each other and against one
// modulo trained, and modulo measures the test accuracy the script measured, within 1e-4.
func TestPyTorchCommand(t *testing.T) {
	if torchPython() == "" {
		if slurmtest.Required() {
			t.Fatal("python3-torch is not installed, and CI requires it; install it with: make test (as root) or apt-get install python3-torch")
		}
		t.Skip("no /usr/bin/python3 with torch (apt-get install python3-torch)")
	}
	if _, err := data.MNISTDir(); err != nil {
		t.Skipf("MNIST is not here: %v", err)
	}
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	modulo := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		code := Main(args, &out, &out)
		if code != 0 {
			t.Fatalf("modulo %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
		}
		return out.String()
	}
	t.Setenv("MODULO_CACHE", cache)
	t.Setenv("TERM", "dumb")
	p := filepath.Join("..", "..", "examples", "pytorch.hcl")
	vars := []string{"-var", "epochs=1", "-var", "width=32"}
	out := modulo(append(append([]string{"run", "-progress", "plain"}, vars...), p)...)
	if !strings.Contains(out, "10 ran") {
		t.Fatalf("run:\n%s", out)
	}
	export := func(addr, output string, into any) {
		t.Helper()
		f := filepath.Join(dir, "export.json")
		modulo(append(append([]string{"export", "-p", p}, vars...), addr, output, "-o", f)...)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: %v\n%s", addr, output, err, b)
		}
	}
	var curve []struct {
		Alpha     float64 `json:"alpha"`
		TestError float64 `json:"test_error"`
		TestLoss  float64 `json:"test_loss"`
	}
	export("interpolate.torch_before", "curve", &curve)
	ends := map[string]float64{"1": 1 - curve[0].TestError, "2": 1 - curve[len(curve)-1].TestError}
	for seed, modulo := range ends {
		var metrics []struct {
			TestAccuracy float64 `json:"test_accuracy"`
		}
		export(`command.torch["`+seed+`"]`, "metrics", &metrics)
		script := metrics[len(metrics)-1].TestAccuracy
		t.Logf("seed %s: test accuracy %.4f in PyTorch, %.4f in modulo", seed, script, modulo)
		if math.Abs(script-modulo) > 1e-4 || script < 0.5 {
			t.Errorf("seed %s: test accuracy %.6f as the script measured it, %.6f as modulo does", seed, script, modulo)
		}
	}
	var before, after struct {
		Test float64 `json:"test"`
	}
	export("interpolate.torch_before", "loss_barrier", &before)
	export("interpolate.torch_after", "loss_barrier", &after)
	t.Logf("test-loss barrier between the PyTorch networks: %.4f before weight matching, %.4f after", before.Test, after.Test)
	if !(after.Test < before.Test) {
		t.Errorf("weight matching did not lower the barrier: %.4f before, %.4f after", before.Test, after.Test)
	}
}

package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/slurm/slurmtest"
)

// TestPyTorchNetworkImport checks issue 19's promise end to end: networks trained in
// PyTorch and saved as researchers save them (torch.save(model.state_dict()), as open_lth
// does, and safetensors) are imported by network blocks, aligned to and interpolated with
// networks modulo trains, and modulo measures the test accuracy (and loss) PyTorch
// measured, within 1e-4 (testdata/netimport). gen.hcl trains them in command nodes, so PyTorch sees exactly
// the arrays modulo evaluates on; their files are exported beside p.hcl, which imports them.
func TestPyTorchNetworkImport(t *testing.T) {
	if torchPython() == "" {
		if slurmtest.Required() {
			t.Fatal("python3-torch is not installed, and CI requires it; install it with: make test (as root) or apt-get install python3-torch")
		}
		t.Skip("no /usr/bin/python3 with torch (apt-get install python3-torch)")
	}
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"testdata/netimport/gen.hcl":          "gen.hcl",
		"testdata/netimport/p.hcl":            "p.hcl",
		"testdata/netimport/train_export.py":  "train_export.py",
		"../../examples/pytorch/modulo_io.py": "modulo_io.py",
		"../../scripts/torch_models.py":       "torch_models.py",
		"../../scripts/safetensors_np.py":     "safetensors_np.py", // torch_models.py imports it
	} {
		b, err := os.ReadFile(src)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, dst), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("MODULO_CACHE", filepath.Join(dir, "cache"))
	t.Setenv("TERM", "dumb")
	modulo := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		if code := Main(args, &out, &out); code != 0 {
			t.Fatalf("modulo %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
		}
		return out.String()
	}
	gen, p := filepath.Join(dir, "gen.hcl"), filepath.Join(dir, "p.hcl")
	modulo("run", "-progress", "plain", gen)
	exportJSON := func(pipeline, addr, output string, into any) {
		t.Helper()
		f := filepath.Join(dir, "export.json")
		modulo("export", "-p", pipeline, addr, output, "-o", f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: %v\n%s", addr, output, err, b)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "nets"), 0o755); err != nil {
		t.Fatal(err)
	}
	modulo("export", "-p", gen, "command.mlp", "pt", "-o", filepath.Join(dir, "nets", "mlp.pt"))
	modulo("export", "-p", gen, "command.mlp", "st", "-o", filepath.Join(dir, "nets", "mlp.safetensors"))
	modulo("export", "-p", gen, "command.resnet", "pt", "-o", filepath.Join(dir, "nets", "resnet.pt"))

	out := modulo("run", "-progress", "plain", p)
	if !strings.Contains(out, "10 ran, 2 cached, 0 failed") { // the datasets are gen.hcl's
		t.Fatalf("run:\n%s", out)
	}
	type curve []struct {
		Alpha     float64 `json:"alpha"`
		TestError float64 `json:"test_error"`
		TestLoss  float64 `json:"test_loss"`
	}
	for _, c := range []struct{ command, interpolate string }{
		{"command.mlp", "interpolate.mlp_pt"},
		{"command.mlp", "interpolate.mlp_st"},
		{"command.resnet", "interpolate.resnet_pt"},
	} {
		var metrics []struct {
			TestAccuracy float64 `json:"test_accuracy"`
			TestLoss     float64 `json:"test_loss"`
		}
		exportJSON(gen, c.command, "metrics", &metrics)
		var cv curve
		exportJSON(p, c.interpolate, "curve", &cv)
		torch, ours := metrics[0].TestAccuracy, 1-cv[0].TestError
		t.Logf("%s: test accuracy %.4f in PyTorch (%s), %.4f in modulo (|difference| %.1g); the modulo-trained network at the other end: %.4f",
			c.interpolate, torch, c.command, ours, math.Abs(torch-ours), 1-cv[len(cv)-1].TestError)
		if math.Abs(torch-ours) > 1e-4 || torch < 0.5 {
			t.Errorf("%s: test accuracy %.6f as PyTorch measured it, %.6f as modulo does", c.interpolate, torch, ours)
		}
		// The loss sees every logit, not only the largest: a misread weight shows here.
		torchLoss, ourLoss := metrics[0].TestLoss, cv[0].TestLoss
		t.Logf("%s: test loss %.6f in PyTorch, %.6f in modulo (|difference| %.1g)", c.interpolate, torchLoss, ourLoss, math.Abs(torchLoss-ourLoss))
		if math.Abs(torchLoss-ourLoss) > 1e-4*max(1, torchLoss) {
			t.Errorf("%s: test loss %.6f as PyTorch measured it, %.6f as modulo does", c.interpolate, torchLoss, ourLoss)
		}
	}
	var barrier struct {
		Test float64 `json:"test"`
	}
	exportJSON(p, "interpolate.resnet_pt", "loss_barrier", &barrier)
	t.Logf("test-loss barrier between the PyTorch ResNet and modulo's, aligned by weight matching: %.4f", barrier.Test)
}

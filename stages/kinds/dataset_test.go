package kinds_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/kinds"
)

// writeCIFARBatches writes the six CIFAR-10 binary batches into dir, n records each.
func writeCIFARBatches(t *testing.T, dir string, n int) {
	t.Helper()
	for i, name := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		b := make([]byte, n*3073)
		for j := range n {
			b[j*3073] = byte((i + j) % 10)
			for k := 1; k < 3073; k++ {
				b[j*3073+k] = byte(i * j * k)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A cifar10 dataset reads the binary batches, pads its images, and describes its shape
// both before it runs (Expect, from the files' sizes) and after (the artifact's Meta).
func TestDatasetCIFAR10(t *testing.T) {
	dir := t.TempDir()
	writeCIFARBatches(t, dir, 4)
	k, _ := stages.Default.Lookup("dataset")
	cfg := k.Schema.Config(map[string]cty.Value{"source": cty.StringVal("cifar10"), "path": cty.StringVal(dir), "pad": cty.NumberIntVal(2)})
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	want := `{"dims":3888,"classes":10,"c":3,"h":36,"w":36,"train":20,"test":4}`
	if got := k.Expect(stages.NewPlanned(cfg))["dataset"].Meta; got != want {
		t.Errorf("expected shape %s, want %s", got, want)
	}
	res, err := k.Run(context.Background(), &stages.Input{Address: "dataset.c", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Outputs["dataset"].Artifacts[0]
	if a.Meta != want {
		t.Errorf("stored shape %s, want %s", a.Meta, want)
	}
	var spec struct {
		Files map[string]string `json:"files"`
	}
	if err := json.Unmarshal(a.Data, &spec); err != nil || len(spec.Files) != 6 {
		t.Errorf("the description records %d files (%v), want the six batches", len(spec.Files), err)
	}

	noPath := k.Schema.Config(map[string]cty.Value{"source": cty.StringVal("cifar10")})
	if err := k.Check(noPath); err == nil || !strings.Contains(err.Error(), "cifar-10-batches-bin") {
		t.Errorf("cifar10 without path: %v", err)
	}
	padVectors := k.Schema.Config(map[string]cty.Value{"source": cty.StringVal("synthetic"), "pad": cty.NumberIntVal(2)})
	if err := k.Check(padVectors); err == nil || !strings.Contains(err.Error(), "pad applies to images") {
		t.Errorf("pad on synthetic data: %v", err)
	}
}

// A dataset whose files are not at the recorded directory (a cluster node without it) is
// loaded from the directory Input.Materialize gives, which the engine fills from the cache;
// without Materialize the error says which file is missing.
func TestDatasetFilesMaterialized(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cifar")
	os.Mkdir(dir, 0o755)
	writeCIFARBatches(t, dir, 3)
	k, _ := stages.Default.Lookup("dataset")
	cfg := k.Schema.Config(map[string]cty.Value{"source": cty.StringVal("cifar10"), "path": cty.StringVal(dir)})
	res, err := k.Run(context.Background(), &stages.Input{Address: "dataset.c", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	spec := res.Outputs["dataset"].Artifacts[0].Data
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if _, _, err := kinds.LoadDataset(context.Background(), spec, nil); err == nil {
		t.Fatal("loaded a dataset whose files are gone, without materialising them")
	}
	var asked map[string]string
	materialize := func(files map[string]string) (string, error) {
		asked = files
		return moved, nil
	}
	d, _, err := kinds.LoadDataset(context.Background(), spec, materialize)
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.N != 15 || len(asked) != 6 {
		t.Errorf("%d training examples from %d materialised files, want 15 from 6", d.Train.N, len(asked))
	}
	// Materialised files with other bytes are refused by their digests.
	os.WriteFile(filepath.Join(moved, "test_batch.bin"), make([]byte, 3*3073), 0o644)
	if _, _, err := kinds.LoadDataset(context.Background(), spec, materialize); err == nil || !strings.Contains(err.Error(), "test_batch.bin") {
		t.Errorf("materialised files with other bytes: %v", err)
	}
}

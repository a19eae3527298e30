package stages_test

import (
	"context"
	"os"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// TestMain pins the pure-Go BLAS, so that the recorded digests do not depend on whether
// OpenBLAS is installed: a golden digest must change only when a kind's outputs do.
func TestMain(m *testing.M) {
	os.Setenv("MODULO_BLAS", "gonum")
	os.Exit(m.Run())
}

func kind(t *testing.T, name string) *stages.Kind {
	k, ok := stages.Default.Lookup(name)
	if !ok {
		t.Fatalf("no %s kind", name)
	}
	return k
}

// TestGoldenDataset and TestGoldenTrain run each kind on a tiny fixed input and compare
// the digest of its outputs with the one recorded for its version (testdata/golden).
func TestGoldenDataset(t *testing.T) {
	k := kind(t, "dataset")
	stagetest.Golden(t, k, "synthetic", syntheticCfg(k), nil)
}

func syntheticCfg(k *stages.Kind) cty.Value {
	return k.Schema.Config(map[string]cty.Value{
		"source": cty.StringVal("synthetic"), "examples": cty.NumberIntVal(256), "test_examples": cty.NumberIntVal(64),
		"dims": cty.NumberIntVal(8), "classes": cty.NumberIntVal(3), "seed": cty.NumberIntVal(5),
	})
}

func TestGoldenTrain(t *testing.T) {
	dk := kind(t, "dataset")
	res, err := dk.Run(context.Background(), &stages.Input{Address: "dataset.d", Config: syntheticCfg(dk), Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	desc := res.Outputs["dataset"].Artifacts[0].Data
	id := artifacts.NewOutputID(desc)
	k := kind(t, "train")
	model := cty.ObjectVal(map[string]cty.Value{
		"kind": cty.StringVal("mlp"), "hidden": cty.ListVal([]cty.Value{cty.NumberIntVal(16)}),
		"activation": cty.StringVal("relu"), "layer_norm": cty.False, "bias": cty.True,
	})
	opt := k.Schema.Blocks[1].Schema.Config(map[string]cty.Value{"lr": cty.NumberFloatVal(0.1), "momentum": cty.NumberFloatVal(0.9), "schedule": cty.StringVal("cosine"), "warmup": cty.StringVal("2")})
	cfg := k.Schema.Config(map[string]cty.Value{
		"data":        stages.RefVal(stages.Dataset, &stages.Ref{Type: "dataset", ID: id, Size: int64(len(desc))}),
		"seed":        cty.NumberIntVal(1),
		"epochs":      cty.NumberIntVal(2),
		"batch_size":  cty.NumberIntVal(32),
		"checkpoints": cty.ListVal([]cty.Value{cty.StringVal("0ep"), cty.StringVal("1ep")}),
		"model":       model,
		"optimizer":   opt,
	})
	if err := k.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "synthetic-mlp", cfg, map[artifacts.OutputID][]byte{id: desc})
}

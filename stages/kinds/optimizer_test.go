package kinds

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	nndata "github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/stages"
)

// adamTrainCfg is a small train block with Adam for the dataset data, with beta1 set
// unless it is cty.NilVal.
func adamTrainCfg(t *testing.T, k *stages.Kind, data cty.Value, beta1 cty.Value) cty.Value {
	t.Helper()
	var model, optimizer *stages.Schema
	for i, b := range k.Schema.Blocks {
		switch b.Name {
		case "model":
			model = &k.Schema.Blocks[i].Schema
		case "optimizer":
			optimizer = &k.Schema.Blocks[i].Schema
		}
	}
	if model == nil || optimizer == nil {
		t.Fatal("the train schema has no model or optimizer block")
	}
	opt := map[string]cty.Value{"kind": cty.StringVal("adam"), "lr": cty.NumberFloatVal(0.01)}
	if beta1 != cty.NilVal {
		opt["beta1"] = beta1
	}
	return k.Schema.Config(map[string]cty.Value{
		"data": data, "seed": cty.NumberIntVal(1), "epochs": cty.NumberIntVal(2), "batch_size": cty.NumberIntVal(32),
		"model":     model.Config(map[string]cty.Value{"hidden": cty.ListVal([]cty.Value{cty.NumberIntVal(16)})}),
		"optimizer": optimizer.Config(opt),
	})
}

// TestBeta1ZeroReachesNN: the optimizer's numbers reach nn as written, the schema's
// defaults filling only what is left out; beta1 = 0 used to be trained with 0.9 while the
// cache key said 0.
func TestBeta1ZeroReachesNN(t *testing.T) {
	dk, _ := stages.Default.Lookup("dataset")
	k, _ := stages.Default.Lookup("train")
	res, err := dk.Run(context.Background(), &stages.Input{Address: "dataset.d", Threads: 1, Config: dk.Schema.Config(map[string]cty.Value{
		"source": cty.StringVal("synthetic"), "examples": cty.NumberIntVal(256), "test_examples": cty.NumberIntVal(64),
		"dims": cty.NumberIntVal(8), "classes": cty.NumberIntVal(3), "seed": cty.NumberIntVal(5),
	})})
	if err != nil {
		t.Fatal(err)
	}
	desc := res.Outputs["dataset"].Artifacts[0].Data
	id := artifacts.NewOutputID(desc)
	data := stages.RefVal(Dataset, &stages.Ref{Type: "dataset", ID: id, Size: int64(len(desc))})
	read := func(r *stages.Ref) ([]byte, error) { return desc, nil }

	finals := map[string]string{}
	for _, tc := range []struct {
		name                   string
		beta1                  cty.Value
		wantB1, wantB2, wantEp float64
	}{
		{"zero", cty.Zero, 0, 0.999, 1e-8},
		{"default", cty.NilVal, 0.9, 0.999, 1e-8},
	} {
		cfg := adamTrainCfg(t, k, data, tc.beta1)
		if err := k.Check(cfg); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var c trainConfig
		if err := stages.DecodeValue(cfg, &c); err != nil {
			t.Fatal(err)
		}
		got, err := TrainConfigOf(&c, &nndata.Set{N: 256, D: 8, Classes: 3})
		if err != nil {
			t.Fatal(err)
		}
		if o := got.Optim; o.Beta1 != tc.wantB1 || o.Beta2 != tc.wantB2 || o.Eps != tc.wantEp {
			t.Errorf("%s: nn gets beta1 %g, beta2 %g, eps %g; want %g, %g, %g", tc.name, o.Beta1, o.Beta2, o.Eps, tc.wantB1, tc.wantB2, tc.wantEp)
		}
		out, err := k.Run(context.Background(), &stages.Input{Address: "train.t", Config: cfg, Threads: 1, Read: read})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		finals[tc.name] = artifacts.NewOutputID(out.Outputs["final"].Artifacts[0].Data).String()
	}
	if finals["zero"] == finals["default"] {
		t.Errorf("beta1 = 0 and the default 0.9 trained the same network %s", finals["zero"])
	}

	// What nn refuses is refused before anything runs.
	err = k.Check(adamTrainCfg(t, k, data, cty.NumberIntVal(1)))
	if err == nil || !strings.Contains(err.Error(), "beta1") {
		t.Errorf("beta1 = 1: Check = %v, want an error about beta1", err)
	}
}

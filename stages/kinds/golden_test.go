package kinds_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/kinds"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// TestMain pins the pure-Go BLAS, so that the recorded digests do not depend on whether
// OpenBLAS is installed: a golden digest must change only when a kind's outputs do.
func TestMain(m *testing.M) {
	os.Setenv("MODULO_BLAS", "gonum")
	// The memory checks compare estimates with the machine's memory; a fixed budget makes
	// the adversarial pipelines' diagnostics the same on every machine.
	os.Setenv("MODULO_MEMORY", "24GB")
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
	stagetest.Golden(t, k, "stripes", stripesCfg(k), nil)
}

func syntheticCfg(k *stages.Kind) cty.Value {
	return k.Schema.Config(map[string]cty.Value{
		"source": cty.StringVal("synthetic"), "examples": cty.NumberIntVal(256), "test_examples": cty.NumberIntVal(64),
		"dims": cty.NumberIntVal(8), "classes": cty.NumberIntVal(3), "seed": cty.NumberIntVal(5),
	})
}

// fixture runs the dataset kind and trains three tiny networks, returning the artifacts
// by OutputID and the refs, for the golden tests of the kinds downstream.
type fixture struct {
	inputs map[artifacts.OutputID][]byte
	data   cty.Value
	nets   []cty.Value
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOf(t, syntheticCfg(kind(t, "dataset")), trainCfg)
}

// stripesCfg is a tiny image dataset, and resnetCfg a train block of a tiny ResNet on it.
func stripesCfg(k *stages.Kind) cty.Value {
	return k.Schema.Config(map[string]cty.Value{
		"source": cty.StringVal("stripes"), "examples": cty.NumberIntVal(128), "test_examples": cty.NumberIntVal(32),
		"size": cty.NumberIntVal(8), "classes": cty.NumberIntVal(3), "seed": cty.NumberIntVal(5),
	})
}

func convTrainCfg(model map[string]cty.Value) func(k *stages.Kind, data cty.Value, seed int64) cty.Value {
	return func(k *stages.Kind, data cty.Value, seed int64) cty.Value {
		cfg := trainCfg(k, data, seed).AsValueMap()
		cfg["model"] = k.Schema.Blocks[0].Schema.Config(model)
		cfg["init"] = cty.StringVal("kaiming_normal")
		return cty.ObjectVal(cfg)
	}
}

var (
	resnetCfg = convTrainCfg(map[string]cty.Value{"kind": cty.StringVal("resnet"), "width": cty.NumberIntVal(2), "depth": cty.NumberIntVal(8)})
	vggCfg    = convTrainCfg(map[string]cty.Value{"kind": cty.StringVal("vgg"), "width": cty.NumberIntVal(4), "plan": cty.TupleVal([]cty.Value{cty.NumberIntVal(64), cty.StringVal("M"), cty.NumberIntVal(128), cty.NumberIntVal(128)})})
)

// newFixtureOf runs the dataset kind on dataCfg and trains three networks of train's
// configuration (seeds 1 to 3).
func newFixtureOf(t *testing.T, dataCfg cty.Value, train func(k *stages.Kind, data cty.Value, seed int64) cty.Value) *fixture {
	t.Helper()
	dk := kind(t, "dataset")
	res, err := dk.Run(context.Background(), &stages.Input{Address: "dataset.d", Config: dataCfg, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	desc := res.Outputs["dataset"].Artifacts[0].Data
	f := &fixture{inputs: map[artifacts.OutputID][]byte{}}
	f.data = f.add(kinds.Dataset, "dataset", desc)
	k := kind(t, "train")
	for seed := int64(1); seed <= 3; seed++ {
		res, err := k.Run(context.Background(), &stages.Input{Address: "train.t", Config: train(k, f.data, seed), Threads: 1, Read: f.read})
		if err != nil {
			t.Fatal(err)
		}
		f.nets = append(f.nets, f.add(kinds.Network, "network", res.Outputs["final"].Artifacts[0].Data))
	}
	return f
}

func (f *fixture) add(t cty.Type, name string, b []byte) cty.Value {
	id := artifacts.NewOutputID(b)
	f.inputs[id] = b
	return stages.RefVal(t, &stages.Ref{Type: name, ID: id, Size: int64(len(b))})
}

func (f *fixture) read(r *stages.Ref) ([]byte, error) { return f.inputs[r.ID], nil }

func trainCfg(k *stages.Kind, data cty.Value, seed int64) cty.Value {
	return trainCfgHidden(k, data, seed, 16)
}

// trainCfgHidden is trainCfg with the hidden layers' widths given.
func trainCfgHidden(k *stages.Kind, data cty.Value, seed int64, hidden ...int64) cty.Value {
	widths := make([]cty.Value, len(hidden))
	for i, h := range hidden {
		widths[i] = cty.NumberIntVal(h)
	}
	model := k.Schema.Blocks[0].Schema.Config(map[string]cty.Value{"hidden": cty.ListVal(widths)})
	opt := k.Schema.Blocks[1].Schema.Config(map[string]cty.Value{"lr": cty.NumberFloatVal(0.1), "momentum": cty.NumberFloatVal(0.9), "schedule": cty.StringVal("cosine"), "warmup": cty.StringVal("2")})
	return k.Schema.Config(map[string]cty.Value{
		"data":        data,
		"seed":        cty.NumberIntVal(seed),
		"epochs":      cty.NumberIntVal(2),
		"batch_size":  cty.NumberIntVal(32),
		"checkpoints": cty.ListVal([]cty.Value{cty.StringVal("0ep"), cty.StringVal("1ep")}),
		"model":       model,
		"optimizer":   opt,
	})
}

func TestGoldenTrain(t *testing.T) {
	f := newFixture(t)
	k := kind(t, "train")
	cfg := trainCfg(k, f.data, 1)
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "synthetic-mlp", cfg, f.inputs)
	// Two hidden layers, each split between the training step's parts: the input gradient
	// of the first is summed from the parts' partial products (nn's unit split).
	deep := trainCfgHidden(k, f.data, 1, 32, 48)
	if err := k.Check(deep); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "synthetic-mlp-deep", deep, f.inputs)
	conv := newFixtureOf(t, stripesCfg(kind(t, "dataset")), resnetCfg)
	for name, train := range map[string]func(*stages.Kind, cty.Value, int64) cty.Value{"stripes-resnet": resnetCfg, "stripes-vgg": vggCfg} {
		cfg := train(k, conv.data, 1)
		if err := k.Check(cfg); err != nil {
			t.Fatal(err)
		}
		stagetest.Golden(t, k, name, cfg, conv.inputs)
	}
}

// TestGoldenConvAlignment records weight matching, interpolation, merge_three and pruning
// of tiny ResNets.
func TestGoldenConvAlignment(t *testing.T) {
	f := newFixtureOf(t, stripesCfg(kind(t, "dataset")), resnetCfg)
	k := kind(t, "match")
	cfg := k.Schema.Config(map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1]})
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "weight-resnet", cfg, f.inputs)
	k = kind(t, "interpolate")
	cfg = k.Schema.Config(map[string]cty.Value{"a": f.nets[0], "b": f.nets[1], "data": f.data, "points": cty.NumberIntVal(3), "rematch": cty.True})
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "pair-resnet", cfg, f.inputs)
	k = kind(t, "merge_three")
	cfg = k.Schema.Config(map[string]cty.Value{"networks": cty.ListVal(f.nets), "data": f.data, "resolution": cty.NumberIntVal(2), "points": cty.NumberIntVal(3)})
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "three-resnet", cfg, f.inputs)
	tk, pk := kind(t, "train"), kind(t, "prune")
	train := f.node(t, tk, resnetCfg(tk, f.data, 1))
	cfg = pruneCfg(pk, map[string]cty.Value{"from": train, "levels": cty.NumberIntVal(1), "fraction": cty.NumberFloatVal(0.5), "rewind": cty.StringVal("1ep")})
	if err := pk.Check(cfg); err != nil {
		t.Fatal(err)
	}
	// prune's Version stays: a new revision of the ResNet kernels reaches it as a new
	// recipe (recipeDoc.Numerics), so the case is named by the revision its inputs have.
	stagetest.Golden(t, pk, "imp-resnet@"+nn.NumericsOf("resnet"), cfg, f.inputs)
}

func TestGoldenAlignment(t *testing.T) {
	f := newFixture(t)
	for _, method := range []string{"weight", "activation"} {
		k := kind(t, "match")
		cfg := k.Schema.Config(map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1], "method": cty.StringVal(method), "data": f.data, "examples": cty.NumberIntVal(100)})
		if err := k.Check(cfg); err != nil {
			t.Fatal(err)
		}
		stagetest.Golden(t, k, method, cfg, f.inputs)
	}
	k := kind(t, "interpolate")
	seq := cty.ListVal(f.nets[:2])
	for name, cfg := range map[string]cty.Value{
		"pair":     k.Schema.Config(map[string]cty.Value{"a": f.nets[0], "b": f.nets[1], "data": f.data, "points": cty.NumberIntVal(5), "train_examples": cty.NumberIntVal(100)}),
		"sequence": k.Schema.Config(map[string]cty.Value{"a": seq, "b": seq, "rematch": cty.True, "data": f.data, "points": cty.NumberIntVal(3)}),
	} {
		if err := k.Check(cfg); err != nil {
			t.Fatal(err)
		}
		stagetest.Golden(t, k, name, cfg, f.inputs)
	}
	k = kind(t, "merge_three")
	cfg := k.Schema.Config(map[string]cty.Value{"networks": cty.ListVal(f.nets), "data": f.data, "resolution": cty.NumberIntVal(4), "points": cty.NumberIntVal(5)})
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "three", cfg, f.inputs)
}

// TestValidateShapes checks the plan-time checks of the alignment kinds.
func TestValidateShapes(t *testing.T) {
	f := newFixture(t)
	ip := kind(t, "interpolate")
	tests := []struct {
		k    *stages.Kind
		cfg  map[string]cty.Value
		want string
	}{
		{ip, map[string]cty.Value{"a": cty.ListVal(f.nets), "b": cty.ListVal(f.nets[:2]), "data": f.data}, "a has 3 networks and b has 2"},
		{ip, map[string]cty.Value{"a": f.nets[0], "b": cty.ListVal(f.nets[:2]), "data": f.data}, "give both as sequences"},
		{ip, map[string]cty.Value{"a": f.data, "b": f.nets[0], "data": f.data}, "a must be a network"},
		{ip, map[string]cty.Value{"a": f.nets[0], "b": f.nets[1], "data": f.data, "points": cty.NumberIntVal(1)}, "points must be a whole number from 2"},
		{kind(t, "match"), map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1], "method": cty.StringVal("activation")}, "activation matching needs data"},
		{kind(t, "match"), map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1], "method": cty.StringVal("magic")}, `got "magic"`},
		{kind(t, "merge_three"), map[string]cty.Value{"networks": cty.ListVal(f.nets[:2]), "data": f.data}, "exactly three networks"},
	}
	for _, tt := range tests {
		err := tt.k.Check(tt.k.Schema.Config(tt.cfg))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want %q", tt.k.Name, err, tt.want)
		}
	}
}

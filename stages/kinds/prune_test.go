package kinds_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/perm"
	"github.com/modulo-ml/modulo/nn/prune"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/kinds"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// node runs kind k on cfg and returns its value as a downstream expression sees it: an
// object of its outputs, artifacts as refs (with the manifest's Meta) stored in f.inputs.
func (f *fixture) node(t *testing.T, k *stages.Kind, cfg cty.Value) cty.Value {
	t.Helper()
	res, err := k.Run(context.Background(), &stages.Input{Address: k.Name + ".x", Config: cfg, Threads: 1, Read: f.read})
	if err != nil {
		t.Fatalf("%s: %v", k.Name, err)
	}
	attrs := map[string]cty.Value{}
	for _, spec := range k.Outputs {
		out := res.Outputs[spec.Name]
		elem, seq, isArt := stages.ArtifactShape(spec.Type)
		if !isArt {
			attrs[spec.Name] = out.Value
			continue
		}
		name, media, _ := stages.IsArtifactType(elem)
		var refs []cty.Value
		for _, a := range out.Artifacts {
			id := artifacts.NewOutputID(a.Data)
			f.inputs[id] = a.Data
			refs = append(refs, stages.RefVal(elem, &stages.Ref{Type: name, Media: media, ID: id, Size: int64(len(a.Data)), Meta: a.Meta}))
		}
		switch {
		case !seq:
			attrs[spec.Name] = refs[0]
		case len(refs) == 0:
			attrs[spec.Name] = cty.ListValEmpty(elem)
		default:
			attrs[spec.Name] = cty.ListVal(refs)
		}
	}
	return cty.ObjectVal(attrs)
}

func (f *fixture) network(t *testing.T, v cty.Value) *nn.Network {
	t.Helper()
	n, _, err := nn.DecodeNetwork(f.inputs[stages.RefOf(v).ID])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) mask(t *testing.T, v cty.Value) prune.Mask {
	t.Helper()
	_, m, err := prune.Decode(f.inputs[stages.RefOf(v).ID])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func pruneCfg(k *stages.Kind, attrs map[string]cty.Value) cty.Value { return k.Schema.Config(attrs) }

// TestPrune runs IMP on a train node's run and checks what the issue asks of it: sparsity
// per level, pruned weights at zero, level 0 being the train node's network, the rewind
// point read from a checkpoint or trained again giving the same levels, and a transported
// mask reproducing the run it came from.
func TestPrune(t *testing.T) {
	f := newFixture(t)
	tk, pk := kind(t, "train"), kind(t, "prune")
	train := f.node(t, tk, trainCfg(tk, f.data, 1)) // checkpoints 0ep and 1ep, 8 steps an epoch
	cfg := pruneCfg(pk, map[string]cty.Value{
		"from": train, "levels": cty.NumberIntVal(2), "fraction": cty.NumberFloatVal(0.5), "rewind": cty.StringVal("1ep"),
	})
	if err := pk.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, pk, "imp", cfg, f.inputs)
	imp := f.node(t, pk, cfg)

	levels := imp.GetAttr("levels").AsValueSlice()
	masks := imp.GetAttr("masks").AsValueSlice()
	rows := imp.GetAttr("metrics").AsValueSlice()
	if len(levels) != 3 || len(masks) != 3 || len(rows) != 3 {
		t.Fatalf("%d levels, %d masks, %d metric rows; want 3 each", len(levels), len(masks), len(rows))
	}
	if !imp.GetAttr("final").RawEquals(levels[2]) {
		t.Error("final is not the last level")
	}
	if !levels[0].RawEquals(train.GetAttr("final")) {
		t.Error("level 0 is not the train node's final network")
	}
	// 8·16 + 16·3 = 176 prunable weights; half pruned per level: 88, then 44 left.
	for k, want := range []int64{176, 88, 44} {
		w, _ := rows[k].GetAttr("weights").AsBigFloat().Int64()
		if w != want {
			t.Errorf("level %d keeps %d weights, want %d", k, w, want)
		}
		net, m := f.network(t, levels[k]), f.mask(t, masks[k])
		for name, v := range m {
			for i, x := range v {
				if x == 0 && net.Param(name).Data[i] != 0 {
					t.Fatalf("level %d: pruned %s[%d] is %v", k, name, i, net.Param(name).Data[i])
				}
			}
		}
	}

	// The same run without checkpoints: the rewind point is trained again, bit for bit.
	noCkpt := trainCfg(tk, f.data, 1)
	obj := noCkpt.AsValueMap()
	obj["checkpoints"] = cty.ListValEmpty(cty.String)
	bare := f.node(t, tk, cty.ObjectVal(obj))
	again := f.node(t, pk, pruneCfg(pk, map[string]cty.Value{
		"from": bare, "levels": cty.NumberIntVal(2), "fraction": cty.NumberFloatVal(0.5), "rewind": cty.StringVal("8"),
	}))
	if !again.GetAttr("levels").RawEquals(imp.GetAttr("levels")) {
		t.Error("rewinding to a step the train node did not keep gives other networks than its checkpoint")
	}

	// Mask transport with the identity: the carried masks give back the run they came from.
	id := perm.Identity(f.network(t, levels[0]).Arch)
	pb, err := perm.EncodeSafetensors(id)
	if err != nil {
		t.Fatal(err)
	}
	p := f.add(kinds.Permutation, "permutation", pb)
	moved := f.node(t, pk, pruneCfg(pk, map[string]cty.Value{
		"from": train, "mask": imp.GetAttr("masks"), "permutation": p, "rewind": cty.StringVal("1ep"),
	}))
	if !moved.GetAttr("levels").RawEquals(imp.GetAttr("levels")) {
		t.Error("retraining with the run's own masks under the identity does not reproduce it")
	}

	// Under a random permutation, the transported masks are the permuted masks.
	q := perm.Random(f.network(t, levels[0]).Arch, 7)
	qb, _ := perm.EncodeSafetensors(q)
	other := f.node(t, tk, trainCfg(tk, f.data, 2))
	carried := f.node(t, pk, pruneCfg(pk, map[string]cty.Value{
		"from": other, "mask": imp.GetAttr("masks"), "permutation": f.add(kinds.Permutation, "permutation", qb), "levels": cty.NumberIntVal(1),
	}))
	got := carried.GetAttr("masks").AsValueSlice()
	if len(got) != 2 {
		t.Fatalf("levels = 1 with 3 masks: %d levels, want 2", len(got))
	}
	for k := range got {
		want, err := q.ApplyMasks(f.mask(t, masks[k]))
		if err != nil {
			t.Fatal(err)
		}
		if !f.mask(t, got[k]).Equal(prune.Mask(want)) {
			t.Errorf("level %d: the carried mask is not the permuted mask", k)
		}
	}
}

// TestValidatePrune checks the plan-time diagnostics of prune.
func TestValidatePrune(t *testing.T) {
	f := newFixture(t)
	tk, pk := kind(t, "train"), kind(t, "prune")
	train := f.node(t, tk, trainCfg(tk, f.data, 1)) // 2 epochs of 8 steps
	maskList := cty.ListValEmpty(kinds.Mask)
	wide := nn.Arch{Kind: "mlp", Input: 8, Hidden: []int{32}, Output: 3, Activation: "relu", Bias: true}
	wrongMask := cty.ListVal([]cty.Value{stages.RefVal(kinds.Mask, &stages.Ref{Type: "mask", ID: [32]byte{1}, Meta: wide.String()})})
	tests := []struct {
		cfg  map[string]cty.Value
		want string
	}{
		{map[string]cty.Value{"from": train}, "levels is required"},
		{map[string]cty.Value{"from": train, "levels": cty.NumberFloatVal(1.5)}, "whole number"},
		{map[string]cty.Value{"from": train, "levels": cty.NumberIntVal(1), "fraction": cty.NumberIntVal(1)}, "must be a number > 0 and < 1"},
		{map[string]cty.Value{"from": train, "levels": cty.NumberIntVal(1), "scope": cty.StringVal("row")}, `got "row"`},
		{map[string]cty.Value{"from": train, "levels": cty.NumberIntVal(1), "rewind": cty.StringVal("3ep")}, "beyond the 16 steps"},
		{map[string]cty.Value{"from": train, "levels": cty.NumberIntVal(1), "rewind": cty.StringVal("soon")}, "must be a step count"},
		{map[string]cty.Value{"from": train, "levels": cty.NumberIntVal(1), "permutation": f.add(kinds.Permutation, "permutation", []byte("p"))}, "needs mask"},
		{map[string]cty.Value{"from": train, "mask": maskList}, "empty list"},
		{map[string]cty.Value{"from": train, "mask": wrongMask, "levels": cty.NumberIntVal(3)}, "needs 4 masks but mask holds 1"},
		{map[string]cty.Value{"from": train, "mask": wrongMask}, "architecture mlp 8-32-3"},
	}
	for _, tt := range tests {
		err := pk.Check(pk.Schema.Config(tt.cfg))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate = %v, want %q", err, tt.want)
		}
	}
	// Unknown upstream values pass: the train node has not run yet.
	unknown := cty.UnknownVal(pk.Schema.Config(map[string]cty.Value{"from": train}).GetAttr("from").Type())
	if err := pk.Check(pk.Schema.Config(map[string]cty.Value{"from": unknown, "levels": cty.NumberIntVal(1), "rewind": cty.StringVal("50ep")})); err != nil {
		t.Errorf("unknown from: %v", err)
	}
}

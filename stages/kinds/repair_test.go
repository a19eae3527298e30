package kinds_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/kinds"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// TestRepairInterpolate: with repair = true the ends of the line are the networks as they
// are and the points between them change; the results are pinned by golden digests, for
// interpolate and merge_three.
func TestRepairInterpolate(t *testing.T) {
	f := newFixture(t)
	k := kind(t, "interpolate")
	curve := func(repair bool) []cty.Value {
		cfg := k.Schema.Config(map[string]cty.Value{"a": f.nets[0], "b": f.nets[1], "data": f.data, "points": cty.NumberIntVal(5), "repair": cty.BoolVal(repair), "repair_examples": cty.NumberIntVal(500)})
		if err := k.Check(cfg); err != nil {
			t.Fatal(err)
		}
		if repair {
			stagetest.Golden(t, k, "pair-repair", cfg, f.inputs)
		}
		res, err := k.Run(context.Background(), &stages.Input{Address: "interpolate.i", Config: cfg, Threads: 1, Read: f.read})
		if err != nil {
			t.Fatal(err)
		}
		return res.Outputs["curve"].Value.AsValueSlice()
	}
	plain, repaired := curve(false), curve(true)
	for _, i := range []int{0, 4} {
		if !plain[i].RawEquals(repaired[i]) {
			t.Errorf("end %d changed by REPAIR: %#v, was %#v", i, repaired[i], plain[i])
		}
	}
	if plain[2].RawEquals(repaired[2]) {
		t.Error("the midpoint is the same with REPAIR")
	}
	m := kind(t, "merge_three")
	cfg := m.Schema.Config(map[string]cty.Value{"networks": cty.ListVal(f.nets), "data": f.data, "resolution": cty.NumberIntVal(2), "points": cty.NumberIntVal(3), "repair": cty.True, "repair_examples": cty.NumberIntVal(500)})
	if err := m.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, m, "three-repair", cfg, f.inputs)
}

// TestRepairValidate: REPAIR on a network it does not apply to is refused before anything
// runs, from the architecture the plan knows.
func TestRepairValidate(t *testing.T) {
	k := kind(t, "interpolate")
	net := func(meta string) cty.Value {
		return stages.RefVal(kinds.Network, &stages.Ref{Type: "network", Meta: meta})
	}
	data := stages.RefVal(kinds.Dataset, &stages.Ref{Type: "dataset"})
	for meta, want := range map[string]string{
		"resnet 1x16x16 4-8-16x1 4 layernorm": "REPAIR is implemented for MLPs; a holds a resnet",
		"mlp 20-8-4 relu nobias":              "REPAIR fuses its correction into the biases",
	} {
		cfg := k.Schema.Config(map[string]cty.Value{"a": net(meta), "b": net(meta), "data": data, "repair": cty.True})
		if err := k.Check(cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", meta, err, want)
		}
	}
	cfg := k.Schema.Config(map[string]cty.Value{"a": net("mlp 20-8-4 relu"), "b": net("mlp 20-8-4 relu"), "data": data, "repair": cty.True})
	if err := k.Check(cfg); err != nil {
		t.Errorf("an MLP with biases: %v", err)
	}
}

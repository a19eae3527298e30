package kinds_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// TestMergeMany: three networks give three pairs, network 0 stays where it is, and the
// result is pinned by a golden digest. Two networks: the second aligned is match's
// weight-matched network, byte for byte.
func TestMergeMany(t *testing.T) {
	f := newFixture(t)
	k := kind(t, "merge_many")
	cfg := k.Schema.Config(map[string]cty.Value{"networks": cty.ListVal(f.nets), "data": f.data, "points": cty.NumberIntVal(3), "samples": cty.NumberIntVal(8)})
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "three", cfg, f.inputs)
	res, err := k.Run(context.Background(), &stages.Input{Address: "merge_many.m", Config: cfg, Threads: 1, Read: f.read})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Outputs["pairs"].Value.LengthInt(); n != 3 {
		t.Errorf("%d pairs of three networks", n)
	}
	if len(res.Outputs["aligned"].Artifacts) != 3 || len(res.Outputs["merged"].Artifacts) != 1 {
		t.Error("aligned or merged missing")
	}
	if !bytes.Equal(res.Outputs["aligned"].Artifacts[0].Data, f.inputs[stages.RefOf(f.nets[0]).ID]) {
		t.Error("network 0 moved: it fixes the frame")
	}

	two := k.Schema.Config(map[string]cty.Value{"networks": cty.ListVal(f.nets[:2]), "data": f.data, "points": cty.NumberIntVal(3), "samples": cty.NumberIntVal(2)})
	res2, err := k.Run(context.Background(), &stages.Input{Address: "merge_many.m", Config: two, Threads: 1, Read: f.read})
	if err != nil {
		t.Fatal(err)
	}
	m := kind(t, "match")
	mcfg := m.Schema.Config(map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1]})
	mres, err := m.Run(context.Background(), &stages.Input{Address: "match.m", Config: mcfg, Threads: 1, Read: f.read})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res2.Outputs["aligned"].Artifacts[1].Data, mres.Outputs["aligned"].Artifacts[0].Data) {
		t.Error("merge_many of two networks is not weight matching of the second to the first")
	}
}

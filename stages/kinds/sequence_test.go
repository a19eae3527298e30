package kinds_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// TestMatchSequence: match with sequence = true finds one permutation for two sequences,
// whose summed objective is at least that of the pair at `at` alone, applied to the same
// sequences; its result is pinned by a golden digest; validate refuses it on single
// networks and with activation matching.
func TestMatchSequence(t *testing.T) {
	f := newFixture(t)
	k := kind(t, "match")
	refs, tgts := cty.ListVal([]cty.Value{f.nets[0], f.nets[1]}), cty.ListVal([]cty.Value{f.nets[1], f.nets[2]})
	run := func(seq bool) float64 {
		cfg := k.Schema.Config(map[string]cty.Value{"reference": refs, "target": tgts, "sequence": cty.BoolVal(seq)})
		if err := k.Check(cfg); err != nil {
			t.Fatal(err)
		}
		if seq {
			stagetest.Golden(t, k, "sequence", cfg, f.inputs)
		}
		res, err := k.Run(context.Background(), &stages.Input{Address: "match.m", Config: cfg, Threads: 1, Read: f.read})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := res.Outputs["objective"].Value.AsBigFloat().Float64()
		return v
	}
	pairOnly, seq := run(false), run(true)
	// The pair's objective is one pair's; the sequence's sums both pairs, each at least as
	// aligned as the pair's permutation leaves it. It must exceed the single pair's.
	if !(seq > pairOnly) {
		t.Errorf("summed objective %g, the last pair's alone %g", seq, pairOnly)
	}
	for _, c := range []struct {
		cfg  map[string]cty.Value
		want string
	}{
		{map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1], "sequence": cty.True}, "reference and target must both be sequences"},
		{map[string]cty.Value{"reference": refs, "target": tgts, "sequence": cty.True, "method": cty.StringVal("activation"), "data": f.data}, "sequence matching is weight matching"},
		{map[string]cty.Value{"reference": refs, "target": cty.ListVal([]cty.Value{f.nets[2]}), "sequence": cty.True}, "reference has 2 networks and target 1"},
	} {
		if err := k.Check(k.Schema.Config(c.cfg)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}

// TestMatchSTE: learned matching through the match kind, pinned by a golden digest; its
// settings belong to it alone, and it needs data.
func TestMatchSTE(t *testing.T) {
	f := newFixture(t)
	k := kind(t, "match")
	cfg := k.Schema.Config(map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1], "method": cty.StringVal("ste"), "data": f.data, "examples": cty.NumberIntVal(200), "batch_size": cty.NumberIntVal(64), "lr": cty.NumberFloatVal(0.01)})
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "ste", cfg, f.inputs)
	for _, c := range []struct {
		cfg  map[string]cty.Value
		want string
	}{
		{map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1], "method": cty.StringVal("ste")}, "learned matching (ste) needs data"},
		{map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1], "epochs": cty.NumberIntVal(3)}, `epochs is for learned matching (method = "ste")`},
	} {
		if err := k.Check(k.Schema.Config(c.cfg)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}

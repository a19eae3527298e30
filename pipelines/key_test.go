package pipelines

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// TestNewNullAttributesLeaveKeysAlone: an attribute added later with NullNotInKey, at the
// top or inside a block, gives the key the configuration had before it existed while it is
// null, and another key once it is set.
func TestNewNullAttributesLeaveKeysAlone(t *testing.T) {
	old := &stages.Kind{Name: "k", Version: 1, Schema: stages.Schema{
		Attributes: []stages.Attribute{{Name: "a", Type: cty.Number}},
		Blocks:     []stages.BlockSchema{{Name: "b", Schema: stages.Schema{Attributes: []stages.Attribute{{Name: "x", Type: cty.String}}}}},
	}}
	grown := &stages.Kind{Name: "k", Version: 1, Schema: stages.Schema{
		Attributes: []stages.Attribute{{Name: "a", Type: cty.Number}, {Name: "new", Type: cty.String, NullNotInKey: true}},
		Blocks: []stages.BlockSchema{{Name: "b", Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "x", Type: cty.String}, {Name: "y", Type: cty.Number, NullNotInKey: true}, {Name: "z", Type: cty.String}}}}},
	}}
	oldCfg := old.Schema.Config(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.ObjectVal(map[string]cty.Value{"x": cty.StringVal("s")})})
	block := func(y cty.Value) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"x": cty.StringVal("s"), "y": y, "z": cty.NullVal(cty.String)})
	}
	want := actionKey(old, oldCfg, nil).ID()
	same := grown.Schema.Config(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": block(cty.NullVal(cty.Number))})
	// z is null but not marked: it enters the key, so the grown block differs in z alone.
	if got := actionKey(grown, same, nil).ID(); got == want {
		t.Error("an unmarked null attribute stayed out of the key")
	}
	grown.Schema.Blocks[0].Schema.Attributes[2].NullNotInKey = true
	if got := actionKey(grown, same, nil).ID(); got != want {
		t.Errorf("null new attributes changed the key: %s, want %s", got, want)
	}
	set := grown.Schema.Config(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": block(cty.NumberIntVal(2))})
	if got := actionKey(grown, set, nil).ID(); got == want {
		t.Error("setting a new attribute left the key as it was")
	}
}

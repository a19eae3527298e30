package pipelines

import (
	"encoding/json"
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/artifacts"
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

// TestNumberOutputsReadAsCtyJSON checks that outputValue's shortcut for numbers gives what
// ctyjson gives, and leaves what is not a plain literal to ctyjson.
func TestNumberOutputsReadAsCtyJSON(t *testing.T) {
	spec := stages.OutputSpec{Name: "n", Type: cty.Number}
	for _, lit := range []string{"5", "-0", "0", "0.9694", "1e-7", "-2.5E+10", "123456789012345678901234567890", "0.1", "3.14159265358979323846264338327950288", "null", `"7"`, " 5", "5 "} {
		got, gotErr := outputValue(spec, artifacts.Output{Value: json.RawMessage(lit)})
		want, wantErr := ctyjson.Unmarshal([]byte(lit), cty.Number)
		if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && !got.RawEquals(want)) {
			t.Errorf("%s: outputValue = %#v, %v; ctyjson = %#v, %v", lit, got, gotErr, want, wantErr)
		}
	}
	if _, ok := numberLiteral([]byte(`"7"`)); ok {
		t.Error(`numberLiteral("\"7\"") took a string for a number`)
	}
}

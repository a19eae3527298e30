package pipelines

import (
	"encoding/json"
	"strings"
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

// TestNumericsScopeTheKey: a kind's Numerics revision enters the key of the configurations
// that name one and leaves the others' keys as they were without the hook.
func TestNumericsScopeTheKey(t *testing.T) {
	schema := stages.Schema{Attributes: []stages.Attribute{{Name: "model", Type: cty.String}}}
	plain := &stages.Kind{Name: "k", Version: 1, Schema: schema}
	revision := "conv-1"
	scoped := &stages.Kind{Name: "k", Version: 1, Schema: schema, Numerics: func(cfg cty.Value) string {
		if cfg.GetAttr("model").AsString() == "conv" {
			return revision
		}
		return ""
	}}
	cfg := func(model string) cty.Value {
		return schema.Config(map[string]cty.Value{"model": cty.StringVal(model)})
	}
	if got, want := actionKey(scoped, cfg("mlp"), nil).ID(), actionKey(plain, cfg("mlp"), nil).ID(); got != want {
		t.Errorf("a configuration without a revision changed its key: %s, want %s", got, want)
	}
	first := actionKey(scoped, cfg("conv"), nil).ID()
	if first == actionKey(plain, cfg("conv"), nil).ID() {
		t.Error("a revision left the key as it was")
	}
	revision = "conv-2"
	if actionKey(scoped, cfg("conv"), nil).ID() == first {
		t.Error("bumping the revision left the key as it was")
	}
}

// TestNumberOutputsReadAsCtyJSON checks that outputValue's shortcut for numbers gives what
// ctyjson gives, and leaves what is not a plain literal to ctyjson.
func TestNumberOutputsReadAsCtyJSON(t *testing.T) {
	spec := stages.OutputSpec{Name: "n", Type: cty.Number}
	for _, lit := range []string{"5", "-0", "0", "0.9694", "1e-7", "-2.5E+10", "123456789012345678901234567890", "0.1", "3.14159265358979323846264338327950288", "null", `"7"`, " 5", "5 "} {
		got, gotErr := outputValue(spec, artifacts.Output{Value: json.RawMessage(lit)}, "")
		want, wantErr := ctyjson.Unmarshal([]byte(lit), cty.Number)
		if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && !got.RawEquals(want)) {
			t.Errorf("%s: outputValue = %#v, %v; ctyjson = %#v, %v", lit, got, gotErr, want, wantErr)
		}
	}
	if _, ok := numberLiteral([]byte(`"7"`)); ok {
		t.Error(`numberLiteral("\"7\"") took a string for a number`)
	}
}

// TestJSONStringAsMarshal checks that canonical writes strings, and object keys, byte for
// byte as json.Marshal does (the keys of every cached result depend on it), on both sides of
// its fast path: plain ASCII, and quotes, escapes, HTML characters, control characters,
// DEL, non-ASCII, invalid UTF-8 and the line separators JSON escapes.
func TestJSONStringAsMarshal(t *testing.T) {
	for _, s := range []string{"", "k0042", "width 64, seed 1", `say "hi"`, `a\b`, "<b>&</b>", "tab\there", "nl\n", "\x00", "\x1f", "\x7f", "é", "日本", "\xff\xfe", "\u2028\u2029", "~ !#$%'()*+,-./:;=?@[]^_`{|}"} {
		var sb strings.Builder
		writeJSONString(&sb, s)
		want, _ := json.Marshal(s)
		if sb.String() != string(want) {
			t.Errorf("%q: wrote %s, json.Marshal %s", s, sb.String(), want)
		}
		obj := cty.ObjectVal(map[string]cty.Value{s: cty.StringVal(s)})
		wantObj, _ := json.Marshal(map[string]string{s: s})
		if got := canonical(obj); got != string(wantObj) {
			t.Errorf("%q: canonical object %s, json.Marshal %s", s, got, wantObj)
		}
	}
}

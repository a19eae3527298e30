package stagetest

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

func TestGolden(t *testing.T) {
	r := &stages.Registry{}
	Register(r)
	text, _ := r.Lookup("text")
	concat, _ := r.Lookup("concat")
	Golden(t, text, "plain", text.Schema.Config(map[string]cty.Value{"value": cty.StringVal("hello modulo")}), nil)
	Golden(t, text, "upper", text.Schema.Config(map[string]cty.Value{"value": cty.StringVal("hello modulo"), "upper": cty.True}), nil)

	a, b := []byte("left"), []byte("right")
	ia, ib := artifacts.NewOutputID(a), artifacts.NewOutputID(b)
	parts := cty.ListVal([]cty.Value{
		stages.RefVal(Text, &stages.Ref{Type: "text", ID: ia, Size: 4}),
		stages.RefVal(Text, &stages.Ref{Type: "text", ID: ib, Size: 5}),
	})
	Golden(t, concat, "two", concat.Schema.Config(map[string]cty.Value{"parts": parts, "sep": cty.StringVal("+")}), map[artifacts.OutputID][]byte{ia: a, ib: b})
}

// TestDigestChangesWithOutputs proves the golden check can fail: other outputs, other digest.
func TestDigestChangesWithOutputs(t *testing.T) {
	r := &stages.Registry{}
	Register(r)
	text, _ := r.Lookup("text")
	d1, err := Digest(t.Context(), text, text.Schema.Config(map[string]cty.Value{"value": cty.StringVal("a")}), nil)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := Digest(t.Context(), text, text.Schema.Config(map[string]cty.Value{"value": cty.StringVal("b")}), nil)
	d3, _ := Digest(t.Context(), text, text.Schema.Config(map[string]cty.Value{"value": cty.StringVal("a"), "salt": cty.StringVal("x")}), nil)
	if d1 == d2 {
		t.Error("different outputs gave the same digest")
	}
	if d1 != d3 {
		t.Error("salt changes the key, not the outputs, yet the digest changed")
	}
}

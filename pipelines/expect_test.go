package pipelines

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// What a kind expects of its outputs (stages.Kind.Expect) reaches the nodes downstream at
// plan time: the length of a sequence not computed yet is known to expressions, and a
// cached output whose entry recorded no Meta gets the one its configuration expects.
func TestExpectations(t *testing.T) {
	e := newEnv(t)
	p := e.write(`
text "a" {
  value = "two words"
}
concat "c" {
  parts = text.a.words
  sep   = tostring(length(text.a.words))
}
`)
	plan := e.plan(p, nil)
	c := plan.Nodes["concat.c"].Config
	if sep := c.GetAttr("sep"); !sep.IsKnown() || sep.AsString() != "2" {
		t.Errorf("before text.a runs, sep = %#v, want the expected length \"2\"", sep)
	}
	if n := plan.Nodes["concat.c"]; n.Status != Deferred {
		t.Errorf("concat.c is %v, want deferred: its parts are not known", n.Status)
	}

	e.apply(p, nil)
	plan = e.plan(p, nil)
	out := plan.ValueOf(e.graph(p, nil).Instances["text.a"]).GetAttr("out")
	if r := stages.RefOf(out); r.Meta != "text" {
		t.Errorf("cached text.a.out has Meta %q, want the expected \"text\"", r.Meta)
	}
	words := plan.ValueOf(e.graph(p, nil).Instances["text.a"]).GetAttr("words")
	if !words.IsWhollyKnown() || words.LengthInt() != 2 || stages.RefOf(words.Index(cty.NumberIntVal(0))).Meta != "word" {
		t.Errorf("cached text.a.words = %#v", words)
	}
}

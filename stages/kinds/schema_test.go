package kinds_test

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// TestEveryNumberIsConstrained keeps the schemas honest: each kind decodes into a typed
// configuration, and every number (alone or in a list) has a Constraint, so a fraction or a
// negative count can never reach a run or its key unchecked.
func TestEveryNumberIsConstrained(t *testing.T) {
	for _, name := range stages.Default.Names() {
		k, _ := stages.Default.Lookup(name)
		if k.Config == nil {
			t.Errorf("%s has no typed Config", name)
		}
		var walk func(prefix string, s *stages.Schema)
		walk = func(prefix string, s *stages.Schema) {
			for _, a := range s.Attributes {
				isNum := a.Type == cty.Number || (a.Type.IsListType() && a.Type.ElementType() == cty.Number)
				if isNum && a.Check == nil {
					t.Errorf("%s: number %s%s has no Check", name, prefix, a.Name)
				}
			}
			for i := range s.Blocks {
				walk(prefix+s.Blocks[i].Name+".", &s.Blocks[i].Schema)
			}
		}
		walk("", &k.Schema)
	}
}

package slurmexec

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/pipelines"
)

// TestReferenceDefaults checks that the language reference (modulo doc executor) states
// the executor's defaults as they are.
func TestReferenceDefaults(t *testing.T) {
	want := map[string]int64{"max_jobs": DefaultMaxJobs, "retries": DefaultRetries}
	for _, b := range pipelines.Language().Blocks {
		if b.Name != "executor" {
			continue
		}
		for name, n := range want {
			a, ok := b.Schema.Attribute(name)
			if !ok || a.Default == cty.NilVal || !a.Default.RawEquals(cty.NumberIntVal(n)) {
				t.Errorf("the reference's executor %s: %#v, want the default %d", name, a.Default, n)
			}
			delete(want, name)
		}
	}
	if len(want) > 0 {
		t.Errorf("the reference has no executor block with %v", want)
	}
}

package kinds

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestTableCSV(t *testing.T) {
	row := func(epoch int64, loss cty.Value, split string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"epoch": cty.NumberIntVal(epoch), "loss": loss, "split": cty.StringVal(split)})
	}
	metrics := cty.ListVal([]cty.Value{row(1, cty.NumberFloatVal(0.25), "test"), row(2, cty.NullVal(cty.Number), `a "quoted", text`)})
	// A command's table: a tuple whose rows differ in their columns.
	mixed := cty.TupleVal([]cty.Value{
		cty.ObjectVal(map[string]cty.Value{"b": cty.True}),
		cty.ObjectVal(map[string]cty.Value{"a": cty.NumberFloatVal(1e-7), "b": cty.False}),
	})
	tests := []struct {
		name string
		v    cty.Value
		want string // CSV, or the start of the error
	}{
		{"metrics", metrics, "epoch,loss,split\n1,0.25,test\n2,,\"a \"\"quoted\"\", text\"\n"},
		{"mixed", mixed, "b,a\ntrue,\nfalse,1e-07\n"},
		{"number", cty.NumberIntVal(3), "error: a table is a list of objects"},
		{"empty", cty.ListValEmpty(cty.EmptyObject), "error: the table has no rows"},
		{"unknown", cty.UnknownVal(cty.List(cty.EmptyObject)), "error: the table is not known"},
		{"list of numbers", cty.ListVal([]cty.Value{cty.NumberIntVal(1)}), "error: row 0 of the table is number"},
	}
	for _, tt := range tests {
		b, err := TableCSV(tt.v)
		got := string(b)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, tt.want) || err == nil && got != tt.want {
			t.Errorf("%s: TableCSV = %q, want %q", tt.name, got, tt.want)
		}
	}
}

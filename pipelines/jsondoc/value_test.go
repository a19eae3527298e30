package jsondoc

import (
	"encoding/json"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

func TestValue(t *testing.T) {
	net := stages.ArtifactType("jsondoc-test-network", "application/x-test")
	ref := &stages.Ref{Type: "jsondoc-test-network", Media: "application/x-test", ID: artifacts.NewOutputID([]byte("w")), Size: 1, Meta: "mlp 2-3"}
	tests := []struct {
		name  string
		v     cty.Value
		want  string
		known bool
	}{
		{"number", cty.NumberFloatVal(0.125), `0.125`, true},
		{"big integer", cty.MustParseNumberVal("12345678901234567890"), `12345678901234567890`, true},
		{"table", cty.ListVal([]cty.Value{
			cty.ObjectVal(map[string]cty.Value{"epoch": cty.NumberIntVal(1), "loss": cty.NumberFloatVal(0.5)}),
			cty.ObjectVal(map[string]cty.Value{"epoch": cty.NumberIntVal(2), "loss": cty.NullVal(cty.Number)}),
		}), `[{"epoch":1,"loss":0.5},{"epoch":2,"loss":null}]`, true},
		{"set", cty.SetVal([]cty.Value{cty.StringVal("b"), cty.StringVal("a")}), `["a","b"]`, true},
		{"unknown", cty.UnknownVal(cty.Number), `null`, false},
		{"partly unknown", cty.ObjectVal(map[string]cty.Value{"after": cty.UnknownVal(cty.Number), "before": cty.NumberIntVal(3)}), `{"after":null,"before":3}`, false},
		{"artifact", cty.TupleVal([]cty.Value{stages.RefVal(net, ref), cty.True}),
			`[{"type":"jsondoc-test-network","media":"application/x-test","sha256":"` + ref.ID.String() + `","size":1,"meta":"mlp 2-3"},true]`, true},
		{"infinity", cty.ObjectVal(map[string]cty.Value{"x": cty.PositiveInfinity}), `{"x":null}`, true},
		{"marked", cty.StringVal("s").Mark("sensitive"), `"s"`, true},
	}
	for _, tt := range tests {
		v, known := Value(tt.v)
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if string(b) != tt.want || known != tt.known {
			t.Errorf("%s: Value = %s, known %v; want %s, known %v", tt.name, b, known, tt.want, tt.known)
		}
	}
}

func TestProblems(t *testing.T) {
	warn := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "w"}
	err := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "e", Detail: "d", Subject: &hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 10}, End: hcl.Pos{Line: 2, Column: 5, Byte: 12}}}
	var p Problems
	p.Add(hcl.Diagnostics{warn, err}, map[*hcl.Diagnostic]string{err: "text.a"})
	b, _ := json.Marshal(p)
	want := `{"error_count":1,"warning_count":1,"diagnostics":[{"severity":"warning","summary":"w","detail":""},` +
		`{"severity":"error","summary":"e","detail":"d","address":"text.a","range":{"filename":"p.hcl","start":{"line":2,"column":3,"byte":10},"end":{"line":2,"column":5,"byte":12}}}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var empty Problems
	empty.Add(nil, nil)
	if b, _ := json.Marshal(empty); string(b) != `{"error_count":0,"warning_count":0,"diagnostics":[]}` {
		t.Errorf("no diagnostics: %s", b)
	}
}

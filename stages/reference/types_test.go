package reference

import (
	"math/big"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

var (
	testNetwork = stages.ArtifactType("network", "application/vnd.modulo.network")
	testDataset = stages.ArtifactType("dataset", "application/vnd.modulo.dataset")
)

func TestType(t *testing.T) {
	tests := []struct {
		t    cty.Type
		want string
	}{
		{cty.String, "string"},
		{cty.Number, "number"},
		{cty.Bool, "bool"},
		{cty.DynamicPseudoType, "any"},
		{cty.List(cty.Number), "list(number)"},
		{cty.Set(cty.String), "set(string)"},
		{cty.Map(cty.String), "map(string)"},
		{cty.List(cty.Map(cty.DynamicPseudoType)), "list(map(any))"},
		{testNetwork, "network"},
		{testDataset, "dataset"},
		{cty.List(testNetwork), "list(network)"},
		{cty.Object(map[string]cty.Type{"train": cty.Number, "test": cty.Number}), "object({test = number, train = number})"},
		{cty.List(cty.Object(map[string]cty.Type{"final": testNetwork})), "list(object({final = network}))"},
		{cty.ObjectWithOptionalAttrs(map[string]cty.Type{"a": cty.String, "b": cty.Number}, []string{"b"}), "object({a = string, b = optional(number)})"},
		{cty.EmptyObject, "object({})"},
		{cty.Tuple([]cty.Type{cty.String, cty.Number}), "tuple([string, number])"},
		{cty.Capsule("reference", nil), "reference"},
	}
	for _, tc := range tests {
		if got := Type(tc.t); got != tc.want {
			t.Errorf("Type(%#v) = %s, want %s", tc.t, got, tc.want)
		}
	}
}

func TestValue(t *testing.T) {
	big70, _ := new(big.Float).SetString("1180591620717411303424") // 2^70
	tests := []struct {
		v    cty.Value
		want string
	}{
		{cty.StringVal("mlp"), `"mlp"`},
		{cty.StringVal(`a "quoted" ${x} %{y}` + "\n"), `"a \"quoted\" $${x} %%{y}\n"`},
		{cty.StringVal("½×"), `"½×"`},
		{cty.NumberIntVal(128), "128"},
		{cty.NumberIntVal(-1), "-1"},
		{cty.NumberFloatVal(1e-4), "0.0001"},
		{cty.NumberFloatVal(0.2), "0.2"},
		{cty.NumberFloatVal(1e-8), "1e-08"},
		{cty.NumberVal(big70), "1.1805916207174113e+21"},
		{cty.True, "true"},
		{cty.ListValEmpty(cty.String), "[]"},
		{cty.ListVal([]cty.Value{cty.NumberIntVal(64), cty.NumberIntVal(128)}), "[64, 128]"},
		{cty.SetVal([]cty.Value{cty.StringVal("b"), cty.StringVal("a")}), `["a", "b"]`},
		{cty.MapValEmpty(cty.String), "{}"},
		{cty.MapVal(map[string]cty.Value{"OMP_NUM_THREADS": cty.StringVal("1"), "a-b": cty.StringVal("2"), "1x": cty.StringVal("3")}), `{"1x" = "3", OMP_NUM_THREADS = "1", a-b = "2"}`},
		{cty.ObjectVal(map[string]cty.Value{"train": cty.Zero, "test": cty.NullVal(cty.Number)}), "{test = null, train = 0}"},
		{cty.NullVal(cty.String), "null"},
		{cty.UnknownVal(cty.String), "(unknown)"},
	}
	for _, tc := range tests {
		if got := Value(tc.v); got != tc.want {
			t.Errorf("Value(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

package stages

import (
	"context"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

func TestArtifactTypes(t *testing.T) {
	net := ArtifactType("testnet", "application/x-test-net")
	if again := ArtifactType("testnet", "application/x-test-net"); again != net {
		t.Error("ArtifactType returned a new type for a known name")
	}
	data := ArtifactType("testdata", "application/x-test-data")
	if _, err := convert.Convert(cty.UnknownVal(data), net); err == nil {
		t.Error("a testdata value converted to testnet")
	}
	if name, media, ok := IsArtifactType(net); !ok || name != "testnet" || media != "application/x-test-net" {
		t.Errorf("IsArtifactType = %q %q %v", name, media, ok)
	}
	if _, _, ok := IsArtifactType(cty.String); ok {
		t.Error("string is not an artifact type")
	}
	tests := []struct {
		t        cty.Type
		seq, art bool
	}{
		{net, false, true},
		{cty.List(net), true, true},
		{cty.Number, false, false},
		{cty.List(cty.String), false, false},
	}
	for _, tt := range tests {
		if _, seq, art := ArtifactShape(tt.t); seq != tt.seq || art != tt.art {
			t.Errorf("ArtifactShape(%s) = seq %v art %v, want %v %v", tt.t.FriendlyName(), seq, art, tt.seq, tt.art)
		}
	}
	r1 := &Ref{Type: "testnet", ID: [32]byte{1}}
	r2 := &Ref{Type: "testnet", ID: [32]byte{2}}
	v := cty.ObjectVal(map[string]cty.Value{
		"a": RefVal(net, r1),
		"b": cty.ListVal([]cty.Value{RefVal(net, r2), RefVal(net, r1)}),
		"n": cty.NumberIntVal(3),
	})
	if got := Refs(v); len(got) != 3 || got[0] != r1 || got[1] != r2 {
		t.Errorf("Refs = %v", got)
	}
	if !RefVal(net, r1).Equals(RefVal(net, &Ref{Type: "testnet", ID: [32]byte{1}})).True() {
		t.Error("refs to the same bytes are not equal")
	}
}

func TestRegistry(t *testing.T) {
	r := &Registry{}
	run := func(context.Context, *Input) (*Result, error) { return &Result{}, nil }
	r.Register(&Kind{Name: "b", Run: run})
	r.Register(&Kind{Name: "a", Run: run})
	if got := r.Names(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Names = %v", got)
	}
	for _, k := range []*Kind{{Name: "a", Run: run}, {Name: "variable", Run: run}, {Name: "x"}, {Name: "y", Run: run, Outputs: []OutputSpec{{Name: "for_each", Type: cty.String}}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", k.Name)
				}
			}()
			r.Register(k)
		}()
	}
}

func TestSchemaConfig(t *testing.T) {
	s := Schema{
		Attributes: []Attribute{{Name: "n", Type: cty.Number, Default: cty.NumberIntVal(2)}, {Name: "s", Type: cty.String}},
		Blocks:     []BlockSchema{{Name: "m", Schema: Schema{Attributes: []Attribute{{Name: "k", Type: cty.String}}}}, {Name: "p", Labels: []string{"name"}, Multi: true}},
	}
	cfg := s.Config(map[string]cty.Value{"s": cty.StringVal("x")})
	if !cfg.Type().Equals(s.ObjectType()) {
		t.Fatalf("type %s, want %s", cfg.Type().GoString(), s.ObjectType().GoString())
	}
	if cfg.GetAttr("n").AsBigFloat().String() != "2" || !cfg.GetAttr("m").IsNull() || cfg.GetAttr("p").LengthInt() != 0 {
		t.Errorf("Config = %#v", cfg)
	}
}

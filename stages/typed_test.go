package stages

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

var testNet = ArtifactType("typed-test-net", "application/x-typed-test-net")

type typedConfig struct {
	Count int       `cty:"count"`
	Net   *Ref      `cty:"net"`
	Opt   *Ref      `cty:"opt"`
	Nets  []*Ref    `cty:"nets"`
	Any   cty.Value `cty:"any"`
	Inner struct {
		Rate float64 `cty:"rate"`
	} `cty:"inner"`
}

var typedKind = &Kind{
	Name:   "typed",
	Config: typedConfig{},
	Schema: Schema{
		Attributes: []Attribute{
			{Name: "count", Type: cty.Number, Check: Int(1, 10)},
			{Name: "net", Type: testNet},
			{Name: "opt", Type: testNet},
			{Name: "nets", Type: cty.List(testNet)},
			{Name: "any", Type: cty.DynamicPseudoType},
		},
		Blocks: []BlockSchema{{Name: "inner", Schema: Schema{Attributes: []Attribute{{Name: "rate", Type: cty.Number, Check: Positive()}}}}},
	},
}

func TestDecodeAndCanonical(t *testing.T) {
	r := &Ref{Type: "typed-test-net", ID: [32]byte{1}, Meta: "m"}
	cfg := typedKind.Schema.Config(map[string]cty.Value{
		"count": cty.NumberFloatVal(3.0),
		"net":   RefVal(testNet, r),
		"nets":  cty.ListVal([]cty.Value{RefVal(testNet, r), RefVal(testNet, r)}),
		"any":   cty.StringVal("x"),
		"inner": cty.ObjectVal(map[string]cty.Value{"rate": cty.NumberFloatVal(0.5)}),
	})
	var c typedConfig
	if err := (&Input{Config: cfg}).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Count != 3 || c.Net != r || c.Opt != nil || len(c.Nets) != 2 || c.Nets[1] != r || c.Any.AsString() != "x" || c.Inner.Rate != 0.5 {
		t.Errorf("decoded %+v", c)
	}
	canon, err := Canonical(typedKind, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !canon.RawEquals(cfg) {
		t.Errorf("Canonical changed a valid configuration:\n got %#v\nwant %#v", canon, cfg)
	}
	// A whole number too large for the Go field is an error naming the attribute, never a
	// silently different value.
	big := typedKind.Schema.Config(map[string]cty.Value{"count": cty.MustParseNumberVal("1e30"), "inner": cty.ObjectVal(map[string]cty.Value{"rate": cty.NumberIntVal(1)})})
	if _, err := Canonical(typedKind, big); err == nil || !strings.Contains(err.Error(), "count") {
		t.Errorf("Canonical(count = 1e30) = %v, want an error naming count", err)
	}
}

func TestCheck(t *testing.T) {
	cfg := typedKind.Schema.Config(map[string]cty.Value{
		"count": cty.NumberFloatVal(1.5),
		"inner": cty.ObjectVal(map[string]cty.Value{"rate": cty.NumberIntVal(-1)}),
	})
	err := typedKind.Check(cfg)
	if err == nil {
		t.Fatal("Check accepted count = 1.5 and rate = -1")
	}
	for _, want := range []string{"count must be a whole number from 1 to 10, got 1.5", "rate must be a number > 0, got -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check = %v, want %q in it", err, want)
		}
	}
}

func TestRegisterChecksConfigType(t *testing.T) {
	type missing struct {
		Count int `cty:"count"`
	}
	type extra struct {
		Count int `cty:"count"`
		Other int `cty:"other"`
	}
	for name, cfg := range map[string]any{"missing": missing{}, "extra": extra{}, "not a struct": 3} {
		k := &Kind{Name: "bad", Config: cfg, Run: typedKind.Run, Schema: Schema{Attributes: []Attribute{{Name: "count", Type: cty.Number}, {Name: "n", Type: cty.Number}}}}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register accepted a Config that does not match the schema", name)
				}
			}()
			checkConfigType(k)
		}()
	}
}

func TestConstraints(t *testing.T) {
	tests := []struct {
		c    Constraint
		v    cty.Value
		want string // "" for valid
	}{
		{Int(1, 10), cty.NumberIntVal(1), ""},
		{Int(1, 10), cty.NumberIntVal(10), ""},
		{Int(1, 10), cty.NumberFloatVal(0.5), "got 0.5"},
		{Int(1, 10), cty.NumberIntVal(11), "got 11"},
		{Int(1, 10), cty.MustParseNumberVal("1e400"), "got 1e+400"},
		{Int(0, 5), cty.NegativeInfinity, "got -Inf"},
		{Range(0, 1, true, true), cty.NumberFloatVal(0.5), ""},
		{Range(0, 1, true, true), cty.Zero, "> 0 and < 1, got 0"},
		{Range(0, 1, false, true), cty.Zero, ""},
		{Range(0, 1, false, true), cty.NumberIntVal(1), "≥ 0 and < 1, got 1"},
		{Positive(), cty.PositiveInfinity, "got +Inf"},
		{AtLeast(0), cty.MustParseNumberVal("1e400"), "got 1e+400"},
		{OneOf("sgd", "adam"), cty.StringVal("adam"), ""},
		{OneOf("sgd", "adam"), cty.StringVal("adm"), `did you mean "adam"?`},
		{OneOf("sgd", "adam"), cty.StringVal("lbfgs"), `must be one of "sgd" or "adam", got "lbfgs"`},
		{Items(1, 2, Int(1, 3)), cty.ListValEmpty(cty.Number), "got 0"},
		{Items(1, 2, Int(1, 3)), cty.ListVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(4)}), "element 1 must be a whole number from 1 to 3, got 4"},
		{Items(0, 2, nil), cty.ListVal([]cty.Value{cty.True}), ""},
	}
	for _, tt := range tests {
		err := tt.c.Check(tt.v)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Check(%#v) = %v, want nil", tt.c.Doc(), tt.v, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Check(%#v) = %v, want %q", tt.c.Doc(), tt.v, err, tt.want)
		}
	}
}

func TestPlannedExpectations(t *testing.T) {
	e := ExpectedValue(cty.List(testNet), Expected{Meta: "mlp 4-6-2 relu", Len: 3})
	one := ExpectedValue(testNet, Expected{Meta: "mlp 4-8-2 relu", Len: -1})
	cfg := cty.ObjectVal(map[string]cty.Value{"a": e, "b": cty.TupleVal([]cty.Value{one, one})})
	p := NewPlanned(cfg)
	if p.Value.ContainsMarked() {
		t.Error("Planned.Value still holds marks")
	}
	if n, ok := p.Len("a"); !ok || n != 3 {
		t.Errorf("Len(a) = %d, %v; want 3", n, ok)
	}
	if n, ok := p.Len("b"); !ok || n != 2 {
		t.Errorf("Len(b) = %d, %v; want 2", n, ok)
	}
	if m, ok := p.Meta("a"); !ok || m != "mlp 4-6-2 relu" {
		t.Errorf("Meta(a) = %q, %v", m, ok)
	}
	if m := p.Metas("b"); len(m) != 1 || m[0] != "mlp 4-8-2 relu" {
		t.Errorf("Metas(b) = %q", m)
	}
}

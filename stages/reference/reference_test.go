package reference

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/modulo-ml/modulo/stages"
)

// testRegistry holds two kinds that use what the reference renders: every kind of
// attribute status, constraints, nested blocks with labels, an output that stands for its
// block (Self), a log, and declared outputs.
func testRegistry() *stages.Registry {
	run := func(context.Context, *stages.Input) (*stages.Result, error) { return nil, nil }
	reg := &stages.Registry{}
	reg.Register(&stages.Kind{
		Name: "fit", Doc: "Fits a network. It says more in a second sentence.",
		Schema: stages.Schema{
			Attributes: []stages.Attribute{
				{Name: "data", Type: testDataset, Required: true, Doc: "the examples"},
				{Name: "epochs", Type: cty.Number, Default: cty.NumberIntVal(10), Check: stages.Int(1, 100)},
				{Name: "seed", Type: cty.Number, Doc: "the seed; the run's when null"},
				{Name: "threads", Type: cty.Number, Default: cty.Zero, NotInKey: true, Doc: "cores"},
			},
			Blocks: []stages.BlockSchema{
				{Name: "model", Required: true, Schema: stages.Schema{Attributes: []stages.Attribute{
					{Name: "hidden", Type: cty.List(cty.Number), Doc: "widths"},
				}}},
				{Name: "output", Labels: []string{"name"}, Multi: true, Doc: "a file it writes", Schema: stages.Schema{Attributes: []stages.Attribute{
					{Name: "kind", Type: cty.String, Required: true, Check: stages.OneOf("network", "file")},
				}}},
			},
		},
		Outputs:  []stages.OutputSpec{{Name: "log", Type: testNetwork, Doc: "what it printed"}},
		Log:      "log",
		Declares: "output",
		DeclaredOutput: func(name string, _ cty.Value) (stages.OutputSpec, error) {
			return stages.OutputSpec{Name: name, Type: testNetwork}, nil
		},
		Run: run,
	})
	reg.Register(&stages.Kind{
		Name: "data", Doc: "A dataset.", Self: "dataset",
		Outputs: []stages.OutputSpec{{Name: "dataset", Type: testDataset}},
		Run:     run,
	})
	return reg
}

func testLanguage() *Language {
	return &Language{
		Intro: "A pipeline is a file.",
		Blocks: []stages.BlockSchema{{Name: "variable", Labels: []string{"name"}, Multi: true, Doc: "An input. More.", Schema: stages.Schema{
			Attributes: []stages.Attribute{{Name: "default", Type: cty.DynamicPseudoType, Doc: "its value"}},
		}}},
		Meta:        stages.Schema{Attributes: []stages.Attribute{{Name: "for_each", Type: cty.DynamicPseudoType, Doc: "one node per element"}}},
		References:  []Item{{Syntax: "var.NAME", Doc: "a variable"}},
		Functions:   []Function{{Name: "concat", Args: []string{"lists"}, Doc: "The lists joined.", Fn: stdlib.ConcatFunc}, {Name: "upper", Args: []string{"string"}, Doc: "Upper case.", Fn: stdlib.UpperFunc}},
		Unavailable: map[string]string{"file": "Expressions read no files.", "md5": "", "sha1": ""},
	}
}

func render(t *testing.T, f func(*strings.Builder) error) string {
	t.Helper()
	var b strings.Builder
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestKindText(t *testing.T) {
	reg, lang := testRegistry(), testLanguage()
	got := render(t, func(b *strings.Builder) error { return Topic(b, lang, reg, "fit") })
	for _, want := range []string{
		"fit \"NAME\" { … }\n\nFits a network. It says more in a second sentence.\n",
		"  data = dataset (required)\n      the examples\n",
		"  epochs = number (default 10)\n      Allowed: a whole number from 1 to 100.\n",
		"  seed = number (optional)\n",
		"  threads = number (default 0, not in the cache key)\n",
		"  model { … } (required, at most one)\n      hidden = list(number) (optional)\n          widths\n",
		"  output \"NAME\" { … } (any number)\n      a file it writes\n      kind = string (required)\n          Allowed: one of \"network\" or \"file\".\n",
		"  log (network)\n      what it printed; modulo show prints its last lines\n",
		"each output \"NAME\" { … } block of a fit block declares an output of its own",
		"Every stage block also takes for_each: 'modulo doc' describes them.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("modulo doc fit lacks\n%s\nin\n%s", want, got)
		}
	}
	got = render(t, func(b *strings.Builder) error { return Topic(b, lang, reg, "data") })
	if want := "  dataset (dataset)\n      data.NAME itself stands for it, as in data = data.NAME\n"; !strings.Contains(got, want) {
		t.Errorf("modulo doc data lacks\n%s\nin\n%s", want, got)
	}
}

func TestTopics(t *testing.T) {
	reg, lang := testRegistry(), testLanguage()
	got := render(t, func(b *strings.Builder) error { return Topic(b, lang, reg, "variable") })
	if want := "variable \"NAME\" { … } (any number in a pipeline)\n\nAn input. More.\n\nAttributes:\n  default = any (optional)\n      its value\n"; got != want {
		t.Errorf("modulo doc variable:\n%s\nwant\n%s", got, want)
	}
	got = render(t, func(b *strings.Builder) error { return Topic(b, lang, reg, "functions") })
	for _, want := range []string{"  concat(lists...)\n      The lists joined.\n", "  upper(string)\n", "  file\n      Expressions read no files.\n", "  md5, sha1\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("modulo doc functions lacks %q in\n%s", want, got)
		}
	}
	var b strings.Builder
	err := Topic(&b, lang, reg, "fitt")
	if err == nil || !strings.Contains(err.Error(), `(did you mean "fit"?)`) || !strings.Contains(err.Error(), "The stage kinds are data, fit; the language's own blocks are variable") {
		t.Errorf("modulo doc fitt: %v, want a did you mean and the topics", err)
	}
	if b.Len() > 0 {
		t.Errorf("modulo doc fitt wrote %q", b.String())
	}
}

func TestOverview(t *testing.T) {
	got := render(t, func(b *strings.Builder) error { return Overview(b, testLanguage(), testRegistry()) })
	for _, want := range []string{
		"A pipeline is a file.\n",
		"  variable \"NAME\" { … }  An input.\n",
		"  data  A dataset.\n  fit   Fits a network.\n",
		"  for_each = any (optional)\n",
		"  var.NAME  a variable\n",
		"  concat, upper\n",
		"  file, md5, sha1\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("modulo doc lacks\n%s\nin\n%s", want, got)
		}
	}
}

func TestMarkdown(t *testing.T) {
	got := render(t, func(b *strings.Builder) error { return Markdown(b, testLanguage(), testRegistry()) })
	for _, want := range []string{
		"| `epochs` | `number` | `10` | Allowed: a whole number from 1 to 100. |\n",
		"| `threads` | `number` | `0` | cores. Not in the cache key. |\n",
		"### `model { … }` in fit\n\nRequired, at most one.\n",
		"### `output \"NAME\" { … }` in fit\n\nAny number: a file it writes.\n",
		"| `kind` | `string` | required | Allowed: one of \"network\" or \"file\". |\n",
		"| `log` | `network` | what it printed; modulo show prints its last lines |\n",
		"| `concat(lists...)` | The lists joined. |\n",
		"| `md5`, `sha1` | — |\n",
		"[`fit`](#fit)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the Markdown lacks\n%s\nin\n%s", want, got)
		}
	}
}

func TestWrap(t *testing.T) {
	var b strings.Builder
	long := strings.Repeat("word ", 30)
	wrapText(&b, long, "> ", "  ")
	for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if len(line) > width {
			t.Errorf("line %d is %d characters: %q", i, len(line), line)
		}
		if i > 0 && !strings.HasPrefix(line, "  word") {
			t.Errorf("line %d does not hang: %q", i, line)
		}
	}
	if got := firstSentence("Trains, e.g. an MLP. Then more."); got != "Trains, e.g. an MLP." {
		t.Errorf("firstSentence = %q", got)
	}
	if got := mdText("a <b> `<c>` ckpt/*.x < 1"); got != "a &lt;b> `<c>` ckpt/\\*.x < 1" {
		t.Errorf("mdText = %q", got)
	}
}

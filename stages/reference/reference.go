// Package reference renders the language reference of modulo's pipelines: the block types
// of the language, the attributes, nested blocks and outputs of every stage kind, and the
// functions of expressions, as plain text for `modulo doc` and as Markdown for
// docs/LANGUAGE.md.
//
// It renders only what it is given: the stage kinds come from the registry the loader uses
// (stages.Default) and the language's own blocks and functions from the tables the loader
// and the evaluator read (package pipelines provides them), never from text written per
// kind. So the reference cannot describe an attribute the loader does not accept, nor leave
// out one it does; a test compares docs/LANGUAGE.md with a fresh rendering to catch the
// file going stale.
//
// It knows nothing of HCL: types and values are rendered from cty as a user writes them
// (list(number), "mlp", [64, 128]), artifact types by their name (network).
package reference

import (
	"strings"

	"github.com/zclconf/go-cty/cty/function"

	"github.com/modulo-ml/modulo/stages"
)

// Language is what the reference says besides the stage kinds: the language's own blocks,
// what every stage block takes, the names expressions refer to, and the functions.
type Language struct {
	// Intro is the opening paragraph: what a pipeline is.
	Intro string
	// Blocks are the language's own block types (variable, locals, output, cache,
	// executor), in the order they are presented. Their Labels name the block's labels
	// (shown as "NAME"); Multi says whether a pipeline may have several.
	Blocks []stages.BlockSchema
	// Meta is what every stage block takes besides its kind's schema: the meta-arguments
	// for_each and depends_on, and the resources block.
	Meta stages.Schema
	// References are the names an expression may refer to, such as var.NAME.
	References []Item
	// Functions are the functions of expressions, sorted by name.
	Functions []Function
	// Unavailable are functions a Terraform user may expect that pipelines do not have,
	// by name, each with what to do instead ("" when there is nothing to say).
	Unavailable map[string]string
}

// Item is one entry of a list of syntax: how it is written and what it means.
type Item struct {
	Syntax string
	Doc    string
}

// Function is one function of expressions. Args names its parameters as the reference
// shows them, one entry per parameter of Fn and one more for its VarParam, if it has one:
// that last one is shown with "..." unless it spells out its optional forms in brackets
// ("[start,] limit[, step]"). Doc says what the function returns, as a sentence.
type Function struct {
	Name string
	Args []string
	Doc  string
	Fn   function.Function
}

// Signature returns how f is called: "index(list, value)", "concat(lists...)".
func (f Function) Signature() string {
	s := f.Name + "("
	for i, a := range f.Args {
		if i > 0 {
			s += ", "
		}
		s += a
		if i == len(f.Args)-1 && f.Fn.VarParam() != nil && !strings.Contains(a, "[") {
			s += "..."
		}
	}
	return s + ")"
}

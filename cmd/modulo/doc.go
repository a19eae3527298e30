package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/reference"
)

const docHelp = `
Without TOPIC, doc prints the language in brief: its own blocks, a line on each stage kind,
what every stage block takes, what expressions refer to and the functions. TOPIC is a stage
kind (train, match, …: every attribute with its type, default and allowed values, every
nested block and every output), a block of the language (variable, locals, output, cache,
executor), or functions. -markdown writes all of it as one Markdown document, the one in
docs/LANGUAGE.md (make docs regenerates that file).`

// docKinds are the stage kinds modulo doc describes: those modulo runs. The tests, whose
// binary has the engine's test kinds too, set it to the shipped ones.
var docKinds = stages.Default

// cmdDoc prints the language reference, rendered by package reference from the stage
// kinds modulo runs and the language's own tables.
func cmdDoc(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doc", flag.ContinueOnError)
	markdown := fs.Bool("markdown", false, "write the whole reference as Markdown (docs/LANGUAGE.md)")
	pos, ok := parseFlags(fs, args, stderr)
	if !ok || len(pos) > 1 || *markdown && len(pos) > 0 {
		if ok {
			fmt.Fprintln(stderr, "modulo doc: give at most one TOPIC, and none with -markdown")
		}
		return 2
	}
	lang := pipelines.Language()
	var err error
	switch {
	case *markdown:
		err = reference.Markdown(stdout, lang, docKinds)
	case len(pos) == 0:
		err = reference.Overview(stdout, lang, docKinds)
	default:
		err = reference.Topic(stdout, lang, docKinds, pos[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "modulo doc: %v\n", err)
		return 1
	}
	return 0
}

package reference

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// width is where plain text wraps: narrower than most terminals, wide enough for a
// constraint on one line.
const width = 100

// FunctionsTopic is the topic of `modulo doc functions`.
const FunctionsTopic = "functions"

// Overview writes the language in brief, as plain text: the language's own blocks and a
// line on each stage kind of reg, what every stage block takes, what expressions refer to,
// and the names of the functions.
func Overview(w io.Writer, lang *Language, reg *stages.Registry) error {
	var b strings.Builder
	b.WriteString("modulo's pipeline language\n\n")
	wrapText(&b, lang.Intro, "", "")
	b.WriteString("\nBlocks of the language:\n")
	var heads, docs []string
	for _, bs := range lang.Blocks {
		heads = append(heads, blockHead(bs))
		docs = append(docs, firstSentence(bs.Doc))
	}
	columns(&b, heads, docs)

	fmt.Fprintf(&b, "\nStage blocks, KIND \"NAME\" { … }, each a node of the DAG (a node per element with for_each):\n")
	heads, docs = nil, nil
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		heads = append(heads, name)
		docs = append(docs, firstSentence(k.Doc))
	}
	columns(&b, heads, docs)

	b.WriteString("\nEvery stage block also takes:\n")
	writeSchema(&b, lang.Meta, "  ")

	b.WriteString("\nExpressions refer to:\n")
	heads, docs = nil, nil
	for _, r := range lang.References {
		heads = append(heads, r.Syntax)
		docs = append(docs, r.Doc)
	}
	columns(&b, heads, docs)

	b.WriteString("\nFunctions ('modulo doc functions' says what each does):\n")
	names := make([]string, len(lang.Functions))
	for i, f := range lang.Functions {
		names[i] = f.Name
	}
	wrapText(&b, strings.Join(names, ", "), "  ", "  ")
	if len(lang.Unavailable) > 0 {
		b.WriteString("\nTerraform's functions that pipelines do not have:\n")
		wrapText(&b, strings.Join(sortedKeys(lang.Unavailable), ", "), "  ", "  ")
	}

	blocks := make([]string, len(lang.Blocks))
	for i, bs := range lang.Blocks {
		blocks[i] = bs.Name
	}
	b.WriteString("\n")
	wrapText(&b, fmt.Sprintf("Run 'modulo doc KIND' for the attributes, blocks and outputs of a stage kind, 'modulo doc BLOCK' for those of %s, and 'modulo doc -markdown' for all of it as Markdown (docs/LANGUAGE.md).",
		orList(blocks)), "", "")
	_, err := io.WriteString(w, b.String())
	return err
}

// Topic writes the reference of one topic, as plain text: a stage kind of reg, one of the
// language's blocks, or "functions". An unknown topic is an error that lists the topics
// and suggests the one most likely meant.
func Topic(w io.Writer, lang *Language, reg *stages.Registry, topic string) error {
	var b strings.Builder
	if k, ok := reg.Lookup(topic); ok {
		kindText(&b, k, lang)
	} else if bs, ok := lang.block(topic); ok {
		blockText(&b, bs)
	} else if topic == FunctionsTopic {
		functionsText(&b, lang)
	} else {
		topics := append(reg.Names(), lang.blockNames()...)
		topics = append(topics, FunctionsTopic)
		msg := fmt.Sprintf("there is no stage kind or block %q", topic)
		if near := stages.Suggest(topic, topics); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		return fmt.Errorf("%s. The stage kinds are %s; the language's own blocks are %s; %q lists the functions",
			msg, strings.Join(reg.Names(), ", "), strings.Join(lang.blockNames(), ", "), FunctionsTopic)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (l *Language) block(name string) (stages.BlockSchema, bool) {
	for _, b := range l.Blocks {
		if b.Name == name {
			return b, true
		}
	}
	return stages.BlockSchema{}, false
}

func (l *Language) blockNames() []string {
	names := make([]string, len(l.Blocks))
	for i, b := range l.Blocks {
		names[i] = b.Name
	}
	return names
}

// kindText writes every attribute, nested block and output of k.
func kindText(b *strings.Builder, k *stages.Kind, lang *Language) {
	fmt.Fprintf(b, "%s \"NAME\" { … }\n\n", k.Name)
	wrapText(b, k.Doc, "", "")
	writeSchema(b, k.Schema, "")
	if len(k.Outputs) > 0 || k.Declares != "" {
		fmt.Fprintf(b, "\nOutputs, referred to as %s.NAME.OUTPUT (%s.NAME[KEY].OUTPUT with for_each):\n", k.Name, k.Name)
		for _, o := range k.Outputs {
			// One line however long, as an attribute's: grep finds the whole type.
			fmt.Fprintf(b, "  %s (%s)\n", o.Name, Type(o.Type))
			if doc := outputDoc(k, o); doc != "" {
				wrapText(b, doc, "      ", "      ")
			}
		}
		if k.Declares != "" {
			wrapText(b, declaresNote(k), "  ", "  ")
		}
	}
	if names := metaNames(lang.Meta); len(names) > 0 {
		b.WriteString("\n")
		wrapText(b, fmt.Sprintf("Every stage block also takes %s: 'modulo doc' describes them.", andList(names)), "", "")
	}
}

// blockText writes one of the language's own blocks.
func blockText(b *strings.Builder, bs stages.BlockSchema) {
	fmt.Fprintf(b, "%s (%s)\n\n", blockHead(bs), topMultiplicity(bs))
	wrapText(b, bs.Doc, "", "")
	writeSchema(b, bs.Schema, "")
}

// functionsText writes every function with its signature and what it does, then what to
// use instead of Terraform's functions pipelines lack.
func functionsText(b *strings.Builder, lang *Language) {
	b.WriteString("Functions of expressions, called as in Terraform:\n")
	for _, f := range lang.Functions {
		fmt.Fprintf(b, "  %s\n", f.Signature())
		wrapText(b, f.Doc, "      ", "      ")
	}
	if len(lang.Unavailable) > 0 {
		b.WriteString("\nTerraform's functions that pipelines do not have:\n")
		for _, g := range lang.unavailableGroups() {
			wrapText(b, strings.Join(g.names, ", "), "  ", "  ")
			if g.hint != "" {
				wrapText(b, g.hint, "      ", "      ")
			}
		}
	}
}

// writeSchema writes the attributes and nested blocks of s, each indented by indent.
func writeSchema(b *strings.Builder, s stages.Schema, indent string) {
	if len(s.Attributes) > 0 && indent == "" {
		b.WriteString("\nAttributes:\n")
	}
	inner := indent
	if indent == "" {
		inner = "  "
	}
	for _, a := range s.Attributes {
		fmt.Fprintf(b, "%s%s = %s (%s)\n", inner, a.Name, Type(a.Type), attrStatus(a))
		if a.Doc != "" {
			wrapText(b, a.Doc, inner+"    ", inner+"    ")
		}
		if a.Check != nil {
			wrapText(b, "Allowed: "+a.Check.Doc()+".", inner+"    ", inner+"      ")
		}
	}
	if len(s.Blocks) > 0 && indent == "" {
		b.WriteString("\nBlocks:\n")
	}
	for _, nb := range s.Blocks {
		fmt.Fprintf(b, "%s%s (%s)\n", inner, blockHead(nb), multiplicity(nb))
		if nb.Doc != "" {
			wrapText(b, nb.Doc, inner+"    ", inner+"    ")
		}
		writeSchema(b, nb.Schema, inner+"    ")
	}
}

// attrStatus says whether a is required, its default, and whether it is in the key.
func attrStatus(a stages.Attribute) string {
	var s string
	switch {
	case a.Required:
		s = "required"
	case a.Default != cty.NilVal:
		s = "default " + Value(a.Default)
	default:
		s = "optional"
	}
	if a.NotInKey {
		s += ", not in the cache key"
	}
	return s
}

// blockHead is how a block is written: model { … }, plot "NAME" { … }.
func blockHead(bs stages.BlockSchema) string {
	h := bs.Name
	for _, l := range bs.Labels {
		h += fmt.Sprintf(" %q", strings.ToUpper(l))
	}
	return h + " { … }"
}

// multiplicity says how many times a nested block may appear.
func multiplicity(bs stages.BlockSchema) string {
	switch {
	case bs.Multi && bs.Required:
		return "at least one"
	case bs.Multi:
		return "any number"
	case bs.Required:
		return "required, at most one"
	}
	return "optional, at most one"
}

// topMultiplicity says how many blocks of a language block type a pipeline may have.
func topMultiplicity(bs stages.BlockSchema) string {
	if bs.Multi {
		return "any number in a pipeline"
	}
	return "at most one in a pipeline"
}

// outputDoc is what the reference says of output o of k.
func outputDoc(k *stages.Kind, o stages.OutputSpec) string {
	doc := o.Doc
	add := func(s string) {
		if doc != "" {
			doc += "; "
		}
		doc += s
	}
	if o.Name == k.Self {
		add(fmt.Sprintf("%s.NAME itself stands for it, as in data = %s.NAME", k.Name, k.Name))
	}
	if o.Name == k.Log {
		add("modulo show prints its last lines")
	}
	return doc
}

// declaresNote says that a block of k declares outputs of its own.
func declaresNote(k *stages.Kind) string {
	var decl stages.BlockSchema
	for _, bs := range k.Schema.Blocks {
		if bs.Name == k.Declares {
			decl = bs
		}
	}
	return fmt.Sprintf("Besides these, each %s block of a %s block declares an output of its own, named by its label (%s.NAME.LABEL, where LABEL is that label), whose type the %s block's attributes give.",
		blockHead(decl), k.Name, k.Name, k.Declares)
}

// metaNames names what every stage block takes besides its schema.
func metaNames(s stages.Schema) []string {
	var names []string
	for _, a := range s.Attributes {
		names = append(names, a.Name)
	}
	for _, bs := range s.Blocks {
		names = append(names, "a "+bs.Name+" block")
	}
	return names
}

// columns writes heads and docs in two columns, the docs wrapped beside the heads. A head
// too wide for the column stands on a line of its own.
func columns(b *strings.Builder, heads, docs []string) {
	col := 0
	for _, h := range heads {
		if len(h) <= 24 {
			col = max(col, len([]rune(h)))
		}
	}
	pad := strings.Repeat(" ", 2+col+2)
	for i, h := range heads {
		n := len([]rune(h))
		if n > col {
			fmt.Fprintf(b, "  %s\n", h)
			wrapText(b, docs[i], pad, pad)
			continue
		}
		first := "  " + h + strings.Repeat(" ", col-n+2)
		wrapText(b, docs[i], first, pad)
	}
}

// wrapText writes text wrapped at width, the first line prefixed with first and the others
// with rest; paragraphs (separated by blank lines) are wrapped separately.
func wrapText(b *strings.Builder, text, first, rest string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString("\n")
			first = rest
		}
		line, n := first, len([]rune(first))
		empty := true
		for _, word := range strings.Fields(para) {
			wn := len([]rune(word))
			if !empty && n+1+wn > width {
				b.WriteString(line + "\n")
				line, n, empty = rest, len([]rune(rest)), true
			}
			if !empty {
				line += " "
				n++
			}
			line += word
			n += wn
			empty = false
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}

// firstSentence returns the first sentence of doc, for one-line summaries.
func firstSentence(doc string) string {
	for i := 0; i+1 < len(doc); i++ {
		if doc[i] == '.' && doc[i+1] == ' ' && !strings.HasSuffix(doc[:i], "e.g") && !strings.HasSuffix(doc[:i], "i.e") {
			return doc[:i+1]
		}
	}
	return doc
}

// unavailableGroup is the functions of Unavailable that share one hint.
type unavailableGroup struct {
	names []string
	hint  string
}

// unavailableGroups groups the unavailable functions by hint, in the order of their first
// names, those without a hint last.
func (l *Language) unavailableGroups() []unavailableGroup {
	var groups []unavailableGroup
	index := map[string]int{}
	for _, name := range sortedKeys(l.Unavailable) {
		hint := l.Unavailable[name]
		i, ok := index[hint]
		if !ok {
			i = len(groups)
			index[hint] = i
			groups = append(groups, unavailableGroup{hint: hint})
		}
		groups[i].names = append(groups[i].names, name)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].hint != "" && groups[j].hint == "" })
	return groups
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// andList joins words as "a, b and c"; orList as "a, b or c".
func andList(words []string) string { return joinLast(words, " and ") }
func orList(words []string) string  { return joinLast(words, " or ") }

func joinLast(words []string, last string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + last + words[len(words)-1]
}

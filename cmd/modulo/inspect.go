package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/atomicfile"
	"github.com/modulo-ml/modulo/internal/bytesize"
	"github.com/modulo-ml/modulo/internal/lastlines"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/pipelines/jsondoc"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/kinds"
)

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	var pf pipelineFlags
	pf.register(fs)
	asJSON := fs.Bool("json", false, "print the result as a JSON document on stdout, as terraform validate -json does (docs/JSON.md)")
	path, ok := parsePipelineArgs(fs, args, stderr)
	if !ok {
		return 1
	}
	if *asJSON {
		return validateJSON(&pf, path, stdout, stderr)
	}
	g, ok := pf.open(path, stderr)
	if !ok {
		return 1
	}
	// Plan without a cache: every node is evaluated with unknown upstream results, which
	// checks types, references and outputs without reading or writing anything.
	_, diags := (&pipelines.Planner{Graph: g}).Plan(nil)
	printDiags(stderr, g.Config, diags)
	if diags.HasErrors() {
		return 1
	}
	fmt.Fprintf(stdout, "The pipeline is valid: %d nodes.\n", len(g.Order))
	return 0
}

func cmdGraph(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	var pf pipelineFlags
	pf.register(fs)
	format := fs.String("format", "dot", "dot, mermaid or json (as -json)")
	withPlan := fs.Bool("plan", false, "colour nodes by their plan status (reads the cache)")
	asJSON := fs.Bool("json", false, "print the nodes and edges as a JSON document on stdout (docs/JSON.md)")
	path, ok := parsePipelineArgs(fs, args, stderr)
	if !ok {
		return 1
	}
	if *asJSON || *format == "json" {
		return graphJSON(&pf, path, *withPlan, stdout, stderr)
	}
	g, ok := pf.open(path, stderr)
	if !ok {
		return 1
	}
	var plan *pipelines.Plan
	if *withPlan {
		c, ok := pf.cache(stderr)
		if !ok {
			return 1
		}
		plan, _ = (&pipelines.Planner{Graph: g, Cache: c}).Plan(nil)
	}
	var err error
	switch *format {
	case "dot":
		err = pipelines.WriteDOT(stdout, g, plan)
	case "mermaid":
		err = pipelines.WriteMermaid(stdout, g, plan)
	default:
		fmt.Fprintf(stderr, "modulo graph: unknown format %q; use dot, mermaid or json\n", *format)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "modulo graph: %v\n", err)
		return 1
	}
	return 0
}

const fmtHelp = `
Each PATH is a .hcl file, or a directory searched recursively for *.hcl files (default: the
current directory), as gofmt -l and terraform fmt -recursive do. The search skips directories
named testdata or whose name starts with . or _ (test fixtures, often invalid on purpose, and
other tools' state, as the go command skips them); name such a directory to format it.

fmt prints the name of each file whose layout it changes (with -check: would change). A file
that is not UTF-8 text or does not parse is reported and left alone, and the others are still
formatted. Exit status: 0 when every file is formatted, 3 with -check when some would change,
1 when a file could not be read or parsed.`

func cmdFmt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fmt", flag.ContinueOnError)
	check := fs.Bool("check", false, "only list the files whose layout differs, changing nothing; exit 3 if any")
	pos, ok := parseFlags(fs, args, stderr)
	if !ok {
		return 1
	}
	if len(pos) == 0 {
		pos = []string{"."}
	}
	files, errs := pipelines.FormatFiles(pos)
	status := 0
	for _, err := range errs {
		fmt.Fprintf(stderr, "modulo fmt: %s\n", pipelines.Printable(err.Error()))
		status = 1
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "modulo fmt: %s\n", pipelines.Printable(err.Error()))
			status = 1
			continue
		}
		if diags := pipelines.CheckText(f, src); diags != nil {
			printDiags(stderr, nil, diags) // its bytes are what cannot be shown
			status = 1
			continue
		}
		changed, out, diags := pipelines.NeedsFormat(f, src)
		if diags.HasErrors() {
			printDiags(stderr, &pipelines.Config{Files: map[string]*hcl.File{f: {Bytes: src}}}, diags)
			status = 1
			continue
		}
		if !changed {
			continue
		}
		fmt.Fprintln(stdout, pipelines.Printable(f))
		if *check {
			if status == 0 {
				status = 3
			}
			continue
		}
		if err := writeFileAtomic(f, out); err != nil {
			fmt.Fprintf(stderr, "modulo fmt: %s\n", pipelines.Printable(err.Error()))
			status = 1
		}
	}
	return status
}

// lookupNode plans the pipeline and returns the node at addr, printing what is wrong.
func lookupNode(pf *planFlags, path, addr string, stderr io.Writer) (*pipelines.PlanNode, *artifacts.Cache, bool) {
	n, pl := findNode(pf, path, addr, stderr)
	printDiags(stderr, pl.cfg, pl.diags)
	if pl.err != nil {
		fmt.Fprintf(stderr, "modulo: %v\n", pl.err)
	}
	return n, pl.cache, n != nil
}

// findNode plans the pipeline and returns the node at addr, fetched from the remote cache
// if that is where its result is, or nil and what is wrong.
func findNode(pf *planFlags, path, addr string, stderr io.Writer) (*pipelines.PlanNode, *planned) {
	pf.targets = listFlag{addr}
	pl := pf.load(path, stderr)
	if !pl.ok() {
		return nil, pl
	}
	n := pl.plan.Nodes[addr]
	if n == nil {
		pl.err, pl.errSummary = fmt.Errorf("%s is a block with several instances; name one, as in %s[\"KEY\"]", addr, addr), "Not a single node"
		return nil, pl
	}
	if n.Status == pipelines.Cached && n.Entry.FromRemote() {
		// show and export read the blobs: a teammate's result is fetched first.
		if err := pl.cache.Pull(context.Background(), n.Action, n.Entry); err != nil {
			pl.err, pl.errSummary = fmt.Errorf("%s is in the remote cache but could not be fetched: %v", addr, err), "Cannot fetch the result"
			return nil, pl
		}
	}
	return n, pl
}

func cmdShow(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	var pf planFlags
	pf.register(fs)
	path := fs.String("p", ".", "the pipeline")
	asJSON := fs.Bool("json", false, "print the node's outputs, files and provenance as a JSON document on stdout (docs/JSON.md)")
	pos, ok := parseFlags(fs, args, stderr)
	if !ok {
		return 1
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: modulo show [-p PIPELINE] [-json] ADDR")
		return 1
	}
	if *asJSON {
		return showJSON(&pf, *path, pos[0], stdout, stderr)
	}
	n, c, ok := lookupNode(&pf, *path, pos[0], stderr)
	if !ok {
		return 1
	}
	fmt.Fprintf(stdout, "%s (%s, version %d)\n", n.Inst.Addr, n.Inst.Block.Kind.Name, n.Inst.Block.Kind.Version)
	if n.Status != pipelines.Cached {
		fmt.Fprintf(stdout, "  not in the cache: %s\n", n.Status)
		for _, r := range n.Reasons {
			fmt.Fprintf(stdout, "    %s\n", pipelines.Printable(r))
		}
		return 1
	}
	e := n.Entry
	fmt.Fprintf(stdout, "  action   %s\n  created  %s (ran for %s)\n", n.Action, e.Created.Format("2006-01-02 15:04:05"), e.Duration.Round(1e6))
	fmt.Fprintln(stdout, "outputs:")
	for _, spec := range n.Inst.Block.Kind.Outputs {
		name := spec.Name
		out := e.Outputs[name]
		if out.Value != nil {
			fmt.Fprintf(stdout, "  %-14s %s\n", name, pipelines.Printable(string(jsondoc.StoredValue(spec, out.Value))))
			continue
		}
		for i, it := range out.Items {
			label := name
			if spec.Type.IsListType() {
				label = fmt.Sprintf("%s[%d]", name, i)
			}
			fmt.Fprintf(stdout, "  %-14s sha256:%s  %s, %s stored  %s\n", label, it.ID, bytesize.Format(it.Size), bytesize.Format(it.Stored), out.Media)
		}
		if len(out.Items) == 0 {
			fmt.Fprintf(stdout, "  %-14s (empty sequence)\n", name)
		}
	}
	if len(e.Files) > 0 {
		fmt.Fprintln(stdout, "files it read, kept with the result:")
		for _, name := range slices.Sorted(maps.Keys(e.Files)) {
			it := e.Files[name]
			fmt.Fprintf(stdout, "  %-14s sha256:%s  %s, %s stored\n", pipelines.Printable(name), it.ID, bytesize.Format(it.Size), bytesize.Format(it.Stored))
		}
	}
	if name := n.Inst.Block.Kind.Summary; name != "" {
		if out := e.Outputs[name]; len(out.Items) == 1 {
			if b, err := c.Get(out.Items[0].ID); err == nil {
				fmt.Fprintf(stdout, "%s:\n%s", name, pipelines.Printable(string(b)))
				if len(b) > 0 && b[len(b)-1] != '\n' {
					fmt.Fprintln(stdout)
				}
			}
		}
	}
	if name := n.Inst.Block.Kind.Log; name != "" {
		if out := e.Outputs[name]; len(out.Items) == 1 {
			if b, err := c.Get(out.Items[0].ID); err == nil {
				lines, total := lastlines.Of(string(b), logLines)
				if total > logLines {
					fmt.Fprintf(stdout, "%s (the last %d of %d lines; modulo export %s %s -o FILE writes it all):\n", name, logLines, total, n.Inst.Addr, name)
				} else {
					fmt.Fprintf(stdout, "%s:\n", name)
				}
				for _, l := range lines {
					fmt.Fprintf(stdout, "  %s\n", pipelines.Printable(l))
				}
			}
		}
	}
	fmt.Fprintln(stdout, "provenance (the key description):")
	desc, err := c.Get(e.Key)
	if err != nil {
		fmt.Fprintf(stdout, "  unavailable: %v\n", err)
		return 0
	}
	lines, _ := artifacts.ParseDescription(desc)
	for _, l := range lines {
		fmt.Fprintf(stdout, "  %-16s %s\n", l.Label, pipelines.Printable(l.Value))
	}
	return 0
}

const exportHelp = `
OUTPUT is one of the node's outputs, named as show lists them. A single artifact is written to
the file PATH, a value as JSON, a sequence (checkpoints, levels) as the directory PATH holding
one file per element (0000, 0001, …), and one element of a sequence, named as show names it
(checkpoints[2], from 0), to the file PATH. Without OUTPUT, every output is written into the
directory PATH, each file named after its output, or as its stage named it (a report's
index.html).

A table, a value that is a list of objects one per row (train's metrics, interpolate's
curve, a command's table), is written as CSV with -format csv, or when PATH ends in .csv: a
header row naming the columns, then one line per row, numbers exact and nulls empty, as a
report writes its table.csv. Without OUTPUT, -format csv writes every table as OUTPUT.csv.
Artifacts are written as they are stored: -format only checks that they are CSV or JSON.`

// exportFormat is how export writes a value output: -format if given, else by the
// extension of the destination (.csv: CSV), else JSON.
func exportFormat(format, dst string) string {
	if format != "" {
		return format
	}
	if strings.EqualFold(filepath.Ext(dst), ".csv") {
		return "csv"
	}
	return "json"
}

// exportValue is a value output as export writes it: JSON, or with format csv a table as
// CSV (kinds.TableCSV) and anything else an error that says what to do instead.
func exportValue(addr string, spec stages.OutputSpec, raw []byte, format string) ([]byte, error) {
	if format != "csv" {
		return append(jsondoc.StoredValue(spec, raw), '\n'), nil
	}
	v, err := ctyjson.Unmarshal(raw, spec.Type)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: reading the stored value: %v", addr, spec.Name, err)
	}
	b, err := kinds.TableCSV(v)
	if err != nil {
		return nil, fmt.Errorf("%s.%s cannot be written as CSV: %v; export it as JSON (-format json, or a PATH that does not end in .csv)", addr, spec.Name, err)
	}
	return b, nil
}

// checkArtifactFormat checks an explicit -format against an artifact's media type: export
// writes artifacts as they are stored, converting nothing.
func checkArtifactFormat(addr, name, format, media string) error {
	m, _, _ := strings.Cut(media, ";")
	m = strings.TrimSpace(m)
	switch {
	case format == "":
	case format == "csv" && m == "text/csv":
	case format == "json" && (m == "application/json" || strings.HasSuffix(m, "+json")):
	default:
		return fmt.Errorf("%s.%s is an artifact (%s), written as it is stored: -format %s converts value outputs only; leave it out", addr, name, media, format)
	}
	return nil
}

func cmdExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var pf planFlags
	pf.register(fs)
	path := fs.String("p", ".", "the pipeline")
	dst := fs.String("o", "", "destination file (a directory for a sequence)")
	format := fs.String("format", "", "how a value output is written: json, or csv for a table (a list of objects); default: csv when PATH ends in .csv, else json")
	pos, ok := parseFlags(fs, args, stderr)
	if !ok {
		return 1
	}
	if *format != "" && *format != "csv" && *format != "json" {
		fmt.Fprintf(stderr, "modulo export: unknown format %q; use csv (a table) or json\n", *format)
		return 1
	}
	if len(pos) < 1 || len(pos) > 2 || *dst == "" {
		fmt.Fprintln(stderr, "usage: modulo export [-p PIPELINE] ADDR [OUTPUT] -o PATH\n(OUTPUT is an output name, or one element of a sequence as show names it: checkpoints[0];\nwithout OUTPUT, every output is written into the directory PATH)")
		return 1
	}
	n, c, ok := lookupNode(&pf, *path, pos[0], stderr)
	if !ok {
		return 1
	}
	if n.Status != pipelines.Cached {
		fmt.Fprintf(stderr, "modulo export: %s is not in the cache (%s); run the pipeline first\n", pos[0], n.Status)
		return 1
	}
	if len(pos) == 1 {
		return exportAll(n, c, *dst, *format, stdout, stderr)
	}
	name, index, indexed, err := parseOutputRef(pos[1])
	if err != nil {
		fmt.Fprintf(stderr, "modulo export: %v\n", err)
		return 1
	}
	out, ok := n.Entry.Outputs[name]
	if !ok {
		fmt.Fprintf(stderr, "modulo export: %s has no output %q; its outputs are %s\n", pos[0], name, strings.Join(n.Inst.Block.Kind.OutputNames(), ", "))
		return 1
	}
	spec, _ := n.Inst.Block.Kind.Output(name)
	if out.Value == nil {
		if err := checkArtifactFormat(pos[0], name, *format, out.Media); err != nil {
			fmt.Fprintf(stderr, "modulo export: %v\n", err)
			return 1
		}
	}
	if indexed {
		it, err := outputItem(pos[0], name, index, out, spec.Type.IsListType())
		if err != nil {
			fmt.Fprintf(stderr, "modulo export: %v\n", err)
			return 1
		}
		b, err := c.Get(it.ID)
		if err != nil {
			return exitOn(stderr, err)
		}
		return exitOn(stderr, writeFileAtomic(*dst, b))
	}
	if out.Value != nil {
		b, err := exportValue(pos[0], spec, out.Value, exportFormat(*format, *dst))
		if err != nil {
			fmt.Fprintf(stderr, "modulo export: %v\n", err)
			return 1
		}
		return exitOn(stderr, writeFileAtomic(*dst, b))
	}
	if !spec.Type.IsListType() {
		b, err := c.Get(out.Items[0].ID)
		if err != nil {
			return exitOn(stderr, err)
		}
		return exitOn(stderr, writeFileAtomic(*dst, b))
	}
	if err := os.MkdirAll(*dst, 0o777); err != nil {
		return exitOn(stderr, err)
	}
	for i, it := range out.Items {
		b, err := c.Get(it.ID)
		if err != nil {
			return exitOn(stderr, err)
		}
		if err := writeFileAtomic(filepath.Join(*dst, fmt.Sprintf("%04d", i)), b); err != nil {
			return exitOn(stderr, err)
		}
	}
	fmt.Fprintf(stdout, "wrote %d files to %s\n", len(out.Items), *dst)
	return 0
}

// exportAll writes every output of n into the directory dst: artifacts under the file name
// their producer gave them (a report's table.csv, index.html) or else after the output
// (final.safetensors, checkpoints-0001.safetensors), values as OUTPUT.json, or with format
// csv tables as OUTPUT.csv.
func exportAll(n *pipelines.PlanNode, c *artifacts.Cache, dst, format string, stdout, stderr io.Writer) int {
	if err := os.MkdirAll(dst, 0o777); err != nil {
		return exitOn(stderr, err)
	}
	var written []string
	used := map[string]bool{}
	for _, spec := range n.Inst.Block.Kind.Outputs {
		out := n.Entry.Outputs[spec.Name]
		if out.Value != nil {
			name, b := spec.Name+".json", append(jsondoc.StoredValue(spec, out.Value), '\n')
			if format == "csv" {
				if t, err := exportValue(n.Inst.Addr, spec, out.Value, "csv"); err == nil {
					name, b = spec.Name+".csv", t
				}
			}
			if err := writeFileAtomic(filepath.Join(dst, name), b); err != nil {
				return exitOn(stderr, err)
			}
			written = append(written, name)
			continue
		}
		for i, it := range out.Items {
			name := it.Meta
			if !plainFileName(name) || used[name] {
				name = spec.Name
				if spec.Type.IsListType() {
					name = fmt.Sprintf("%s-%04d", spec.Name, i)
				}
				name += extension(out.Media)
			}
			used[name] = true
			b, err := c.Get(it.ID)
			if err != nil {
				return exitOn(stderr, err)
			}
			if err := writeFileAtomic(filepath.Join(dst, name), b); err != nil {
				return exitOn(stderr, err)
			}
			written = append(written, name)
		}
	}
	fmt.Fprintf(stdout, "wrote %d files to %s\n", len(written), dst)
	if slices.Contains(written, "index.html") {
		fmt.Fprintf(stdout, "open %s\n", filepath.Join(dst, "index.html"))
	}
	return 0
}

// plainFileName reports whether a producer's description of an artifact is a file name
// (report.csv) rather than a description (mlp 784-128-10 relu).
func plainFileName(s string) bool {
	if s == "" || s == "." || s == ".." || !strings.Contains(s, ".") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// extension guesses a file extension from a media type: the structured-syntax suffix
// (+safetensors, +json) or the subtype.
func extension(media string) string {
	m, _, _ := strings.Cut(media, ";")
	m = strings.TrimSpace(m)
	if _, suffix, ok := strings.Cut(m, "+"); ok {
		return "." + suffix
	}
	switch m {
	case "text/plain":
		return ".txt"
	case "text/markdown":
		return ".md"
	}
	if _, sub, ok := strings.Cut(m, "/"); ok && plainFileName("x."+sub) {
		return "." + sub
	}
	return ""
}

func exitOn(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "modulo: %v\n", err)
		return 1
	}
	return 0
}

// writeFileAtomic writes via a temporary file and a rename, so an interrupted write never
// leaves a truncated file where a good one was; a file replaced keeps its permissions.
func writeFileAtomic(path string, data []byte) error {
	perm := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	return atomicfile.WriteFile(path, data, perm)
}

// logLines is how much of a run's log show prints.
const logLines = 20

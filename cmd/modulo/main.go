// Command modulo runs HCL pipelines of neural-network experiments (train, prune, match,
// interpolate, merge_three, report, and command for any other program) as a DAG whose every result is a content-addressed,
// compressed artifact: it reruns only what changed and shares results through the cache.
//
// This package is the command line only: flags, output and the progress display. The work is
// done by package pipelines and the packages below it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/modulo-ml/modulo/internal/prefault"
)

// version is set by the build (-ldflags "-X main.version=…"); it is shown, not hashed.
var version = "dev"

func main() {
	// The package's import maps the binary's pages and the heap's first MiBs before the
	// other packages' initialisers fault them in one at a time; this maps the heap the
	// command grows into after them.
	prefault.Heap()
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand, or a group of them (cache). The help and the dispatch both read
// the table commands returns, so a command cannot run without being listed, nor be listed
// without running.
type command struct {
	name, args, summary string
	// help says more, after the summary, in `modulo NAME -h` and `modulo help NAME`.
	help string
	run  func(args []string, stdout, stderr io.Writer) int
	// subs are the subcommands of a group; run dispatches to them with runSub.
	subs []command
	// hidden leaves a plumbing command out of the list of commands (it has its -h).
	hidden bool
}

func commands() []command {
	return []command{
		{name: "run", args: "[flags] [PIPELINE]", summary: "run the pipeline, reusing cached results", help: runHelp, run: cmdRun},
		{name: "plan", args: "[flags] [PIPELINE]", summary: "show what a run would do; exit 0 nothing to do, 2 work to do", help: planHelp, run: cmdPlan},
		{name: "validate", args: "[flags] [PIPELINE]", summary: "check the pipeline without running or reading the cache", run: cmdValidate},
		{name: "graph", args: "[-format dot|mermaid] [PIPELINE]", summary: "print the DAG of the pipeline", run: cmdGraph},
		{name: "fmt", args: "[-check] [PATH ...]", summary: "rewrite .hcl files in canonical layout (-check: list them)", help: fmtHelp, run: cmdFmt},
		{name: "show", args: "[-p PIPELINE] ADDR", summary: "print a node's outputs and provenance", run: cmdShow},
		{name: "export", args: "[-p PIPELINE] ADDR [OUTPUT] -o PATH", summary: "write a node's output, or all of them, to files", help: exportHelp, run: cmdExport},
		{name: "cache", args: "SUBCOMMAND [flags]", summary: "inspect, trim, check or share the cache", run: cmdCache, subs: cacheCommands()},
		{name: "doc", args: "[-markdown] [TOPIC]", summary: "print the language reference: its blocks, a stage kind's attributes and outputs, functions", help: docHelp, run: cmdDoc},
		{name: "doctor", args: "[-quick]", summary: "show the BLAS, its kernel and speed, where data and cache are", run: cmdDoctor},
		{name: "version", summary: "print the version", run: cmdVersion},
		{name: "help", args: "[COMMAND]", summary: "print this list, or a command's help", run: cmdHelp},
		{name: "worker", args: "[flags] ACTION", summary: "run one action of a cluster job (plumbing)", help: workerHelp, run: cmdWorker, hidden: true},
	}
}

// cacheCommands are the subcommands of `modulo cache`.
func cacheCommands() []command {
	return []command{
		{name: "info", args: "[-cache DIR]", summary: "where the cache is, its entries, blobs and sizes", run: cacheInfo},
		{name: "gc", args: "[-max-age AGE] [-max-size SIZE] [flags]", summary: "remove old results, keeping what named pipelines need", run: cacheGC},
		{name: "verify", args: "[-repair]", summary: "check every blob and entry against its digest", run: cacheVerify},
		{name: "push", args: "[-p PIPELINE] [ADDR ...]", summary: "upload a pipeline's results (or named nodes') to the remote",
			run: func(args []string, stdout, stderr io.Writer) int { return cachePushPull(true, args, stdout, stderr) }},
		{name: "pull", args: "[-p PIPELINE] [ADDR ...]", summary: "download them from the remote cache",
			run: func(args []string, stdout, stderr io.Writer) int { return cachePushPull(false, args, stdout, stderr) }},
		{name: "keygen", args: "-o KEYFILE", summary: "make a key to sign uploads; print its public half", run: cacheKeygen},
	}
}

// Main runs the command line args and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := lookupCommand(commands(), args[0])
	if !ok {
		fmt.Fprintf(stderr, "modulo: unknown command %q\nRun 'modulo help' for the list of commands.\n", args[0])
		return 2
	}
	if path := os.Getenv("MODULO_CPUPROFILE"); path != "" {
		stopProfile := startCPUProfile(path, stderr)
		defer stopProfile()
	}
	if path := os.Getenv("MODULO_MEMPROFILE"); path != "" {
		defer writeHeapProfile(path, stderr)
	}
	return c.run(args[1:], stdout, stderr)
}

func lookupCommand(cmds []command, name string) (command, bool) {
	for _, c := range cmds {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// runSub runs the subcommand args[0] of the group named group: with no subcommand it prints
// the group's list and exits 2, as modulo alone does; with -h or help, the list and 0; with
// an unknown one, an error and 1, as for a bad flag.
func runSub(group string, args []string, stdout, stderr io.Writer) int {
	g, _ := lookupCommand(commands(), group)
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			if c, ok := lookupCommand(g.subs, args[1]); ok {
				return c.run([]string{"-h"}, stdout, stdout)
			}
		}
		fmt.Fprintf(stdout, "Usage: modulo %s %s\n\n%s.\n\nSubcommands:\n", g.name, g.args, capitalize(g.summary))
		writeTable(stdout, "  ", g.subs)
		fmt.Fprintf(stdout, "\nRun 'modulo %s SUBCOMMAND -h' for its flags.\n", g.name)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := lookupCommand(g.subs, args[0])
	if !ok {
		names := make([]string, len(g.subs))
		for i, s := range g.subs {
			names[i] = s.name
		}
		fmt.Fprintf(stderr, "modulo %s: unknown subcommand %q; use one of %s ('modulo %s -h' says what each does)\n", g.name, args[0], strings.Join(names, ", "), g.name)
		return 1 // as for a bad flag
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "modulo runs HCL pipelines of neural-network experiments with a content-addressed cache.")
	fmt.Fprintln(w, "\nUsage: modulo COMMAND [flags] [args]\n\nCommands:")
	writeTable(w, "  ", commands())
	fmt.Fprintln(w, "\nA PIPELINE is a .hcl file or a directory of them (default: the current directory).")
	fmt.Fprintln(w, "The cache is $MODULO_CACHE, else $XDG_CACHE_HOME/modulo; -cache DIR overrides both.")
	fmt.Fprintln(w, "Run 'modulo COMMAND -h' (or 'modulo help COMMAND') for a command's flags.")
}

// writeTable lists commands one a line, name, arguments and summary in columns, each group's
// subcommands indented under it.
func writeTable(w io.Writer, indent string, cmds []command) {
	nameWidth, argsWidth := 0, 0
	for _, c := range cmds {
		nameWidth = max(nameWidth, len(c.name))
		argsWidth = max(argsWidth, len(c.args))
		for _, s := range c.subs {
			nameWidth = max(nameWidth, len(c.name)+1+len(s.name))
			argsWidth = max(argsWidth, len(s.args))
		}
	}
	for _, c := range cmds {
		if c.hidden {
			continue
		}
		fmt.Fprintf(w, "%s%-*s  %-*s  %s\n", indent, nameWidth, c.name, argsWidth, c.args, c.summary)
		for _, s := range c.subs {
			fmt.Fprintf(w, "%s%-*s  %-*s  %s\n", indent, nameWidth, c.name+" "+s.name, argsWidth, s.args, s.summary)
		}
	}
}

// commandHelp writes the help of the command a flag set belongs to (named "run" or "cache gc"):
// its synopsis, summary, what more it has to say, and its flags.
func commandHelp(w io.Writer, fs *flag.FlagSet) {
	cmds := commands()
	var c command
	found := false
	for i, word := range strings.Fields(fs.Name()) {
		if c, found = lookupCommand(cmds, word); !found {
			break
		}
		if i == 0 {
			cmds = c.subs
		}
	}
	if found {
		fmt.Fprintf(w, "Usage: modulo %s %s\n\n%s.\n", fs.Name(), c.args, capitalize(c.summary))
		if c.help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
		}
	} else {
		fmt.Fprintf(w, "Usage: modulo %s\n", fs.Name())
	}
	fmt.Fprintln(w, "\nFlags:")
	fs.PrintDefaults()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if pos, ok := parseFlags(fs, args, stderr); !ok || len(pos) > 0 {
		return 2
	}
	fmt.Fprintln(stdout, "modulo", version)
	return 0
}

// cmdHelp prints the list of commands, or with a name, that command's help.
func cmdHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		usage(stdout)
		return 0
	}
	c, ok := lookupCommand(commands(), args[0])
	if !ok {
		fmt.Fprintf(stderr, "modulo help: unknown command %q\nRun 'modulo help' for the list of commands.\n", args[0])
		return 2
	}
	if c.subs != nil {
		return runSub(c.name, append([]string{"help"}, args[1:]...), stdout, stderr)
	}
	c.run([]string{"-h"}, stdout, stdout)
	return 0
}

// startCPUProfile writes a CPU profile of the command to path, for `go tool pprof`; it is
// how modulo's own overhead is measured (MODULO_CPUPROFILE=cpu.prof modulo run …).
func startCPUProfile(path string, stderr io.Writer) func() {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "modulo: MODULO_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "modulo: MODULO_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// writeHeapProfile writes the heap profile to path when the command ends: its alloc_space
// sample names what allocated the memory a run held (MODULO_MEMPROFILE=mem.prof modulo run
// …; go tool pprof -sample_index=alloc_space).
func writeHeapProfile(path string, stderr io.Writer) {
	runtime.GC() // the profile is as of the last collection: make it include the whole run
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "modulo: MODULO_MEMPROFILE: %v\n", err)
	}
}

// parseFlags parses flags and positional arguments in any order, so that both
// `modulo run -j 2 p.hcl` and `modulo run p.hcl -j 2` work.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() { commandHelp(fs.Output(), fs) }
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, false
			}
			return nil, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, true
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// varFlags collects -var name=value flags.
type varFlags map[string]string

func (v varFlags) String() string { return "" }
func (v varFlags) Set(s string) error {
	name, val, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("-var needs name=value, as in -var widths=[64,128]")
	}
	v[name] = val
	return nil
}

// Command modulo runs HCL pipelines of neural-network experiments (train, prune, match,
// interpolate, merge_three, report) as a DAG whose every result is a content-addressed,
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
	"runtime/pprof"
	"strings"
)

// version is set by the build (-ldflags "-X main.version=…"); it is shown, not hashed.
var version = "dev"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "[flags] [PIPELINE]", "run the pipeline, reusing cached results", cmdRun},
		{"plan", "[flags] [PIPELINE]", "show what a run would do; exit 0 nothing to do, 2 work to do, 1 error", cmdPlan},
		{"validate", "[flags] [PIPELINE]", "check the pipeline without running or reading the cache", cmdValidate},
		{"graph", "[-format dot|mermaid] [PIPELINE]", "print the DAG of the pipeline", cmdGraph},
		{"fmt", "[-check] [PATH ...]", "rewrite .hcl files in canonical layout", cmdFmt},
		{"show", "[-p PIPELINE] ADDR", "print a node's outputs and provenance", cmdShow},
		{"export", "[-p PIPELINE] ADDR OUTPUT -o PATH", "write a node's output to a file", cmdExport},
		{"cache", "info|gc|verify [flags]", "inspect, trim or check the cache", cmdCache},
		{"doctor", "[-quick]", "show the BLAS, its kernel and speed, and where data and cache are", cmdDoctor},
		{"version", "", "print the version", func([]string, io.Writer, io.Writer) int { fmt.Println("modulo", version); return 0 }},
	}
}

// Main runs the command line args and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if path := os.Getenv("MODULO_CPUPROFILE"); path != "" {
				stopProfile := startCPUProfile(path, stderr)
				defer stopProfile()
			}
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "modulo: unknown command %q\nRun 'modulo help' for the list of commands.\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "modulo runs HCL pipelines of neural-network experiments with a content-addressed cache.")
	fmt.Fprintln(w, "\nUsage: modulo COMMAND [flags] [args]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %-34s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nA PIPELINE is a .hcl file or a directory of them (default: the current directory).")
	fmt.Fprintln(w, "The cache is $MODULO_CACHE, else $XDG_CACHE_HOME/modulo; -cache DIR overrides both.")
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

// parseFlags parses flags and positional arguments in any order, so that both
// `modulo run -j 2 p.hcl` and `modulo run p.hcl -j 2` work.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, bool) {
	fs.SetOutput(stderr)
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

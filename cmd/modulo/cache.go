package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/bytesize"
	"github.com/modulo-ml/modulo/pipelines"
)

// cmdCache runs a subcommand of cacheCommands.
func cmdCache(args []string, stdout, stderr io.Writer) int {
	return runSub("cache", args, stdout, stderr)
}

func cacheInfo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cache info", flag.ContinueOnError)
	dir := fs.String("cache", "", "cache directory")
	asJSON := fs.Bool("json", false, "print the figures as a JSON document on stdout (docs/JSON.md)")
	if _, ok := parseFlags(fs, args, stderr); !ok {
		return 1
	}
	if *asJSON {
		return cacheInfoJSON(*dir, stdout, stderr)
	}
	c, ok := openCache(*dir, stderr)
	if !ok {
		return 1
	}
	info, err := c.Info()
	if err != nil {
		return exitOn(stderr, err)
	}
	fmt.Fprintf(stdout, "cache   %s\nentries %d (%s)\nblobs   %d (%s stored)\n", c.Dir(), info.Entries, bytesize.Format(info.EntryBytes), info.Blobs, bytesize.Format(info.BlobBytes))
	if !info.Oldest.IsZero() {
		fmt.Fprintf(stdout, "oldest  %s\nnewest  %s\n", info.Oldest.Format(time.DateTime), info.Newest.Format(time.DateTime))
	}
	return 0
}

func cacheGC(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cache gc", flag.ContinueOnError)
	var pf pipelineFlags
	pf.register(fs)
	maxAge := fs.Duration("max-age", 0, "remove results unused for longer than this, e.g. 720h")
	maxSize := fs.String("max-size", "", "then remove least recently used results until the cache fits, e.g. 20GB")
	var keep listFlag
	fs.Var(&keep, "keep", "keep everything this pipeline's current plan reaches (repeatable)")
	dry := fs.Bool("n", false, "dry run: report what would be removed")
	if _, ok := parseFlags(fs, args, stderr); !ok {
		return 1
	}
	size, err := bytesize.Parse(*maxSize)
	if err != nil {
		return exitOn(stderr, err)
	}
	if *maxAge == 0 && size == 0 {
		fmt.Fprintln(stderr, "modulo cache gc: give -max-age and/or -max-size, e.g. -max-age 720h -max-size 20GB")
		return 1
	}
	c, ok := pf.cache(stderr)
	if !ok {
		return 1
	}
	kept := map[artifacts.ActionID]bool{}
	for _, p := range keep {
		g, ok := pf.open(p, stderr)
		if !ok {
			return 1
		}
		plan, diags := (&pipelines.Planner{Graph: g, Cache: c}).Plan(nil)
		if diags.HasErrors() {
			printDiags(stderr, g.Config, diags)
			return 1
		}
		for _, n := range plan.Nodes {
			if n.Status != pipelines.Deferred {
				kept[n.Action] = true
			}
		}
	}
	rep, err := c.GC(artifacts.GCOptions{MaxAge: *maxAge, MaxSize: size, Keep: kept, DryRun: *dry})
	if err != nil && rep.Failed == 0 {
		// It could not start (a read-only cache) or scan: nothing was removed.
		return exitOn(stderr, err)
	}
	verb := "removed"
	if *dry {
		verb = "would remove"
	}
	fmt.Fprintf(stdout, "%s %s and %s, freeing %s; kept %s", verb, plural(rep.RemovedEntries, "entry"), plural(rep.RemovedBlobs, "blob"), bytesize.Format(rep.FreedBytes), plural(rep.Kept, "entry"))
	if len(keep) > 0 {
		fmt.Fprintf(stdout, ", including the %d reached by the plans of %s", len(kept), strings.Join(keep, ", "))
	}
	if rep.Failed > 0 {
		fmt.Fprintf(stdout, "; could not remove %s", plural(rep.Failed, "file"))
	}
	fmt.Fprintln(stdout)
	// A gc that could not remove what it meant to has not done what it says.
	return exitOn(stderr, err)
}

func cacheVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cache verify", flag.ContinueOnError)
	dir := fs.String("cache", "", "cache directory")
	repair := fs.Bool("repair", false, "remove corrupt files and the entries that need them")
	if _, ok := parseFlags(fs, args, stderr); !ok {
		return 1
	}
	c, ok := openCache(*dir, stderr)
	if !ok {
		return 1
	}
	rep, err := c.Verify(context.Background(), *repair)
	if err != nil && rep.Failed == 0 {
		return exitOn(stderr, err)
	}
	for _, p := range rep.Corrupt {
		fmt.Fprintf(stdout, "corrupt: %s\n", p)
	}
	for _, p := range rep.Incomplete {
		fmt.Fprintf(stdout, "incomplete (needs a missing or corrupt blob): %s\n", p)
	}
	fmt.Fprintf(stdout, "checked %d blobs and %d entries: %d corrupt, %d incomplete", rep.Blobs, rep.Entries, len(rep.Corrupt), len(rep.Incomplete))
	if *repair {
		fmt.Fprintf(stdout, ", %d removed", rep.Removed)
		if rep.Failed > 0 {
			fmt.Fprintf(stdout, ", %d could not be removed", rep.Failed)
		}
	}
	fmt.Fprintln(stdout)
	if err != nil {
		return exitOn(stderr, err)
	}
	if len(rep.Corrupt)+len(rep.Incomplete) > 0 && !*repair {
		fmt.Fprintln(stderr, "modulo cache verify: run it with -repair to remove them; the next run recomputes what they held")
		return 1
	}
	return 0
}

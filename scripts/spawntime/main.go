// Command spawntime runs a command several times and prints its fastest wall time in
// seconds, timed around the command's process alone. A shell times a command it starts
// with a copy of itself (fork), whose copy-on-write faults before the exec are timed with
// the command: on the 2-vCPU development VMs, where a page fault costs ~12 µs, a Go "hello,
// world" took 7.0–8.2 ms timed from bash (EPOCHREALTIME) and 3.8 ms started as Go starts
// processes (clone with CLONE_VFORK|CLONE_VM: no copy). Hyperfine subtracts its shell's
// start for the same reason. For a command of seconds the difference is noise; for a no-op
// rerun of 20 ms it is a sixth of the figure.
//
// Usage: go run ./scripts/spawntime [-n RUNS] [-rusage] -- COMMAND [ARG...]
//
// The command's standard output and error go to a temporary file, removed at the end; the
// environment is inherited. A run that fails stops spawntime with the command's output on stderr and
// exit status 1. With -rusage the fastest run's peak resident size (KiB) and minor page
// faults follow its seconds, as GNU time's %M and %R give them (the faults count the pages
// MADV_POPULATE_* maps as well as those the program touched).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("n", 1, "runs; the fastest is printed")
	usage := flag.Bool("rusage", false, "print the fastest run's peak resident KiB and minor faults after its seconds")
	flag.Parse()
	if flag.NArg() == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: spawntime [-n RUNS] [-rusage] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	best, err := fastest(*runs, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawntime:", err)
		os.Exit(1)
	}
	if *usage {
		fmt.Printf("%.4f %d %d\n", best.took.Seconds(), best.maxRSS, best.minFlt)
		return
	}
	fmt.Printf("%.4f\n", best.took.Seconds())
}

// A run is one run's wall time and resource usage.
type run struct {
	took           time.Duration
	maxRSS, minFlt int64 // KiB; faults
}

// fastest runs args runs times and returns the run of the shortest wall time. The output
// goes to a file, not a pipe, so that no goroutine copying it is timed with the process.
func fastest(runs int, args []string) (run, error) {
	f, err := os.CreateTemp("", "spawntime-*.out")
	if err != nil {
		return run{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var best run
	for i := range runs {
		if err := f.Truncate(0); err != nil {
			return run{}, err
		}
		if _, err := f.Seek(0, 0); err != nil {
			return run{}, err
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = f, f
		start := time.Now()
		err := cmd.Run()
		r := run{took: time.Since(start)}
		if err != nil {
			output, _ := os.ReadFile(f.Name())
			return run{}, fmt.Errorf("%v: %v\n%s", args, err, output)
		}
		if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS, r.minFlt = int64(u.Maxrss), int64(u.Minflt)
		}
		if i == 0 || r.took < best.took {
			best = r
		}
	}
	return best, nil
}

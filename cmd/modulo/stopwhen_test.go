package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"syscall"
	"time"
)

// stopWhen is the scripts' stop-when command, a program so that it runs with the script's
// whole environment:
//
//	stop-when [-twice] [-within D] [-wait W] REGEXP COMMAND [ARGS...]
//
// It starts COMMAND, relays its stdout and stderr, and sends it SIGTERM as soon as a line of
// its stdout matches REGEXP. With -twice, it sends a second SIGTERM once the command has
// acknowledged the first with a "stopping" event (modulo run -progress json): the kernel
// merges a signal sent while the same one is pending, so sending both at once would test
// nothing. It succeeds if COMMAND then exits by itself (not killed by the signal), with a
// non-zero status, within D of the (last) signal: 2s, the bound issue 15 sets on a stop, a
// bound on a hang rather than a measurement (stages stop within one chunk of their work,
// tens of milliseconds here). It prints the measured time to stderr, which the script's
// log shows. It fails if COMMAND ended before printing a matching line, which means the
// stage under test was too quick to be interrupted mid-way, and kills it and fails if no
// line matched within W (1m), so that a stage that never reports fails the script rather
// than stalling the test binary until its deadline.
func stopWhen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stop-when", flag.ContinueOnError)
	twice := fs.Bool("twice", false, "send a second SIGTERM once the first is acknowledged")
	within := fs.Duration("within", 2*time.Second, "how soon after the signal the command must exit")
	wait := fs.Duration("wait", time.Minute, "how long to wait for a line matching REGEXP")
	if err := fs.Parse(args); err != nil || fs.NArg() < 2 {
		fmt.Fprintln(stderr, "usage: stop-when [-twice] [-within D] [-wait W] REGEXP COMMAND [ARGS...]")
		return 2
	}
	re, err := regexp.Compile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "stop-when: %v\n", err)
		return 2
	}
	cmd := exec.Command(fs.Arg(1), fs.Args()[2:]...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(stderr, "stop-when: %v\n", err)
		return 2
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "stop-when: %v\n", err)
		return 2
	}
	stopping := regexp.MustCompile(`"event":"stopping"`)
	signals := 1
	if *twice {
		signals = 2
	}
	var signalled time.Time
	hang := time.AfterFunc(*wait, func() { cmd.Process.Kill() })
	sent := 0
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fmt.Fprintln(stdout, sc.Text())
		if sent == signals || sent == 0 && !re.Match(sc.Bytes()) || sent == 1 && !stopping.Match(sc.Bytes()) {
			continue
		}
		if !hang.Stop() {
			continue // killed for waiting too long
		}
		signalled = time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		sent++
		// A command that ignores the signal is killed, well after the bound, so that a
		// hang fails the script instead of stalling the test binary until its deadline.
		hang = time.AfterFunc(5**within, func() { cmd.Process.Kill() })
	}
	err = cmd.Wait()
	elapsed := time.Since(signalled)
	hang.Stop()
	stderr.Write(errBuf.Bytes())
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(stderr, "stop-when: %v\n", err)
		return 1
	}
	state := cmd.ProcessState
	ws, _ := state.Sys().(syscall.WaitStatus)
	switch {
	case signalled.IsZero() && ws.Signaled() && ws.Signal() == syscall.SIGKILL:
		fmt.Fprintf(stderr, "stop-when: no line matched %q within %v: killed the command\n", re, *wait)
		return 1
	case signalled.IsZero():
		fmt.Fprintf(stderr, "stop-when: the command ended (%v) before printing a line matching %q: make its work larger, so that it is still running when signalled\n", state, re)
		return 1
	case sent < signals:
		fmt.Fprintf(stderr, "stop-when: the command ended (%v) without acknowledging the first SIGTERM with a \"stopping\" event\n", state)
		return 1
	case ws.Signaled():
		fmt.Fprintf(stderr, "stop-when: the command was killed by %v %v after SIGTERM instead of exiting by itself\n", ws.Signal(), elapsed.Round(time.Millisecond))
		return 1
	case state.ExitCode() == 0:
		fmt.Fprintf(stderr, "stop-when: the command exited 0 %v after SIGTERM: it finished rather than stopped\n", elapsed.Round(time.Millisecond))
		return 1
	case elapsed > *within:
		fmt.Fprintf(stderr, "stop-when: the command took %v to exit after SIGTERM, more than %v\n", elapsed.Round(time.Millisecond), *within)
		return 1
	}
	fmt.Fprintf(stderr, "stop-when: exited with status %d %v after SIGTERM\n", state.ExitCode(), elapsed.Round(time.Millisecond))
	return 0
}

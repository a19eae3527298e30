package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// stopSignals are the signals that stop a run: Ctrl-C, and what kill, systemd and Slurm send.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// interrupted is the cause of a run's context cancelled by a signal.
type interrupted struct{ sig os.Signal }

func (e *interrupted) Error() string { return signalName(e.sig) + " received" }

// interruptible returns a context that the first SIGINT or SIGTERM cancels, with an
// *interrupted as its cause: the running stages see it and stop within one chunk of their
// work, and the run ends normally, storing nothing of theirs. A second signal ends the
// process at once with the shell's status for it (128 + its number), for a user who will
// not wait: nothing half-written is visible in the cache even then, because every cache
// file is written under tmp/ and renamed into place, and the kernel releases the locks of
// a process that exits. The channel holds two signals, so that the second is never lost
// while the first is being handled. stop releases the signals; call it when the run ends.
func interruptible(stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(&interrupted{s})
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "\nmodulo: %s again: exiting at once; nothing half-written was stored\n", signalName(s))
			os.Exit(exitStatus(s))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// interruptOf returns the signal that cancelled ctx, or nil.
func interruptOf(ctx context.Context) os.Signal {
	var e *interrupted
	if errors.As(context.Cause(ctx), &e) {
		return e.sig
	}
	return nil
}

// exitStatus is the status a shell reports for a command ended by sig: 130 for SIGINT,
// 143 for SIGTERM.
func exitStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// signalName names sig as users know it from kill(1).
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

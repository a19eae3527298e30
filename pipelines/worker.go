package pipelines

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// Work computes the action stored as blob in c (here or in c's remote) on this machine, as
// `modulo worker` does on a cluster node, and publishes the result to c's remote: the
// outputs' blobs first, the entry last, so the driver waiting on the remote sees a result
// only once all of it is there. An action whose entry the remote already holds (a retry,
// a second driver) is not run again.
//
// Inputs are fetched from the remote by digest and checked; nothing is read from the
// pipeline's source. progress receives the stage's reports (nil: discarded).
func Work(ctx context.Context, c *artifacts.Cache, reg *stages.Registry, blob artifacts.OutputID, progress func(stages.Progress)) (*Action, error) {
	b, err := c.Fetch(ctx, blob, artifacts.Raw)
	if err != nil {
		return nil, fmt.Errorf("reading the action: %w", err)
	}
	act, err := DecodeAction(b)
	if err != nil {
		return nil, err
	}
	kind, ok := reg.Lookup(act.Stage)
	if !ok {
		return act, fmt.Errorf("action %s: this modulo has no stage kind %q: run the same modulo on the driver and the workers", act.Address, act.Stage)
	}
	if kind.Version != act.Version {
		return act, fmt.Errorf("action %s: this modulo's %s stage is version %d, the driver's is version %d: run the same modulo on the driver and the workers", act.Address, act.Stage, kind.Version, act.Version)
	}
	cfg, err := act.Value()
	if err != nil {
		return act, err
	}
	if kind, err = kind.ForConfig(cfg); err != nil {
		return act, fmt.Errorf("action %s: %w", act.Address, err)
	}
	// A kind that reads its files through the cache keys on the driver's digests: the
	// files need not be here, and what it reads is checked against them. Any other reads
	// them at their paths, so they are hashed again here.
	key, files := actionKey(kind, cfg, act.Files), act.Files
	if !kind.PortableFiles {
		if key, files, err = kindKey(kind, cfg, ""); err != nil {
			return act, fmt.Errorf("action %s: %w", act.Address, err)
		}
	}
	id := key.ID()
	if id.String() != act.ID {
		return act, fmt.Errorf("action %s: the configuration decoded here has action ID %.12s, not the driver's %.12s%s", act.Address, id, act.ID, filesDiffer(act.Files, files))
	}
	if e, err := c.GetEntry(id); err == nil {
		// Already computed, by an earlier try or another driver: make sure the remote has
		// it (this copy may be the only one), and stop.
		if err := c.Pull(ctx, id, e); err != nil {
			return act, err
		}
		return act, c.Publish(ctx, id, e)
	}
	keyID, _, err := c.Put(key.Description(), artifacts.Raw)
	if err != nil {
		return act, fmt.Errorf("storing the key description: %w", err)
	}
	start := time.Now()
	res, err := runKind(ctx, kind, &stages.Input{
		Address: act.Address,
		Config:  cfg,
		Threads: max(act.Threads, 1),
		Read: func(r *stages.Ref) ([]byte, error) {
			b, err := c.Fetch(ctx, r.ID, artifacts.Shuffle4)
			if err != nil {
				return nil, fmt.Errorf("reading input %s: %w", r.String(), err)
			}
			return b, nil
		},
		Progress:    progress,
		Files:       files,
		ReadFile:    func(f stages.File) ([]byte, error) { return readFile(ctx, c, f) },
		Materialize: func(files map[string]string) (string, error) { return materialize(ctx, c, files) },
	})
	if err != nil {
		return act, err
	}
	e, err := newEntry(ctx, c, kind, keyID, res, files, start)
	if err != nil {
		return act, err
	}
	if err := ctx.Err(); err != nil {
		return act, err
	}
	if err := c.Publish(ctx, id, e); err != nil {
		return act, fmt.Errorf("publishing the result: %w", err)
	}
	return act, nil
}

// filesDiffer names the files whose digests differ between the driver and here, the usual
// reason for a worker's action ID to differ, as the end of a sentence.
func filesDiffer(driver, here []stages.File) string {
	seen := map[string]string{}
	for _, f := range here {
		seen[f.Name] = f.SHA256
	}
	for _, f := range driver {
		if d, ok := seen[f.Name]; ok && d != f.SHA256 {
			return fmt.Sprintf(": file %s (%s) has other content on this machine than on the driver's; give the workers the same files", f.Name, f.Path)
		}
	}
	return ": run the same modulo on the driver and the workers"
}

// runKind calls the stage, turning a panic into an error: a bug in one stage fails that
// node, never the whole run.
func runKind(ctx context.Context, kind *stages.Kind, in *stages.Input) (res *stages.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("stage %s panicked: %v\n%s", kind.Name, r, debug.Stack())
		}
	}()
	res, err = kind.Run(ctx, in)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return res, err
}

// errNoEntry is a remote job that finished without its result in the remote cache.
var errNoEntry = errors.New("the job finished but its result is not in the remote cache")

// newEntry stores a run's outputs and the files it read, and returns the entry that names
// them, not yet stored: every blob an entry names is in place before the entry is written,
// so an interrupted run leaves unreferenced blobs, never a bad entry.
func newEntry(ctx context.Context, c *artifacts.Cache, kind *stages.Kind, keyID artifacts.OutputID, res *stages.Result, files []stages.File, start time.Time) (*artifacts.Entry, error) {
	outs, err := storeOutputs(ctx, c, kind, res)
	if err != nil {
		return nil, err
	}
	items, err := storeFiles(ctx, c, kind, files)
	if err != nil {
		return nil, err
	}
	return &artifacts.Entry{Stage: kind.Name, Version: kind.Version, Key: keyID, Outputs: outs, Files: items, Created: time.Now(), Duration: time.Since(start)}, nil
}

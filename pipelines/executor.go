package pipelines

import (
	"context"
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// An Executor computes actions outside this process: on a Slurm cluster, each as a job
// running `modulo worker`. The Applier keeps everything else — planning, cache hits (local
// and remote), locking, results — so an executor only ever sees a node that is ready and
// missed every cache, and its only way back is the remote cache: it returns once a worker
// has published the action's entry there, or with the reason none will.
type Executor interface {
	Run(ctx context.Context, j *Job) error
}

// Job is one action handed to an Executor.
type Job struct {
	Addr string // the node's address
	Kind string // its stage kind
	// Action is the action ID, under which the worker publishes the entry.
	Action artifacts.ActionID
	// Blob is the action document (Action.Encode) in the remote cache: the worker's
	// argument.
	Blob artifacts.OutputID
	// Threads is the number of cores the node is planned to use.
	Threads int
	// Resources are the node's block's resources { … }; the executor fills in what they
	// leave out.
	Resources Resources
	// Submitted tells the display that the job is in the executor's hands, with an id
	// the user can look up ("Slurm job 1234").
	Submitted func(msg string)
	// Status tells the display what the job is doing: queued and why, running where.
	Status func(msg string)
}

// runElsewhere hands a node that missed the cache to the executor: the action document and
// every input go to the remote first, and the result comes back through it.
func (a *Applier) runElsewhere(ctx context.Context, inst *Instance, cfg cty.Value, id artifacts.ActionID, keyID artifacts.OutputID, files []stages.File) error {
	kind := inst.Block.Kind
	if r := a.Cache.Remote(); r == nil || r.ReadOnly {
		return fmt.Errorf("running nodes elsewhere needs a writable remote cache that the workers share (-remote, MODULO_REMOTE or the cache block's remote)")
	}
	// Another driver sharing the remote may have finished the node since this one planned:
	// a job costs seconds of scheduling, a second look one request.
	a.Cache.Forget(id)
	if v, e, ok := a.lookup(inst.Addr, kind, id); ok {
		a.resolved(inst.Addr, v, id, keyID, e, false)
		return nil
	}
	act, err := NewAction(kind, inst.Addr, cfg, id, a.threads(inst.Addr), files)
	if err != nil {
		return err
	}
	blob, _, err := a.Cache.Put(act.Encode(), artifacts.Raw)
	if err != nil {
		return fmt.Errorf("storing the action: %w", err)
	}
	// Inputs computed here, or fetched from another cache, may be missing in the remote:
	// the entries of the nodes found here go up whole (with the files they carry), and
	// every input blob is checked.
	if err := a.share(ctx, inst.Addr); err != nil {
		return err
	}
	ups := []artifacts.OutputID{blob}
	for _, r := range stages.Refs(cfg) {
		ups = append(ups, r.ID)
	}
	for _, f := range files { // a kind with PortableFiles reads them from the cache there
		id, err := putFile(a.Cache, f)
		if err != nil {
			return err
		}
		ups = append(ups, id)
	}
	for _, u := range ups {
		if err := a.Cache.Upload(ctx, u); err != nil {
			return fmt.Errorf("uploading the inputs to the remote cache: %w", err)
		}
	}
	start := time.Now()
	j := &Job{
		Addr: inst.Addr, Kind: kind.Name, Action: id, Blob: blob, Threads: act.Threads, Resources: inst.Block.Resources,
		Submitted: func(msg string) {
			a.emit(Event{Type: EventStart, Addr: inst.Addr, Kind: kind.Name, Message: msg})
		},
		Status: func(msg string) {
			a.emit(Event{Type: EventStatus, Addr: inst.Addr, Kind: kind.Name, Message: msg})
		},
	}
	if err := a.Executor.Run(ctx, j); err != nil {
		return err
	}
	a.Cache.Forget(id)
	e, err := a.Cache.GetEntry(id)
	if err != nil {
		return fmt.Errorf("%w (action %.12s): %v", errNoEntry, id, err)
	}
	if !a.pull(ctx, inst.Addr, id, e) || !a.verify(inst.Addr, e) {
		return fmt.Errorf("%w: its blobs could not be fetched intact (action %.12s)", errNoEntry, id)
	}
	v, err := entryValue(kind, e)
	if err != nil {
		return err
	}
	a.emit(Event{Type: EventDone, Addr: inst.Addr, Kind: kind.Name, Duration: time.Since(start)})
	a.resolved(inst.Addr, v, id, e.Key, e, true)
	return nil
}

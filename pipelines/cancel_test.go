package pipelines

import (
	"context"
	"errors"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// A node cancelled while it runs is reported as stopped, not failed, and leaves no entry:
// the next plan runs it again. The cancellation itself is reported once, as it happens.
func TestApplyCancelledNode(t *testing.T) {
	e := newEnv(t)
	path := e.write(`
text "slow" {
  value = "slow"
  sleep = "1h"
}
concat "c" {
  parts = [text.slow.out]
}
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var failed []string
	var stopping []string
	a := &Applier{Plan: e.plan(path, nil), Cache: e.cache, Workers: 2, Observe: func(ev Event) {
		switch ev.Type {
		case EventStart:
			cancel() // the node is running: stop it
		case EventFailed, EventSkipped:
			failed = append(failed, ev.Addr)
		case EventStopping:
			stopping = append(stopping, ev.Message)
		}
	}}
	rep := a.Apply(ctx)
	if !rep.Interrupted || !errors.Is(rep.Walk.Failed["text.slow"], context.Canceled) || len(rep.Ran) != 0 {
		t.Fatalf("got interrupted %v, failed %v, ran %v; want interrupted, text.slow stopped by context.Canceled, nothing ran",
			rep.Interrupted, rep.Walk.Failed, rep.Ran)
	}
	if len(stopping) != 1 || stopping[0] != context.Canceled.Error() {
		t.Errorf("stopping events %q, want one saying %q", stopping, context.Canceled)
	}
	if len(failed) != 0 {
		t.Errorf("events reported %v as failed or skipped; a stopped run blames no node", failed)
	}
	if n := e.plan(path, nil).Nodes["text.slow"]; n.Status != Run {
		t.Errorf("after the cancelled run text.slow is %v, want to run again", n.Status)
	}
}

// storeOutputs stops before storing an artifact once ctx is done, so a run stopped after its
// stage returned writes no entry.
func TestStoreOutputsCancelled(t *testing.T) {
	e := newEnv(t)
	k, _ := testRegistry().Lookup("text")
	res := &stages.Result{Outputs: map[string]stages.Output{
		"out":    {Artifacts: []stages.Artifact{{Data: []byte("some text")}}},
		"length": {Value: cty.NumberIntVal(9)},
		"words":  {Artifacts: []stages.Artifact{{Data: []byte("some")}, {Data: []byte("text")}}},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if outs, err := storeOutputs(ctx, e.cache, k, res); !errors.Is(err, context.Canceled) || outs != nil {
		t.Fatalf("got %v, %v; want no outputs and context.Canceled", outs, err)
	}
	info, err := e.cache.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Blobs != 0 {
		t.Errorf("%d blobs stored after cancellation, want 0", info.Blobs)
	}
}

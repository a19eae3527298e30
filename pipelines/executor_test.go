package pipelines

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/artifacts/remote"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// workerExecutor runs each job as `modulo worker` would on another machine: Work on a cache
// of its own (the node's scratch), attached to the shared remote, with nothing else.
type workerExecutor struct {
	t      *testing.T
	remote string // the shared remote's location
	before func() // if set, runs before each job: a machine without the pipeline's files
	after  func()
	mu     sync.Mutex
	jobs   []string
}

func (w *workerExecutor) Run(ctx context.Context, j *Job) error {
	c, err := artifacts.Open(w.t.TempDir())
	if err != nil {
		return err
	}
	s, err := remote.Open(ctx, w.remote)
	if err != nil {
		return err
	}
	c.SetRemote(&artifacts.Remote{Store: s})
	j.Submitted("in-process job")
	if w.before != nil {
		w.before()
		defer w.after()
	}
	act, err := Work(ctx, c, testRegistry(), j.Blob, nil)
	if err != nil {
		return err
	}
	if act.Address != j.Addr || act.ID != j.Action.String() {
		return errors.New("the worker read another action than the job's")
	}
	w.mu.Lock()
	w.jobs = append(w.jobs, j.Addr)
	w.mu.Unlock()
	return nil
}

// attachDir attaches a directory remote to e's cache.
func attachDir(t *testing.T, e *env, dir string) {
	s, err := remote.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	e.cache.SetRemote(&artifacts.Remote{Store: s})
}

// TestExecutorMatchesLocalRun runs a pipeline (artifacts, lists of them, values, for_each)
// through an executor whose workers see only the remote cache, and requires the same
// action IDs and outputs as a run in this process; a second run submits nothing.
func TestExecutorMatchesLocalRun(t *testing.T) {
	local := newEnv(t)
	p := local.write(chain)
	rl := local.apply(p, nil)
	want := map[string]string{}
	stateOf(t, local, p, want)

	e := newEnv(t)
	shared := filepath.Join(t.TempDir(), "shared")
	attachDir(t, e, shared)
	p2 := e.write(chain)
	ex := &workerExecutor{t: t, remote: shared}
	run := func() *Report {
		plan := e.plan(p2, nil)
		a := &Applier{Plan: plan, Cache: e.cache, State: LoadState(e.cache.Dir(), p2), Workers: 2, Executor: ex}
		rep := a.Apply(context.Background())
		if !rep.Walk.OK() {
			t.Fatalf("apply: %v", rep.Walk.Err())
		}
		return rep
	}
	rep := run()
	if len(ex.jobs) != len(rl.Ran) || len(rep.Ran) != len(rl.Ran) {
		t.Fatalf("executor ran %v (reported %v), the local run %v", ex.jobs, rep.Ran, rl.Ran)
	}
	got := map[string]string{}
	stateOf(t, e, p2, got)
	for addr, w := range want {
		if got[addr] != w {
			t.Errorf("%s: action/key %s through the executor, %s locally", addr, got[addr], w)
		}
	}
	ex.jobs = nil
	if rep := run(); len(ex.jobs) != 0 || len(rep.Ran) != 0 {
		t.Errorf("second run submitted %v", ex.jobs)
	}
}

func stateOf(t *testing.T, e *env, path string, into map[string]string) {
	st := LoadState(e.cache.Dir(), path)
	for _, addr := range []string{"text.a", `text.b["x"]`, `text.b["y"]`, "concat.c", "concat.d"} {
		n, ok := st.Get(addr)
		if !ok {
			t.Fatalf("no state recorded for %s", addr)
		}
		into[addr] = n.Action + " " + n.Key
	}
}

// TestExecutorNeedsWritableRemote: without a remote the workers could not return anything,
// so the node fails saying what to set.
func TestExecutorNeedsWritableRemote(t *testing.T) {
	e := newEnv(t)
	p := e.write(`text "a" { value = "x" }`)
	plan := e.plan(p, nil)
	a := &Applier{Plan: plan, Cache: e.cache, Workers: 1, Executor: &workerExecutor{t: t}}
	rep := a.Apply(context.Background())
	if rep.Walk.OK() {
		t.Fatal("ran without a remote")
	}
	if err := rep.Walk.Err(); err == nil || !strings.Contains(err.Error(), "writable remote cache") {
		t.Errorf("error %v, want one naming the writable remote cache", err)
	}
}

// TestActionRoundTrip encodes configurations with artifacts in every position (alone, in
// lists, empty lists, nulls) and decodes them to equal values.
func TestActionRoundTrip(t *testing.T) {
	ref := func(s string) cty.Value {
		return stages.RefVal(stagetest.Text, &stages.Ref{Type: "text", Media: "text/plain; charset=utf-8", ID: artifacts.NewOutputID([]byte(s)), Size: int64(len(s)), Meta: "m " + s})
	}
	cfgs := []cty.Value{
		cty.ObjectVal(map[string]cty.Value{"a": ref("x"), "n": cty.NumberIntVal(3), "s": cty.StringVal("$artifact:text")}),
		cty.ObjectVal(map[string]cty.Value{"parts": cty.ListVal([]cty.Value{ref("x"), ref("y")}), "empty": cty.ListValEmpty(stagetest.Text)}),
		cty.ObjectVal(map[string]cty.Value{"null": cty.NullVal(stagetest.Text), "m": cty.MapVal(map[string]cty.Value{"k": ref("z")}),
			"nested": cty.ObjectVal(map[string]cty.Value{"t": cty.TupleVal([]cty.Value{ref("x"), cty.True})})}),
	}
	kind := &stages.Kind{Name: "text", Version: 7}
	for i, cfg := range cfgs {
		act, err := NewAction(kind, "text.a", cfg, artifacts.ActionID{1}, 2, nil)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		back, err := DecodeAction(act.Encode())
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		v, err := back.Value()
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !v.RawEquals(cfg) {
			t.Errorf("%d: decoded %#v, want %#v", i, v, cfg)
		}
		if back.Stage != "text" || back.Version != 7 || back.Threads != 2 || back.Address != "text.a" {
			t.Errorf("%d: header %+v", i, back)
		}
	}
	if _, err := DecodeAction([]byte(`{"format":2,"stage":"x","id":"y","config_type":"1","config":"1"}`)); err == nil || !strings.Contains(err.Error(), "format 2") {
		t.Errorf("a future format: %v", err)
	}
}

// TestExecutorSharesLocalResults: a result cached here but not in the remote (computed
// before the remote was attached) is uploaded, with the files it carries, before a node
// that needs it is handed to a worker; a node that reads files outside the cache runs here,
// where the plan found them. Its files then come back out of any cache by digest.
func TestExecutorSharesLocalResults(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(filepath.Join(e.dir, "x.txt"), []byte("from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := func(sep string) string {
		return `
file "f" {
  path = "` + filepath.Join(e.dir, "x.txt") + `"
}
concat "c" {
  parts = [file.f]
  sep   = "` + sep + `"
}
`
	}
	p := e.write(src("-"))
	e.apply(p, nil) // no remote yet
	shared := filepath.Join(t.TempDir(), "shared")
	attachDir(t, e, shared)
	p = e.write(src("+"))
	ex := &workerExecutor{t: t, remote: shared}
	plan := e.plan(p, nil)
	a := &Applier{Plan: plan, Cache: e.cache, State: LoadState(e.cache.Dir(), p), Workers: 2, Executor: ex}
	if rep := a.Apply(context.Background()); !rep.Walk.OK() {
		t.Fatalf("apply: %v", rep.Walk.Err())
	}
	if strings.Join(ex.jobs, " ") != "concat.c" {
		t.Errorf("jobs %v, want concat.c alone (file.f is cached)", ex.jobs)
	}

	// file.f's entry carries x.txt: a fresh cache on the remote materialises it.
	st := LoadState(e.cache.Dir(), p)
	n, _ := st.Get("file.f")
	id, _ := artifacts.ParseActionID(n.Action)
	entry, err := e.cache.GetEntry(id)
	if err != nil || len(entry.Files) != 1 {
		t.Fatalf("file.f's entry: %v, files %v", err, entry)
	}
	s, _ := remote.Open(context.Background(), shared)
	if ok, err := s.Has(context.Background(), remote.AC, id.String()); !ok || err != nil {
		t.Errorf("file.f's entry was not uploaded before concat.c's job: %v", err)
	}
	fresh, err := artifacts.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fresh.SetRemote(&artifacts.Remote{Store: s})
	dir, err := materialize(context.Background(), fresh, map[string]string{"x.txt": entry.Files["content"].ID.String()})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "x.txt")); err != nil || string(b) != "from a file" {
		t.Errorf("materialised %q, %v", b, err)
	}
	if _, err := materialize(context.Background(), fresh, map[string]string{"../x": entry.Files["content"].ID.String()}); err == nil {
		t.Error("materialised a file name with a path in it")
	}
}

// TestDeclaredOutputsElsewhere: a block that declares its own outputs runs through a worker,
// which knows them from the action's configuration alone, and its outputs are those of a
// local run.
func TestDeclaredOutputsElsewhere(t *testing.T) {
	b, err := os.ReadFile("testdata/valid/declared_outputs.hcl")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	local := newEnv(t)
	p := local.write(src)
	local.apply(p, nil)
	e := newEnv(t)
	shared := filepath.Join(t.TempDir(), "shared")
	attachDir(t, e, shared)
	p2 := e.write(src)
	ex := &workerExecutor{t: t, remote: shared}
	a := &Applier{Plan: e.plan(p2, nil), Cache: e.cache, State: LoadState(e.cache.Dir(), p2), Workers: 2, Executor: ex}
	if rep := a.Apply(context.Background()); !rep.Walk.OK() || len(ex.jobs) != 2 {
		t.Fatalf("apply: %v, jobs %v", rep.Walk.Err(), ex.jobs)
	}
	sameActions(t, local, p, e, p2, "emit.e", "concat.c")
}

// TestPortableFilesElsewhere: a node of a kind that reads its files through the cache runs
// through a worker on a machine that lacks them (the file is moved away while the job
// runs): the driver uploaded them, and the result is that of a local run. Editing the file
// makes the node stale.
func TestPortableFilesElsewhere(t *testing.T) {
	src := `
bundle "b" {
  files = ["a.txt", "sub/b.txt"]
}
concat "c" {
  parts = [bundle.b]
}
`
	setup := func(e *env) string {
		for name, content := range map[string]string{"a.txt": "one ", "sub/b.txt": "two"} {
			p := filepath.Join(e.dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return e.write(src)
	}
	local := newEnv(t)
	p := setup(local)
	local.apply(p, nil)

	e := newEnv(t)
	shared := filepath.Join(t.TempDir(), "shared")
	attachDir(t, e, shared)
	p2 := setup(e)
	away := filepath.Join(t.TempDir(), "away")
	ex := &workerExecutor{t: t, remote: shared,
		before: func() { os.Rename(filepath.Join(e.dir, "sub"), away) },
		after:  func() { os.Rename(away, filepath.Join(e.dir, "sub")) },
	}
	a := &Applier{Plan: e.plan(p2, nil), Cache: e.cache, State: LoadState(e.cache.Dir(), p2), Workers: 1, Executor: ex}
	if rep := a.Apply(context.Background()); !rep.Walk.OK() || len(ex.jobs) != 2 {
		t.Fatalf("apply: %v, jobs %v", rep.Walk.Err(), ex.jobs)
	}
	sameActions(t, local, p, e, p2, "bundle.b", "concat.c")
	if err := os.WriteFile(filepath.Join(e.dir, "sub", "b.txt"), []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := e.plan(p2, nil)
	if n := plan.Nodes["bundle.b"]; n.Status == Cached || !strings.Contains(strings.Join(n.Reasons, " "), "sub/b.txt") {
		t.Errorf("after an edit of sub/b.txt, bundle.b is %s: %v", n.Status, n.Reasons)
	}
}

// sameActions fails unless each node has the same action and key in the state of the
// pipeline p run locally and of p2 run through a worker.
func sameActions(t *testing.T, local *env, p string, e *env, p2 string, addrs ...string) {
	t.Helper()
	for _, addr := range addrs {
		l, _ := LoadState(local.cache.Dir(), p).Get(addr)
		r, _ := LoadState(e.cache.Dir(), p2).Get(addr)
		if l.Action != r.Action || l.Key != r.Key || l.Action == "" {
			t.Errorf("%s: %+v through a worker, %+v locally", addr, r, l)
		}
	}
}

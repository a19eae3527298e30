package pipelines

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
)

// entryFiles lists the action entries of the cache at dir.
func entryFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "ac", "*", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no entries in %s (%v)", dir, err)
	}
	return files
}

// After a run, the plan takes every node's entry from the state instead of opening its file:
// with the entry files gone behind the cache's back, every node still plans cached. Once
// the cache removes anything itself (here gc), the generation changes and the plan looks
// again, and finds them missing.
func TestPlanTrustsStateUntilRemoval(t *testing.T) {
	e := newEnv(t)
	p := e.write(chain)
	e.apply(p, nil)
	e.runs()
	plan := e.plan(p, nil)
	for addr, n := range plan.Nodes {
		if n.Status != Cached || !n.Trusted {
			t.Errorf("%s: %v, trusted %v; want cached from the state", addr, n.Status, n.Trusted)
		}
	}
	for _, f := range entryFiles(t, e.cache.Dir()) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if cached, _, _ := e.plan(p, nil).Counts(); cached != len(plan.Nodes) {
		t.Fatalf("entries removed by hand: %d cached, want all %d (the state stands for them)", cached, len(plan.Nodes))
	}

	// A removal by the cache: put and collect an unreferenced blob.
	if _, _, err := e.cache.Put([]byte("unreferenced"), artifacts.Raw); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cache.GC(artifacts.GCOptions{Grace: -1}); err != nil {
		t.Fatal(err)
	}
	if cached, _, _ := e.plan(p, nil).Counts(); cached != 0 {
		t.Fatalf("after gc: %d nodes planned cached, want 0 (the entries are gone)", cached)
	}
	e.apply(p, nil)
	if got := e.runs(); len(got) != 5 {
		t.Fatalf("rerun ran %v, want all 5 nodes", got)
	}
}

// A node remembered by the state but missing from the cache is looked up, not trusted, when
// a node of the run reads its outputs: the reader does not fail, the node is recomputed.
func TestTrustedInputOfARunIsLookedUp(t *testing.T) {
	e := newEnv(t)
	p := e.write(chain)
	e.apply(p, nil)
	e.runs()
	// Remove text.a's entry by hand (no generation change), then change concat.c's key.
	a := e.plan(p, nil).Nodes["text.a"]
	if !a.Trusted {
		t.Fatal("text.a not taken from the state")
	}
	for _, f := range entryFiles(t, e.cache.Dir()) {
		if filepath.Base(f) == a.Action.String() {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.apply(p, map[string]string{"sep": "+"})
	got := e.runs()
	want := map[string]bool{"text.a": true, "concat.c": true}
	for _, addr := range got {
		if !want[addr] && addr != `text.b["x"]` && addr != `text.b["y"]` {
			t.Errorf("ran %s", addr)
		}
	}
	ranA := false
	for _, addr := range got {
		ranA = ranA || addr == "text.a"
	}
	if !ranA {
		t.Fatalf("ran %v: text.a, missing under concat.c which ran, was not recomputed", got)
	}
}

// The state file survives a round trip, addresses with tabs and quotes included, and a
// damaged file is an empty state.
func TestStateFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.hcl")
	s := LoadState(dir, p)
	e := &artifacts.Entry{Stage: "text", Version: 1, Created: time.Unix(1, 0).UTC()}
	id := artifacts.NewKey("x").ID()
	addr := "text.a[\"tab\there \\\"q\\\"\"]"
	s.Set(addr, newStateNode(id, artifacts.NewOutputID([]byte("k")), "gen1", e))
	s.Set("text.b", StateNode{Action: id.String(), Key: "k", Time: time.Now()})
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	r := LoadState(dir, p)
	if len(r.Nodes) != 2 {
		t.Fatalf("read %d nodes, want 2", len(r.Nodes))
	}
	got, ok := r.Trusted(addr, id, "gen1", time.Now())
	if !ok || got.Stage != "text" || !got.Created.Equal(e.Created) {
		t.Fatalf("Trusted = %+v, %v; want the entry", got, ok)
	}
	if _, ok := r.Trusted(addr, id, "gen2", time.Now()); ok {
		t.Error("trusted under another generation")
	}
	if _, ok := r.Trusted(addr, id, "gen1", time.Now().Add(time.Hour)); ok {
		t.Error("trusted after an hour")
	}
	if _, ok := r.Trusted("text.b", id, "", time.Now()); ok {
		t.Error("trusted without an entry")
	}
	if err := os.WriteFile(StatePath(dir, p), []byte("modulo-state 2 \"x\"\nbroken line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := len(LoadState(dir, p).Nodes); n != 0 {
		t.Fatalf("damaged file: %d nodes, want an empty state", n)
	}
}

// TestTrustedDecodesAsTheCache checks that the state's decoder (segmentio's, for speed)
// reads an entry exactly as encoding/json, which the cache uses, does: every field, the
// custom-encoded IDs and codecs, an inline value, files, times.
func TestTrustedDecodesAsTheCache(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.hcl")
	s := LoadState(dir, p)
	id := artifacts.NewKey("x").ID()
	blob := artifacts.NewOutputID([]byte("blob"))
	e := &artifacts.Entry{
		Stage: "train", Version: 7, Key: artifacts.NewOutputID([]byte("key")),
		Outputs: map[string]artifacts.Output{
			"network":  {Media: "application/vnd.modulo.network+safetensors", Items: []artifacts.Item{{ID: blob, Size: 1 << 40, Stored: 12345, Meta: "mlp 784-512-10 \"q\" é", Codec: artifacts.Shuffle4}}},
			"accuracy": {Value: json.RawMessage(`{"test":0.9694,"curve":[1,2.5e-7,null],"s":"a\tb"}`)},
			"empty":    {Media: "text/plain", Items: []artifacts.Item{}},
		},
		Files:    map[string]artifacts.Item{"train-images": {ID: blob, Size: 47040016, Stored: 9912422}},
		Created:  time.Date(2026, 12, 6, 3, 54, 36, 500322253, time.UTC),
		Duration: 76513 * time.Microsecond,
	}
	s.Set("train.net", newStateNode(id, e.Key, "gen1", e))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	// LoadState leaves the decoding to Trusted; LoadStateAsync decodes ahead.
	for name, r := range map[string]*State{"LoadState": LoadState(dir, p), "LoadStateAsync": LoadStateAsync(dir, p)()} {
		got, ok := r.Trusted("train.net", id, "gen1", time.Now())
		if !ok {
			t.Fatalf("%s: not trusted", name)
		}
		var want artifacts.Entry
		if err := json.Unmarshal(r.Nodes["train.net"].Entry, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("%s: the state decoded\n%+v\nencoding/json decodes\n%+v", name, *got, want)
		}
		if _, ok := r.Trusted("train.net", id, "gen2", time.Now()); ok {
			t.Fatalf("%s: trusted under another removal generation", name)
		}
	}
}

// TestTrustedRefusesADamagedEntry checks that an entry line that does not decode, or has
// anything after its JSON, is looked up in the cache instead of trusted.
func TestTrustedRefusesADamagedEntry(t *testing.T) {
	dir := t.TempDir()
	s := LoadState(dir, filepath.Join(dir, "p.hcl"))
	id := artifacts.NewKey("x").ID()
	e := &artifacts.Entry{Stage: "text", Version: 1, Outputs: map[string]artifacts.Output{"out": {Value: json.RawMessage(`"a"`)}}}
	n := newStateNode(id, e.Key, "gen1", e)
	for _, tc := range []struct {
		entry string
		ok    bool
	}{
		{string(n.Entry), true},
		{string(n.Entry) + " \n", true},
		{string(n.Entry) + "x", false},
		{string(n.Entry) + `{"stage":"y"}`, false},
		{string(n.Entry[:len(n.Entry)-1]), false},
	} {
		m := n
		m.Entry = []byte(tc.entry)
		s.Nodes["text.a"] = m
		if _, ok := s.Trusted("text.a", id, "gen1", time.Now()); ok != tc.ok {
			t.Errorf("entry %q: trusted %v, want %v", tc.entry, ok, tc.ok)
		}
	}
}

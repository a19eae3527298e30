package artifacts

import (
	"os"
	"testing"
)

// The generation changes with every removal of a result, by gc or because a file was found
// corrupt, and with nothing else: storing results, reading them and gc that removes nothing
// leave it as it was.
func TestGenerationChangesOnRemoval(t *testing.T) {
	c := newCache(t)
	g0 := c.Generation()
	if g0 != "none" {
		t.Fatalf("fresh cache: generation %q, want none", g0)
	}
	id, _, err := c.Put([]byte("blob"), Raw)
	if err != nil {
		t.Fatal(err)
	}
	aid := NewKey("test").ID()
	if err := c.PutEntry(aid, &Entry{Stage: "s", Outputs: map[string]Output{"o": {Items: []Item{{ID: id, Size: 4}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEntry(aid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GC(GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if g := c.Generation(); g != g0 {
		t.Fatalf("after put, get and a gc that removes nothing: generation %q, want %q", g, g0)
	}

	// A corrupt entry found on read is removed, and that is a removal.
	if err := os.WriteFile(c.entryPath(aid), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEntry(aid); err == nil {
		t.Fatal("corrupt entry read without error")
	}
	g1 := c.Generation()
	if g1 == g0 || g1 == "" {
		t.Fatalf("after removing a corrupt entry: generation %q, want a new one", g1)
	}

	// gc removing the now unreferenced blob changes it again.
	rep, err := c.GC(GCOptions{Grace: -1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RemovedBlobs != 1 {
		t.Fatalf("gc removed %d blobs, want 1", rep.RemovedBlobs)
	}
	if g := c.Generation(); g == g1 || g == "" {
		t.Fatalf("after gc removed a blob: generation %q, want a new one (was %q)", g, g1)
	}
}

// A damaged generation file matches nothing, so nothing remembered is trusted.
func TestGenerationDamaged(t *testing.T) {
	c := newCache(t)
	if err := os.WriteFile(c.dir+"/"+generationFile, []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if g := c.Generation(); g != "" {
		t.Fatalf("empty generation file: %q, want \"\"", g)
	}
}

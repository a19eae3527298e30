package pipelines

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
)

// TestNoopRecord checks when a no-op record is written and when it holds: only for a plan
// whose every node the state vouched for, and only while those entries would be trusted.
func TestNoopRecord(t *testing.T) {
	e := newEnv(t)
	p := e.write(chain)
	inputs, err := NoopInputs(p, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	e.apply(p, nil)

	// The plan right after the run trusts every node: a record.
	now := time.Now()
	st := LoadState(e.cache.Dir(), p)
	plan := e.plan(p, nil)
	if ok, err := RecordNoop(plan, st, inputs, "outputs\n", now); !ok || err != nil {
		t.Fatalf("RecordNoop of a plan trusted throughout = %v, %v; want a record", ok, err)
	}
	gen := e.cache.Generation()
	n, ok := CheckNoop(e.cache.Dir(), p, inputs, gen, testRegistry(), now.Add(time.Minute))
	if !ok || len(n.Nodes) != len(plan.Order) || n.Outputs != "outputs\n" {
		t.Fatalf("CheckNoop a minute later = %+v, %v; want the record of %d nodes", n, ok, len(plan.Order))
	}
	for i, node := range n.Nodes {
		if node.Addr != plan.Order[i] || node.Kind != plan.Nodes[node.Addr].Inst.Block.Kind.Name {
			t.Errorf("node %d = %+v, want %s in plan order", i, node, plan.Order[i])
		}
	}
	for _, c := range []struct {
		why    string
		inputs string
		gen    string
		at     time.Time
	}{
		{"other inputs", "x" + inputs, gen, now},
		{"a removal since", inputs, "other", now},
		{"no generation", inputs, "", now},
		{"past the trust of its entries", inputs, gen, now.Add(trustFor + time.Second)},
		{"a clock set back", inputs, gen, now.Add(-time.Minute)},
	} {
		if _, ok := CheckNoop(e.cache.Dir(), p, c.inputs, c.gen, testRegistry(), c.at); ok {
			t.Errorf("%s: the record holds", c.why)
		}
	}

	// A plan that looked an entry up (the state did not vouch for it) is no record, and
	// removes the one there was.
	plan = e.plan(p, nil)
	plan.Nodes[plan.Order[0]].Trusted = false
	if ok, err := RecordNoop(plan, LoadState(e.cache.Dir(), p), inputs, "", now); ok || err != nil {
		t.Fatalf("RecordNoop of a plan with a looked-up node = %v, %v; want none", ok, err)
	}
	if _, ok := CheckNoop(e.cache.Dir(), p, inputs, gen, testRegistry(), now); ok {
		t.Fatal("the old record still holds after a plan that was not a no-op")
	}
}

// TestFileID checks that fileID, which hashes as it reads, names a file as the cache names
// its bytes, for files smaller and larger than its buffer, and fails for a missing file.
func TestFileID(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 32<<10 - 1, 32 << 10, 100<<10 + 7} {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(i*7 + i>>9)
		}
		path := filepath.Join(dir, fmt.Sprint(size))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := fileID(path)
		if want := artifacts.NewOutputID(b).String(); err != nil || got != want {
			t.Errorf("%d bytes: fileID = %q, %v; want %q", size, got, err, want)
		}
	}
	if _, err := fileID(filepath.Join(dir, "missing")); err == nil {
		t.Error("fileID of a missing file: no error")
	}
}

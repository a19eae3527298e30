package pipelines

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// A Noop is the memory of a run that found every node of a pipeline cached: enough to say
// so again, and print the same outputs, without loading, building or planning the
// pipeline. A no-op rerun is what a user does most (after a pull, to see the outputs, to
// check that nothing is stale), and planning a pipeline of a thousand nodes costs tens of
// milliseconds of parsing, expansion and key hashing, where a build tool of the make class
// answers "nothing to do" in a few.
//
// The record holds only while everything the plan read is as it was (CheckNoop):
//   - its inputs (NoopInputs): this program, the working directory, the pipeline's files
//     and the variable files by content, the environment's MODULO_ variables and the
//     command's settings that change a plan;
//   - the cache: nothing removed since (its removal generation, as State.Trusted);
//   - the pipeline's state, byte for byte, so that a run that stored a result (a -force
//     rerun, another pipeline's run of a shared node) is not hidden behind the record;
//   - the files that nodes read from outside the cache (a dataset's IDX files, a command's
//     scripts): their kinds list and hash them again, and each action must come out the
//     same, as a worker checks the driver's;
//   - the time: the record lasts as long as the state would trust its entries, so that a
//     no-op run still refreshes, once an hour, the entries that gc keeps by recent use.
//
// It lives beside the state, in the cache directory, and losing it only costs one plan.
type Noop struct {
	Format  int        `json:"format"`
	Inputs  string     `json:"inputs"`
	Gen     string     `json:"gen"`
	State   string     `json:"state"`
	Expires time.Time  `json:"expires"`
	Written time.Time  `json:"written"`
	Nodes   []NoopNode `json:"nodes"`
	// Files are the actions of the nodes that read files from outside the cache, with the
	// directory their relative paths start from.
	Files []NoopFiles `json:"files,omitempty"`
	// Outputs is what the run printed of the pipeline's outputs.
	Outputs string `json:"outputs"`
}

// NoopNode is one node of a no-op run, in plan order.
type NoopNode struct {
	Addr string `json:"addr"`
	Kind string `json:"kind"`
}

// NoopFiles is the action of a node that reads files from outside the cache.
type NoopFiles struct {
	Dir    string  `json:"dir"`
	Action *Action `json:"action"`
}

const noopFormat = 1

// noopPath is where the record of the pipeline whose state is at statePath is kept.
func noopPath(statePath string) string {
	return strings.TrimSuffix(statePath, ".state") + ".noop"
}

// NoopInputs digests what a plan of the pipeline at path reads besides the cache, the state
// and the files its nodes read: this program (its path, size and modification time), the
// working directory (relative paths in the pipeline and the flags start there), the
// pipeline's files and the variable files by content, the environment's MODULO_ variables
// (MODULO_VAR_ sets variables; others choose data directories and the remote), and
// settings, the caller's canonical form of the flags that change a plan (variables,
// targets, the remote). An error means the inputs cannot be read: no record applies.
func NoopInputs(path string, varFiles []string, settings string) (string, error) {
	k := artifacts.NewKey(fmt.Sprintf("modulo-noop-%d", noopFormat))
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	st, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	k.Add("exe", fmt.Sprintf("%s %d %d", exe, st.Size(), st.ModTime().UnixNano()))
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	k.Add("wd", wd)
	k.Add("settings", settings)
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MODULO_") {
			env = append(env, kv)
		}
	}
	slices.Sort(env)
	for _, kv := range env {
		k.Add("env", kv)
	}
	files, diags := pipelineFiles(path)
	if diags.HasErrors() {
		return "", diags
	}
	for _, group := range []struct {
		label string
		paths []string
	}{{"pipeline-file", files}, {"var-file", varFiles}} {
		for _, f := range group.paths {
			id, err := fileID(f)
			if err != nil {
				return "", err
			}
			k.Add(group.label, f+" "+id)
		}
	}
	return k.ID().String(), nil
}

// RecordNoop remembers p as a no-op run, under inputs (NoopInputs), when it is one: every
// node found cached and trusted from the state, so that the run neither ran nor looked up
// anything and the state is as the plan read it. outputs is what the run printed of the
// pipeline's outputs. It reports whether it recorded; a plan that does not qualify removes
// the record, since its inputs may be the record's.
func RecordNoop(p *Plan, st *State, inputs, outputs string, now time.Time) (bool, error) {
	path := noopPath(st.path)
	n, ok := newNoop(p, st, inputs, outputs, now)
	if !ok {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return false, err
		}
		return false, nil
	}
	b, err := json.Marshal(n)
	if err != nil {
		return false, err
	}
	if err := writeFileAtomic(path, b); err != nil {
		return false, err
	}
	return true, nil
}

func newNoop(p *Plan, st *State, inputs, outputs string, now time.Time) (*Noop, bool) {
	if inputs == "" || p.Generation == "" || st.sum == "" || len(p.Order) == 0 {
		return nil, false
	}
	// The state the plan read must be the state now: a run that stored a result in
	// between would otherwise be hidden behind this record.
	sum, err := fileID(st.path)
	if err != nil || sum != st.sum {
		return nil, false
	}
	n := &Noop{Format: noopFormat, Inputs: inputs, Gen: p.Generation, State: sum, Written: now, Outputs: outputs}
	for _, addr := range p.Order {
		pn := p.Nodes[addr]
		sn, ok := st.Nodes[addr]
		if pn == nil || pn.Status != Cached || !pn.Trusted || len(pn.Diags) > 0 || !ok {
			return nil, false
		}
		if exp := sn.Time.Add(trustFor); n.Expires.IsZero() || exp.Before(n.Expires) {
			n.Expires = exp
		}
		kind := pn.Inst.Block.Kind
		n.Nodes = append(n.Nodes, NoopNode{Addr: addr, Kind: kind.Name})
		if kind.Files == nil {
			continue
		}
		act, err := NewAction(kind, addr, pn.Config, pn.Action, 0, pn.Files)
		if err != nil {
			return nil, false
		}
		n.Files = append(n.Files, NoopFiles{Dir: filepath.Dir(pn.Inst.Block.DeclRange.Filename), Action: act})
	}
	return n, !now.After(n.Expires)
}

// CheckNoop returns the record of the last no-op run of the pipeline at path if it still
// holds (see Noop): same inputs, the cache's removal generation gen, the same state, not
// expired at now, and every node that reads files from outside the cache keyed as it was.
func CheckNoop(cacheDir, path, inputs, gen string, reg *stages.Registry, now time.Time) (*Noop, bool) {
	statePath := StatePath(cacheDir, path)
	b, err := os.ReadFile(noopPath(statePath))
	if err != nil {
		return nil, false
	}
	var n Noop // decoded as the state's entries are, several times faster than encoding/json
	if fastjson.Unmarshal(b, &n) != nil || n.Format != noopFormat || inputs == "" || n.Inputs != inputs {
		return nil, false
	}
	if gen == "" || n.Gen != gen || now.After(n.Expires) || now.Before(n.Written) || len(n.Nodes) == 0 {
		return nil, false
	}
	if sum, err := fileID(statePath); err != nil || sum != n.State {
		return nil, false
	}
	for _, f := range n.Files {
		if !f.holds(reg) {
			return nil, false
		}
	}
	return &n, true
}

// holds reports whether the node's files give the action it had: its kind lists and hashes
// them again, as a worker does (Work).
func (f NoopFiles) holds(reg *stages.Registry) bool {
	act := f.Action
	if act == nil {
		return false
	}
	kind, ok := reg.Lookup(act.Stage)
	if !ok || kind.Version != act.Version {
		return false
	}
	cfg, err := act.Value()
	if err != nil {
		return false
	}
	if kind, err = kind.ForConfig(cfg); err != nil {
		return false
	}
	key, _, err := kindKey(kind, cfg, f.Dir)
	return err == nil && key.ID().String() == act.ID
}

// fileID is the content ID of the file at path, as the cache names blobs, hashed as the
// file is read (artifacts.ReadOutputID).
func fileID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	id, err := artifacts.ReadOutputID(f)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// State remembers, per pipeline, the last action of every address, so that plan can explain
// why a node must run (which attribute changed, old → new) rather than just that it must.
// It lives in the cache directory, under state/, keyed by the pipeline's absolute path: it is
// local bookkeeping, never shared, and losing it only loses the explanations.
type State struct {
	path string

	mu       sync.Mutex
	Pipeline string               `json:"pipeline"`
	Nodes    map[string]StateNode `json:"nodes"`
	changed  map[string]StateNode
}

// StateNode is the last action recorded for an address.
type StateNode struct {
	Action string    `json:"action"` // ActionID, hex
	Key    string    `json:"key"`    // OutputID of the key description blob, hex
	Time   time.Time `json:"time"`
}

// StatePath returns where the state of the pipeline at pipelinePath is kept in cacheDir.
func StatePath(cacheDir, pipelinePath string) string {
	abs, err := filepath.Abs(pipelinePath)
	if err != nil {
		abs = pipelinePath
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(cacheDir, "state", hex.EncodeToString(sum[:12])+".json")
}

// LoadState reads the state file of a pipeline; a missing or unreadable file is an empty
// state, since the state only improves messages.
func LoadState(cacheDir, pipelinePath string) *State {
	abs, _ := filepath.Abs(pipelinePath)
	s := &State{path: StatePath(cacheDir, pipelinePath), Pipeline: abs, Nodes: map[string]StateNode{}, changed: map[string]StateNode{}}
	s.read()
	return s
}

func (s *State) read() {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return
	}
	var disk State
	if json.Unmarshal(b, &disk) == nil && disk.Nodes != nil {
		s.Nodes = disk.Nodes
	}
}

// Get returns the recorded node of addr.
func (s *State) Get(addr string) (StateNode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.Nodes[addr]
	return n, ok
}

// Set records the action of addr; Save writes it. Recording the same action again is not
// a change, so a no-op run does not rewrite the file.
func (s *State) Set(addr string, n StateNode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.Nodes[addr]; ok && old.Action == n.Action && old.Key == n.Key {
		return
	}
	s.Nodes[addr] = n
	s.changed[addr] = n
}

// Save writes the state, merging this process's changes into what is on disk, so that two
// runs of one pipeline that end at different times both keep their records. Two saves at the
// same instant may still lose one side's records; that costs only an explanation in the next
// plan. The write is a rename of a temporary file, so a reader never sees half a file.
func (s *State) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.changed) == 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o777); err != nil {
		return err
	}
	s.read()
	for a, n := range s.changed {
		s.Nodes[a] = n
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path, b); err != nil {
		return err
	}
	s.changed = map[string]StateNode{}
	return nil
}

// writeFileAtomic writes data to path by way of a temporary file beside it and a rename, so
// that a reader, or another process, sees the old file or the new one, never a part.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

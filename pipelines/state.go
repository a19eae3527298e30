package pipelines

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/atomicfile"
)

// State remembers, per pipeline, the last action of every address, so that plan can explain
// why a node must run (which attribute changed, old → new) rather than just that it must, and
// the entry it last found for it, so that a plan need not open one cache file per node (see
// Trusted). It lives in the cache directory, under state/, keyed by the pipeline's absolute
// path: it is local bookkeeping, never shared, and losing it only loses the explanations and
// one lookup per node.
type State struct {
	path     string
	Pipeline string

	mu      sync.Mutex
	Nodes   map[string]StateNode
	changed map[string]StateNode
	// sum is the SHA-256 of the state file as read, "" when it was missing or damaged: a
	// no-op record holds only for the state it was made from (see Noop).
	sum string
}

// StateNode is the last action recorded for an address, and its entry as last seen in the
// cache.
type StateNode struct {
	Action string // ActionID, hex
	Key    string // OutputID of the key description blob, hex
	// Time is when the entry was last found in the cache, or stored.
	Time time.Time
	// Gen is the cache's removal generation read before the entry was found, and Entry the
	// entry (its JSON): while the generation is unchanged the entry is still in the cache,
	// and the next plan takes it from here instead of opening its file (see Trusted).
	Gen   string
	Entry []byte

	// decoded is Entry decoded ahead of the plan (see LoadStateAsync); nil when it was not.
	decoded *artifacts.Entry
}

// trustFor is how long a remembered entry is trusted before the plan looks it up again. A
// lookup refreshes the entry's modification time, which gc's least-recently-used order
// reads and the cache refreshes at most hourly; looking again within the hour keeps that
// order true for pipelines whose no-op runs never open their entries.
const trustFor = 50 * time.Minute

// fresh says whether n holds an entry recorded under a removal generation within trustFor
// of now, one Trusted may hand out.
func (n StateNode) fresh(now time.Time) bool {
	return n.Gen != "" && len(n.Entry) > 0 && now.Sub(n.Time) <= trustFor && !now.Before(n.Time)
}

// newStateNode is the record of action id, whose entry e was found or stored after the
// cache's removal generation gen was read.
func newStateNode(id artifacts.ActionID, keyID artifacts.OutputID, gen string, e *artifacts.Entry) StateNode {
	n := StateNode{Action: id.String(), Key: keyID.String(), Time: time.Now()}
	if gen == "" || e.FromRemote() {
		return n
	}
	if b, err := json.Marshal(e); err == nil {
		n.Gen, n.Entry = gen, b
	}
	return n
}

// Trusted returns the entry remembered for addr if it can stand for a lookup of action id
// in the cache whose removal generation is gen: same action, found under the same
// generation (so not removed since), within trustFor. The entry was decoded while the
// pipeline was built (LoadStateAsync), or is decoded here, by the planner's goroutines.
func (s *State) Trusted(addr string, id artifacts.ActionID, gen string, now time.Time) (*artifacts.Entry, bool) {
	s.mu.Lock()
	n, ok := s.Nodes[addr]
	s.mu.Unlock()
	if !ok || gen == "" || n.Gen != gen || !n.fresh(now) {
		return nil, false
	}
	var hexID [2 * len(id)]byte // id.String() without its allocation, once per planned node
	hex.Encode(hexID[:], id[:])
	if n.Action != string(hexID[:]) {
		return nil, false
	}
	if n.decoded != nil {
		e := *n.decoded // a copy, as a fresh decode would be; the maps are only read
		return &e, true
	}
	var e artifacts.Entry
	if decodeEntry(n.Entry, &e) != nil {
		return nil, false
	}
	return &e, true
}

// decodeEntry decodes a remembered entry whose strings and raw values may point into b:
// the state's lines are the file as read, kept while the state lives and never written to,
// and a plan of 10,000 nodes decodes tens of thousands of strings.
func decodeEntry(b []byte, e *artifacts.Entry) error {
	rest, err := fastjson.Parse(b, e, fastjson.ZeroCopy)
	if err == nil && len(bytes.TrimSpace(rest)) > 0 {
		err = errors.New("state: trailing data after an entry")
	}
	return err
}

// StatePath returns where the state of the pipeline at pipelinePath is kept in cacheDir.
func StatePath(cacheDir, pipelinePath string) string {
	abs, err := filepath.Abs(pipelinePath)
	if err != nil {
		abs = pipelinePath
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(cacheDir, "state", hex.EncodeToString(sum[:12])+".state")
}

// LoadState reads the state file of a pipeline; a missing or unreadable file is an empty
// state, since the state only improves messages and saves lookups.
func LoadState(cacheDir, pipelinePath string) *State {
	abs, _ := filepath.Abs(pipelinePath)
	s := &State{path: StatePath(cacheDir, pipelinePath), Pipeline: abs, Nodes: map[string]StateNode{}, changed: map[string]StateNode{}}
	s.read()
	return s
}

// LoadStateAsync starts LoadState in the background and returns a function that waits for
// it. The state of a pipeline of 10,000 nodes is a file of megabytes (20 ms to read, split and
// digest on 2 cores) whose entries take another 40 ms of CPU to decode; doing both while the
// pipeline is parsed and built, which is serial, hides that time on the otherwise idle core.
func LoadStateAsync(cacheDir, pipelinePath string) func() *State {
	ch := make(chan *State, 1)
	go func() {
		s := LoadState(cacheDir, pipelinePath)
		s.decodeEntries()
		ch <- s
	}()
	return sync.OnceValue(func() *State { return <-ch })
}

// decodeEntries decodes ahead of Trusted every remembered entry it could hand out now (an
// entry past trustFor is looked up in the cache instead); one that does not decode is left
// to Trusted, which then refuses it.
func (s *State) decodeEntries() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for addr, n := range s.Nodes {
		if !n.fresh(now) {
			continue
		}
		e := new(artifacts.Entry)
		if decodeEntry(n.Entry, e) == nil {
			n.decoded = e
			s.Nodes[addr] = n
		}
	}
}

// The state file is a header line and one line per address, fields separated by tabs:
//
//	modulo-state 2 "<pipeline>"
//	"<address>"	<action>	<key>	<unix nanoseconds>	<generation or ->	<entry JSON or ->
//
// Lines rather than one JSON document: a plan of a thousand nodes reads the file on every
// run, and splitting lines costs nothing next to decoding a document of a megabyte; each
// entry is decoded only when the plan asks for it, in parallel. Addresses are quoted (a
// for_each key may hold a tab); compact JSON holds no raw tab or newline.
const stateHeader = "modulo-state 2"

func (s *State) read() {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return
	}
	header, rest, _ := bytes.Cut(b, []byte{'\n'})
	if !bytes.HasPrefix(header, []byte(stateHeader+" ")) {
		return
	}
	nodes := make(map[string]StateNode, bytes.Count(rest, []byte{'\n'}))
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		addr, n, ok := parseStateLine(line)
		if !ok {
			return // damaged: an empty state is always safe
		}
		nodes[addr] = n
	}
	s.Nodes = nodes
	s.sum = artifacts.NewOutputID(b).String()
}

func parseStateLine(line []byte) (string, StateNode, bool) {
	var f [6][]byte
	for i := range 5 {
		var ok bool
		if f[i], line, ok = bytes.Cut(line, []byte{'\t'}); !ok {
			return "", StateNode{}, false
		}
	}
	f[5] = line
	addr, err := strconv.Unquote(string(f[0]))
	if err != nil {
		return "", StateNode{}, false
	}
	nanos, err := strconv.ParseInt(string(f[3]), 10, 64)
	if err != nil {
		return "", StateNode{}, false
	}
	n := StateNode{Action: string(f[1]), Key: string(f[2]), Time: time.Unix(0, nanos)}
	if g := string(f[4]); g != "-" {
		n.Gen = g
	}
	if e := f[5]; !bytes.Equal(e, []byte("-")) {
		n.Entry = e
	}
	return addr, n, true
}

func (s *State) encode() []byte {
	var b bytes.Buffer
	b.WriteString(stateHeader + " " + strconv.Quote(s.Pipeline) + "\n")
	for _, addr := range slices.Sorted(maps.Keys(s.Nodes)) {
		n := s.Nodes[addr]
		gen, entry := cmp.Or(n.Gen, "-"), n.Entry
		if len(entry) == 0 {
			entry = []byte("-")
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%d\t%s\t%s\n", strconv.Quote(addr), n.Action, n.Key, n.Time.UnixNano(), gen, entry)
	}
	return b.Bytes()
}

// Get returns the recorded node of addr.
func (s *State) Get(addr string) (StateNode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.Nodes[addr]
	return n, ok
}

// Set records the action of addr; Save writes it. Recording the same action and entry again
// within a few minutes is not a change, so a run that looked its nodes up does not rewrite
// the file each time.
func (s *State) Set(addr string, n StateNode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.Nodes[addr]; ok && old.Action == n.Action && old.Key == n.Key && old.Gen == n.Gen &&
		bytes.Equal(old.Entry, n.Entry) && n.Time.Sub(old.Time) < 5*time.Minute {
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
	b := s.encode()
	if err := writeFileAtomic(s.path, b); err != nil {
		return err
	}
	s.sum = artifacts.NewOutputID(b).String()
	s.changed = map[string]StateNode{}
	return nil
}

// writeFileAtomic writes data to path whole or not at all, readable by the owner only (the
// state, the no-op record and nodes' files are the user's own).
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o600)
}

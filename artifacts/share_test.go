package artifacts

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modulo-ml/modulo/artifacts/remote"
)

// memStore is a remote.Store in memory, with switches for the faults the tests need.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	down    bool                              // every call fails
	tamper  func(key string, b []byte) []byte // rewrites what Get returns
	gets    int
}

func newMemStore() *memStore { return &memStore{objects: map[string][]byte{}} }

var errDown = errors.New("connection refused")

func (m *memStore) Get(_ context.Context, area remote.Area, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	if m.down {
		return nil, errDown
	}
	b, ok := m.objects[string(area)+"/"+key]
	if !ok {
		return nil, remote.ErrNotFound
	}
	b = append([]byte{}, b...)
	if m.tamper != nil {
		b = m.tamper(key, b)
	}
	return b, nil
}

func (m *memStore) Put(_ context.Context, area remote.Area, key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	m.objects[string(area)+"/"+key] = append([]byte{}, data...)
	return nil
}

func (m *memStore) Has(_ context.Context, area remote.Area, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return false, errDown
	}
	_, ok := m.objects[string(area)+"/"+key]
	return ok, nil
}

func (m *memStore) String() string { return "mem" }
func (m *memStore) Close() error   { return nil }

// teammates returns two caches sharing one remote, and the warnings each received.
func teammates(t *testing.T, store remote.Store) (a, b *Cache, warnA, warnB *[]string) {
	t.Helper()
	a, b = newCache(t), newCache(t)
	warnA, warnB = &[]string{}, &[]string{}
	a.SetRemote(&Remote{Store: store, Warn: func(m string) { *warnA = append(*warnA, m) }})
	b.SetRemote(&Remote{Store: store, Warn: func(m string) { *warnB = append(*warnB, m) }})
	return a, b, warnA, warnB
}

func TestRemoteShares(t *testing.T) {
	store := newMemStore()
	a, b, _, warnB := teammates(t, store)
	id, ids := putEntry(t, a, "train", "weights", "metrics") // uploaded by PutEntry
	for _, ref := range ids {
		if ok, _ := store.Has(context.Background(), remote.CAS, ref.String()); !ok {
			t.Fatalf("blob %s was not uploaded", ref)
		}
	}
	e, err := b.GetEntry(id)
	if err != nil || !e.FromRemote() {
		t.Fatalf("B's lookup: %v, from remote %v", err, e != nil && e.FromRemote())
	}
	if b.Has(ids[1]) {
		t.Fatal("GetEntry fetched blobs; only Pull should")
	}
	if err := b.Pull(context.Background(), id, e); err != nil {
		t.Fatal(err)
	}
	local, err := b.GetEntry(id)
	if err != nil || local.FromRemote() {
		t.Fatalf("after Pull the entry is not local: %v", err)
	}
	for _, ref := range ids {
		if got, err := b.Get(ref); err != nil || NewOutputID(got) != ref {
			t.Errorf("blob %s after Pull: %v", ref, err)
		}
	}
	if rep, err := b.Verify(context.Background(), false); err != nil || len(rep.Corrupt)+len(rep.Incomplete) > 0 {
		t.Errorf("verify after pull: %+v %v", rep, err)
	}
	if len(*warnB) > 0 {
		t.Errorf("warnings: %v", *warnB)
	}
}

func TestRemoteReadOnly(t *testing.T) {
	store := newMemStore()
	a := newCache(t)
	a.SetRemote(&Remote{Store: store, ReadOnly: true})
	putEntry(t, a, "train", "weights")
	if len(store.objects) != 0 {
		t.Errorf("a read-only remote received %d objects", len(store.objects))
	}
}

// TestRemoteFaults: a remote that is down, or serves bytes that are not what they claim,
// costs a warning and a miss; nothing it sends enters the local cache.
func TestRemoteFaults(t *testing.T) {
	store := newMemStore()
	a, b, _, warnB := teammates(t, store)
	id, ids := putEntry(t, a, "train", "weights")

	store.down = true
	if _, err := b.GetEntry(id); !errors.Is(err, ErrMiss) {
		t.Errorf("remote down: GetEntry = %v, want a miss", err)
	}
	if len(*warnB) != 1 || !strings.Contains((*warnB)[0], "connection refused") {
		t.Errorf("remote down: warnings %q", *warnB)
	}
	store.down = false

	// Wrong bytes for a blob: Pull fails and stores nothing.
	store.tamper = func(key string, b []byte) []byte {
		if key == ids[1].String() {
			return []byte("garbage")
		}
		return b
	}
	e, err := b.GetEntry(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Pull(context.Background(), id, e); err == nil || !strings.Contains(err.Error(), "holds other bytes") {
		t.Errorf("tampered blob: Pull = %v", err)
	}
	if b.Has(ids[1]) {
		t.Error("a tampered blob entered the local cache")
	}
	if _, err := readEntryFile(b, id); err == nil {
		t.Error("the entry was stored although a blob failed")
	}
	// B computes the result itself; its upload repairs the damaged blob in the remote.
	store.objects["cas/"+ids[1].String()] = []byte("garbage")
	store.tamper = nil
	if _, _, err := b.Put([]byte("weights"), Raw); err != nil {
		t.Fatal(err)
	}
	if err := b.Push(context.Background(), id, e); err != nil {
		t.Fatal(err)
	}
	if got := store.objects["cas/"+ids[1].String()]; string(got) != "weights" {
		t.Errorf("the damaged remote blob was not overwritten: %q", got)
	}

	// A damaged entry is ignored with a warning.
	store.tamper = func(key string, b []byte) []byte {
		if key == id.String() {
			return []byte(strings.Replace(string(b), `"stage":"train"`, `"stage":"trainX"`, 1))
		}
		return b
	}
	if _, err := b.GetEntry(id); !errors.Is(err, ErrMiss) || !strings.Contains(strings.Join(*warnB, "\n"), "checksum mismatch") {
		t.Errorf("damaged entry: %v, warnings %q", err, *warnB)
	}
	if rep, err := b.Verify(context.Background(), false); err != nil || len(rep.Corrupt)+len(rep.Incomplete) > 0 {
		t.Errorf("verify after faults: %+v %v", rep, err)
	}
}

func readEntryFile(c *Cache, id ActionID) (*Entry, error) {
	e, _, err := c.readEntry(c.entryPath(id), id)
	return e, err
}

func TestRemoteSignatures(t *testing.T) {
	pubA, privA, _ := ed25519.GenerateKey(nil)
	pubX, _, _ := ed25519.GenerateKey(nil)
	for _, tt := range []struct {
		name    string
		key     ed25519.PrivateKey
		trusted []ed25519.PublicKey
		ok      bool
		warning string
	}{
		{"unsigned, no trust configured", nil, nil, true, ""},
		{"signed, no trust configured", privA, nil, true, ""},
		{"signed by a trusted key", privA, []ed25519.PublicKey{pubX, pubA}, true, ""},
		{"unsigned, trust configured", nil, []ed25519.PublicKey{pubA}, false, "is not signed"},
		{"signed by an untrusted key", privA, []ed25519.PublicKey{pubX}, false, "which is not in trusted_keys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			a, b := newCache(t), newCache(t)
			a.SetRemote(&Remote{Store: store, Key: tt.key})
			var warns []string
			b.SetRemote(&Remote{Store: store, Trusted: tt.trusted, Warn: func(m string) { warns = append(warns, m) }})
			id, _ := putEntry(t, a, "train", "weights")
			_, err := b.GetEntry(id)
			if (err == nil) != tt.ok {
				t.Fatalf("GetEntry = %v, want ok %v", err, tt.ok)
			}
			if tt.warning != "" && (len(warns) != 1 || !strings.Contains(warns[0], tt.warning)) {
				t.Errorf("warnings %q, want %q", warns, tt.warning)
			}
		})
	}
	// A forged signature (the body changed after signing) never passes.
	store := newMemStore()
	a, b := newCache(t), newCache(t)
	a.SetRemote(&Remote{Store: store, Key: privA})
	b.SetRemote(&Remote{Store: store})
	id, _ := putEntry(t, a, "train", "weights")
	store.tamper = func(key string, b []byte) []byte {
		return []byte(strings.Replace(string(b), "modulo-entry 1", "modulo-entry 1 ", 1))
	}
	if _, err := b.GetEntry(id); err == nil {
		t.Error("an entry whose signature does not verify was used")
	}
}

func TestKeyFiles(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	path := filepath.Join(t.TempDir(), "k")
	if err := WritePrivateKey(path, priv); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateKey(path, priv); err == nil {
		t.Error("WritePrivateKey overwrote a key")
	}
	got, err := ReadPrivateKey(path)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("ReadPrivateKey: %v", err)
	}
	back, err := ParsePublicKey(FormatPublicKey(pub))
	if err != nil || !back.Equal(pub) {
		t.Errorf("public key round trip: %v", err)
	}
	for _, bad := range []string{"", "ed25519:", "rsa:AAAA", "ed25519:AAAA"} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) = nil error", bad)
		}
	}
}

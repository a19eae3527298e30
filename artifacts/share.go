package artifacts

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/modulo-ml/modulo/artifacts/remote"
)

// Remote connects a cache to one that teammates share. Lookups go local first and to the
// remote on a miss; results computed here are uploaded when they are stored. Everything
// fetched is checked before it enters the local cache: blobs against their digests, entries
// against their header and checksum and, when Trusted is set, their signature. A remote that
// fails costs a warning, never a run: the node is computed here instead.
type Remote struct {
	Store remote.Store
	// ReadOnly fetches but never uploads.
	ReadOnly bool
	// Key, if set, signs the entries this cache uploads.
	Key ed25519.PrivateKey
	// Trusted, if not empty, are the keys whose signatures make a fetched entry usable; an
	// unsigned entry or one signed by another key is ignored with a warning.
	Trusted []ed25519.PublicKey
	// Warn receives each problem with the remote; nil discards them.
	Warn func(msg string)
	// Transfer, if set, is told of every blob or entry moved: "download" or "upload",
	// and its size.
	Transfer func(direction string, bytes int64)

	mu     sync.Mutex // guards warned and the calls to Warn
	warned map[string]bool
	bad    keySet[OutputID] // blobs the remote served damaged: Push overwrites them
	// missed are the actions the remote did not have. A node that runs is looked up at
	// plan time and twice more before it runs (before and after taking its lock, for
	// other processes on this machine); one remote round trip is enough for all three.
	missed keySet[ActionID]
	// present are the blobs the remote is known to hold (it said so, or this process put
	// them there): a driver uploads the same inputs for many jobs, one question each is
	// enough.
	present keySet[OutputID]
}

// holds reports whether the remote holds blob id intact, asking it only once.
func (r *Remote) holds(ctx context.Context, id OutputID) (bool, error) {
	if r.bad.has(id) {
		return false, nil // served damaged: to be overwritten
	}
	if r.present.has(id) {
		return true, nil
	}
	ok, err := r.Store.Has(ctx, remote.CAS, id.String())
	if ok {
		r.present.add(id)
	}
	return ok, err
}

// keySet is a set of keys, safe for concurrent use.
type keySet[K comparable] struct {
	mu sync.Mutex
	m  map[K]bool
}

func (s *keySet[K]) add(k K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[K]bool{}
	}
	s.m[k] = true
}

func (s *keySet[K]) has(k K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}

// warn reports a problem once. Errors wrapping remote.ErrUnavailable are not reported:
// the store that failed has already said it is down, once.
func (r *Remote) warn(format string, args ...any) {
	for _, a := range args {
		if err, ok := a.(error); ok && errors.Is(err, remote.ErrUnavailable) {
			return
		}
	}
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.warned == nil {
		r.warned = map[string]bool{}
	}
	if r.Warn != nil && !r.warned[msg] {
		r.warned[msg] = true
		r.Warn(msg)
	}
}

func (r *Remote) transfer(direction string, n int) {
	if r.Transfer != nil {
		r.Transfer(direction, int64(n))
	}
}

// SetRemote attaches r to c (nil detaches). Call it before using c from several
// goroutines.
func (c *Cache) SetRemote(r *Remote) { c.remote = r }

// Remote returns the attached remote, or nil.
func (c *Cache) Remote() *Remote { return c.remote }

// FromRemote reports whether e was found in the remote cache and not yet pulled: its
// blobs are there, not here. Pull makes it local.
func (e *Entry) FromRemote() bool { return e.remote }

// remoteEntry looks id up in the remote: the entry, if it is there, intact, trusted, and
// every blob it names is there too. Problems are warnings and misses.
func (c *Cache) remoteEntry(id ActionID) (*Entry, error) {
	r := c.remote
	if r.missed.has(id) {
		return nil, ErrMiss
	}
	ctx := context.Background()
	data, err := r.Store.Get(ctx, remote.AC, id.String())
	if errors.Is(err, remote.ErrNotFound) {
		r.missed.add(id)
		return nil, ErrMiss
	}
	if err != nil {
		r.warn("remote cache %s: %v; computing here", r.Store, err)
		return nil, ErrMiss
	}
	body, err := r.checkSignature(data)
	if err != nil {
		r.warn("remote cache %s: the entry of action %.12s %v; ignoring it", r.Store, id, err)
		return nil, ErrMiss
	}
	e, reason := parseEntry(body, id)
	if reason != "" {
		r.warn("remote cache %s: the entry of action %.12s is unusable (%s); ignoring it", r.Store, id, reason)
		return nil, ErrMiss
	}
	for _, ref := range e.Refs() {
		if c.Has(ref) {
			continue
		}
		ok, err := r.Store.Has(ctx, remote.CAS, ref.String())
		if err != nil {
			r.warn("remote cache %s: %v; computing here", r.Store, err)
			return nil, ErrMiss
		}
		if !ok {
			return nil, fmt.Errorf("%w %s: blob %s missing in the remote cache", ErrIncomplete, id, ref)
		}
	}
	r.transfer("download", len(data))
	e.remote = true
	return e, nil
}

// Pull makes the entry of action id local: it fetches every blob e names that is not here,
// checks each against its digest, stores them, then the entry. e must be the remote's
// entry for id (GetEntry's result); a local entry is returned as it is.
func (c *Cache) Pull(ctx context.Context, id ActionID, e *Entry) error {
	if !e.remote {
		return nil
	}
	r := c.remote
	if r == nil {
		return fmt.Errorf("pull %s: no remote cache", id)
	}
	codecs := map[OutputID]Codec{e.Key: Raw}
	for _, out := range e.Outputs {
		for _, it := range out.Items {
			codecs[it.ID] = it.Codec
		}
	}
	for _, ref := range e.Refs() {
		if c.Has(ref) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := r.Store.Get(ctx, remote.CAS, ref.String())
		if errors.Is(err, remote.ErrCorrupt) {
			r.bad.add(ref)
		}
		if err != nil {
			return fmt.Errorf("pull %s: blob %s: %w", id, ref, err)
		}
		if got := NewOutputID(data); got != ref {
			r.bad.add(ref)
			return fmt.Errorf("pull %s: the remote's blob %s holds other bytes (sha256 %s); nothing was stored", id, ref, got)
		}
		r.transfer("download", len(data))
		if _, _, err := c.Put(data, codecs[ref]); err != nil {
			return err
		}
	}
	local := *e
	local.remote = false
	if err := c.putEntryLocal(id, &local); err != nil {
		return err
	}
	e.remote = false
	return nil
}

// Push uploads the entry of action id and every blob it names that the remote lacks. A
// read-only remote, or none, makes it a no-op.
func (c *Cache) Push(ctx context.Context, id ActionID, e *Entry) error {
	r := c.remote
	if r == nil || r.ReadOnly {
		return nil
	}
	for _, ref := range e.Refs() {
		if err := c.Upload(ctx, ref); err != nil {
			return fmt.Errorf("push %s: %w", id, err)
		}
	}
	file, err := encodeEntry(id, e)
	if err != nil {
		return err
	}
	file = r.sign(file)
	if err := r.Store.Put(ctx, remote.AC, id.String(), file); err != nil {
		return fmt.Errorf("push %s: %w", id, err)
	}
	r.transfer("upload", len(file))
	return nil
}

// An uploaded entry may start with a signature line over the rest of the file:
//
//	modulo-signature 1 ed25519:<public key, base64> <signature, base64>
const signatureMagic = "modulo-signature"

func (r *Remote) sign(file []byte) []byte {
	if r.Key == nil {
		return file
	}
	sig := ed25519.Sign(r.Key, file)
	line := fmt.Sprintf("%s 1 %s %s\n", signatureMagic, FormatPublicKey(r.Key.Public().(ed25519.PublicKey)), base64.StdEncoding.EncodeToString(sig))
	return append([]byte(line), file...)
}

// checkSignature strips and checks the signature line of a fetched entry. A bad signature
// is always an error; a missing or unknown one only when Trusted is set.
func (r *Remote) checkSignature(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(signatureMagic+" ")) {
		if len(r.Trusted) > 0 {
			return nil, fmt.Errorf("is not signed, and trusted_keys is set")
		}
		return data, nil
	}
	line, body, _ := bytes.Cut(data, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) != 4 || f[1] != "1" {
		return nil, fmt.Errorf("has a malformed signature line")
	}
	pub, err := ParsePublicKey(f[2])
	if err != nil {
		return nil, fmt.Errorf("has a malformed signature line: %v", err)
	}
	sig, err := base64.StdEncoding.DecodeString(f[3])
	if err != nil || !ed25519.Verify(pub, body, sig) {
		return nil, fmt.Errorf("has a signature that does not verify (signed by %s)", f[2])
	}
	if len(r.Trusted) > 0 {
		if !slices.ContainsFunc(r.Trusted, func(k ed25519.PublicKey) bool { return k.Equal(pub) }) {
			return nil, fmt.Errorf("is signed by %s, which is not in trusted_keys", f[2])
		}
	}
	return body, nil
}

// FormatPublicKey writes a public key as trusted_keys lists it: "ed25519:<base64>".
func FormatPublicKey(k ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(k)
}

// ParsePublicKey reads a key written by FormatPublicKey.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(s), "ed25519:")
	if !ok {
		return nil, fmt.Errorf("a public key looks like ed25519:<base64>, not %q", s)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%q is not a base64 ed25519 public key of %d bytes", s, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// privateKeyMagic starts a private key file written by WritePrivateKey.
const privateKeyMagic = "modulo-ed25519-private-key"

// WritePrivateKey writes k to path, readable by its owner only, failing if path exists
// (a key is never overwritten by accident).
func WritePrivateKey(path string, k ed25519.PrivateKey) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s %s\n", privateKeyMagic, base64.StdEncoding.EncodeToString(k.Seed()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadPrivateKey reads a key file written by WritePrivateKey.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] != privateKeyMagic {
		return nil, fmt.Errorf("%s is not a modulo signing key (make one with modulo cache keygen)", path)
	}
	seed, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s holds a damaged signing key", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Publish records e as the result of action id here and in the remote, as PutEntry does,
// but a failed upload is an error: a worker whose result only this machine holds has done
// nothing for the driver that waits on the remote. The blobs go first and the entry last,
// so a worker killed half way leaves the remote without the entry, never with a bad one.
func (c *Cache) Publish(ctx context.Context, id ActionID, e *Entry) error {
	if err := c.putEntryLocal(id, e); err != nil {
		return err
	}
	if c.remote == nil || c.remote.ReadOnly {
		return fmt.Errorf("publish %s: no writable remote cache to publish to", id)
	}
	return c.Push(ctx, id, e)
}

// Fetch returns the bytes of blob id: from this cache, or else from the remote, checked
// against id and stored here (with codec) before they are returned.
func (c *Cache) Fetch(ctx context.Context, id OutputID, codec Codec) ([]byte, error) {
	data, err := c.Get(id)
	if err == nil || !errors.Is(err, ErrMiss) || c.remote == nil {
		return data, err
	}
	r := c.remote
	data, err = r.Store.Get(ctx, remote.CAS, id.String())
	if errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("blob %s is neither here nor in the remote cache %s: %w", id, r.Store, ErrMiss)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s from the remote cache %s: %w", id, r.Store, err)
	}
	if got := NewOutputID(data); got != id {
		r.bad.add(id)
		return nil, fmt.Errorf("the remote cache %s holds other bytes under blob %s (sha256 %s)", r.Store, id, got)
	}
	r.transfer("download", len(data))
	if _, _, err := c.Put(data, codec); err != nil {
		return nil, err
	}
	return data, nil
}

// Upload copies blob id, which must be here, to the remote unless the remote has it.
func (c *Cache) Upload(ctx context.Context, id OutputID) error {
	r := c.remote
	if r == nil || r.ReadOnly {
		return fmt.Errorf("upload %s: no writable remote cache", id)
	}
	if ok, err := r.holds(ctx, id); err != nil {
		return fmt.Errorf("upload %s: %w", id, err)
	} else if ok {
		return nil
	}
	data, err := c.Get(id)
	if err != nil {
		return fmt.Errorf("upload %s: %w", id, err)
	}
	if err := r.Store.Put(ctx, remote.CAS, id.String(), data); err != nil {
		return fmt.Errorf("upload %s: %w", id, err)
	}
	r.transfer("upload", len(data))
	r.present.add(id)
	return nil
}

// Forget drops the remote's memo that it lacks action id, so that the next GetEntry asks
// it again: a worker elsewhere has published the entry since.
func (c *Cache) Forget(id ActionID) {
	if r := c.remote; r != nil {
		r.missed.mu.Lock()
		delete(r.missed.m, id)
		r.missed.mu.Unlock()
	}
}

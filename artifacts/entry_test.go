package artifacts

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// putEntry stores a key blob and one blob per content, and an entry for
// stage referencing them all (one artifact output per blob), and returns
// the entry's action ID and blob IDs.
func putEntry(t *testing.T, c *Cache, stage string, contents ...string) (ActionID, []OutputID) {
	t.Helper()
	k := NewKey("test")
	k.Add("stage", stage)
	keyID, _, err := c.Put(k.Description(), Raw)
	if err != nil {
		t.Fatal(err)
	}
	e := &Entry{Stage: stage, Version: 1, Key: keyID, Outputs: map[string]Output{}, Created: time.Now()}
	ids := []OutputID{keyID}
	for i, s := range contents {
		id, stored, err := c.Put([]byte(s), Raw)
		if err != nil {
			t.Fatal(err)
		}
		e.Outputs[string(rune('a'+i))] = Output{Media: "text/plain", Items: []Item{{ID: id, Size: int64(len(s)), Stored: stored}}}
		ids = append(ids, id)
	}
	if err := c.PutEntry(k.ID(), e); err != nil {
		t.Fatal(err)
	}
	return k.ID(), ids
}

func TestEntryRoundTrip(t *testing.T) {
	c := newCache(t)
	k := NewKey("v1")
	k.Add("stage", "train")
	keyID, _, err := c.Put(k.Description(), Raw)
	if err != nil {
		t.Fatal(err)
	}
	w1, s1, _ := c.Put(normalTensor(100, 1, 0), Shuffle4)
	w2, s2, _ := c.Put(normalTensor(100, 2, 0), Shuffle4)
	want := &Entry{
		Stage:   "train",
		Version: 3,
		Key:     keyID,
		Outputs: map[string]Output{
			"weights": {Media: "application/vnd.modulo.network+safetensors", Items: []Item{{ID: w1, Size: 400, Stored: s1, Meta: "mlp 3-2 relu"}, {ID: w2, Size: 400, Stored: s2}}},
			"loss":    {Value: json.RawMessage(`{"final":0.25,"note":"<ok>"}`)},
			"null":    {Value: json.RawMessage(`null`)},
		},
		Created:  time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Duration: 1500 * time.Millisecond,
	}
	id := k.ID()
	if _, err := c.GetEntry(id); err != ErrMiss {
		t.Errorf("GetEntry before PutEntry = %v, want ErrMiss", err)
	}
	if err := c.PutEntry(id, want); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetEntry(id)
	if err != nil {
		t.Fatal(err)
	}
	// JSON re-escapes "<" in raw values; compare values semantically.
	for name, o := range got.Outputs {
		if o.Value != nil {
			if !bytes.Equal(mustUnescape(t, o.Value), mustUnescape(t, want.Outputs[name].Value)) {
				t.Errorf("output %s value = %s, want %s", name, o.Value, want.Outputs[name].Value)
			}
			o.Value = want.Outputs[name].Value
			got.Outputs[name] = o
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetEntry = %+v\nwant %+v", got, want)
	}
	if gotRefs, wantRefs := got.Refs(), []OutputID{keyID, w1, w2}; !slices.Equal(gotRefs, wantRefs) {
		t.Errorf("Refs = %v, want %v", gotRefs, wantRefs)
	}
	// The file is meant for humans too.
	raw, _ := os.ReadFile(c.entryPath(id))
	for _, s := range []string{`"stage":"train"`, w1.String(), "modulo-entry 1 " + id.String()} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("entry file does not contain %s:\n%s", s, raw)
		}
	}
	// PutEntry overwrites.
	want.Version = 4
	if err := c.PutEntry(id, want); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetEntry(id); err != nil || got.Version != 4 {
		t.Errorf("after overwrite GetEntry = %+v, %v", got, err)
	}
}

// mustUnescape decodes a JSON value to a canonical encoding.
func mustUnescape(t *testing.T, b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return out
}

func TestEntryCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, c *Cache, path string)
		reason string
	}{
		{"truncated", func(t *testing.T, c *Cache, path string) {
			fi, _ := os.Stat(path)
			os.Truncate(path, fi.Size()/2)
		}, "checksum"},
		{"empty", func(t *testing.T, c *Cache, path string) { os.Truncate(path, 0) }, "no header"},
		{"garbage", func(t *testing.T, c *Cache, path string) {
			os.WriteFile(path, []byte("{\"not\": \"an entry\"}\n"), 0o666)
		}, "not an entry"},
		{"digit changed", func(t *testing.T, c *Cache, path string) {
			b, _ := os.ReadFile(path)
			b = bytes.Replace(b, []byte(`"version":1`), []byte(`"version":7`), 1)
			os.WriteFile(path, b, 0o666)
		}, "checksum"},
		{"other action", func(t *testing.T, c *Cache, path string) {
			other, _ := putEntry(t, c, "other", "y")
			b, _ := os.ReadFile(c.entryPath(other))
			os.WriteFile(path, b, 0o666)
		}, "belongs to action"},
		{"future format", func(t *testing.T, c *Cache, path string) {
			b, _ := os.ReadFile(path)
			b = bytes.Replace(b, []byte("modulo-entry 1 "), []byte("modulo-entry 2 "), 1)
			os.WriteFile(path, b, 0o666)
		}, "format 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			id, _ := putEntry(t, c, "s", "x")
			path := c.entryPath(id)
			tt.damage(t, c, path)
			_, err := c.GetEntry(id)
			var ce *CorruptError
			if !errors.Is(err, ErrMiss) || !errors.As(err, &ce) {
				t.Fatalf("GetEntry = %v, want a corrupt miss", err)
			}
			if ce.Path != path || !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("CorruptError = %+v, want path %s, reason containing %q", ce, path, tt.reason)
			}
			if exists(path) {
				t.Error("corrupt entry was not removed")
			}
		})
	}
}

func TestEntryIncomplete(t *testing.T) {
	for _, which := range []int{0, 2} { // the Key blob, an item
		c := newCache(t)
		id, blobs := putEntry(t, c, "s", "x", "y")
		os.Remove(c.BlobPath(blobs[which]))
		_, err := c.GetEntry(id)
		if !errors.Is(err, ErrMiss) || !errors.Is(err, ErrIncomplete) {
			t.Errorf("blob %d missing: GetEntry = %v, want ErrIncomplete and ErrMiss", which, err)
		}
		if !strings.Contains(err.Error(), "incomplete") || !strings.Contains(err.Error(), blobs[which].String()) {
			t.Errorf("error %q should say incomplete and name the blob", err)
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			t.Errorf("incomplete entry reported as corrupt")
		}
		if !exists(c.entryPath(id)) {
			t.Error("incomplete entry was removed; it is not damaged")
		}
	}
}

func TestEntryMtimeRefresh(t *testing.T) {
	tests := []struct {
		age     time.Duration
		refresh bool
	}{
		{10 * time.Minute, false},
		{59 * time.Minute, false},
		{61 * time.Minute, true},
		{72 * time.Hour, true},
	}
	c := newCache(t)
	id, _ := putEntry(t, c, "s", "x")
	path := c.entryPath(id)
	for _, tt := range tests {
		setAge(t, path, tt.age)
		before, _ := os.Stat(path)
		if _, err := c.GetEntry(id); err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(path)
		if got := !after.ModTime().Equal(before.ModTime()); got != tt.refresh {
			t.Errorf("age %v: refreshed = %v, want %v", tt.age, got, tt.refresh)
		}
	}
}

func TestEntries(t *testing.T) {
	c := newCache(t)
	var want []ActionID
	for _, s := range []string{"a", "b", "c"} {
		id, _ := putEntry(t, c, s, s)
		want = append(want, id)
	}
	// Strays are ignored.
	os.WriteFile(c.entryPath(want[0])+".bak", nil, 0o666)
	got, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	cmp := func(a, b ActionID) int { return bytes.Compare(a[:], b[:]) }
	slices.SortFunc(got, cmp)
	slices.SortFunc(want, cmp)
	if !slices.Equal(got, want) {
		t.Errorf("Entries = %v, want %v", got, want)
	}
}

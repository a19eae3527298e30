package artifacts

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	type damage struct {
		blob   string // content of a blob to flip a byte in
		entry  string // name of an entry to truncate
		remove string // content of a blob to delete
	}
	tests := []struct {
		name           string
		damage         damage
		wantCorrupt    func(c *Cache, ids map[string]ActionID) []string
		wantIncomplete []string // entry names
	}{{
		name: "healthy",
	}, {
		name:   "flipped blob byte",
		damage: damage{blob: "x"},
		wantCorrupt: func(c *Cache, _ map[string]ActionID) []string {
			return []string{c.BlobPath(NewOutputID([]byte("x")))}
		},
		wantIncomplete: []string{"a"},
	}, {
		name:   "truncated entry",
		damage: damage{entry: "b"},
		wantCorrupt: func(c *Cache, ids map[string]ActionID) []string {
			return []string{c.entryPath(ids["b"])}
		},
	}, {
		name:           "missing blob",
		damage:         damage{remove: "shared"},
		wantIncomplete: []string{"a", "b"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			ids := map[string]ActionID{}
			ids["a"], _ = putEntry(t, c, "a", "x", "shared")
			ids["b"], _ = putEntry(t, c, "b", "y", "shared")
			ids["c"], _ = putEntry(t, c, "c", "z")
			if tt.damage.blob != "" {
				flipByte(t, c.BlobPath(NewOutputID([]byte(tt.damage.blob))), -2)
			}
			if tt.damage.entry != "" {
				os.Truncate(c.entryPath(ids[tt.damage.entry]), 30)
			}
			if tt.damage.remove != "" {
				os.Remove(c.BlobPath(NewOutputID([]byte(tt.damage.remove))))
			}
			var wantCorrupt, wantIncomplete []string
			if tt.wantCorrupt != nil {
				wantCorrupt = tt.wantCorrupt(c, ids)
			}
			for _, name := range tt.wantIncomplete {
				wantIncomplete = append(wantIncomplete, c.entryPath(ids[name]))
			}
			slices.Sort(wantIncomplete)
			blobs := 7 // a key and content per entry; "shared" once
			if tt.damage.remove != "" {
				blobs--
			}

			for _, repair := range []bool{false, true} {
				rep, err := c.Verify(context.Background(), repair)
				if err != nil {
					t.Fatal(err)
				}
				want := VerifyReport{Blobs: blobs, Entries: 3, Corrupt: wantCorrupt, Incomplete: wantIncomplete}
				if repair {
					want.Removed = len(wantCorrupt) + len(wantIncomplete)
				}
				if !equalReports(rep, want) {
					t.Errorf("Verify(repair=%v) = %+v, want %+v", repair, rep, want)
				}
			}
			// After repair everything left is sound, and every
			// remaining entry is a hit.
			rep, err := c.Verify(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Corrupt)+len(rep.Incomplete) != 0 {
				t.Errorf("after repair Verify = %+v", rep)
			}
			for name, id := range ids {
				if exists(c.entryPath(id)) {
					if _, err := c.GetEntry(id); err != nil {
						t.Errorf("entry %s after repair: %v", name, err)
					}
				}
			}
		})
	}
}

func equalReports(a, b VerifyReport) bool {
	return a.Blobs == b.Blobs && a.Entries == b.Entries && a.Removed == b.Removed &&
		slices.Equal(a.Corrupt, b.Corrupt) && slices.Equal(a.Incomplete, b.Incomplete)
}

func TestVerifyCanceled(t *testing.T) {
	c := newCache(t)
	putEntry(t, c, "a", "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Verify(ctx, false); err != context.Canceled {
		t.Errorf("Verify(canceled) = %v, want context.Canceled", err)
	}
}

func TestInfo(t *testing.T) {
	c := newCache(t)
	if in, err := c.Info(); err != nil || in != (Info{}) {
		t.Errorf("empty cache Info = %+v, %v", in, err)
	}
	a, _ := putEntry(t, c, "a", "x")
	b, _ := putEntry(t, c, "b", "y", "x")
	setAge(t, c.entryPath(a), 5*time.Hour)
	setAge(t, c.entryPath(b), time.Hour)
	in, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	sizes := fileSizes(t, c)
	var blobBytes, entryBytes int64
	for p, s := range sizes {
		switch {
		case slices.Contains([]string{c.entryPath(a), c.entryPath(b)}, p):
			entryBytes += s
		default:
			blobBytes += s
		}
	}
	fa, _ := os.Stat(c.entryPath(a))
	fb, _ := os.Stat(c.entryPath(b))
	want := Info{Blobs: 4, Entries: 2, BlobBytes: blobBytes, EntryBytes: entryBytes, Oldest: fa.ModTime(), Newest: fb.ModTime()}
	if in != want {
		t.Errorf("Info = %+v, want %+v", in, want)
	}
}

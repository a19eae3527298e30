package artifacts

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// gcEntrySpec describes an entry a GC test case starts with.
type gcEntrySpec struct {
	name     string
	age      time.Duration
	contents []string
}

// big returns an incompressible content of n bytes, labelled so that it is
// distinct from other contents.
func big(label string, n int) string {
	return label + string(randomBytes(n, uint64(len(label))*7919+uint64(label[0])))
}

func TestGC(t *testing.T) {
	const hour = time.Hour
	a10k, b10k, c10k := big("a", 10000), big("b", 10000), big("c", 10000)
	tests := []struct {
		name    string
		entries []gcEntrySpec
		orphans map[string]time.Duration // unreferenced blobs and their ages
		keep    []string
		opts    GCOptions
		// Results: entries and content blobs left, and the report.
		wantEntries []string
		wantBlobs   []string
		wantGone    []string
		wantRep     GCReport
	}{{
		name:        "no limits",
		entries:     []gcEntrySpec{{"a", 48 * hour, []string{"x"}}},
		wantEntries: []string{"a"}, wantBlobs: []string{"x"},
		wantRep: GCReport{Kept: 1},
	}, {
		name:        "by age",
		entries:     []gcEntrySpec{{"a", 48 * hour, []string{"x"}}, {"b", hour, []string{"y"}}},
		opts:        GCOptions{MaxAge: 24 * hour},
		wantEntries: []string{"b"}, wantBlobs: []string{"y"}, wantGone: []string{"x"},
		wantRep: GCReport{RemovedEntries: 1, RemovedBlobs: 2, Kept: 1},
	}, {
		name:        "by age, shared blob survives",
		entries:     []gcEntrySpec{{"a", 48 * hour, []string{"s", "x"}}, {"b", hour, []string{"s"}}},
		opts:        GCOptions{MaxAge: 24 * hour},
		wantEntries: []string{"b"}, wantBlobs: []string{"s"}, wantGone: []string{"x"},
		wantRep: GCReport{RemovedEntries: 1, RemovedBlobs: 2, Kept: 1},
	}, {
		name:        "by age, keep respected",
		entries:     []gcEntrySpec{{"a", 48 * hour, []string{"x"}}, {"b", 48 * hour, []string{"y"}}},
		keep:        []string{"a"},
		opts:        GCOptions{MaxAge: 24 * hour},
		wantEntries: []string{"a"}, wantBlobs: []string{"x"}, wantGone: []string{"y"},
		wantRep: GCReport{RemovedEntries: 1, RemovedBlobs: 2, Kept: 1},
	}, {
		name:        "by size, least recently used first",
		entries:     []gcEntrySpec{{"a", 3 * hour, []string{a10k}}, {"b", 2 * hour, []string{b10k}}, {"c", hour, []string{c10k}}},
		opts:        GCOptions{MaxSize: 15000},
		wantEntries: []string{"c"}, wantBlobs: []string{c10k}, wantGone: []string{a10k, b10k},
		wantRep: GCReport{RemovedEntries: 2, RemovedBlobs: 4, Kept: 1},
	}, {
		name:        "by size, keep respected",
		entries:     []gcEntrySpec{{"a", 3 * hour, []string{a10k}}, {"b", 2 * hour, []string{b10k}}, {"c", hour, []string{c10k}}},
		keep:        []string{"a"},
		opts:        GCOptions{MaxSize: 15000},
		wantEntries: []string{"a"}, wantBlobs: []string{a10k}, wantGone: []string{b10k, c10k},
		wantRep: GCReport{RemovedEntries: 2, RemovedBlobs: 4, Kept: 1},
	}, {
		name:        "by size, everything fits",
		entries:     []gcEntrySpec{{"a", 3 * hour, []string{a10k}}, {"b", 2 * hour, []string{b10k}}},
		opts:        GCOptions{MaxSize: 1 << 20},
		wantEntries: []string{"a", "b"}, wantBlobs: []string{a10k, b10k},
		wantRep: GCReport{Kept: 2},
	}, {
		name:        "grace period protects fresh orphans",
		entries:     []gcEntrySpec{{"a", hour, []string{"x"}}},
		orphans:     map[string]time.Duration{"fresh": 0, "old": 2 * hour},
		wantEntries: []string{"a"}, wantBlobs: []string{"x", "fresh"}, wantGone: []string{"old"},
		wantRep: GCReport{RemovedBlobs: 1, Kept: 1},
	}, {
		name:      "custom grace",
		orphans:   map[string]time.Duration{"fresh": 0, "old": 2 * hour, "older": 4 * hour},
		opts:      GCOptions{Grace: 3 * hour},
		wantBlobs: []string{"fresh", "old"}, wantGone: []string{"older"},
		wantRep: GCReport{RemovedBlobs: 1},
	}, {
		name:     "no grace",
		orphans:  map[string]time.Duration{"fresh": 0, "old": 2 * hour},
		opts:     GCOptions{Grace: -1},
		wantGone: []string{"fresh", "old"},
		wantRep:  GCReport{RemovedBlobs: 2},
	}, {
		name:        "dry run removes nothing",
		entries:     []gcEntrySpec{{"a", 48 * hour, []string{"x"}}, {"b", hour, []string{"y"}}},
		orphans:     map[string]time.Duration{"old": 2 * hour},
		opts:        GCOptions{MaxAge: 24 * hour, DryRun: true},
		wantEntries: []string{"a", "b"}, wantBlobs: []string{"x", "y", "old"},
		wantRep: GCReport{RemovedEntries: 1, RemovedBlobs: 3, Kept: 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			ids := map[string]ActionID{}
			for _, e := range tt.entries {
				id, blobs := putEntry(t, c, e.name, e.contents...)
				ids[e.name] = id
				for _, b := range blobs {
					setAge(t, c.BlobPath(b), e.age+time.Minute)
				}
				setAge(t, c.entryPath(id), e.age)
			}
			for content, age := range tt.orphans {
				id, _, err := c.Put([]byte(content), Raw)
				if err != nil {
					t.Fatal(err)
				}
				setAge(t, c.BlobPath(id), age)
			}
			opts := tt.opts
			opts.Keep = map[ActionID]bool{}
			for _, name := range tt.keep {
				opts.Keep[ids[name]] = true
			}
			before := fileSizes(t, c)

			rep, err := c.GC(opts)
			if err != nil {
				t.Fatal(err)
			}
			after := fileSizes(t, c)
			var freed int64
			for p, size := range before {
				if _, ok := after[p]; !ok {
					freed += size
				}
			}
			if opts.DryRun && len(after) != len(before) {
				t.Errorf("dry run removed %d files", len(before)-len(after))
			}
			if !opts.DryRun && rep.FreedBytes != freed {
				t.Errorf("FreedBytes = %d, but removed files held %d", rep.FreedBytes, freed)
			}
			if (rep.FreedBytes > 0) != (rep.RemovedEntries+rep.RemovedBlobs > 0) {
				t.Errorf("FreedBytes = %d with %d entries and %d blobs removed", rep.FreedBytes, rep.RemovedEntries, rep.RemovedBlobs)
			}
			rep.FreedBytes = 0
			if rep != tt.wantRep {
				t.Errorf("report = %+v, want %+v", rep, tt.wantRep)
			}
			var left []string
			for name, id := range ids {
				if exists(c.entryPath(id)) {
					left = append(left, name)
				}
			}
			slices.Sort(left)
			if !slices.Equal(left, tt.wantEntries) {
				t.Errorf("entries left = %v, want %v", left, tt.wantEntries)
			}
			for _, s := range tt.wantBlobs {
				if !c.Has(NewOutputID([]byte(s))) {
					t.Errorf("blob %.10q was removed", s)
				}
			}
			for _, s := range tt.wantGone {
				if c.Has(NewOutputID([]byte(s))) {
					t.Errorf("blob %.10q was kept", s)
				}
			}
			for _, name := range left {
				if _, err := c.GetEntry(ids[name]); err != nil {
					t.Errorf("entry %s left unusable: %v", name, err)
				}
			}
		})
	}
}

// fileSizes maps every file under cas/, ac/ and tmp/ to its size.
func fileSizes(t *testing.T, c *Cache) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, sub := range []string{casDir, acDir, tmpDir} {
		filepath.WalkDir(filepath.Join(c.Dir(), sub), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				fi, _ := d.Info()
				m[p] = fi.Size()
			}
			return nil
		})
	}
	return m
}

func TestGCDebris(t *testing.T) {
	c := newCache(t)
	tmp := func(name string, age time.Duration) string {
		p := filepath.Join(c.Dir(), tmpDir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o666); err != nil {
			t.Fatal(err)
		}
		setAge(t, p, age)
		return p
	}
	oldTmp, newTmp := tmp("w-old", 48*time.Hour), tmp("w-new", time.Hour)
	lock := func(name string, age time.Duration) (string, func()) {
		id := NewKey(name).ID()
		u, err := c.Lock(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		setAge(t, c.lockPath(id), age)
		return c.lockPath(id), u
	}
	oldLock, u1 := lock("old", 48*time.Hour)
	u1()
	heldLock, u2 := lock("held", 48*time.Hour)
	defer u2()
	newLock, u3 := lock("new", time.Hour)
	u3()
	corruptID := NewKey("corrupt").ID()
	corruptPath := c.entryPath(corruptID)
	os.MkdirAll(filepath.Dir(corruptPath), 0o777)
	os.WriteFile(corruptPath, []byte("{"), 0o666)

	rep, err := c.GC(GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := GCReport{RemovedEntries: 1, RemovedTemp: 1, RemovedLocks: 1, FreedBytes: int64(len("partial") + 1)}
	if rep != want {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{oldTmp, false}, {newTmp, true},
		{oldLock, false}, {heldLock, true}, {newLock, true},
		{corruptPath, false},
	} {
		if got := exists(tt.path); got != tt.want {
			t.Errorf("%s exists = %v, want %v", tt.path, got, tt.want)
		}
	}
}

package data

import (
	"sync"
)

// memoMax is how many loaded datasets the process keeps. MNIST and Fashion-MNIST are
// about 220 MB each as float32; four covers a pipeline comparing them plus a synthetic
// set or two, and bounds what a long-running process holds.
const memoMax = 4

// derivedMax bounds the WithOptions results kept per dataset: subsets are views, but each
// standardised variant is a full copy.
const derivedMax = 8

// memoEntry is one memoised load. Its mutex is held while loading, so that two stages
// asking for MNIST at once gunzip it once, not twice into two 220 MB copies.
type memoEntry struct {
	mu      sync.Mutex
	stamp   string // what the data was loaded from: paths, sizes, mtimes
	ds      *Dataset
	derived map[Options]*Dataset // WithOptions results for ds
	used    uint64               // LRU clock
}

var memo struct {
	mu      sync.Mutex
	entries map[string]*memoEntry
	clock   uint64
}

// memoised returns the dataset cached under key if it was loaded from the same stamp,
// and otherwise calls load and caches its result. Errors are not cached: a missing file
// may appear.
func memoised(key, stamp string, load func() (*Dataset, error)) (*Dataset, error) {
	memo.mu.Lock()
	if memo.entries == nil {
		memo.entries = map[string]*memoEntry{}
	}
	e := memo.entries[key]
	if e == nil {
		e = &memoEntry{}
		memo.entries[key] = e
		for len(memo.entries) > memoMax {
			evictOldest(e)
		}
	}
	memo.clock++
	e.used = memo.clock
	memo.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ds != nil && e.stamp == stamp {
		return e.ds, nil
	}
	e.ds, e.derived, e.stamp = nil, nil, ""
	ds, err := load()
	if err != nil {
		memo.mu.Lock() // lock order: an entry's mu, then memo.mu, never the reverse
		if memo.entries[key] == e {
			delete(memo.entries, key)
		}
		memo.mu.Unlock()
		return nil, err
	}
	ds.memo = e
	e.ds, e.stamp = ds, stamp
	return ds, nil
}

// evictOldest drops the least recently used entry other than keep. Holders of its
// datasets keep them; the process just stops remembering them. memo.mu must be held.
func evictOldest(keep *memoEntry) {
	var oldKey string
	var old *memoEntry
	for k, e := range memo.entries {
		if e != keep && (old == nil || e.used < old.used) {
			oldKey, old = k, e
		}
	}
	delete(memo.entries, oldKey)
}

// derivedFor returns the memoised result of applying o to d, computing it with f on a
// miss. Datasets that did not come from the memo (or whose entry has since been
// reloaded) are derived afresh every time.
func derivedFor(d *Dataset, o Options, f func() (*Dataset, error)) (*Dataset, error) {
	e := d.memo
	if e == nil {
		return f()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ds != d {
		return f()
	}
	if r, ok := e.derived[o]; ok {
		return r, nil
	}
	r, err := f()
	if err != nil {
		return nil, err
	}
	if e.derived == nil || len(e.derived) >= derivedMax {
		e.derived = map[Options]*Dataset{} // crude, but bounded
	}
	e.derived[o] = r
	return r, nil
}

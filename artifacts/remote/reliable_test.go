package remote

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fast are options that keep these tests short: every wait is milliseconds.
func fast(warns *atomic.Int32) Options {
	return Options{
		Timeout: 100 * time.Millisecond,
		Retries: 2,
		Backoff: 5 * time.Millisecond,
		Warn:    func(error) { warns.Add(1) },
	}
}

// flaky serves one blob, answering each request with what handle says for its number
// (1-based): a status of 0 means serve the blob, a negative one that handle answered.
type flaky struct {
	data    []byte
	key     string
	handle  func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) (status int)
	release chan struct{} // closed in cleanup, ends hanging requests
	n       atomic.Int32
}

func newFlaky(t *testing.T, handle func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int) (*flaky, Store) {
	f := &flaky{handle: handle, release: make(chan struct{})}
	f.data, f.key = newBlob(t, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.n.Add(1)
		if status := f.handle(f, n, w, r); status > 0 {
			w.WriteHeader(status)
			return
		} else if status < 0 {
			return
		}
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Write(f.data)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(f.release) }) // runs first: lets hanging handlers return
	s, err := Open(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

// hang blocks a request until the client gives up or the test ends.
func (f *flaky) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.release:
	}
}

func TestReliableRetries(t *testing.T) {
	f, s := newFlaky(t, func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return 0
	})
	var warns atomic.Int32
	r := Reliable(s, fast(&warns))
	got, err := r.Get(context.Background(), CAS, f.key)
	if err != nil || !bytes.Equal(got, f.data) {
		t.Fatalf("Get: %d bytes, %v", len(got), err)
	}
	if n := f.n.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if warns.Load() != 0 {
		t.Errorf("Warn called for a store that recovered")
	}
}

// callKey tags the context of one of several concurrent calls, so that the test doubles
// below can tell their attempts and waits apart.
type callKey struct{}

// attempts counts the attempts of each tagged call (-1: untagged) as they reach the
// wrapped store.
type attempts struct {
	Store
	mu sync.Mutex
	n  map[int]int
}

func (a *attempts) count(ctx context.Context) {
	i, ok := ctx.Value(callKey{}).(int)
	if !ok {
		i = -1
	}
	a.mu.Lock()
	a.n[i]++
	a.mu.Unlock()
}

func (a *attempts) Get(ctx context.Context, area Area, key string) ([]byte, error) {
	a.count(ctx)
	return a.Store.Get(ctx, area, key)
}

func (a *attempts) Put(ctx context.Context, area Area, key string, data []byte) error {
	a.count(ctx)
	return a.Store.Put(ctx, area, key, data)
}

func (a *attempts) Has(ctx context.Context, area Area, key string) (bool, error) {
	a.count(ctx)
	return a.Store.Has(ctx, area, key)
}

// TestReliableHang: calls to a server that never answers time out on each attempt, are
// retried with exponential backoff, and give up. It counts attempts and backoff waits
// (an injected sleep records them and returns at once) instead of timing the calls.
func TestReliableHang(t *testing.T) {
	f, s := newFlaky(t, func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int {
		f.hang(r)
		return http.StatusServiceUnavailable
	})
	var warns atomic.Int32
	o := fast(&warns)
	o.Timeout = 50 * time.Millisecond
	tries := &attempts{Store: s, n: map[int]int{}}
	r := Reliable(tries, o).(*reliable)
	var mu sync.Mutex
	waits := map[int][]time.Duration{}
	r.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		i, ok := ctx.Value(callKey{}).(int)
		if !ok {
			t.Errorf("backoff of %v for an untagged call (a store marked down must not wait)", d)
		}
		waits[i] = append(waits[i], d)
		return nil
	}

	// Four calls at once hang, time out on each of their attempts, and give up: one
	// warning in all.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		ctx := context.WithValue(context.Background(), callKey{}, i)
		wg.Go(func() { _, errs[i] = r.Has(ctx, CAS, f.key) })
	}
	wg.Wait()
	for _, err := range errs {
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("hanging server: %v, want ErrUnavailable", err)
		}
	}
	if !errors.Is(errs[0], context.DeadlineExceeded) && !strings.Contains(errs[0].Error(), "no answer within") {
		t.Errorf("error does not say it timed out: %v", errs[0])
	}
	// Each call makes at most 1+Retries attempts with a backoff before each retry, the
	// n-th drawn from [Backoff·2ⁿ/2, Backoff·2ⁿ]; the call that marks the store down has
	// made them all (a timeout is transient), and the others stop early once it has.
	most := 0
	for i := range errs {
		n, w := tries.n[i], waits[i]
		if n < 1 || n > 1+o.Retries || len(w) != n-1 {
			t.Errorf("call %d: %d attempts and %d backoff waits; want 1 to %d attempts, one wait before each retry", i, n, len(w), 1+o.Retries)
		}
		for k, d := range w {
			if full := o.Backoff << k; d < full/2 || d > full {
				t.Errorf("call %d: backoff %d was %v, want %v to %v", i, k+1, d, full/2, full)
			}
		}
		most = max(most, n)
	}
	if most != 1+o.Retries {
		t.Errorf("no call made all %d attempts before the store was marked down: %v", 1+o.Retries, tries.n)
	}
	t.Logf("attempts per call %v, backoffs %v", tries.n, waits)
	if n := warns.Load(); n != 1 {
		t.Fatalf("Warn called %d times, want once", n)
	}

	// Later calls fail at once: no request, no attempt, no backoff.
	before := f.n.Load()
	ctx := context.Background() // untagged: counted under -1, and a wait fails the test
	for range 10 {
		if _, err := r.Get(ctx, CAS, f.key); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Get after down: %v", err)
		}
		if err := r.Put(ctx, AC, f.key, []byte("x")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Put after down: %v", err)
		}
	}
	if f.n.Load() != before || tries.n[-1] != 0 {
		t.Errorf("a down store got %d more requests (%d attempts)", f.n.Load()-before, tries.n[-1])
	}
	if warns.Load() != 1 {
		t.Errorf("Warn called again")
	}
}

func TestReliableCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bad      int32 // how many answers are wrong
		wantErr  bool
		requests int32
	}{
		{name: "once", bad: 1, requests: 2},
		{name: "always", bad: 99, wantErr: true, requests: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, s := newFlaky(t, func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int {
				if r.Method == http.MethodGet && n <= tc.bad {
					w.Write(f.data[:len(f.data)/2]) // a cut transfer that looks complete
					return -1
				}
				return 0
			})
			var warns atomic.Int32
			r := Reliable(s, fast(&warns))
			got, err := r.Get(context.Background(), CAS, f.key)
			if tc.wantErr {
				if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnavailable) {
					t.Fatalf("Get: %v, want ErrCorrupt", err)
				}
			} else if err != nil || !bytes.Equal(got, f.data) {
				t.Fatalf("Get: %d bytes, %v", len(got), err)
			}
			if n := f.n.Load(); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			// Not marked down: other calls go through.
			if ok, err := r.Has(context.Background(), CAS, f.key); !ok || err != nil {
				t.Fatalf("Has after a corrupt blob: %v, %v", ok, err)
			}
			if warns.Load() != 0 {
				t.Errorf("Warn called for a corrupt blob")
			}
		})
	}
}

func TestReliableNotFound(t *testing.T) {
	f, s := newFlaky(t, func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int {
		return http.StatusNotFound
	})
	var warns atomic.Int32
	r := Reliable(s, fast(&warns))
	ctx := context.Background()
	for i := range 3 {
		if _, err := r.Get(ctx, CAS, f.key); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("Get #%d: %v, want ErrNotFound", i+1, err)
		}
	}
	if ok, err := r.Has(ctx, AC, f.key); ok || err != nil {
		t.Fatalf("Has: %v, %v", ok, err)
	}
	if n := f.n.Load(); n != 4 {
		t.Errorf("%d requests for 4 calls: misses must not be retried", n)
	}
	if warns.Load() != 0 {
		t.Errorf("Warn called for misses")
	}
}

// TestReliableRefusal: a 403 is not retried, and marks the store down at once.
func TestReliableRefusal(t *testing.T) {
	f, s := newFlaky(t, func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int {
		return http.StatusForbidden
	})
	var warns atomic.Int32
	r := Reliable(s, fast(&warns))
	err := r.Put(context.Background(), CAS, f.key, f.data)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "403") {
		t.Fatalf("Put: %v", err)
	}
	if n := f.n.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if warns.Load() != 1 {
		t.Errorf("Warn called %d times", warns.Load())
	}
}

func TestReliableCooldown(t *testing.T) {
	f, s := newFlaky(t, func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int {
		return http.StatusBadGateway
	})
	var warns atomic.Int32
	o := fast(&warns)
	o.Retries = -1
	o.Cooldown = 100 * time.Millisecond
	r := Reliable(s, o).(*reliable)
	// The cooldown is read from a clock the test moves, not waited out.
	clock := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	ctx := context.Background()
	if _, err := r.Has(ctx, CAS, f.key); !errors.Is(err, ErrUnavailable) {
		t.Fatal(err)
	}
	clock = clock.Add(o.Cooldown - time.Nanosecond)
	if _, err := r.Has(ctx, CAS, f.key); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "down until 12:00:00") {
		t.Fatal(err)
	}
	if n := f.n.Load(); n != 1 {
		t.Fatalf("%d requests, want 1 (no retries, then fail fast until the cooldown ends)", n)
	}
	clock = clock.Add(time.Nanosecond)
	if _, err := r.Has(ctx, CAS, f.key); !errors.Is(err, ErrUnavailable) {
		t.Fatal(err)
	}
	if n := f.n.Load(); n != 2 {
		t.Fatalf("%d requests, want 2: the cooldown lets one call through", n)
	}
	if n := warns.Load(); n != 2 {
		t.Fatalf("Warn called %d times, want once per time down", n)
	}
}

// TestReliableCallerCancel: the caller's own cancellation is returned as such, and says
// nothing about the store.
func TestReliableCallerCancel(t *testing.T) {
	f, s := newFlaky(t, func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int {
		if n == 1 {
			f.hang(r)
		}
		return 0
	})
	var warns atomic.Int32
	o := fast(&warns)
	o.Timeout = 10 * time.Second
	r := Reliable(s, o)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := r.Get(ctx, CAS, f.key)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get with a cancelled context: %v", err)
	}
	if got, err := r.Get(context.Background(), CAS, f.key); err != nil || !bytes.Equal(got, f.data) {
		t.Fatalf("Get after the caller's timeout: %v", err)
	}
	if warns.Load() != 0 {
		t.Errorf("Warn called for the caller's timeout")
	}
}

// TestReliableBadKey: the caller's mistake is neither retried nor held against the store.
func TestReliableBadKey(t *testing.T) {
	f, s := newFlaky(t, func(f *flaky, n int32, w http.ResponseWriter, r *http.Request) int { return 0 })
	var warns atomic.Int32
	r := Reliable(s, fast(&warns))
	if _, err := r.Get(context.Background(), CAS, "nope"); !errors.Is(err, errInvalidKey) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get: %v", err)
	}
	if ok, err := r.Has(context.Background(), CAS, f.key); !ok || err != nil {
		t.Fatalf("Has: %v, %v", ok, err)
	}
	if n := f.n.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrUnavailable is wrapped by the errors of a Reliable store that has been marked down:
// the call that gave up on the store, and every call after it until the cooldown ends. A
// caller treats it as "no remote cache" and carries on without one.
var ErrUnavailable = errors.New("remote cache unavailable")

// ErrCorrupt is wrapped by the error of a Reliable Get of a CAS key whose bytes do not
// hash to the key.
var ErrCorrupt = errors.New("remote cache returned bytes that do not match their key")

// Options tune Reliable. The zero value gives the defaults.
type Options struct {
	// Timeout bounds each attempt, so that a server that accepts connections but never
	// answers costs a bounded wait rather than a hung run. Default 30 s, which lets a
	// large blob cross a slow link.
	Timeout time.Duration
	// Retries is how many times a call is tried again after a transient failure. Default
	// 3; negative means none.
	Retries int
	// Backoff is the wait before the first retry; it doubles on each further retry, and
	// each wait is drawn at random between half and all of it, so that clients that failed
	// together do not retry together. Default 200 ms.
	Backoff time.Duration
	// Cooldown is how long the store stays marked down before calls are let through
	// again. Zero means for the rest of the process: a cache that was unreachable once in
	// a run is likely to stay so, and every further attempt would cost retries and
	// timeouts.
	Cooldown time.Duration
	// Warn, if set, is told once each time the store is marked down, with an error that
	// wraps ErrUnavailable and the cause.
	Warn func(error)
}

// Reliable wraps s against faults, so that a remote cache that fails costs a warning and
// a few seconds, never a run.
//
// Each call's attempt gets Options.Timeout. A transient failure (a network error, a
// timeout, HTTP 5xx, 408 or 429) is retried after an exponential backoff with jitter. A
// call that fails for good, after its retries or at once for a refusal that retrying cannot
// change (401, 403, another 4xx, permission denied), marks the store down: its error and
// every later call's wrap ErrUnavailable, later calls without touching s, until
// Options.Cooldown has passed. Misses (ErrNotFound), invalid keys and the caller's own
// cancellation are returned as they are: they say nothing about the store's health.
//
// Get on the CAS area checks that the bytes hash to the key. On a mismatch it fetches once
// more at once, since a transfer cut short by a proxy or a full disk on the server is the
// usual cause; a second mismatch returns an error wrapping ErrCorrupt and does not mark the
// store down: one bad object does not make the rest of the cache unusable; the caller
// computes that result itself instead.
func Reliable(s Store, o Options) Store {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	return &reliable{s: s, o: o, sleep: sleepCtx, now: time.Now}
}

type reliable struct {
	s Store
	o Options
	// sleep waits out a backoff (sleepCtx) and now reads the clock for the cooldown
	// (time.Now). Tests replace them to count and check the waits, and to move the
	// clock, instead of timing calls.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time

	mu     sync.Mutex
	down   bool
	downAt time.Time
	cause  error
}

func (r *reliable) String() string { return r.s.String() }

func (r *reliable) Close() error { return r.s.Close() }

func (r *reliable) Get(ctx context.Context, area Area, key string) ([]byte, error) {
	var data []byte
	err := r.do(ctx, func(ctx context.Context) error {
		d, err := r.s.Get(ctx, area, key)
		if err != nil {
			return err
		}
		if area == CAS {
			if sum := sha256.Sum256(d); hex.EncodeToString(sum[:]) != key {
				return fmt.Errorf("%s: %s/%s: %w: got %d bytes with sha256 %x", r.s, area, key, ErrCorrupt, len(d), sum)
			}
		}
		data = d
		return nil
	})
	return data, err
}

func (r *reliable) Put(ctx context.Context, area Area, key string, data []byte) error {
	return r.do(ctx, func(ctx context.Context) error { return r.s.Put(ctx, area, key, data) })
}

func (r *reliable) Has(ctx context.Context, area Area, key string) (bool, error) {
	var ok bool
	err := r.do(ctx, func(ctx context.Context) error {
		var err error
		ok, err = r.s.Has(ctx, area, key)
		return err
	})
	return ok, err
}

// do runs f under the retry policy described at Reliable.
func (r *reliable) do(ctx context.Context, f func(context.Context) error) error {
	if err := r.available(); err != nil {
		return err
	}
	refetched := false
	for attempt := 0; ; {
		actx, cancel := context.WithTimeout(ctx, r.o.Timeout)
		err := f(actx)
		timedOut := actx.Err() == context.DeadlineExceeded
		cancel()
		switch {
		case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, errInvalidKey):
			return err
		case ctx.Err() != nil:
			return callerError(ctx, err)
		case errors.Is(err, ErrCorrupt):
			if refetched {
				return err
			}
			refetched = true
			continue
		}
		if timedOut {
			err = fmt.Errorf("%s: no answer within %v: %w", r.s, r.o.Timeout, err)
		}
		if !transient(err) || attempt >= r.o.Retries {
			r.markDown(err)
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		// Another call may have given up on the store meanwhile: stop retrying then.
		if err := r.available(); err != nil {
			return err
		}
		d := r.o.Backoff << attempt
		d = d/2 + rand.N(d/2+1)
		attempt++
		if r.sleep(ctx, d) != nil {
			return callerError(ctx, err)
		}
	}
}

// sleepCtx waits d, or until ctx is done, in which case it returns ctx's error.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// callerError makes sure an error ended by the caller's context wraps the context's error,
// so that the caller recognizes its own cancellation.
func callerError(ctx context.Context, err error) error {
	if errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w: %w", ctx.Err(), err)
}

// transient reports whether trying again may help. Refusals are not: HTTP 4xx (from the
// HTTP store, and from S3 through the AWS SDK's errors, which have the same method) and
// permission errors. Everything else (network errors, timeouts, 5xx, I/O errors) is.
func transient(err error) bool {
	// The AWS SDK wraps a failure to send in a response error of status 0: no answer.
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) && hs.HTTPStatusCode() != 0 {
		c := hs.HTTPStatusCode()
		return c >= 500 || c == 408 || c == 429
	}
	return !errors.Is(err, fs.ErrPermission)
}

// available returns nil if calls may go to the store, or the fail-fast error if it is down.
func (r *reliable) available() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.down {
		return nil
	}
	if r.o.Cooldown > 0 && r.now().Sub(r.downAt) >= r.o.Cooldown {
		r.down = false
		return nil
	}
	return fmt.Errorf("%w: %s %s: %v", ErrUnavailable, r.s, r.downFor(), r.cause)
}

func (r *reliable) downFor() string {
	if r.o.Cooldown > 0 {
		return "is down until " + r.downAt.Add(r.o.Cooldown).Format(time.TimeOnly)
	}
	return "is down for the rest of this run"
}

// markDown records that the store failed, telling Warn only on the transition, so that a
// burst of calls failing together yields one warning.
func (r *reliable) markDown(cause error) {
	r.mu.Lock()
	if r.down {
		r.mu.Unlock()
		return
	}
	r.down, r.downAt, r.cause = true, r.now(), cause
	msg := fmt.Errorf("%w: %s %s: %w", ErrUnavailable, r.s, r.downFor(), cause)
	r.mu.Unlock()
	if r.o.Warn != nil {
		r.o.Warn(msg)
	}
}

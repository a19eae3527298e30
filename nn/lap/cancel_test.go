package lap

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// countdown is a context that turns cancelled once its Err has been asked left times: a
// cancellation that arrives in the middle of a computation at a point that depends on the
// work done, not on a clock.
type countdown struct {
	context.Context
	left int
}

func (c *countdown) Err() error {
	if c.left <= 0 {
		return context.Canceled
	}
	c.left--
	return nil
}

// A cancelled context stops a solve between rows, and the Solver answers the next problem as
// a fresh one does.
func TestSolveCancel(t *testing.T) {
	const n = 64
	r := rand.New(rand.NewPCG(13, 14))
	cost := randMatrix(r, n, n, dists[0].f)
	want, wantTotal, err := Solve(context.Background(), cost, n, n, false)
	if err != nil {
		t.Fatal(err)
	}
	var s Solver
	for _, after := range []int{0, 1, n / 2, n - 1} {
		got, _, err := s.Solve(&countdown{context.Background(), after}, cost, n, n, false)
		if !errors.Is(err, context.Canceled) || got != nil {
			t.Errorf("cancelled after %d checks: got %v, %v; want nil, context.Canceled", after, got, err)
		}
		got, total, err := s.Solve(context.Background(), cost, n, n, false)
		if err != nil || !slices.Equal(got, want) || total != wantTotal {
			t.Fatalf("after a cancelled solve: got %v %v %v, want %v %v", got, total, err, want, wantTotal)
		}
	}
	// The transposed path (rows > cols) is cancelled the same way.
	if _, _, err := s.Solve(&countdown{context.Background(), 3}, cost, n, n/2, true); !errors.Is(err, context.Canceled) {
		t.Errorf("rows > cols: got %v, want context.Canceled", err)
	}
}

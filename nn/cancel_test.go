package nn

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
)

// countdown is a context that turns cancelled once its Err has been asked left times: a
// cancellation in the middle of a computation, at a point set by the work done rather than
// by a clock. It is safe for the concurrent checks of evaluation's workers.
type countdown struct {
	context.Context
	left atomic.Int64
}

func after(checks int) *countdown {
	c := &countdown{Context: context.Background()}
	c.left.Store(int64(checks))
	return c
}

func (c *countdown) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// Evaluation stops between chunks of examples, with either number of workers, and gives the
// same figures as before when it is not cancelled.
func TestEvaluateCancel(t *testing.T) {
	d := synthetic(t) // 2,000 training examples: two chunks
	net, _ := Init(smallConfig().Arch, "pytorch", 1)
	for _, workers := range []int{1, 2} {
		loss, acc, err := evaluate(context.Background(), net, d.Train, 0, blas.Gonum(), workers, nil)
		if err != nil || loss <= 0 || acc < 0 || acc > 1 {
			t.Fatalf("%d workers: got %g, %g, %v; want a loss, an accuracy and no error", workers, loss, acc, err)
		}
		if _, _, err := evaluate(after(1), net, d.Train, 0, blas.Gonum(), workers, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("%d workers, cancelled after the first chunk: got %v, want context.Canceled", workers, err)
		}
	}
}

// A curve stops between its points and within them, and reports each point it measured.
func TestCurveCancel(t *testing.T) {
	d := synthetic(t)
	a, _ := Init(smallConfig().Arch, "pytorch", 1)
	b, _ := Init(smallConfig().Arch, "pytorch", 2)
	for _, checks := range []int{0, 1, 7} {
		done := 0
		pts, err := Curve(after(checks), a, b, Alphas(25), d.Train, d.Test, 0, blas.Gonum(), func(n int) { done = n })
		if !errors.Is(err, context.Canceled) || pts != nil {
			t.Errorf("cancelled after %d checks: got %d points, %v; want none, context.Canceled", checks, len(pts), err)
		}
		if done >= 25 {
			t.Errorf("cancelled after %d checks: %d points reported done, want fewer than 25", checks, done)
		}
	}
}

// A run cancelled at its last step stops in the evaluation that follows it rather than
// returning a finished run: evaluating a large test set can take longer than a step.
func TestTrainCancelInEvaluation(t *testing.T) {
	d := synthetic(t)
	cfg := smallConfig()
	cfg.Epochs = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.Progress = func(p Progress) {
		if p.Step == p.Steps {
			cancel()
		}
	}
	if res, err := Train(ctx, cfg, d.Train, d.Test); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, %v; want context.Canceled", res, err)
	}
}

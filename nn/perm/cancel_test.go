package perm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/modulo-ml/modulo/nn"
)

// countdown is a context that turns cancelled once its Err has been asked left times: a
// cancellation in the middle of a computation, at a point set by the work done rather than
// by a clock.
type countdown struct {
	context.Context
	left int
}

func after(checks int) *countdown { return &countdown{context.Background(), checks} }

func (c *countdown) Err() error {
	if c.left <= 0 {
		return context.Canceled
	}
	c.left--
	return nil
}

// Both matchings stop wherever the cancellation arrives: before the first products, between
// groups or batches, and inside an assignment (the checks of lap.Solve are among those
// counted); the error wraps context.Canceled.
func TestMatchCancel(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 9, Hidden: []int{40, 40, 40}, Output: 4, Activation: "relu", Bias: true}
	x, y := randomNet(t, a, 1), randomNet(t, a, 2)
	in := randomInputs(300, a.Input, 3)
	for _, checks := range []int{0, 1, 3, 10, 60} {
		if _, err := WeightMatch(after(checks), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol}); !errors.Is(err, context.Canceled) {
			t.Errorf("weight matching cancelled after %d checks: got %v, want context.Canceled", checks, err)
		}
		if _, err := ActivationMatch(after(checks), x, y, in, 300, AMOptions{Kernel: "linear", Batch: 100}); !errors.Is(err, context.Canceled) {
			t.Errorf("activation matching cancelled after %d checks: got %v, want context.Canceled", checks, err)
		}
	}
}

// Progress sees every sweep of weight matching, and every batch then every layer of
// activation matching, in order.
func TestMatchProgress(t *testing.T) {
	a := nn.Arch{Kind: "mlp", Input: 9, Hidden: []int{12, 7, 10}, Output: 4, Activation: "relu", Bias: true}
	x, y := randomNet(t, a, 1), randomNet(t, a, 2)
	var sweeps []int
	var last float64
	res, err := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Progress: func(s int, gain float64) { sweeps, last = append(sweeps, s), gain }})
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for s := range res.Sweeps {
		want = append(want, s+1)
	}
	if !slices.Equal(sweeps, want) || last > 1e-12 {
		t.Errorf("weight matching reported sweeps %v ending with gain %g, want %v ending with none", sweeps, last, want)
	}

	var got []string
	report := func(unit string, done, total int) { got = append(got, fmt.Sprintf("%s %d/%d", unit, done, total)) }
	if _, err := ActivationMatch(context.Background(), x, y, randomInputs(250, a.Input, 3), 250, AMOptions{Kernel: "linear", Batch: 100, Progress: report}); err != nil {
		t.Fatal(err)
	}
	wantAM := []string{"example 100/250", "example 200/250", "example 250/250", "layer 1/3", "layer 2/3", "layer 3/3"}
	if !slices.Equal(got, wantAM) {
		t.Errorf("activation matching reported %q, want %q", got, wantAM)
	}
}

package nn

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate of every step: a linear warmup from LR/Warmup to LR over
// Warmup steps, then one of
//
//   - "constant": LR;
//   - "step": LR·Gamma^k after the k-th milestone (steps, ascending);
//   - "cosine": LR·½(1+cos(π·t)), t = (step−Warmup)/(Total−Warmup), as CosineAnnealingLR;
//   - "linear": LR·(1−t), reaching zero one step after the last.
type Schedule struct {
	LR         float64
	Kind       string
	Warmup     int
	Milestones []int
	Gamma      float64
	Total      int // steps in the whole run
}

// Schedules lists the schedule kinds.
var Schedules = []string{"constant", "step", "cosine", "linear"}

// Validate reports a schedule that cannot work.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "constant", "step", "cosine", "linear":
	default:
		return fmt.Errorf("unknown schedule %q; the schedules are: constant, step, cosine, linear", s.Kind)
	}
	if !(s.LR > 0) || math.IsInf(s.LR, 0) {
		return fmt.Errorf("learning rate %g must be positive", s.LR)
	}
	if s.Warmup < 0 || (s.Total > 0 && s.Warmup > s.Total) {
		return fmt.Errorf("warmup of %d steps does not fit in a run of %d steps", s.Warmup, s.Total)
	}
	for i, m := range s.Milestones {
		if m < 0 || (i > 0 && m <= s.Milestones[i-1]) {
			return fmt.Errorf("milestones must be ascending and non-negative, got %v", s.Milestones)
		}
	}
	return nil
}

// At returns the learning rate of step (0-based).
func (s Schedule) At(step int) float64 {
	if step < s.Warmup {
		return s.LR * float64(step+1) / float64(s.Warmup)
	}
	span := s.Total - s.Warmup
	t := 0.0
	if span > 0 {
		t = float64(step-s.Warmup) / float64(span)
	}
	switch s.Kind {
	case "step":
		lr := s.LR
		for _, m := range s.Milestones {
			if step >= m {
				lr *= s.Gamma
			}
		}
		return lr
	case "cosine":
		return s.LR * 0.5 * (1 + math.Cos(math.Pi*t))
	case "linear":
		return s.LR * (1 - t)
	}
	return s.LR
}

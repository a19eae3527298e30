package nn

import (
	"testing"
	"time"

	"github.com/modulo-ml/modulo/internal/safego"
)

// TestCrewRunsBothParts: every run calls both parts once, on two goroutines, whether the
// helper was yielding or had parked (a pause longer than crewSpin), and run returns only
// once both are done.
func TestCrewRunsBothParts(t *testing.T) {
	c := newCrew()
	defer c.close()
	var counts [2]int
	for i := range 300 {
		if i%50 == 0 {
			time.Sleep(5 * crewSpin) // let the helper park
		}
		var gotHelper bool
		c.run(func(part int) {
			counts[part]++
			if part == 1 {
				gotHelper = true
			}
		})
		if !gotHelper {
			t.Fatalf("run %d returned before the helper's part", i)
		}
	}
	if counts != [2]int{300, 300} {
		t.Errorf("parts ran %v times, want 300 each", counts)
	}
}

// TestCrewWaitTimer: with WaitTimer set, each run reports how long the part that finished
// first waited, here the main part for a helper part 2 ms longer.
func TestCrewWaitTimer(t *testing.T) {
	var waits []time.Duration
	WaitTimer = func(d time.Duration) { waits = append(waits, d) }
	defer func() { WaitTimer = nil }()
	c := newCrew()
	defer c.close()
	for range 3 {
		c.run(func(part int) {
			if part == 1 {
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	if len(waits) != 3 {
		t.Fatalf("%d waits reported for 3 runs", len(waits))
	}
	for i, w := range waits {
		if w < time.Millisecond || w > time.Second {
			t.Errorf("run %d: the main part waited %v for a part 2 ms longer", i, w)
		}
	}
}

// A panic in the helper's part comes back to the caller of run, where the engine recovers
// it into a failed node, instead of crashing the process from the helper goroutine.
func TestCrewPanicReachesCaller(t *testing.T) {
	c := newCrew()
	defer c.close()
	defer func() {
		if _, ok := recover().(*safego.Panic); !ok {
			t.Error("run did not re-raise the helper's panic as a *safego.Panic")
		}
	}()
	c.run(func(part int) {
		if part == 1 {
			panic("helper bug")
		}
	})
	t.Error("run returned after the helper panicked")
}

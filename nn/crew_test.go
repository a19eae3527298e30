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

// TestCrewWaitTimer: with WaitTimer set, each run reports how long its cores idled, here
// at least the main part's wait for a helper part 2 ms longer, and with the helper's part
// the shorter, at least the helper's wait for a main part 2 ms longer.
func TestCrewWaitTimer(t *testing.T) {
	var waits []time.Duration
	WaitTimer = func(d time.Duration) { waits = append(waits, d) }
	defer func() { WaitTimer = nil }()
	c := newCrew()
	defer c.close()
	for i := range 4 {
		c.run(func(part int) {
			if part == i%2 {
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	if len(waits) != 4 {
		t.Fatalf("%d waits reported for 4 runs", len(waits))
	}
	for i, w := range waits {
		if w < 2*time.Millisecond || w > time.Second {
			t.Errorf("run %d: the cores idled %v beside a part 2 ms longer than the other", i, w)
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

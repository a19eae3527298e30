package nn

import (
	"testing"
	"time"
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

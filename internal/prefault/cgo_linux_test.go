//go:build cgo

package prefault

import "testing"

// TestExecutablePopulated checks that the constructor ran before the program and populated
// the test binary's segments: its code, read-only data and data, three at least.
func TestExecutablePopulated(t *testing.T) {
	if n := populatedSegments(); n < 3 {
		t.Errorf("the constructor populated %d segments of the executable; want 3 or more", n)
	}
}

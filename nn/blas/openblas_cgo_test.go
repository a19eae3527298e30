//go:build cgo && linux

package blas

import (
	"sync"
	"testing"
)

// TestOpenBLASStaysSingleThreaded: loading sets OpenBLAS's process-wide thread
// count to one, and no handle, whatever its threads, changes it afterwards.
func TestOpenBLASStaysSingleThreaded(t *testing.T) {
	ob, err := openBLAS()
	if err != nil {
		t.Skipf("OpenBLAS not loaded: %v", err)
	}
	if got := libThreads(); got != 1 {
		t.Fatalf("after loading, OpenBLAS has %d threads, want 1", got)
	}
	o := cutCases[0].operands(1)
	var wg sync.WaitGroup
	for _, threads := range []int{1, 2, 4} {
		wg.Go(func() { cutCases[0].run(ob.WithThreads(threads), o) })
	}
	wg.Wait()
	if got := libThreads(); got != 1 {
		t.Errorf("after GEMMs on handles of 1, 2 and 4 threads, OpenBLAS has %d threads, want 1", got)
	}
}

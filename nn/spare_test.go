package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestSparePNests(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	r1 := holdSpareP()
	if got := runtime.GOMAXPROCS(0); got != base+1 {
		t.Fatalf("GOMAXPROCS during a hold = %d, want %d", got, base+1)
	}
	r2 := holdSpareP()
	if got := runtime.GOMAXPROCS(0); got != base+1 {
		t.Fatalf("GOMAXPROCS during two holds = %d, want %d (one spare P, not one per hold)", got, base+1)
	}
	r1()
	r1() // a second release of the same hold does nothing
	if got := runtime.GOMAXPROCS(0); got != base+1 {
		t.Fatalf("GOMAXPROCS after releasing one of two holds = %d, want %d", got, base+1)
	}
	r2()
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS after the last release = %d, want %d", got, base)
	}
}

// TestSparePConcurrent: holds taken and released from many goroutines at once (nodes
// training side by side) leave GOMAXPROCS as it was, and never raise it by more than one.
func TestSparePConcurrent(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var over atomic.Int32
	for range 8 {
		wg.Go(func() {
			for range 100 {
				release := holdSpareP()
				if runtime.GOMAXPROCS(0) != base+1 {
					over.Add(1)
				}
				release()
			}
		})
	}
	wg.Wait()
	if n := over.Load(); n > 0 {
		t.Errorf("%d holds saw GOMAXPROCS other than %d", n, base+1)
	}
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS after every hold was released = %d, want %d", got, base)
	}
}

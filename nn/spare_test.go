package nn

import (
	"runtime"
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

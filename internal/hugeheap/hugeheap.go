// Package hugeheap asks Linux to back the heap a command is about to grow with transparent
// huge pages.
//
// A process pays for every page it touches for the first time with a fault, and on a virtual
// machine a fault costs far more than on bare metal: 10 µs for each 4 KiB page on the 2-core
// VMs modulo is developed on (a C loop touching 128 MiB: 10.2 µs a page; 6.5 µs a 4 KiB page's
// worth in 2 MiB pages). `modulo plan` of 10,000 nodes touches about 100 MiB of heap: 25,000
// faults, most of its 0.4 s. The Go runtime no longer asks for huge pages (Go 1.21.0 did, and
// stopped: a long-running server's heap could bloat), and most distributions set transparent
// huge pages to "madvise", where only ranges a process advises get them.
//
// Advise allocates a large object, which the runtime places on pages it maps for it (fresh,
// so never written: a new mapping is known to be zero), advises that range, and collects the
// object, so that the heap grows into the advised pages. Measured on `modulo plan` of 10,000
// nodes (scripts/bench-plan.sh, AMD EPYC, 2 cores, VM): 25,000 faults → 2,600 and about 45
// huge pages; median of nine runs 410 ms → 230–275 ms. Huge pages can only add to the
// resident size what a 2 MiB page holds beyond what was touched, and only inside the advised
// range; a command that touches a few scattered MiB pays more for 2 MiB pages than for the
// 4 KiB ones it needs, so callers advise only before building a large heap.
package hugeheap

import (
	"os"
	"strings"
	"sync"
)

var once sync.Once

// Advise maps size bytes of heap and advises Linux to back them with huge pages, once per
// process (later calls do nothing, so that a test process calling the command many times
// maps it once); elsewhere than Linux it does nothing. It is best-effort: the error says why
// the advice was refused (a kernel without transparent huge pages), and nothing else
// changes. GODEBUG=disablethp=1, the Go runtime's own switch against huge pages, turns it
// off.
func Advise(size int) error {
	if strings.Contains(os.Getenv("GODEBUG"), "disablethp=1") {
		return nil
	}
	var err error
	once.Do(func() { err = advise(size) })
	return err
}

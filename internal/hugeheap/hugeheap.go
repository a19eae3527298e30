// Package hugeheap asks Linux to back the heap a command is about to grow, or one large
// array, with transparent huge pages.
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
//
// The ballast is the runtime's to place: when it starts on pages the heap used before, the
// runtime clears the whole object, touching every page (a 1 GiB ballast in a test process
// took 3.1–4.2 s in four of some thirty starts). Slice advises one large array instead, with
// no ballast: the way for a dataset's hundreds of MB, which Advise's 128 MiB could not hold.
package hugeheap

import (
	"os"
	"strings"
	"sync"
	"unsafe"
)

var once sync.Once

// Advise maps size bytes of heap and advises Linux to back them with huge pages, once per
// process (later calls do nothing, so that a test process calling the command many times
// maps it once); elsewhere than Linux it does nothing. It is best-effort: the error says why
// the advice was refused (a kernel without transparent huge pages), and nothing else
// changes. GODEBUG=disablethp=1, the Go runtime's own switch against huge pages, turns it
// off.
func Advise(size int) error {
	if disabled() {
		return nil
	}
	var err error
	once.Do(func() { err = advise(size) })
	return err
}

// disabled reports GODEBUG=disablethp=1, the Go runtime's own switch against huge pages.
func disabled() bool { return strings.Contains(os.Getenv("GODEBUG"), "disablethp=1") }

// minSlice is the size from which Slice advises: a slice this large holds at least three
// whole huge pages, and the advice splits the heap's mapping in up to three, so it is kept
// for the few arrays of a process that are this large (a dataset's pixels, say).
const minSlice = 8 << 20

// Slice returns make([]T, n) with the whole huge pages inside it advised for transparent
// huge pages, when it is at least minSlice bytes. A large allocation lies on pages the
// runtime maps for it and does not clear when they are fresh (a new mapping is zero), so
// the advice comes before their first touch and Linux backs them with 2 MiB pages: one
// fault for 512 pages' worth. On the 2-core VMs modulo is developed on, filling 188 MB (the
// float32 pixels of MNIST's training set) took 650 ms in 4 KiB pages (46,000 faults at
// 12 µs, most of loading MNIST) and 14–35 ms advised, 425 ms when Linux first had to
// compact memory to find free 2 MiB pages. If the runtime did clear the pages (it reuses
// freed memory), they are already backed and the advice changes nothing but the pages'
// later reuse: the slice never costs more than make's. Unlike Advise there is no ballast,
// so nothing else the process allocates is affected. Best-effort and off with
// GODEBUG=disablethp=1, like Advise.
func Slice[T any](n int) []T {
	s := make([]T, n)
	var zero T
	size := uintptr(n) * unsafe.Sizeof(zero)
	if size < minSlice || disabled() {
		return s
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	_ = adviseSlice((start+hugePage-1)&^(hugePage-1), (start+size)&^(hugePage-1))
	return s
}

// adviseSlice is adviseRange, but for the tests that check which ranges Slice advises.
var adviseSlice = adviseRange

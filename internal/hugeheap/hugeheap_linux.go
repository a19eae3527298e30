package hugeheap

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on amd64 and arm64 with 4 KiB pages.
const hugePage = 2 << 20

func advise(size int) error {
	lo, hi := advisable(size)
	return adviseRange(lo, hi)
}

// adviseRange advises the huge-page-aligned range [lo, hi).
func adviseRange(lo, hi uintptr) error {
	if hi <= lo {
		return nil
	}
	// The range is memory the runtime has mapped and holds no Go object: a plain system
	// call, since unix.Madvise takes a slice, which would need a pointer made from an integer.
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_HUGEPAGE); errno != 0 {
		return errno
	}
	return nil
}

// advisable allocates the ballast of size bytes, collects it and returns the whole huge
// pages it lay on: the range to advise. The collection comes first, while the heap is small,
// so that the pacer's goal is set by the command's own heap, not by a ballast it saw live;
// the range stays mapped (the runtime keeps what it maps, and returns memory to Linux only
// page by page, which keeps the advice).
func advisable(size int) (lo, hi uintptr) {
	ballast := make([]byte, size)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(ballast)))
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	return (start + hugePage - 1) &^ (hugePage - 1), (start + uintptr(size)) &^ (hugePage - 1)
}

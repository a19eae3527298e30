package prefault

import (
	"bytes"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

// heapAhead is how much of the heap, from a new object on, Heap populates: `modulo version`
// faulted about 540 heap pages spread over 3.3 MB during initialisation; populating 4 MB
// costs about 0.8 ms on the VM described in doc.go.
const heapAhead = 4 << 20

// first is the object whose address says where the heap is growing (Heap's latest).
var first *[64]byte

// mapsBuf holds /proc/self/maps while Heap reads it: a package variable, since an array
// this large on the stack would make the runtime grow the stack (fresh pages, faulted).
// mu guards it and the variables below, for Heap called from several goroutines.
var (
	mu      sync.Mutex
	mapsBuf [32 << 10]byte
)

// heapStart and heapEnd are the range Heap last populated (for the tests; zero when none).
var heapStart, heapEnd uintptr

// smallAnon is the size up to which Heap populates a private anonymous read-write mapping
// whole: the Go runtime's own metadata (span sets, stack pools, arena indexes) and the C
// library's per-thread malloc arenas, of which a command touches much at once. Larger
// ones, thread stacks of 8 MiB and the data segment's 35 MiB of mostly untouched bss,
// are left to fault.
const smallAnon = 2 << 20

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which package syscall does not name.
const madvPopulateWrite = 23

func init() { Heap() }

// Heap populates up to heapAhead of the heap mapping from a new object on, the heap the
// program is about to grow into, and every private anonymous read-write mapping of at most
// smallAnon. The package's initialiser calls it; a command calls it again first thing in
// main, for the allocations that follow the other initialisers (which often fill the heap
// mapping init saw, so that the runtime maps more). What each part saves: the package doc.
func Heap() {
	mu.Lock()
	defer mu.Unlock()
	first = new([64]byte)
	p := uintptr(unsafe.Pointer(first))
	fd, err := syscall.Open("/proc/self/maps", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	// A read of /proc/self/maps returns a page of it at most: read on to the end (or as much
	// as mapsBuf holds).
	n := 0
	for n < len(mapsBuf) {
		k, err := syscall.Read(fd, mapsBuf[n:])
		if err != nil || k <= 0 {
			break
		}
		n += k
	}
	syscall.Close(fd)
	for line := range bytes.Lines(mapsBuf[:n]) {
		m, ok := parseMapping(line)
		switch {
		case !ok:
		case m.lo <= p && p < m.hi:
			start := p &^ (pageSize - 1)
			end := min(m.hi, start+heapAhead)
			if populate(start, end) {
				heapStart, heapEnd = start, end
			}
		case m.anon && m.perms == [4]byte{'r', 'w', '-', 'p'} && m.hi-m.lo <= smallAnon:
			populate(m.lo, m.hi)
		}
	}
}

// populate advises MADV_POPULATE_WRITE on [lo, hi) and reports whether Linux took it. The
// range is memory mapped read-write and private: populating it changes no byte (a page not
// yet present becomes the zero page a first touch would have found). A plain system call,
// since the range is not a Go object.
func populate(lo, hi uintptr) bool {
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvPopulateWrite)
	return errno == 0
}

// pageSize is the system's page size, which madvise's ranges start on (4 KiB on amd64, up
// to 64 KiB on arm64 kernels), as the C constructor's getpagesize.
var pageSize = uintptr(syscall.Getpagesize())

// A mapping is one line of /proc/self/maps.
type mapping struct {
	lo, hi uintptr
	perms  [4]byte // as "rw-p"
	anon   bool    // no file and no name ([stack], [heap], [vdso] have names)
}

// parseMapping reads a line of /proc/self/maps: "lo-hi perms offset dev inode [path]".
func parseMapping(line []byte) (mapping, bool) {
	f := bytes.Fields(line)
	if len(f) < 5 {
		return mapping{}, false
	}
	dash := bytes.IndexByte(f[0], '-')
	if dash <= 0 {
		return mapping{}, false
	}
	lo, errl := strconv.ParseUint(string(f[0][:dash]), 16, 64)
	hi, errh := strconv.ParseUint(string(f[0][dash+1:]), 16, 64)
	if errl != nil || errh != nil || hi <= lo {
		return mapping{}, false
	}
	m := mapping{lo: uintptr(lo), hi: uintptr(hi), anon: len(f) == 5 && bytes.Equal(f[4], []byte("0"))}
	copy(m.perms[:], f[1])
	return m, true
}

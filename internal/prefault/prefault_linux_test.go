package prefault

import (
	"syscall"
	"testing"
	"unsafe"
)

func TestParseMapping(t *testing.T) {
	for _, tc := range []struct {
		line string
		want mapping
		ok   bool
	}{
		{"00400000-00402000 r--p 00000000 fd:01 123 /bin/modulo\n", mapping{0x400000, 0x402000, [4]byte{'r', '-', '-', 'p'}, false}, true},
		{"c000000000-c000400000 rw-p 00000000 00:00 0 \n", mapping{0xc000000000, 0xc000400000, [4]byte{'r', 'w', '-', 'p'}, true}, true},
		{"7ffd1000-7ffd3000 rw-p 00000000 00:00 0                          [stack]", mapping{0x7ffd1000, 0x7ffd3000, [4]byte{'r', 'w', '-', 'p'}, false}, true},
		{"7f0000000000-7f0000021000 ---p 00000000 00:00 0", mapping{0x7f0000000000, 0x7f0000021000, [4]byte{'-', '-', '-', 'p'}, true}, true},
		{"7f00-7f10 rw-s 00000000 00:01 77 /dev/zero (deleted)", mapping{0x7f00, 0x7f10, [4]byte{'r', 'w', '-', 's'}, false}, true},
		{"zz000000-c000400000 rw-p 00000000 00:00 0", mapping{}, false},
		{"c000400000-c000000000 rw-p 00000000 00:00 0", mapping{}, false}, // hi below lo
		{"c000000000 rw-p 00000000 00:00 0", mapping{}, false},
		{"-c000000000 rw-p 00000000 00:00 0", mapping{}, false},
		{"c000000000-c000400000 rw-p", mapping{}, false},
		{"", mapping{}, false},
	} {
		got, ok := parseMapping([]byte(tc.line))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseMapping(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

// TestSmallAnonPopulated checks that Heap populates a small private anonymous mapping it
// did not make: one mapped here and never touched, between two inaccessible pages so that
// Linux cannot merge it with a neighbour into a mapping too large for Heap.
func TestSmallAnonPopulated(t *testing.T) {
	const size = 64 << 10
	page := int(pageSize)
	all, err := syscall.Mmap(-1, 0, size+2*page, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(all)
	b := all[page : page+size]
	if err := syscall.Mprotect(b, syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
		t.Fatal(err)
	}
	addr := uintptr(unsafe.Pointer(&b[0]))
	if r := resident(t, addr, size); r != 0 {
		t.Fatalf("%d pages of a fresh mapping resident before Heap", r)
	}
	Heap()
	if heapEnd == 0 {
		t.Skip("the kernel refused MADV_POPULATE_WRITE (before Linux 5.14?)")
	}
	if r := resident(t, addr, size); r != size/page {
		t.Errorf("%d of %d pages of a small anonymous mapping resident after Heap; want all", r, size/page)
	}
}

// resident counts the resident pages of the size bytes at addr (mincore).
func resident(t *testing.T, addr, size uintptr) int {
	vec := make([]byte, (size+pageSize-1)/pageSize)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, addr, size, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestHeapPopulated checks that the heap Heap advises is resident right after: the test
// allocates nothing in between, and the range runs ahead of what the heap has used, so
// without the advice most of it would not be.
func TestHeapPopulated(t *testing.T) {
	Heap()
	if heapEnd == 0 {
		t.Skip("the kernel refused MADV_POPULATE_WRITE (before Linux 5.14?)")
	}
	n := int((heapEnd - heapStart) / pageSize)
	if r := resident(t, heapStart, heapEnd-heapStart); r != n {
		t.Errorf("%d of the %d heap pages Heap populated are resident; want all", r, n)
	}
}

package prefault

import (
	"syscall"
	"testing"
	"unsafe"
)

func TestMappingOf(t *testing.T) {
	maps := []byte(`00400000-00402000 r--p 00000000 fd:01 123 /bin/modulo
00402000-00d52000 r-xp 00002000 fd:01 123 /bin/modulo
garbage line
zz000000-c000400000 rw-p 00000000 00:00 0
c000000000-c000400000 rw-p 00000000 00:00 0
7ffd1000-7ffd3000 rw-p 00000000 00:00 0                          [stack]
7ffd3000-7ffd5000 r--p 00000000 00:00 0`) // no final newline
	for _, tc := range []struct {
		p      uintptr
		lo, hi uintptr
		ok     bool
	}{
		{0x400000, 0x400000, 0x402000, true},
		{0x401fff, 0x400000, 0x402000, true},
		{0x402000, 0x402000, 0xd52000, true},
		{0xc000123456, 0xc000000000, 0xc000400000, true},
		{0xc000400000, 0, 0, false},
		{0x7ffd4000, 0x7ffd3000, 0x7ffd5000, true},
		{0x3fffff, 0, 0, false},
	} {
		lo, hi, ok := mappingOf(maps, tc.p)
		if lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("mappingOf(%#x) = %#x, %#x, %v; want %#x, %#x, %v", tc.p, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

func TestParseHex(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uintptr
		ok   bool
	}{
		{"0", 0, true},
		{"c000400000", 0xc000400000, true},
		{"ffffffffffffffff", ^uintptr(0), true},
		{"1ffffffffffffffff", 0, false},
		{"", 0, false},
		{"C0", 0, false},
		{"12 ", 0, false},
	} {
		got, ok := parseHex([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseHex(%q) = %#x, %v; want %#x, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestHeapPopulated checks that the heap init advised is resident: the test process has
// allocated far less than heapAhead when it runs, so without the advice most of the range
// would not be.
func TestHeapPopulated(t *testing.T) {
	if heapEnd == 0 {
		t.Skip("the kernel refused MADV_POPULATE_WRITE (before Linux 5.14?)")
	}
	if heapEnd-heapStart < 64<<10 {
		t.Fatalf("populated only %d bytes of heap", heapEnd-heapStart)
	}
	n := (heapEnd - heapStart) / pageSize
	vec := make([]byte, n)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, heapStart, heapEnd-heapStart, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	missing := 0
	for _, v := range vec {
		if v&1 == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the %d pages populated at init are not resident", missing, n)
	}
}

package hugeheap

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAdviseMarksTheRange checks that the range Advise picks is most of the ballast, in
// whole huge pages, and that Linux records the advice on it (VmFlags "hg" in smaps).
func TestAdviseMarksTheRange(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("this kernel has no transparent huge pages")
	}
	const size = 16 << 20
	lo, hi := advisable(size)
	if lo%hugePage != 0 || hi%hugePage != 0 || hi-lo < size-2*hugePage {
		t.Fatalf("range [%#x, %#x) of a %d-byte ballast: want whole huge pages, at least %d bytes", lo, hi, size, size-2*hugePage)
	}
	if err := adviseRange(lo, hi); err != nil {
		t.Fatalf("madvise: %v", err)
	}
	checkMarked(t, lo, hi)
}

// checkMarked fails t unless the whole of [lo, hi) lies in mappings Linux marks as advised
// for huge pages.
func checkMarked(t *testing.T, lo, hi uintptr) {
	t.Helper()
	covered := uintptr(0)
	for _, m := range mappings(t) {
		if m.hg && m.start < hi && m.end > lo {
			covered += min(m.end, hi) - max(m.start, lo)
		}
	}
	if covered != hi-lo {
		t.Fatalf("%d of the %d bytes advised are in mappings marked for huge pages", covered, hi-lo)
	}
}

// TestAdviseOffAllocatesNothing: with the Go runtime's own switch against huge pages set,
// Advise does not even allocate its ballast.
func TestAdviseOffAllocatesNothing(t *testing.T) {
	t.Setenv("GODEBUG", "disablethp=1")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := Advise(64 << 20); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d >= 1<<20 {
		t.Fatalf("Advise allocated %d bytes with disablethp=1", d)
	}
}

type mapping struct {
	start, end uintptr
	hg         bool
}

// mappings reads the process's mappings and whether each is advised for huge pages.
func mappings(t *testing.T) []mapping {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var ms []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && len(ms) > 0 {
			ms[len(ms)-1].hg = strings.Contains(" "+flags+" ", " hg ")
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 5 || strings.HasSuffix(fields[0], ":") {
			continue
		}
		a, b, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		s, err1 := strconv.ParseUint(a, 16, 64)
		e, err2 := strconv.ParseUint(b, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ms = append(ms, mapping{start: uintptr(s), end: uintptr(e)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestSlice checks that Slice advises exactly the whole huge pages inside a slice of at
// least minSlice bytes, and that Linux records the advice there; and that it advises
// nothing for a smaller slice or with GODEBUG=disablethp=1.
func TestSlice(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("this kernel has no transparent huge pages")
	}
	for _, c := range []struct {
		name    string
		n       int // float32s
		godebug string
		advised bool
	}{
		{"large", 47_040_000, "", true}, // MNIST's training pixels
		{"threshold", minSlice / 4, "", true},
		{"below the threshold", minSlice/4 - 1, "", false},
		{"large, disablethp=1", 47_040_000, "disablethp=1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GODEBUG", c.godebug)
			var got [][2]uintptr
			adviseSlice = func(lo, hi uintptr) error {
				got = append(got, [2]uintptr{lo, hi})
				return adviseRange(lo, hi)
			}
			defer func() { adviseSlice = adviseRange }()
			s := Slice[float32](c.n)
			if len(s) != c.n {
				t.Fatalf("len %d, want %d", len(s), c.n)
			}
			if !c.advised {
				if len(got) > 0 {
					t.Fatalf("advised %#x-%#x", got[0][0], got[0][1])
				}
				return
			}
			start := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
			end := start + uintptr(4*c.n)
			lo, hi := (start+hugePage-1)&^(hugePage-1), end&^(hugePage-1)
			if len(got) != 1 || got[0] != [2]uintptr{lo, hi} {
				t.Fatalf("advised %#x, want the whole huge pages inside [%#x, %#x): [%#x, %#x)", got, start, end, lo, hi)
			}
			checkMarked(t, lo, hi)
			runtime.KeepAlive(s)
		})
	}
}

package kinds

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// memoryBudget is the most memory a configuration may ask for: the machine's physical
// memory (MemTotal), or MODULO_MEMORY (bytes, or with a KB/MB/GB/TB suffix) when set, for a
// node that will run on a bigger machine than the one that validates it. A configuration
// whose estimate exceeds it is refused at validate time with the estimate, rather than left
// to grow until the kernel kills it hours into a run.
var memoryBudget = sync.OnceValue(func() int64 {
	if s := os.Getenv("MODULO_MEMORY"); s != "" {
		if n, err := parseBytes(s); err == nil && n > 0 {
			return n
		}
	}
	if n := memTotal(); n > 0 {
		return n
	}
	return 1 << 50 // unknown: do not refuse anything
})

// memTotal reads MemTotal from /proc/meminfo; 0 when it cannot.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// parseBytes reads "24GB", "512MB" or a plain count of bytes.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size such as 24GB", s)
	}
	return int64(n * float64(mult)), nil
}

// bytesText renders a size for a message: "4.7 GB".
func bytesText(n int64) string {
	switch {
	case n >= 1<<40:
		return fmt.Sprintf("%.1f TB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d kB", (n+1023)>>10)
}

package kinds

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/modulo-ml/modulo/internal/bytesize"
)

// memoryBudget is the most memory a configuration may ask for: the machine's physical
// memory (MemTotal), or MODULO_MEMORY (a size such as 64GB or 64GiB) when set, for a
// node that will run on a bigger machine than the one that validates it. A configuration
// whose estimate exceeds it is refused at validate time with the estimate, rather than left
// to grow until the kernel kills it hours into a run.
var memoryBudget = sync.OnceValue(func() int64 {
	if s := os.Getenv("MODULO_MEMORY"); s != "" {
		if n, err := bytesize.Parse(s); err == nil && n > 0 {
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

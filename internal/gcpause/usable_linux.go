package gcpause

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// usable is the memory this process may use: physical memory, or less when its cgroup
// (v2, or v1) limits it; 0 when neither can be read.
func usable() int64 {
	var total int64
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		total = int64(si.Totalram) * int64(si.Unit)
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if n, ok := readLimit(f); ok && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}

// readLimit reads a cgroup memory limit file; "max" (no limit) and unreadable files are not
// limits.
func readLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil && n > 0
}

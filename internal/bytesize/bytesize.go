// Package bytesize reads and writes sizes as people type them: 20GB, 512MiB. The command
// line (cache gc -max-size) and the stage kinds (MODULO_MEMORY, memory estimates in
// diagnostics) share it, so a size means the same everywhere.
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads sizes like 20GB (10⁹ bytes per GB), 512MiB (2²⁰ bytes per MiB) or 1000000
// (bytes); empty means 0.
func Parse(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), 64)
			if err != nil || f < 0 {
				return 0, fmt.Errorf("bad size %q: write it like 20GB or 512MiB", s)
			}
			return int64(f * float64(u.mult)), nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q: write it like 20GB or 512MiB", s)
	}
	return n, nil
}

// Format renders n bytes in binary units with one decimal: "1.5 GiB", "512 B".
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

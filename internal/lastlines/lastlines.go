// Package lastlines takes the end of a log: what an error message or `modulo show` quotes
// of a program's output, a Slurm job's or a command node's.
package lastlines

import "strings"

// Of returns the last n lines of s (a final newline does not start a line) and how many
// lines s holds. An empty s has no lines.
func Of(s string, n int) (last []string, total int) {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil, 0
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		return lines[len(lines)-n:], len(lines)
	}
	return lines, len(lines)
}

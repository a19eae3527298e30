//go:build !linux

package prefault

// Heap does nothing off Linux.
func Heap() {}

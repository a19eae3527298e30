//go:build !linux

package hugeheap

func advise(int) error { return nil }

const hugePage = 2 << 20

func adviseRange(lo, hi uintptr) error { return nil }

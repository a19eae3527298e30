//go:build !linux

package hugeheap

func advise(int) error { return nil }

//go:build !linux

package gcpause

// usable is 0 where the machine's memory is not read: Pause uses its least limit.
func usable() int64 { return 0 }

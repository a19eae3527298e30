//go:build linux || darwin

package data

import (
	"io/fs"
	"syscall"
)

// sysStamp returns the change time in nanoseconds, the inode and the device of the file st
// describes.
func sysStamp(st fs.FileInfo) (ctime int64, ino, dev uint64) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, 0
	}
	return ctimeNanos(s), uint64(s.Ino), uint64(s.Dev)
}

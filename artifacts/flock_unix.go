//go:build unix

package artifacts

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock on f without blocking. It reports false,
// with no error, if another open file description holds the lock.
func tryLock(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var ferr error
	// Control rather than f.Fd(): Fd would switch the file to blocking mode
	// and make the runtime forget it, for no benefit here.
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
			if ferr != unix.EINTR {
				return
			}
		}
	})
	if err != nil {
		return false, err
	}
	if errors.Is(ferr, unix.EWOULDBLOCK) {
		return false, nil
	}
	return ferr == nil, ferr
}

// unlockFile releases f's lock and closes it. Closing alone would release
// the lock too, since this is the description's only descriptor; the
// explicit LOCK_UN is for clarity and costs one system call. Errors are
// ignored: the kernel drops the lock when the descriptor goes away anyway.
func unlockFile(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Flock(int(fd), unix.LOCK_UN) })
	}
	_ = f.Close()
}

//go:build !unix

package artifacts

import (
	"os"
	"sync"
)

// On systems without flock the lock only excludes goroutines of one
// process, keyed by file name. That is still correct, because the cache never
// depends on the lock for consistency: two processes may just compute the
// same action twice.
var (
	heldMu sync.Mutex
	held   = map[string]*os.File{}
)

func tryLock(f *os.File) (bool, error) {
	heldMu.Lock()
	defer heldMu.Unlock()
	if held[f.Name()] != nil {
		return false, nil
	}
	held[f.Name()] = f
	return true, nil
}

func unlockFile(f *os.File) {
	heldMu.Lock()
	if held[f.Name()] == f {
		delete(held, f.Name())
	}
	heldMu.Unlock()
	_ = f.Close()
}

package artifacts_test

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/modulo-ml/modulo/artifacts"
)

// A DiskError names the file, its role and the remedy; the cause is still what
// errors.Is sees.
func ExampleDiskError() {
	var err error = &artifacts.DiskError{
		Op:   "store",
		Role: "blob",
		Path: "/home/ana/.cache/modulo/cas/4f/4f02ab",
		Dir:  "/home/ana/.cache/modulo",
		Err:  &fs.PathError{Op: "write", Path: "/home/ana/.cache/modulo/tmp/w-1", Err: syscall.ENOSPC},
	}
	fmt.Println(err)
	fmt.Println(errors.Is(err, syscall.ENOSPC), errors.Is(err, fs.ErrPermission))
	// Output:
	// cannot store blob /home/ana/.cache/modulo/cas/4f/4f02ab: write /home/ana/.cache/modulo/tmp/w-1: no space left on device; free space on the file system holding /home/ana/.cache/modulo (modulo cache gc -max-size 10GB, say) or move the cache with MODULO_CACHE
	// true false
}

package artifacts

import (
	"io/fs"
	"os"
)

// fsys holds the file system calls by which the cache changes its directory: every
// creation, write, rename and removal goes through one of them. Reads do not: a fault
// there is already a miss or an error of its own.
//
// It exists so that tests can make the cache read-only or full. chmod cannot: the tests
// run as root here and in CI, and root writes through any mode bits. Production code
// always uses osFS.
type fsys struct {
	mkdirAll   func(path string, perm fs.FileMode) error
	createTemp func(dir, pattern string) (*os.File, error)
	write      func(f *os.File, b []byte) (int, error)
	rename     func(oldpath, newpath string) error
	remove     func(path string) error
	openFile   func(name string, flag int, perm fs.FileMode) (*os.File, error)
}

// osFS is the real file system.
var osFS = fsys{
	mkdirAll:   os.MkdirAll,
	createTemp: os.CreateTemp,
	write:      (*os.File).Write,
	rename:     os.Rename,
	remove:     os.Remove,
	openFile:   os.OpenFile,
}

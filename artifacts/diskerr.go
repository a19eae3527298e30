package artifacts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Roles of the files in a cache directory, as a [DiskError] names them.
const (
	roleDir    = "the cache directory"
	roleBlob   = "blob"
	roleEntry  = "action entry"
	roleLock   = "the lock"
	roleTemp   = "temporary file"
	roleReadme = "README"
)

// A DiskError reports that the cache could not change its directory: a file it could not
// create, write, rename or remove. The file system's own message ("read-only file
// system", "no space left on device") says neither which file it was nor what to do, so
// a DiskError names the file and its role in the cache, and for the causes a user can fix
// (a read-only or full file system, a file where a directory should be) the remedy.
//
// The cause stays reachable: errors.Is(err, fs.ErrPermission) and
// errors.Is(err, syscall.ENOSPC) work through a DiskError as through the error it wraps.
// Whatever failed, the cache stays consistent: files only appear by renaming a complete
// temporary file into place.
type DiskError struct {
	Op   string // what the cache tried: "create", "store", "write to", "remove", "take"
	Role string // the file's role: "the cache directory", "blob", "action entry", "the lock", …
	Path string // the file
	Dir  string // the cache directory, which the remedy names
	Err  error  // the cause, usually an *fs.PathError
}

var _ error = (*DiskError)(nil)

func (e *DiskError) Error() string {
	msg := fmt.Sprintf("cannot %s %s %s: %s", e.Op, e.Role, e.Path, e.cause())
	if r := e.Remedy(); r != "" {
		msg += "; " + r
	}
	return msg
}

// Unwrap returns the cause.
func (e *DiskError) Unwrap() error { return e.Err }

// cause is the cause's message without the path it repeats, when it is Path (the usual
// case) rather than another file (the temporary file of a write, the parent that is not a
// directory).
func (e *DiskError) cause() string {
	var pe *fs.PathError
	if errors.As(e.Err, &pe) && pe.Path == e.Path {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(e.Err, &le) && le.New == e.Path {
		return le.Err.Error()
	}
	return e.Err.Error()
}

// Remedy says how to fix the cause, or is empty when the cause is not one a user can
// fix by a change of permissions, space or place (an I/O error, say).
func (e *DiskError) Remedy() string {
	switch {
	case readOnly(e.Err):
		return fmt.Sprintf("make the cache writable (chmod -R u+w %s) or point MODULO_CACHE or -cache at a cache you can write", e.Dir)
	case full(e.Err):
		return fmt.Sprintf("free space on the file system holding %s (modulo cache gc -max-size 10GB, say) or move the cache with MODULO_CACHE", e.Dir)
	case errors.Is(e.Err, syscall.ENOTDIR):
		in := e.Path
		var pe *fs.PathError
		if errors.As(e.Err, &pe) {
			in = pe.Path
		}
		return fmt.Sprintf("move away the file at %s, which is in the way of a directory, or point MODULO_CACHE or -cache at another directory", in)
	}
	return ""
}

// readOnly reports whether err says that a file could not be changed for want of
// permission or because its file system is mounted read-only.
func readOnly(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// full reports whether err says that a file system is full, or the user's quota on it
// used up.
func full(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// diskError wraps err, which changing path (of the given role) returned, in a
// [*DiskError] for the cache in dir. A nil err stays nil.
func diskError(op, role, path, dir string, err error) error {
	if err == nil {
		return nil
	}
	return &DiskError{Op: op, Role: role, Path: path, Dir: dir, Err: err}
}

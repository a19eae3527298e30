// Package atomicfile writes whole files so that a reader, another process, or a run that
// is interrupted sees the old file or the new one, never a part: the state, the no-op
// record, exported results and the file-digest log all need that, in packages that must
// not depend on each other (DESIGN §2), hence this one below them all.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data to path with permissions perm by way of a temporary file beside it
// and a rename. On error the temporary file is removed and path is as it was.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	// Each step only after the one before it succeeded: a short write must never be renamed
	// into place (errors.Join of the calls would have made every one of them).
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

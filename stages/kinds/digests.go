package kinds

import (
	"path/filepath"

	"github.com/modulo-ml/modulo/nn/data"
)

// KeepFileDigests keeps the digests of the files that nodes read from outside the cache
// (datasets' sources, commands' inputs, imported networks) in the cache directory dir, so
// that the next command trusts them while the files' stamps hold instead of reading the
// files again: every plan, and every no-op rerun answered from its record, keys those
// nodes by the files' contents (see data.PersistHashes).
func KeepFileDigests(dir string) {
	data.PersistHashes(filepath.Join(dir, "state", "file-digests"))
}

package pipelines

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// storeFiles stores the files a run read from outside the cache as blobs, for its entry:
// a result then carries its source files to any machine it reaches (a cluster node, a
// teammate), which materialize puts back on disk. A file whose content changed since its
// digest was taken for the key fails the run: its result would be stored under a key that
// does not describe it. A kind with PortableFiles read them through readFile, which checked
// them, so they are taken from wherever readFile finds them (on a worker, the cache).
func storeFiles(ctx context.Context, c *artifacts.Cache, kind *stages.Kind, files []stages.File) (map[string]artifacts.Item, error) {
	if len(files) == 0 {
		return nil, nil
	}
	items := make(map[string]artifacts.Item, len(files))
	for _, f := range files {
		var data []byte
		var err error
		if kind.PortableFiles {
			data, err = readFile(ctx, c, f)
		} else if data, err = os.ReadFile(f.Path); err != nil {
			err = fmt.Errorf("storing input file %s: %w", f.Path, err)
		}
		if err != nil {
			return nil, err
		}
		id, stored, err := c.Put(data, artifacts.Raw)
		if err != nil {
			return nil, err
		}
		if id.String() != f.SHA256 {
			return nil, fmt.Errorf("input file %s changed while the pipeline ran (sha256 %s, was %s); run again", f.Path, id, f.SHA256)
		}
		items[f.Name] = artifacts.Item{ID: id, Size: int64(len(data)), Stored: stored, Codec: artifacts.Raw}
	}
	return items, nil
}

// putFile stores the content of f, read at its path, in c, checked against the digest
// the plan took: what a worker on another machine reads through readFile.
func putFile(c *artifacts.Cache, f stages.File) (artifacts.OutputID, error) {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return artifacts.OutputID{}, fmt.Errorf("reading input file %s: %w", f.Path, err)
	}
	id, _, err := c.Put(data, artifacts.Raw)
	if err != nil {
		return id, err
	}
	if id.String() != f.SHA256 {
		return id, fmt.Errorf("input file %s changed while the pipeline ran (sha256 %s, was %s); run again", f.Path, id, f.SHA256)
	}
	return id, nil
}

// readFile returns the content of f checked against its digest: from its path when the
// file there still holds it, else from c or its remote, where the driver put it for a run
// on another machine (or an earlier run stored it). What a run reads is then always what
// its key describes, even when the file is edited while the pipeline runs.
func readFile(ctx context.Context, c *artifacts.Cache, f stages.File) ([]byte, error) {
	data, err := os.ReadFile(f.Path)
	if err == nil && artifacts.NewOutputID(data).String() == f.SHA256 {
		return data, nil
	}
	id, perr := artifacts.ParseOutputID(f.SHA256)
	if perr != nil {
		return nil, fmt.Errorf("input file %s: %w", f.Name, perr)
	}
	data, ferr := c.Fetch(ctx, id, artifacts.Raw)
	if ferr == nil {
		return data, nil
	}
	if err == nil {
		return nil, fmt.Errorf("input file %s changed since the plan hashed it (sha256 %.12s), and no cache holds what the plan saw; run again", f.Path, f.SHA256)
	}
	return nil, fmt.Errorf("input file %s (sha256 %.12s) is neither at its path on this machine nor in the caches: %v", f.Path, f.SHA256, ferr)
}

// materialize writes files (base name → SHA-256), fetched from c or its remote and checked,
// into one directory under c's, named by the set, and returns it. A directory already
// complete is returned as it is, so a node that loads a dataset a hundred times fetches
// it once.
func materialize(ctx context.Context, c *artifacts.Cache, files map[string]string) (string, error) {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if strings.ContainsAny(name, `/\`) || name == "" || name == "." || name == ".." {
			return "", fmt.Errorf("recorded file name %q is not a base name", name)
		}
		fmt.Fprintf(h, "%s %s\n", name, files[name])
	}
	dir := filepath.Join(c.Dir(), "files", hex.EncodeToString(h.Sum(nil))[:32])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("materialising input files: %w", err)
	}
	for name, sum := range files {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			continue // written whole by the rename below, checked then
		}
		id, err := artifacts.ParseOutputID(sum)
		if err != nil {
			return "", fmt.Errorf("recorded file %s: %w", name, err)
		}
		data, err := c.Fetch(ctx, id, artifacts.Raw)
		if err != nil {
			return "", fmt.Errorf("input file %s (sha256 %.12s) is neither at its recorded path on this machine nor in the caches: %w", name, sum, err)
		}
		if err := writeFileAtomic(path, data); err != nil {
			return "", fmt.Errorf("materialising input file %s: %w", name, err)
		}
	}
	return dir, nil
}

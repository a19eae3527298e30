package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// dirStore keeps the cache in a directory that several machines may share, typically over
// NFS or SMB. Such file systems often lack working locks, so it takes none: every write goes
// to a temporary file with a unique name in the destination directory and is then renamed
// over the final name. A rename within a directory is atomic on POSIX file systems and on
// NFS (the server does it), so a reader sees the old file, the new file, or no file, never
// a partial one, and concurrent writers of one key simply race to an equally valid result.
//
// Layout: <root>/cas/ab/<hex> and <root>/ac/ab/<hex>, where ab are the key's first two
// digits; the fan-out keeps directories small enough for network file systems to list.
type dirStore struct {
	root string
}

func openDir(path string) (*dirStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("remote cache %s: %w", path, err)
	}
	return &dirStore{root: abs}, nil
}

func (d *dirStore) String() string { return d.root }

func (d *dirStore) Close() error { return nil }

// path checks the key and the context, and returns the key's file.
func (d *dirStore) path(ctx context.Context, area Area, key string) (string, error) {
	if err := checkKey(area, key); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return filepath.Join(d.root, string(area), key[:2], key), nil
}

func (d *dirStore) Get(ctx context.Context, area Area, key string) ([]byte, error) {
	path, err := d.path(ctx, area, key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %s/%s: %w", d.root, area, key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("remote cache: %w", err)
	}
	return data, nil
}

func (d *dirStore) Has(ctx context.Context, area Area, key string) (bool, error) {
	path, err := d.path(ctx, area, key)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remote cache: %w", err)
	}
	return fi.Mode().IsRegular(), nil
}

// Put writes data under a temporary name and renames it into place. A CAS blob that is
// already there with the right size is left alone: its name is its content's hash, so
// rewriting it would only cost I/O. One of another size (a truncated copy left by some
// other tool) is replaced, which is how a damaged blob gets repaired. The file is synced
// before the rename so that a crash of the writing machine cannot leave a complete name on
// incomplete data.
func (d *dirStore) Put(ctx context.Context, area Area, key string, data []byte) error {
	final, err := d.path(ctx, area, key)
	if err != nil {
		return err
	}
	if area == CAS {
		if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(data)) {
			return nil
		}
	}
	dir := filepath.Dir(final)
	// 0o777 and 0o666 less the umask: a team sharing the directory through a group sets the
	// group's setgid bit and a umask of 002, as with any shared directory.
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("remote cache: %w", err)
	}
	f, tmp, err := createTemp(dir, key)
	if err != nil {
		return fmt.Errorf("remote cache: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("remote cache: %w", err)
	}
	return nil
}

// createTemp creates a new file next to the final one. Its name carries 64 random bits, so
// writers on different machines never pick the same one, and O_EXCL guards the rest. It
// starts with a dot and ends in .tmp so that a leftover of a killed writer is easy to spot
// and to clean up.
func createTemp(dir, key string) (*os.File, string, error) {
	for range 10 {
		var r [8]byte
		rand.Read(r[:])
		name := filepath.Join(dir, "."+key[:16]+"-"+hex.EncodeToString(r[:])+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fmt.Errorf("create a temporary file in %s: too many name collisions", dir)
}

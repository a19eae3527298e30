package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/modulo-ml/modulo/internal/hugeheap"
)

// CIFAR-10's binary version (cifar-10-binary.tar.gz, unpacked: the directory
// cifar-10-batches-bin) holds six files of 10,000 records each. A record is one label byte
// (0–9) and 3,072 pixel bytes: the 32×32 red plane, then green, then blue, each row-major.
// That is already channels × height × width, the layout of Set, so a record's pixels become
// a row as they are.
const (
	cifarSide    = 32
	cifarPixels  = 3 * cifarSide * cifarSide
	cifarRecord  = 1 + cifarPixels
	cifarClasses = 10
)

// cifar10Names are the batches in the order of Dataset.Files: five training batches, then
// the test batch.
var cifar10Names = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}

// CIFAR10Files returns the paths of the six CIFAR-10 binary batches in dir, training
// batches first: the files a cache key must cover.
func CIFAR10Files(dir string) ([]string, error) {
	paths, _, err := cifar10Files(dir)
	return paths, err
}

// cifar10Files is CIFAR10Files that also returns a stamp of the files' paths, sizes and
// modification times, for the memo.
func cifar10Files(dir string) ([]string, string, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("CIFAR-10 directory %s does not exist; give the directory cifar-10-batches-bin of the binary version (cifar-10-binary.tar.gz, unpacked)", dir)
	case err != nil:
		return nil, "", err
	case !st.IsDir():
		return nil, "", fmt.Errorf("%s is not a directory; a cifar10 source is the directory holding data_batch_1.bin … data_batch_5.bin and test_batch.bin", dir)
	}
	var paths, missing []string
	var stamp strings.Builder
	for _, name := range cifar10Names {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() {
			missing = append(missing, name)
			continue
		}
		paths = append(paths, p)
		fmt.Fprintf(&stamp, "%s\x00%d\x00%d\n", p, fi.Size(), fi.ModTime().UnixNano())
	}
	if len(missing) > 0 {
		return nil, "", fmt.Errorf("%s has no %s; a cifar10 source is the directory cifar-10-batches-bin of the binary version, with data_batch_1.bin … data_batch_5.bin and test_batch.bin", dir, strings.Join(missing, ", "))
	}
	return paths, stamp.String(), nil
}

// CIFAR10Counts returns how many training and test images the batches of dir hold, from
// their sizes alone, so a pipeline can be checked before the files are read.
func CIFAR10Counts(dir string) (train, test int, err error) {
	paths, _, err := cifar10Files(dir)
	if err != nil {
		return 0, 0, err
	}
	for i, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return 0, 0, err
		}
		if i == len(paths)-1 {
			test = int(st.Size() / cifarRecord)
		} else {
			train += int(st.Size() / cifarRecord)
		}
	}
	return train, test, nil
}

// LoadCIFAR10 loads the CIFAR-10 binary batches of dir: 50,000 training images (the five
// data batches, in order) and 10,000 test images, 3×32×32, pixels scaled to [0,1] as
// float32(x)/255, 10 classes. Batches of any whole number of records are accepted, so small
// files in the same format serve as test data. The result is memoised (see the package
// comment) and must be treated as read-only.
func LoadCIFAR10(dir string) (*Dataset, error) {
	paths, stamp, err := cifar10Files(dir)
	if err != nil {
		return nil, err
	}
	return memoised("cifar10\x00"+absPath(dir), stamp, func() (*Dataset, error) { return loadCIFAR10(paths) })
}

// loadCIFAR10 reads the batches in parallel, then decodes each straight into its place in
// the training or test set, so that the 600 MB of training floats are written once.
func loadCIFAR10(paths []string) (*Dataset, error) {
	type batch struct {
		raw  []byte
		file File
		err  error
		at   int // first record's index in its set
	}
	batches := make([]batch, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() {
			b := &batches[i]
			b.raw, b.file, b.err = readCIFARBatch(p)
		})
	}
	wg.Wait()
	ds := &Dataset{Name: "cifar10"}
	train := &Set{C: 3, H: cifarSide, W: cifarSide, D: cifarPixels, Classes: cifarClasses}
	test := &Set{C: 3, H: cifarSide, W: cifarSide, D: cifarPixels, Classes: cifarClasses}
	set := func(i int) *Set {
		if i == len(batches)-1 {
			return test
		}
		return train
	}
	for i := range batches {
		b := &batches[i]
		if b.err != nil {
			return nil, b.err
		}
		ds.Files = append(ds.Files, b.file)
		s := set(i)
		b.at = s.N
		s.N += len(b.raw) / cifarRecord
	}
	for _, s := range []*Set{train, test} {
		s.X, s.Y = hugeheap.Slice[float32](s.N*cifarPixels), make([]uint8, s.N)
	}
	for i := range batches {
		wg.Go(func() {
			b, s := &batches[i], set(i)
			n := len(b.raw) / cifarRecord
			b.err = decodeCIFAR(b.raw, s.X[b.at*cifarPixels:(b.at+n)*cifarPixels], s.Y[b.at:b.at+n])
			if b.err != nil {
				b.err = fmt.Errorf("%s: %w", paths[i], b.err)
			}
		})
	}
	wg.Wait()
	for _, b := range batches {
		if b.err != nil {
			return nil, b.err
		}
	}
	ds.Train, ds.Test = train, test
	return ds, nil
}

// readCIFARBatch reads and hashes one binary batch, checking that it holds whole records.
func readCIFARBatch(path string) ([]byte, File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, File{}, err
	}
	defer f.Close()
	// Stat before reading, as HashFile does: the digest is remembered under this stat,
	// and a file that changes size meanwhile is an error.
	st, err := f.Stat()
	if err != nil {
		return nil, File{}, err
	}
	if st.IsDir() {
		return nil, File{}, fmt.Errorf("%s: is a directory, not a CIFAR-10 batch", path)
	}
	raw := make([]byte, st.Size())
	_, err = io.ReadFull(f, raw)
	if n, _ := f.Read(make([]byte, 1)); err != nil || n > 0 {
		return nil, File{}, fmt.Errorf("%s changed while it was read (it was %d bytes); read it again when it is complete", path, st.Size())
	}
	sum := sha256.Sum256(raw)
	file := File{Path: absPath(path), Size: int64(len(raw)), SHA256: hex.EncodeToString(sum[:])}
	rememberHash(file.Path, st, file)
	if len(raw) == 0 || len(raw)%cifarRecord != 0 {
		return nil, file, fmt.Errorf("%s is %d bytes, not a whole number of CIFAR-10 records of %d bytes (a label byte and 3×32×32 pixels); is it a batch of the binary version, not the Python one?", path, len(raw), cifarRecord)
	}
	return raw, file, nil
}

// decodeCIFAR writes the records of raw to x (pixels scaled to [0, 1]) and y (labels).
func decodeCIFAR(raw []byte, x []float32, y []uint8) error {
	for i := range y {
		rec := raw[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] >= cifarClasses {
			return fmt.Errorf("record %d has label %d; CIFAR-10 labels are 0 to 9 (a CIFAR-100 file has two label bytes per record)", i, rec[0])
		}
		y[i] = rec[0]
		row := x[i*cifarPixels : (i+1)*cifarPixels]
		for j, v := range rec[1:] {
			row[j] = byteScale[v]
		}
	}
	return nil
}

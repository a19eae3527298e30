// Package data loads the classification datasets modulo trains on: MNIST (from the GoMNIST
// Go module), Fashion-MNIST (from the Debian package dataset-fashion-mnist), any directory
// of IDX files, and a seeded synthetic Gaussian mixture.
//
// Layout follows package nn: a split is an n×D row-major []float32 of features with one
// uint8 label per row; accumulations (means, standard deviations) are float64.
//
// Loading is memoised per process: LoadIDXDir and Synthetic return the same *Dataset while
// the files they read keep their path, size and modification time (or, for Synthetic, for
// the same configuration), so that every stage of a pipeline can "load" MNIST without
// gunzipping it again. The price is that returned datasets are shared: callers must treat
// them, and the slices in them, as read-only. WithOptions derives a variant without
// touching the original.
//
// Malformed files are errors that name the file and what is wrong; panics are kept for
// programmer misuse, as in package nn.
package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"sync"
)

// Set is an in-memory classification dataset: X is N×D row-major float32 (pixels scaled to
// [0,1], unless standardised), Y holds N class labels, each below Classes. The two splits
// of a Dataset share Classes, so a network's output width fits both.
//
// For images, C, H and W give each row's shape, channels × height × width with the width
// varying fastest (PyTorch's NCHW), and D = C·H·W; they are zero for feature vectors
// (synthetic data), which only MLPs take.
type Set struct {
	X       []float32
	Y       []uint8
	N, D    int
	Classes int
	C, H, W int
}

// IsImage reports whether s holds images of a known shape.
func (s *Set) IsImage() bool { return s.C > 0 && s.H > 0 && s.W > 0 }

// Dataset is a train/test pair. Files lists what was read, in the order train images,
// train labels, test images, test labels, so that a cache key can include the content of
// the data (SHA256) and a report can say where it came from (Path). Synthetic datasets
// read no files.
type Dataset struct {
	Name        string
	Train, Test *Set
	Files       []File

	// memo is the loader's cache entry this dataset came from, if any: it lets
	// WithOptions share derived datasets (a standardised MNIST is another 200 MB).
	memo *memoEntry
}

// File identifies one input file by content. SHA256 is lower-case hex of the raw bytes on
// disk (compressed, if the file is), so it matches `sha256sum`.
type File struct {
	Path   string
	Size   int64
	SHA256 string
}

// Row returns example i's features. It is a view into X, not a copy.
func (s *Set) Row(i int) []float32 {
	if i < 0 || i >= s.N {
		panic(fmt.Sprintf("data: row %d of a set of %d examples", i, s.N))
	}
	return s.X[i*s.D : (i+1)*s.D : (i+1)*s.D]
}

// Check verifies the invariants code downstream relies on (shapes agree, labels are in
// range), so a hand-built Set fails early with a sentence rather than an index panic later.
func (s *Set) Check() error {
	switch {
	case s.N < 0 || s.D < 0 || s.Classes < 0:
		return fmt.Errorf("set has negative sizes: N=%d D=%d classes=%d", s.N, s.D, s.Classes)
	case len(s.X) != s.N*s.D:
		return fmt.Errorf("set has %d features for %d examples of %d dims (want %d)", len(s.X), s.N, s.D, s.N*s.D)
	case len(s.Y) != s.N:
		return fmt.Errorf("set has %d labels for %d examples", len(s.Y), s.N)
	case s.IsImage() && s.C*s.H*s.W != s.D:
		return fmt.Errorf("set has images of %d×%d×%d but %d features per example", s.C, s.H, s.W, s.D)
	}
	for i, y := range s.Y {
		if int(y) >= s.Classes {
			return fmt.Errorf("label %d of example %d is out of range for %d classes", y, i, s.Classes)
		}
	}
	return nil
}

// Digest is a SHA-256 of the set's shape, features (as little-endian float32 bits) and
// labels. Loading the same files always produces the same floats, so equal digests mean
// equal data, whatever machine loaded it; it is what a test or a report can pin.
func (s *Set) Digest() string {
	h := sha256.New()
	var hdr [24]byte
	binary.LittleEndian.PutUint64(hdr[0:], uint64(s.N))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(s.D))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(s.Classes))
	h.Write([]byte("modulo/nn/data.Set v1\n"))
	h.Write(hdr[:])
	buf := make([]byte, 0, 1<<16)
	for _, x := range s.X {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	h.Write(s.Y)
	return hex.EncodeToString(h.Sum(nil))
}

// Digest combines the digests of both splits (computed in parallel: each is a pass over
// up to 200 MB). The name and the file list do not enter it: it identifies the data only.
func (d *Dataset) Digest() string {
	var train, test string
	var wg sync.WaitGroup
	wg.Go(func() { train = d.Train.Digest() })
	test = d.Test.Digest()
	wg.Wait()
	sum := sha256.Sum256([]byte("train " + train + "\ntest " + test + "\n"))
	return hex.EncodeToString(sum[:])
}

package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/modulo-ml/modulo/internal/hugeheap"
)

// idxRoles are the four files of an IDX directory, in the order of Dataset.Files.
var idxRoles = []struct {
	split, kind string
	dims        int
}{
	{"train", "images", 3},
	{"train", "labels", 1},
	{"test", "images", 3},
	{"test", "labels", 1},
}

// idxCandidates lists the names a file may go by, in order of preference. LeCun's names
// are "train-images-idx3-ubyte" and "t10k-images-idx3-ubyte"; copies in the wild also say
// "test" for "t10k" or "images.idx3" for "images-idx3" (Kaggle), and are gzipped or not.
// An uncompressed file is preferred when both exist: it is the same data, read faster.
func idxCandidates(split, kind string, dims int) []string {
	prefixes := []string{"train"}
	if split == "test" {
		prefixes = []string{"t10k", "test"}
	}
	var names []string
	for _, p := range prefixes {
		for _, sep := range []string{"-", "."} {
			base := p + "-" + kind + sep + "idx" + strconv.Itoa(dims) + "-ubyte"
			names = append(names, base, base+".gz")
		}
	}
	return names
}

// IDXFiles finds the four IDX files in dir and returns their paths in the order train
// images, train labels, test images, test labels: the files a cache key must cover.
func IDXFiles(dir string) ([]string, error) {
	paths, _, err := idxFiles(dir)
	return paths, err
}

// idxFiles is IDXFiles that also returns a stamp of the files' paths, sizes and
// modification times, which says whether a memoised load is still valid.
func idxFiles(dir string) ([]string, string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("IDX directory %s does not exist", dir)
		}
		return nil, "", err
	}
	if !st.IsDir() {
		return nil, "", fmt.Errorf("%s is not a directory; an IDX source is a directory holding four IDX files", dir)
	}
	var paths []string
	var stamp strings.Builder
	for _, role := range idxRoles {
		names := idxCandidates(role.split, role.kind, role.dims)
		found := false
		for _, name := range names {
			p := filepath.Join(dir, name)
			fi, err := os.Stat(p)
			if err != nil || fi.IsDir() {
				continue
			}
			paths = append(paths, p)
			fmt.Fprintf(&stamp, "%s\x00%d\x00%d\n", p, fi.Size(), fi.ModTime().UnixNano())
			found = true
			break
		}
		if !found {
			return nil, "", fmt.Errorf("%s has no %s %s file (looked for %s)", dir, role.split, role.kind, strings.Join(names, ", "))
		}
	}
	return paths, stamp.String(), nil
}

// LoadIDXDir loads the four IDX files of dir (see IDXFiles for the names it accepts):
// pixels are scaled to [0,1] as float32(x)/255, and Classes is one more than the largest
// label of either split. Image and label counts must agree, and both splits must have
// images of the same size. The result is memoised (see the package comment) and must be
// treated as read-only.
func LoadIDXDir(name, dir string) (*Dataset, error) {
	return LoadIDXDirClasses(name, dir, 0)
}

// LoadIDXDirClasses is LoadIDXDir for a known number of classes: a label ≥ classes is an
// error rather than a silently wider output layer. classes 0 means infer, as LoadIDXDir.
func LoadIDXDirClasses(name, dir string, classes int) (*Dataset, error) {
	if classes < 0 || classes > 256 {
		return nil, fmt.Errorf("classes must be between 1 and 256 (0: infer), got %d", classes)
	}
	paths, stamp, err := idxFiles(dir)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("idx\x00%s\x00%s\x00%d", name, absPath(dir), classes)
	return memoised(key, stamp, func() (*Dataset, error) { return loadIDX(name, paths, classes) })
}

// loadIDX reads the four files in parallel (the train images dominate; the rest overlaps
// with them) and assembles the dataset.
func loadIDX(name string, paths []string, classes int) (*Dataset, error) {
	type result struct {
		dims []int
		data []byte
		file File
		err  error
	}
	res := make([]result, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() {
			r := &res[i]
			r.dims, r.data, r.file, r.err = readIDX(p)
			if r.err == nil && len(r.dims) != idxRoles[i].dims {
				r.err = fmt.Errorf("%s: expected %s (%d-D) but the file holds %d-D data", p, idxRoles[i].kind, idxRoles[i].dims, len(r.dims))
			}
		})
	}
	wg.Wait()
	ds := &Dataset{Name: name}
	for _, r := range res {
		if r.err != nil {
			return nil, r.err
		}
		ds.Files = append(ds.Files, r.file)
	}
	tr, te := res[0].dims, res[2].dims
	if tr[1] != te[1] || tr[2] != te[2] {
		return nil, fmt.Errorf("train images are %d×%d but test images are %d×%d (%s, %s)", tr[1], tr[2], te[1], te[2], paths[0], paths[2])
	}
	maxLabel := -1
	for i := 0; i < 4; i += 2 {
		img, lbl := res[i], res[i+1]
		split := idxRoles[i].split
		n, d := img.dims[0], img.dims[1]*img.dims[2]
		if n != lbl.dims[0] {
			return nil, fmt.Errorf("%s split: %s holds %d images but %s holds %d labels", split, paths[i], n, paths[i+1], lbl.dims[0])
		}
		if n == 0 || d == 0 {
			return nil, fmt.Errorf("%s split: %s holds no pixels (%d images of %d×%d)", split, paths[i], n, img.dims[1], img.dims[2])
		}
		for j, y := range lbl.data {
			if classes > 0 && int(y) >= classes {
				return nil, fmt.Errorf("%s: label %d of example %d is out of range for %d classes", paths[i+1], y, j, classes)
			}
			maxLabel = max(maxLabel, int(y))
		}
		set := &Set{X: pixels(img.data), Y: lbl.data, N: n, D: d, C: 1, H: img.dims[1], W: img.dims[2]}
		if split == "train" {
			ds.Train = set
		} else {
			ds.Test = set
		}
	}
	if classes == 0 {
		classes = maxLabel + 1
	}
	ds.Train.Classes, ds.Test.Classes = classes, classes
	return ds, nil
}

// byteScale maps a pixel byte to [0,1]. A table makes the conversion exact and identical
// everywhere (float32(b)/255 is correctly rounded), and is faster than dividing.
var byteScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// pixels scales bytes to [0,1] float32, in huge pages when large (see hugeheap.Slice:
// MNIST's training pixels took 650 ms to fill in 4 KiB pages, most of loading MNIST).
func pixels(b []byte) []float32 {
	x := hugeheap.Slice[float32](len(b))
	for i, v := range b {
		x[i] = byteScale[v]
	}
	return x
}

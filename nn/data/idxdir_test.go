package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// idxSplit is the content of one split of a test IDX directory.
type idxSplit struct {
	n, rows, cols int
	labels        []byte
}

// writeIDXDir writes a train and a test split under the given four file names.
func writeIDXDir(t *testing.T, names [4]string, train, test idxSplit) string {
	t.Helper()
	dir := t.TempDir()
	for i, s := range []idxSplit{train, test} {
		img := idxBytes(magicImages, []uint32{uint32(s.n), uint32(s.rows), uint32(s.cols)}, seq(s.n*s.rows*s.cols, 256))
		lbl := idxBytes(magicLabels, []uint32{uint32(len(s.labels))}, s.labels)
		for j, b := range [][]byte{img, lbl} {
			name := names[2*i+j]
			if strings.HasSuffix(name, ".gz") {
				b = gz(t, b)
			}
			writeFile(t, dir, name, b)
		}
	}
	return dir
}

var (
	lecunGz    = [4]string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	lecunPlain = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}
	kaggle     = [4]string{"train-images.idx3-ubyte", "train-labels.idx1-ubyte", "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"}
	testNames  = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz", "test-images-idx3-ubyte.gz", "test-labels-idx1-ubyte"}
)

func TestLoadIDXDir(t *testing.T) {
	train := idxSplit{n: 6, rows: 2, cols: 3, labels: []byte{0, 1, 2, 3, 4, 0}}
	test := idxSplit{n: 3, rows: 2, cols: 3, labels: []byte{5, 1, 2}}
	for _, tt := range []struct {
		name  string
		names [4]string
	}{
		{"LeCun names gzipped", lecunGz},
		{"LeCun names plain", lecunPlain},
		{"dotted names", kaggle},
		{"test for t10k, mixed compression", testNames},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeIDXDir(t, tt.names, train, test)
			ds, err := LoadIDXDir("idx", dir)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Name != "idx" || ds.Train.N != 6 || ds.Test.N != 3 || ds.Train.D != 6 || ds.Test.D != 6 {
				t.Errorf("got %s with %d×%d train and %d×%d test, want idx 6×6 and 3×6", ds.Name, ds.Train.N, ds.Train.D, ds.Test.N, ds.Test.D)
			}
			if ds.Train.Classes != 6 || ds.Test.Classes != 6 {
				t.Errorf("got %d and %d classes, want 6 (max label 5 is in the test split)", ds.Train.Classes, ds.Test.Classes)
			}
			if got, want := ds.Train.X[:4], []float32{0, 1.0 / 255, 2.0 / 255, 3.0 / 255}; !slices.Equal(got, want) {
				t.Errorf("train pixels %v, want %v", got, want)
			}
			if !slices.Equal(ds.Test.Y, test.labels) {
				t.Errorf("test labels %v, want %v", ds.Test.Y, test.labels)
			}
			for i, f := range ds.Files {
				if filepath.Base(f.Path) != tt.names[i] || len(f.SHA256) != 64 {
					t.Errorf("file %d is %+v, want %s with a digest", i, f, tt.names[i])
				}
				if h, err := HashFile(f.Path); err != nil || h != f {
					t.Errorf("HashFile(%s) = %+v, %v; want %+v", f.Path, h, err, f)
				}
			}
			paths, err := IDXFiles(dir)
			if err != nil || len(paths) != 4 || filepath.Base(paths[2]) != tt.names[2] {
				t.Errorf("IDXFiles = %v, %v", paths, err)
			}
			for _, s := range []*Set{ds.Train, ds.Test} {
				if err := s.Check(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestLoadIDXDirErrors(t *testing.T) {
	good := idxSplit{n: 4, rows: 2, cols: 2, labels: []byte{0, 1, 2, 3}}
	tests := []struct {
		name        string
		train, test idxSplit
		classes     int
		want        []string
	}{
		{"more images than labels", idxSplit{n: 4, rows: 2, cols: 2, labels: []byte{0, 1, 2}}, good, 0,
			[]string{"train split", "holds 4 images but", "holds 3 labels"}},
		{"more labels than images", good, idxSplit{n: 2, rows: 2, cols: 2, labels: []byte{0, 1, 2}}, 0,
			[]string{"test split", "holds 2 images but", "holds 3 labels"}},
		{"label out of range", good, idxSplit{n: 2, rows: 2, cols: 2, labels: []byte{1, 10}}, 10,
			[]string{"t10k-labels-idx1-ubyte", "label 10 of example 1 is out of range for 10 classes"}},
		{"image sizes differ", good, idxSplit{n: 4, rows: 3, cols: 2, labels: []byte{0, 1, 2, 3}}, 0,
			[]string{"train images are 2×2 but test images are 3×2"}},
		{"no examples", idxSplit{rows: 2, cols: 2}, good, 0, []string{"train split", "holds no pixels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeIDXDir(t, lecunPlain, tt.train, tt.test)
			_, err := LoadIDXDirClasses("idx", dir, tt.classes)
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		dir := writeIDXDir(t, lecunGz, good, good)
		os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
		_, err := LoadIDXDir("idx", dir)
		if err == nil || !strings.Contains(err.Error(), "has no test labels file (looked for t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte.gz,") {
			t.Errorf("got %v, want an error listing the names tried", err)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := LoadIDXDir("idx", filepath.Join(t.TempDir(), "nope"))
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("got %v, want an error saying the directory does not exist", err)
		}
	})
	t.Run("labels where images belong", func(t *testing.T) {
		dir := writeIDXDir(t, lecunPlain, good, good)
		writeFile(t, dir, "train-images-idx3-ubyte", idxBytes(magicLabels, []uint32{1}, []byte{0}))
		_, err := LoadIDXDir("idx", dir)
		if err == nil || !strings.Contains(err.Error(), "expected images (3-D) but the file holds 1-D data") {
			t.Errorf("got %v, want an error about the kind of file", err)
		}
	})
}

// TestLoadIDXDirMemo checks that a second load is the same dataset, and that touching a
// file reloads it.
func TestLoadIDXDirMemo(t *testing.T) {
	good := idxSplit{n: 4, rows: 2, cols: 2, labels: []byte{0, 1, 2, 3}}
	dir := writeIDXDir(t, lecunGz, good, good)
	a, err := LoadIDXDir("idx", dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadIDXDir("idx", dir)
	if err != nil || b != a {
		t.Fatalf("second load gave %p (%v), want the memoised %p", b, err, a)
	}
	// Concurrent loads of a new key load once and share the result.
	results := make([]*Dataset, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], _ = LoadIDXDir("concurrent", dir) })
	}
	wg.Wait()
	for _, r := range results {
		if r == nil || r != results[0] {
			t.Fatalf("concurrent loads gave different datasets: %p and %p", r, results[0])
		}
	}
	if c, _ := LoadIDXDir("other", dir); c == a || c.Name != "other" {
		t.Errorf("a different name shared the dataset named %q", a.Name)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, lecunGz[1]), later, later); err != nil {
		t.Fatal(err)
	}
	c, err := LoadIDXDir("idx", dir)
	if err != nil || c == a {
		t.Fatalf("load after touching a file gave %p (%v), want a new dataset", c, err)
	}
	if c.Digest() != a.Digest() {
		t.Error("reloading the same files gave different data")
	}
}

func TestLoad(t *testing.T) {
	good := idxSplit{n: 4, rows: 2, cols: 2, labels: []byte{0, 1, 2, 3}}
	dir := writeIDXDir(t, lecunGz, good, good)
	tests := []struct {
		src     Source
		wantErr string
		classes int
	}{
		{src: Source{Kind: "idx", Dir: dir}, classes: 4},
		{src: Source{Kind: "mnist", Dir: dir}, classes: 10},
		{src: Source{Kind: "synthetic", Synthetic: SyntheticConfig{Examples: 10, TestExamples: 5, Dims: 3, Classes: 3, Spread: 0.5}}, classes: 3},
		{src: Source{Kind: "idx"}, wantErr: "needs a directory"},
		{src: Source{Kind: "cifar"}, wantErr: `unknown dataset source "cifar"`},
	}
	for _, tt := range tests {
		t.Run(tt.src.Kind, func(t *testing.T) {
			ds, err := Load(tt.src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ds.Train.Classes != tt.classes {
				t.Errorf("got %d classes, want %d", ds.Train.Classes, tt.classes)
			}
			if again, _ := Load(tt.src); again != ds {
				t.Error("a second Load did not return the memoised dataset")
			}
		})
	}
}

package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCIFAR writes the six batches in dir: batch i holds n records whose label is
// (i+j)%10 for record j and whose pixel k is byte(i+j+k).
func writeCIFAR(t *testing.T, dir string, n int) {
	t.Helper()
	for i, name := range cifar10Names {
		var b []byte
		for j := range n {
			b = append(b, byte((i+j)%10))
			for k := range cifarPixels {
				b = append(b, byte(i+j+k))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadCIFAR10(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR(t, dir, 3)
	d, err := LoadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Set{d.Train, d.Test} {
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		if s.C != 3 || s.H != 32 || s.W != 32 || s.D != 3072 || s.Classes != 10 {
			t.Errorf("shape %d×%d×%d, D %d, %d classes", s.C, s.H, s.W, s.D, s.Classes)
		}
	}
	if d.Train.N != 15 || d.Test.N != 3 || len(d.Files) != 6 {
		t.Fatalf("%d train, %d test examples, %d files; want 15, 3, 6", d.Train.N, d.Test.N, len(d.Files))
	}
	// Training record 4 is batch 1's record 1: label 2, pixel k = byte(2+k), red plane
	// first, so channel 1 (green) starts at 1024.
	if y := d.Train.Y[4]; y != 2 {
		t.Errorf("label of training record 4 = %d, want 2", y)
	}
	row := d.Train.Row(4)
	for _, k := range []int{0, 1023, 1024, 3071} {
		if want := byteScale[byte(2+k)]; row[k] != want {
			t.Errorf("training record 4, pixel %d = %g, want %g", k, row[k], want)
		}
	}
	if !strings.HasSuffix(d.Files[5].Path, "test_batch.bin") || d.Test.Y[1] != 6 {
		t.Errorf("test split: file %s, label %d", d.Files[5].Path, d.Test.Y[1])
	}
	again, err := LoadCIFAR10(dir)
	if err != nil || again != d {
		t.Errorf("second load: %v, same dataset %v; want the memoised one", err, again == d)
	}
}

func TestLoadCIFAR10Errors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"missing batch", func(dir string) { os.Remove(filepath.Join(dir, "data_batch_3.bin")) }, "has no data_batch_3.bin"},
		{"truncated", func(dir string) {
			os.WriteFile(filepath.Join(dir, "test_batch.bin"), make([]byte, cifarRecord+5), 0o644)
		}, "not a whole number of CIFAR-10 records"},
		{"label 10", func(dir string) {
			b := make([]byte, cifarRecord)
			b[0] = 10
			os.WriteFile(filepath.Join(dir, "data_batch_1.bin"), b, 0o644)
		}, "has label 10"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeCIFAR(t, dir, 1)
		tt.setup(dir)
		if _, err := LoadCIFAR10(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: LoadCIFAR10 = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := LoadCIFAR10(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "cifar-10-batches-bin") {
		t.Errorf("missing directory: %v", err)
	}
}

func TestPad(t *testing.T) {
	s := &Set{X: []float32{1, 2, 3, 4, 5, 6, 7, 8}, Y: []uint8{0}, N: 1, D: 8, Classes: 1, C: 2, H: 2, W: 2}
	d := &Dataset{Train: s, Test: s}
	p, err := d.WithOptions(Options{Pad: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Train
	want := []float32{
		0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 5, 6, 0, 0, 7, 8, 0, 0, 0, 0, 0,
	}
	if got.C != 2 || got.H != 4 || got.W != 4 || got.D != 32 || got.Check() != nil {
		t.Fatalf("padded shape %d×%d×%d D %d", got.C, got.H, got.W, got.D)
	}
	for i := range want {
		if got.X[i] != want[i] {
			t.Fatalf("padded = %v, want %v", got.X, want)
		}
	}
	vec := &Set{X: []float32{1, 2}, Y: []uint8{0}, N: 1, D: 2, Classes: 1}
	if _, err := (&Dataset{Train: vec, Test: vec}).WithOptions(Options{Pad: 2}); err == nil || !strings.Contains(err.Error(), "applies to images") {
		t.Errorf("pad on vectors: %v", err)
	}
}

// TestLoadCIFAR10FillsHashMemo checks that loading the batches, which hashes their bytes
// anyway, makes hashing them for a plan free, with the same digests.
func TestLoadCIFAR10FillsHashMemo(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR(t, dir, 2)
	d, err := LoadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range d.Files {
		got, reads := hashCounted(t, f.Path)
		if reads != 0 || got != f {
			t.Errorf("%s: HashFile read %d files and gave %+v; want 0 reads and the load's %+v", f.Path, reads, got, f)
		}
	}
}

package npy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHeaderAligned(t *testing.T) {
	for _, shape := range [][]int{{}, {0}, {3}, {2, 3}, {60000, 1, 28, 28}, {1, 2, 3, 4, 5, 6, 7}} {
		h, err := header("<f4", shape)
		if err != nil {
			t.Fatal(err)
		}
		if len(h)%64 != 0 || h[len(h)-1] != '\n' || !bytes.HasPrefix(h, []byte("\x93NUMPY\x01\x00")) {
			t.Errorf("shape %v: header %q is not a 64-byte aligned 1.0 header", shape, h)
		}
	}
	h, _ := header("<i8", []int{5})
	if !strings.Contains(string(h), "'shape': (5,)") {
		t.Errorf("a one-dimensional shape must be a one-element tuple: %q", h)
	}
	if err := WriteFloat32(&bytes.Buffer{}, []int{2, 2}, []float32{1}); err == nil {
		t.Error("WriteFloat32 accepted 1 value for shape [2 2]")
	}
	if _, err := header("<f4", []int{-1}); err == nil {
		t.Error("a negative dimension was accepted")
	}
}

// TestNumpyReads checks the files with numpy itself, when Debian's python3-numpy is here.
func TestNumpyReads(t *testing.T) {
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("no python3 with numpy")
	}
	dir := t.TempDir()
	write := func(name string, f func(*os.File) error) {
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := f(fh); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
	write("x.npy", func(f *os.File) error {
		return WriteFloat32(f, []int{2, 1, 2, 3}, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -1.5})
	})
	write("y.npy", func(f *os.File) error { return WriteInt64(f, []int{3}, []int64{7, -2, 1 << 40}) })
	out, err := exec.Command(py, "-c", `
import json, sys, numpy as np
x = np.load(sys.argv[1]); y = np.load(sys.argv[2])
print(json.dumps({"xs": list(x.shape), "xd": str(x.dtype), "x": x.ravel().tolist(), "ys": list(y.shape), "yd": str(y.dtype), "y": y.tolist()}))
`, filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	var got struct {
		XS []int
		XD string
		X  []float64
		YS []int
		YD string
		Y  []int64
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.XD != "float32" || len(got.XS) != 4 || got.XS[3] != 3 || got.X[11] != -1.5 || got.X[5] != 5 {
		t.Errorf("float32 array read back as %+v", got)
	}
	if got.YD != "int64" || got.YS[0] != 3 || got.Y[1] != -2 || got.Y[2] != 1<<40 {
		t.Errorf("int64 array read back as %+v", got)
	}
}

// TestWriteElements reads the elements back after the header, for arrays shorter than a
// chunk, exactly one, and spanning three with a partial last one.
func TestWriteElements(t *testing.T) {
	for _, n := range []int{0, 1, chunk, 2*chunk + 3} {
		xf, xi := make([]float32, n), make([]int64, n)
		for i := range n {
			xf[i], xi[i] = float32(i)-0.5, int64(i)*(1<<33)-7
		}
		var bf, bi bytes.Buffer
		if err := WriteFloat32(&bf, []int{n}, xf); err != nil {
			t.Fatal(err)
		}
		if err := WriteInt64(&bi, []int{n}, xi); err != nil {
			t.Fatal(err)
		}
		hf, _ := header("<f4", []int{n})
		hi, _ := header("<i8", []int{n})
		if bf.Len() != len(hf)+4*n || bi.Len() != len(hi)+8*n {
			t.Fatalf("n %d: %d and %d bytes, want %d and %d", n, bf.Len(), bi.Len(), len(hf)+4*n, len(hi)+8*n)
		}
		df, di := bf.Bytes()[len(hf):], bi.Bytes()[len(hi):]
		for i := range n {
			if f := math.Float32frombits(binary.LittleEndian.Uint32(df[4*i:])); f != xf[i] {
				t.Fatalf("n %d: float %d is %g, want %g", n, i, f, xf[i])
			}
			if v := int64(binary.LittleEndian.Uint64(di[8*i:])); v != xi[i] {
				t.Fatalf("n %d: int %d is %d, want %d", n, i, v, xi[i])
			}
		}
	}
}

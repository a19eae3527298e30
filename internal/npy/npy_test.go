package npy

import (
	"bytes"
	"encoding/json"
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

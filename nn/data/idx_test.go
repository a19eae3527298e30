package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: magic, big-endian dims, data.
func idxBytes(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seq returns n bytes 0, 1, 2, ... (mod m).
func seq(n, m int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % m)
	}
	return b
}

func TestReadIDX(t *testing.T) {
	labels := idxBytes(magicLabels, []uint32{5}, []byte{3, 1, 4, 1, 5})
	images := idxBytes(magicImages, []uint32{2, 3, 4}, seq(24, 256))
	tests := []struct {
		name     string
		file     []byte
		wantDims []int
		wantData []byte
	}{
		{"labels plain", labels, []int{5}, []byte{3, 1, 4, 1, 5}},
		{"labels gzip", gz(t, labels), []int{5}, []byte{3, 1, 4, 1, 5}},
		{"images plain", images, []int{2, 3, 4}, seq(24, 256)},
		{"images gzip", gz(t, images), []int{2, 3, 4}, seq(24, 256)},
		{"no labels", idxBytes(magicLabels, []uint32{0}, nil), []int{0}, []byte{}},
		{"gzip of two members", append(gz(t, images[:10]), gz(t, images[10:])...), []int{2, 3, 4}, seq(24, 256)},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The name says nothing: gzip is recognised by its magic.
			p := writeFile(t, dir, "file"+string(rune('a'+i)), tt.file)
			dims, data, err := ReadIDX(p)
			if err != nil {
				t.Fatalf("ReadIDX: %v", err)
			}
			if !slices.Equal(dims, tt.wantDims) || !bytes.Equal(data, tt.wantData) {
				t.Errorf("got dims %v data %v, want %v %v", dims, data, tt.wantDims, tt.wantData)
			}
		})
	}
}

func TestReadIDXErrors(t *testing.T) {
	images := idxBytes(magicImages, []uint32{2, 3, 4}, seq(24, 256))
	corrupt := gz(t, idxBytes(magicImages, []uint32{20, 30, 40}, seq(24000, 7)))
	corrupt[len(corrupt)/2] ^= 0xff
	corrupt[len(corrupt)/2+1] ^= 0x55
	badCRC := gz(t, images)
	badCRC[len(badCRC)-8] ^= 1 // the CRC-32 in the trailer
	tests := []struct {
		name string
		file []byte
		want []string // substrings of the error
	}{
		{"empty file", nil, []string{"empty file"}},
		{"short header", []byte{0, 0, 8}, []string{"too short for an IDX header: 3 bytes"}},
		{"bad magic", idxBytes(0x12345678, []uint32{1}, []byte{0}), []string{"bad magic 0x12345678", "not an IDX file"}},
		{"text file", []byte("hello, world\n"), []string{"bad magic"}},
		{"float elements", idxBytes(0x00000d01, []uint32{1}, []byte{0, 0, 0, 0}), []string{"element type 0x0d", "only unsigned bytes"}},
		{"two dimensions", idxBytes(0x00000802, []uint32{2, 2}, []byte{1, 2, 3, 4}), []string{"wrong number of dimensions", "says 2", "expected 1 (labels"}},
		{"no dimensions", idxBytes(0x00000800, nil, nil), []string{"wrong number of dimensions", "says 0"}},
		{"header truncated", idxBytes(magicImages, []uint32{2, 3}, nil), []string{"header truncated", "need 12 bytes, the file has 8"}},
		{"data truncated", images[:len(images)-2], []string{"header says 2×3×4 = 24 bytes of data but the file holds 22 (truncated)"}},
		{"labels truncated", idxBytes(magicLabels, []uint32{10}, seq(9, 10)), []string{"header says 10 bytes of data but the file holds 9"}},
		{"trailing bytes", append(slices.Clone(images), 9, 9, 9), []string{"holds 27 (3 trailing bytes)"}},
		{"gzip data truncated", gz(t, images[:len(images)-1]), []string{"holds 23 (truncated) (after decompression)"}},
		{"gzip trailing bytes", gz(t, append(slices.Clone(images), 1, 2)), []string{"holds 26 (2 trailing bytes) (after decompression)"}},
		{"gzip empty", gz(t, nil), []string{"empty file (after decompression)"}},
		{"gzip corrupt", corrupt, []string{"corrupt gzip stream"}},
		{"gzip cut short", gz(t, images)[:20], []string{"corrupt gzip stream", "unexpected EOF"}},
		{"gzip bad checksum", badCRC, []string{"corrupt gzip stream", "checksum"}},
		{"gzip header only", []byte{0x1f, 0x8b}, []string{"corrupt gzip stream"}},
		{"huge header, tiny file", idxBytes(magicImages, []uint32{60000, 28, 28}, seq(1000, 256)), []string{"header says 60000×28×28 = 47040000 bytes of data but the file holds 1000"}},
		{"huge header, tiny gzip", gz(t, idxBytes(magicImages, []uint32{1 << 30, 1 << 20, 1}, seq(100, 256))), []string{"gzip file cannot decompress to more than"}},
		{"header beyond addressing", idxBytes(magicImages, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), []string{"more than this machine can address"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "-"), tt.file)
			dims, data, err := ReadIDX(p)
			if err == nil {
				t.Fatalf("ReadIDX succeeded with dims %v and %d bytes, want an error", dims, len(data))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, p+": ") {
				t.Errorf("error %q does not start with the path", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		p := filepath.Join(dir, "nonexistent")
		if _, _, err := ReadIDX(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("got %v, want an error naming %s", err, p)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, _, err := ReadIDX(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("got %v, want an error saying it is a directory", err)
		}
	})
}

// FuzzReadIDX feeds ReadIDX arbitrary files: it must return an error or data that agrees
// with its dimensions, and never panic or allocate what the file cannot hold.
func FuzzReadIDX(f *testing.F) {
	labels := idxBytes(magicLabels, []uint32{5}, []byte{3, 1, 4, 1, 5})
	images := idxBytes(magicImages, []uint32{2, 3, 4}, seq(24, 256))
	for _, seed := range [][]byte{
		labels, images, gz(f, labels), gz(f, images),
		nil, {0x1f, 0x8b}, {0, 0, 8, 1}, {0, 0, 8, 3, 0, 0},
		images[:len(images)-1], append(slices.Clone(images), 0),
		idxBytes(magicImages, []uint32{60000, 28, 28}, nil),
		gz(f, idxBytes(magicImages, []uint32{0xffffff, 0xffff, 0xff}, nil)),
		gz(f, images)[:15],
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		tmp, err := os.CreateTemp(dir, "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(b); err != nil {
			t.Fatal(err)
		}
		tmp.Close()
		dims, data, err := ReadIDX(tmp.Name())
		if err != nil {
			if !strings.HasPrefix(err.Error(), tmp.Name()+": ") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if len(dims) != 1 && len(dims) != 3 {
			t.Fatalf("accepted %d dimensions", len(dims))
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if n != len(data) {
			t.Fatalf("dims %v but %d bytes", dims, len(data))
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			if want := 4 + 4*len(dims) + n; want != len(b) {
				t.Fatalf("accepted a plain file of %d bytes for %d", len(b), want)
			}
		}
	})
}

package torchsave

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/nlpodyssey/gopickle/pytorch"
)

// The fixtures under testdata/torch are written by scripts/make_torch_fixtures.py with
// PyTorch 1.13; the .safetensors files hold the weights PyTorch saved.

func torchFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParseArch(t testing.TB, s string) nn.Arch {
	t.Helper()
	a, err := nn.ParseArch(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const (
	torchMLP    = "mlp 20-8-4 relu"
	torchResNet = "resnet 1x16x16 4-8-16x1 4 layernorm"
)

// TestReadTorch reads every layout of a state_dict that torch.save writes and checks that
// each gives exactly the weights PyTorch saved.
func TestReadTorch(t *testing.T) {
	for _, c := range []struct {
		file, arch, want, source string
	}{
		{"mlp.pt", torchMLP, "mlp.safetensors", "the file's state_dict"},
		{"mlp_checkpoint.pt", torchMLP, "mlp.safetensors", `the checkpoint's "model_state_dict" entry`},
		{"mlp_dataparallel.pt", torchMLP, "mlp.safetensors", `the checkpoint's "state_dict" entry, with the prefix "module." removed from every name`},
		{"mlp_strided.pt", torchMLP, "mlp.safetensors", "the file's state_dict"},
		{"mlp_protocol4.pt", torchMLP, "mlp.safetensors", "the file's state_dict"},
		{"mlp_parameters.pt", torchMLP, "mlp.safetensors", "the file's state_dict"},
		{"resnet.pt", torchResNet, "resnet.safetensors", "the file's state_dict"},
	} {
		t.Run(c.file, func(t *testing.T) {
			arch := mustParseArch(t, c.arch)
			want, err := nn.DecodeNetworkAs(torchFixture(t, c.want), arch)
			if err != nil {
				t.Fatal(err)
			}
			got, st, err := DecodeAs(torchFixture(t, c.file), arch)
			if err != nil {
				t.Fatal(err)
			}
			sameNetwork(t, got, want)
			if st.Source() != c.source {
				t.Errorf("source %q, want %q", st.Source(), c.source)
			}
		})
	}
}

// TestReadTorchErrors checks that every way a file can be wrong is an error naming what is
// wrong: a tensor that does not fit, a file that is not a state_dict, and damaged files.
func TestReadTorchErrors(t *testing.T) {
	mlp := torchFixture(t, "mlp.pt")
	for _, c := range []struct {
		name string
		b    []byte
		arch string
		want string
	}{
		{"float64", torchFixture(t, "mlp_f64.pt"), torchMLP, `torch: tensor "layers.0.weight" has dtype torch.float64; parameters must be torch.float32 (save tensor.float(), or model.float().state_dict())`},
		{"float16", torchFixture(t, "mlp_f16.pt"), torchMLP, `torch: tensor "layers.0.weight" has dtype torch.float16;`},
		{"missing tensor", torchFixture(t, "mlp_missing.pt"), torchMLP, `torch: tensors do not fit architecture mlp 20-8-4 relu: missing tensor "layers.1.bias"`},
		{"misshapen tensor", torchFixture(t, "mlp_misshapen.pt"), torchMLP, `torch: tensors do not fit architecture mlp 20-8-4 relu: tensor "layers.0.bias" has shape [9], want [8]`},
		{"another architecture", mlp, "mlp 20-9-4 relu", `tensor "layers.0.weight" has shape [8 20], want [9 20]`},
		{"batchnorm", torchFixture(t, "mlp_batchnorm.pt"), torchMLP, `torch: tensor "norms.0.running_mean" is a BatchNorm buffer (running_mean): modulo's networks have LayerNorm`},
		{"whole module", torchFixture(t, "mlp_module.pt"), torchMLP, "torch: the file holds a whole pickled torch.nn.Module (torch_models.MLP), as torch.save(model) writes, not a state_dict; save the model's: torch.save(model.state_dict(), path)"},
		{"list", torchFixture(t, "mlp_list.pt"), torchMLP, "torch: the file holds a list, not a state_dict"},
		{"truncated", torchFixture(t, "mlp_truncated.pt"), torchMLP, "torch: the file is not a zip archive, as torch.save writes since PyTorch 1.6 (a truncated or corrupt file, or not PyTorch's)"},
		{"legacy", torchFixture(t, "mlp_legacy.pt"), torchMLP, "torch: the file is in the legacy format of torch.save before PyTorch 1.6"},
		{"empty", nil, torchMLP, "torch: the file is not a zip archive"},
		{"text", []byte("layers.0.weight = [1, 2, 3]\n"), torchMLP, "torch: the file is not a zip archive"},
		{"safetensors", torchFixture(t, "mlp.safetensors"), torchMLP, "torch: the file is not a zip archive"},
		{"storage left out", rezip(t, mlp, func(name string, b []byte) []byte {
			return cond(strings.HasSuffix(name, "/data/0"), nil, b)
		}), torchMLP, `torch: tensor "layers.0.weight": its storage data/0 is missing from the archive`},
		{"storage cut short", rezip(t, mlp, func(name string, b []byte) []byte {
			return cond(strings.HasSuffix(name, "/data/0"), b[:100], b)
		}), torchMLP, `torch: tensor "layers.0.weight": its storage data/0 should hold 160 elements of torch.float32 but has 100 bytes: the file is truncated or corrupt`},
		{"flipped byte", flipIn(t, mlp, "/data/2"), torchMLP, "torch: record mlp/data/2 is corrupt: zip: checksum error"},
		{"no data.pkl", rezip(t, mlp, func(name string, b []byte) []byte {
			return cond(strings.HasSuffix(name, "data.pkl"), nil, b)
		}), torchMLP, "torch: the zip archive has no data.pkl: it was not written by torch.save"},
		{"TorchScript", rezip(t, mlp, func(name string, b []byte) []byte {
			return cond(strings.HasSuffix(name, "/version"), []byte("3\n"), b)
		}, "mlp/constants.pkl"), torchMLP, "torch: the file is a TorchScript archive (torch.jit.save), not a state_dict"},
		{"big-endian", rezip(t, mlp, nil, "mlp/byteorder:big"), torchMLP, `torch: the file was written on a machine of byte order "big"`},
		{"forged length", withPickle(t, mlp, []byte("\x80\x02\x8e\xff\xff\xff\xff\xff\x00\x00\x00.")), torchMLP, "torch: data.pkl is not a valid pickle: opcode 0x8e at byte 2: an argument of 1099511627775 bytes, but 1 remain"},
		{"forged frame", withPickle(t, mlp, []byte("\x80\x04\x95\x00\x00\x00\x00\x00\x01\x00\x00N.")), torchMLP, "torch: data.pkl is not a valid pickle: a frame of 1099511627776 bytes"},
		{"pickle without STOP", withPickle(t, mlp, []byte("\x80\x02}q\x00")), torchMLP, "torch: data.pkl is not a valid pickle: it ends without STOP: truncated"},
		{"unknown opcode", withPickle(t, mlp, []byte("\x80\x02\xff.")), torchMLP, "torch: data.pkl is not a valid pickle: unknown opcode 0xff at byte 2"},
		{"empty LONG1", withPickle(t, mlp, []byte("\x80\x02\x8a\x00.")), torchMLP, "torch: the file is malformed: reading it failed with"},
		{"empty dict", withPickle(t, mlp, []byte("\x80\x02}.")), torchMLP, "torch: the state_dict is empty"},
		{"dict of numbers", withPickle(t, mlp, []byte("\x80\x02}(X\x05\x00\x00\x00epochK\x03X\x04\x00\x00\x00lossG?\xe0\x00\x00\x00\x00\x00\x00u.")), torchMLP,
			`torch: entry "epoch" of the file's dict is an int, not a tensor: the file is neither a state_dict nor a checkpoint holding one under "state_dict", "model_state_dict" or "model" (its entries: "epoch", "loss")`},
		{"model is a number", withPickle(t, mlp, []byte("\x80\x02}X\x05\x00\x00\x00modelK\x03s.")), torchMLP, `torch: the checkpoint's "model" entry is an int, not a state_dict`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeAs(c.b, mustParseArch(t, c.arch))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant one containing %q", err, c.want)
			}
		})
	}
}

// TestReadTorchTruncated reads every prefix of a file: each is an error, never a panic.
func TestReadTorchTruncated(t *testing.T) {
	for _, name := range []string{"mlp.pt", "mlp_checkpoint.pt"} {
		b := torchFixture(t, name)
		for n := range len(b) {
			if _, err := Read(b[:n]); err == nil {
				t.Errorf("%s cut to %d of %d bytes: no error", name, n, len(b))
			}
		}
	}
}

func cond[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// rezip rewrites the zip archive b: edit (if not nil) returns each record's new content,
// nil to leave it out; each of add, "name" or "name:content", is a record added.
func rezip(t testing.TB, b []byte, edit func(name string, data []byte) []byte, add ...string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	put := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err == nil {
			_, err = w.Write(data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	eachRecord(t, zr, func(name string, d []byte) {
		if edit != nil {
			if d = edit(name, d); d == nil {
				return
			}
		}
		put(name, d)
	})
	for _, a := range add {
		name, content, _ := strings.Cut(a, ":")
		put(name, []byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// withPickle is b with data.pkl replaced by pkl.
func withPickle(t testing.TB, b, pkl []byte) []byte {
	return rezip(t, b, func(name string, data []byte) []byte {
		return cond(strings.HasSuffix(name, "/data.pkl"), pkl, data)
	})
}

// flipIn is b with one byte of the record named …suffix changed in place, its CRC-32 left
// as it was.
func flipIn(t testing.TB, b []byte, suffix string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, suffix) {
			off, err := f.DataOffset()
			if err != nil {
				t.Fatal(err)
			}
			out := slices.Clone(b)
			out[off+3] ^= 0x40
			return out
		}
	}
	t.Fatalf("no record %s", suffix)
	return nil
}

// TestGatherStrides reads views of one storage of 24 float32s 0…23, as PyTorch lays them
// out, against the values PyTorch shows.
func TestGatherStrides(t *testing.T) {
	vals := make([]float32, 24)
	for i := range vals {
		vals[i] = float32(i)
	}
	s := &torchStorage{dtype: "F32", key: "0", numel: 24, data: nn.F32Bytes(vals)}
	ar := &torchArchive{size: 1 << 20}
	for _, c := range []struct {
		name         string
		offset       int
		size, stride []int
		want         []float32
		err          string
	}{
		{"contiguous", 0, []int{2, 3}, []int{3, 1}, []float32{0, 1, 2, 3, 4, 5}, ""},
		{"offset", 5, []int{4}, []int{1}, []float32{5, 6, 7, 8}, ""},
		{"transposed", 0, []int{3, 2}, []int{1, 3}, []float32{0, 3, 1, 4, 2, 5}, ""},
		{"every other", 1, []int{3}, []int{2}, []float32{1, 3, 5}, ""},
		{"3-d permuted", 0, []int{2, 2, 3}, []int{3, 12, 1}, []float32{0, 1, 2, 12, 13, 14, 3, 4, 5, 15, 16, 17}, ""},
		{"expanded", 2, []int{2, 3}, []int{0, 1}, []float32{2, 3, 4, 2, 3, 4}, ""},
		{"size-1 dimension, any stride", 7, []int{1, 2}, []int{999, 1}, []float32{7, 8}, ""},
		{"scalar", 23, []int{}, []int{}, []float32{23}, ""},
		{"empty", 0, []int{0, 5}, []int{5, 1}, []float32{}, ""},
		{"last element", 0, []int{24}, []int{1}, vals, ""},
		{"beyond", 1, []int{24}, []int{1}, nil, "reach beyond its storage of 24 elements"},
		{"stride beyond", 0, []int{2, 2}, []int{23, 1}, nil, "reach beyond its storage"},
		{"huge stride", 0, []int{2}, []int{1 << 62}, nil, "reach beyond its storage"},
		{"negative stride", 10, []int{3}, []int{-1}, nil, "reach beyond its storage"},
		{"offset beyond", 24, []int{1}, []int{1}, nil, "storage offset 24 is outside its storage of 24 elements"},
		{"negative size", 0, []int{-1}, []int{1}, nil, "is negative or larger than the file can hold"},
		{"huge size", 0, []int{1 << 40, 1 << 40}, []int{0, 0}, nil, "is negative or larger than the file can hold"},
		{"strides of another rank", 0, []int{2, 3}, []int{1}, nil, "strides [1]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tensor := &pytorch.Tensor{Source: s, StorageOffset: c.offset, Size: c.size, Stride: c.stride}
			b, dtype, err := ar.gather(tensor, 1<<20)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil || dtype != "F32" {
				t.Fatalf("dtype %s, error %v", dtype, err)
			}
			if got := nn.BytesF32(b); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestCheckPickle accepts the pickles PyTorch writes and refuses lengths beyond the end.
func TestCheckPickle(t *testing.T) {
	zr, err := zip.NewReader(bytes.NewReader(torchFixture(t, "mlp_checkpoint.pt")), 1<<30)
	if err == nil {
		t.Fatal("a wrong size should fail")
	}
	for _, name := range []string{"mlp.pt", "mlp_checkpoint.pt", "mlp_module.pt", "resnet.pt"} {
		b := torchFixture(t, name)
		zr, err = zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, "data.pkl") {
				continue
			}
			rc, _ := f.Open()
			var pkl bytes.Buffer
			pkl.ReadFrom(rc)
			if err := checkPickle(pkl.Bytes()); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			// Every prefix is refused: it ends early.
			for n := range pkl.Len() {
				if checkPickle(pkl.Bytes()[:n]) == nil {
					t.Errorf("%s: data.pkl cut to %d bytes accepted", name, n)
				}
			}
		}
	}
	long := binary.LittleEndian.AppendUint32([]byte("\x80\x02X"), 1<<31)
	if err := checkPickle(append(long, '.')); err == nil {
		t.Error("a BINUNICODE of 2 GiB in a 8-byte pickle was accepted")
	}
}

// FuzzReadTorch reads arbitrary bytes as a torch.save file, seeded with the fixtures: it
// must return an error or tensors that hold what their shapes say, and never panic. The
// zip reader checks CRCs, so most mutations of a record stop there; FuzzReadTorchPickle
// fuzzes the pickle itself.
//
//	go test -run '^$' -fuzz FuzzReadTorch -fuzztime 5m ./nn/
func FuzzReadTorch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "torch", "*.pt"))
	for _, p := range files {
		f.Add(torchFixture(f, filepath.Base(p)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := Read(b)
		if err == nil {
			checkState(t, st)
		}
	})
}

// FuzzReadTorchPickle puts arbitrary bytes as data.pkl into mlp.pt (with a valid CRC), so
// that the unpickler, the search for the state_dict and the strided reads see them. Seeded
// with the fixtures' pickles.
//
//	go test -run '^$' -fuzz FuzzReadTorchPickle -fuzztime 5m ./nn/
func FuzzReadTorchPickle(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "torch", "*.pt"))
	for _, p := range files {
		rezipOK(f, torchFixture(f, filepath.Base(p)), func(name string, data []byte) {
			if strings.HasSuffix(name, "/data.pkl") {
				f.Add(data)
			}
		})
	}
	base := torchFixture(f, "mlp_strided.pt")
	f.Fuzz(func(t *testing.T, pkl []byte) {
		st, err := Read(withPickle(t, base, pkl))
		if err == nil {
			checkState(t, st)
		}
	})
}

// rezipOK calls visit with each record of a valid zip archive b.
func rezipOK(t testing.TB, b []byte, visit func(name string, data []byte)) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	eachRecord(t, zr, visit)
}

// eachRecord calls visit with the name and content of each record of zr.
func eachRecord(t testing.TB, zr *zip.Reader, visit func(name string, data []byte)) {
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var data bytes.Buffer
		data.ReadFrom(rc)
		rc.Close()
		visit(f.Name, data.Bytes())
	}
}

func checkState(t *testing.T, st *State) {
	for _, x := range st.Tensors {
		n, ok := nn.ShapeElements(x.Shape, 1<<40)
		if !ok || n*nn.DTypeSize(x.DType) != len(x.Data) {
			t.Fatalf("tensor %q of %s %v has %d bytes", x.Name, x.DType, x.Shape, len(x.Data))
		}
	}
}

// sameNetwork fails unless got and want have the same architecture and bit-identical
// parameters under the same names: their safetensors encodings are equal.
func sameNetwork(t *testing.T, got, want *nn.Network) {
	t.Helper()
	g, err := nn.EncodeNetwork(got, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := nn.EncodeNetwork(want, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("the network read (%v) differs from the one PyTorch saved (%v)", got.Arch, want.Arch)
	}
}

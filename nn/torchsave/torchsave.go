// Package torchsave reads the files torch.save writes: the state_dict of a network trained
// in PyTorch, for the network stage. It lives beside nn rather than in it so that nn, the
// numerics, depends on nothing but the standard library and gonum: the pickle reader
// (github.com/nlpodyssey/gopickle) is this package's alone.
package torchsave

import (
	"archive/zip"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/modulo-ml/modulo/nn"
	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// State is the state_dict a torch.save file holds: its tensors, and where in the file
// they were found.
type State struct {
	// Tensors are the state_dict's entries in the file's order, each contiguous and
	// little-endian, with safetensors dtype names ("F32", "F64", "I64", …).
	Tensors []nn.Tensor
	// Key is the checkpoint entry holding the state_dict ("model_state_dict"), or "" when
	// the file is the state_dict itself.
	Key string
	// Prefix was removed from every name: "module.", which torch.nn.DataParallel and
	// DistributedDataParallel put before their module's names.
	Prefix string
}

// Source says where the state_dict was found, for a log line.
func (s *State) Source() string {
	src := "the file's state_dict"
	if s.Key != "" {
		src = fmt.Sprintf("the checkpoint's %q entry", s.Key)
	}
	if s.Prefix != "" {
		src += fmt.Sprintf(", with the prefix %q removed from every name", s.Prefix)
	}
	return src
}

// stateDictKeys are the entries of a checkpoint dict that hold the model's state_dict in the
// common layouts, in the order they are looked for: "state_dict" (PyTorch Lightning and
// many scripts), "model_state_dict" (PyTorch's tutorial, open_lth's checkpoint.pth),
// "model" (timm, fairseq and others).
var stateDictKeys = []string{"state_dict", "model_state_dict", "model"}

// torchDTypes are the storage classes torch.save names, by their safetensors dtype.
var torchDTypes = map[string]string{
	"FloatStorage": "F32", "DoubleStorage": "F64", "HalfStorage": "F16", "BFloat16Storage": "BF16",
	"LongStorage": "I64", "IntStorage": "I32", "ShortStorage": "I16", "CharStorage": "I8",
	"ByteStorage": "U8", "BoolStorage": "BOOL",
}

// legacyMagic starts a file written by torch.save before PyTorch 1.6, or with
// _use_new_zipfile_serialization=False: a protocol-2 pickle of the number
// 0x1950a86a20f9469cfc6c.
var legacyMagic = []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19")

// IsFile reports whether b looks like a file written by torch.save, in its zip format
// or the legacy one, rather than safetensors.
func IsFile(b []byte) bool {
	return bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, legacyMagic)
}

// Read reads the state_dict of a file written by torch.save (the zip format of
// PyTorch 1.6 and later): a state_dict saved as it is (an OrderedDict of tensors, as
// torch.save(model.state_dict()) and open_lth write them), or a checkpoint dict holding one
// under "state_dict", "model_state_dict" or "model". Anything else the checkpoint holds (an
// optimizer's state, arguments, numpy scalars) is read as opaque objects and ignored. Views
// (a transposed weight, a slice of a larger storage, storages shared by several tensors) come
// back as contiguous copies of what they show.
//
// The pickle is read by gopickle's unpickler with PyTorch's tensor-rebuilding function;
// the storages are read from the archive, bounded by its size, only once the pickle has
// been read. Read never panics: garbage, a truncated file, the legacy format and a
// TorchScript archive are errors saying what the file is and what to do.
func Read(b []byte) (st *State, err error) {
	defer func() {
		// gopickle trusts its input (an empty LONG1, an unhashable dict key); whatever it
		// trips over is a malformed file, not a bug here.
		if r := recover(); r != nil {
			st, err = nil, fmt.Errorf("torch: the file is malformed: reading it failed with %v", r)
		}
	}()
	if bytes.HasPrefix(b, legacyMagic) {
		return nil, errors.New("torch: the file is in the legacy format of torch.save before PyTorch 1.6 (or _use_new_zipfile_serialization=False), which modulo does not read; load it in PyTorch and save it again with torch.save's default format")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("torch: the file is not a zip archive, as torch.save writes since PyTorch 1.6 (a truncated or corrupt file, or not PyTorch's): %v", err)
	}
	ar, err := openArchive(zr, len(b))
	if err != nil {
		return nil, err
	}
	obj, err := ar.unpickle()
	if err != nil {
		return nil, err
	}
	st, entries, err := stateDict(obj)
	if err != nil {
		return nil, err
	}
	// Views may show more than their storages hold (an expanded tensor), but a state_dict's
	// hardly ever does; twice the file bounds what a forged one makes us allocate.
	budget := 2 * len(b)
	for _, e := range entries {
		t := e.value.(*pytorch.Tensor)
		data, dtype, err := ar.gather(t, budget)
		if err != nil {
			return nil, fmt.Errorf("torch: tensor %q: %w", e.name, err)
		}
		budget -= len(data)
		st.Tensors = append(st.Tensors, nn.Tensor{Name: e.name, DType: dtype, Shape: slices.Clone(t.Size), Data: data})
	}
	return st, nil
}

// DecodeAs reads a network of architecture arch from a torch.save file (see
// Read): every parameter arch has, by its state_dict name, in float32, and no other
// tensor. Each mistake is named, as nn.DecodeNetworkAs names them.
func DecodeAs(b []byte, arch nn.Arch) (*nn.Network, *State, error) {
	if err := arch.Validate(); err != nil {
		return nil, nil, fmt.Errorf("torch: %v", err)
	}
	st, err := Read(b)
	if err != nil {
		return nil, nil, err
	}
	n, err := nn.NetworkFromTensors("torch", arch, st.Tensors, len(b))
	return n, st, err
}

// torchArchive is an open torch.save archive: the records under its one top directory
// (archive/ in PyTorch 2, the file's stem before).
type torchArchive struct {
	records  map[string]*zip.File
	size     int                      // the file's bytes, which bound what a record may expand to
	storages map[string]*torchStorage // by key, as the pickle names them
}

func openArchive(zr *zip.Reader, size int) (*torchArchive, error) {
	ar := &torchArchive{records: map[string]*zip.File{}, size: size, storages: map[string]*torchStorage{}}
	prefix := ""
	for _, f := range zr.File {
		if dir, ok := strings.CutSuffix(f.Name, "data.pkl"); ok && strings.Count(dir, "/") == 1 && strings.HasSuffix(dir, "/") {
			if prefix != "" && prefix != dir {
				return nil, fmt.Errorf("torch: the archive holds two pickles, %sdata.pkl and %sdata.pkl; torch.save writes one", prefix, dir)
			}
			prefix = dir
		}
	}
	if prefix == "" {
		return nil, errors.New("torch: the zip archive has no data.pkl: it was not written by torch.save")
	}
	for _, f := range zr.File {
		if name, ok := strings.CutPrefix(f.Name, prefix); ok {
			ar.records[name] = f
		}
	}
	if _, ok := ar.records["constants.pkl"]; ok {
		return nil, errors.New("torch: the file is a TorchScript archive (torch.jit.save), not a state_dict; save the state_dict with torch.save(model.state_dict(), path)")
	}
	if f, ok := ar.records["byteorder"]; ok {
		order, err := ar.read(f, 16)
		if err != nil {
			return nil, err
		}
		if string(order) != "little" {
			return nil, fmt.Errorf("torch: the file was written on a machine of byte order %q; save it again on a little-endian machine (x86, ARM)", order)
		}
	}
	return ar, nil
}

// read returns the bytes of record f, refusing more than limit of them and more than its
// compressed size could expand to (torch.save stores records uncompressed; deflate expands
// at most 1032-fold), so that a forged header cannot make it allocate beyond the file.
func (ar *torchArchive) read(f *zip.File, limit int) ([]byte, error) {
	n := f.UncompressedSize64
	maxN := f.CompressedSize64
	if f.Method != zip.Store {
		maxN *= 1032
	}
	if f.CompressedSize64 > uint64(ar.size) || n > maxN || n > uint64(limit) {
		return nil, fmt.Errorf("torch: record %s claims %d bytes, more than the %d-byte file can hold: the file is corrupt", f.Name, n, ar.size)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("torch: record %s: %v", f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("torch: record %s is truncated or corrupt: %v", f.Name, err)
	}
	// The zip reader checks the record's CRC-32 when it reaches the end, as PyTorch's does.
	var one [1]byte
	if _, err := rc.Read(one[:]); err != io.EOF {
		return nil, fmt.Errorf("torch: record %s is corrupt: %v", f.Name, cmp.Or(err, errors.New("longer than its size")))
	}
	return b, nil
}

// unpickle reads data.pkl with gopickle, the storages it names left unread.
func (ar *torchArchive) unpickle() (any, error) {
	pkl, err := ar.read(ar.records["data.pkl"], ar.size)
	if err != nil {
		return nil, err
	}
	// gopickle allocates what a length field says before reading: check them all first.
	if err := checkPickle(pkl); err != nil {
		return nil, fmt.Errorf("torch: data.pkl is not a valid pickle: %w", err)
	}
	u := pickle.NewUnpickler(bytes.NewReader(pkl))
	u.FindClass = findTorchClass
	u.PersistentLoad = ar.persistentLoad
	obj, err := u.Load()
	if err != nil {
		return nil, fmt.Errorf("torch: data.pkl: %v", err)
	}
	return obj, nil
}

// findTorchClass resolves the globals a torch.save pickle names: the tensor-rebuilding
// functions and storage classes of PyTorch, and anything else as an opaque class whose
// objects take whatever arguments and state the pickle gives them, so that a checkpoint's
// other entries never stop the state_dict from being read.
func findTorchClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor{}, nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return rebuildParameter{}, nil
	}
	if dtype, ok := torchDTypes[name]; ok && module == "torch" {
		return &storageClass{dtype: dtype, name: module + "." + name}, nil
	}
	return &opaqueClass{module: module, name: name}, nil
}

// rebuildTensor is torch._utils._rebuild_tensor_v2. PyTorch 2 may pass a seventh argument,
// the tensor's metadata, which gopickle's RebuildTensorV2 does not take and modulo does not
// need.
type rebuildTensor struct{}

func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) == 7 {
		args = args[:6]
	}
	return (&pytorch.RebuildTensorV2{}).Call(args...)
}

// rebuildParameter is torch._utils._rebuild_parameter(data, requires_grad, hooks): a
// torch.nn.Parameter, which is its tensor here.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("_rebuild_parameter without arguments")
	}
	if _, ok := args[0].(*pytorch.Tensor); !ok {
		return nil, fmt.Errorf("_rebuild_parameter of %s, not a tensor", describe(args[0]))
	}
	return args[0], nil
}

// storageClass is a storage type of torch.save's persistent ids, such as torch.FloatStorage.
type storageClass struct{ dtype, name string }

// torchStorage is one storage of the archive, read when a tensor needs it.
type torchStorage struct {
	dtype string
	key   string
	numel int
	data  []byte // numel elements, once read
}

// torchStorage is what gopickle's RebuildTensorV2 takes; its data is read by gather.
var _ pytorch.StorageInterface = (*torchStorage)(nil)

func (*torchStorage) SetFromFile(io.Reader) error {
	return errors.New("torch: storages are read by gather")
}
func (*torchStorage) SetFromFileWithSize(io.Reader, int) error {
	return errors.New("torch: storages are read by gather")
}

// persistentLoad resolves torch.save's persistent ids, ("storage", class, key, location,
// numel), to the storages of the archive. The location (such as "cuda:0") does not matter:
// the bytes are the same.
func (ar *torchArchive) persistentLoad(id any) (any, error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < 5 || t.Get(0) != "storage" {
		return nil, fmt.Errorf("persistent id %s is not a storage", describe(id))
	}
	class, ok := t.Get(1).(*storageClass)
	if !ok {
		return nil, fmt.Errorf("a storage of %s; modulo reads the storages of float, integer and bool tensors", describe(t.Get(1)))
	}
	key, ok := t.Get(2).(string)
	numel, ok2 := t.Get(4).(int)
	if !ok || !ok2 || numel < 0 {
		return nil, fmt.Errorf("storage id %s has no key and size", describe(id))
	}
	if s, ok := ar.storages[key]; ok {
		if s.dtype != class.dtype || s.numel != numel {
			return nil, fmt.Errorf("storage %q is named twice, with different types or sizes", key)
		}
		return s, nil
	}
	s := &torchStorage{dtype: class.dtype, key: key, numel: numel}
	ar.storages[key] = s
	return s, nil
}

// load reads s's record, data/<key>.
func (ar *torchArchive) load(s *torchStorage) error {
	if s.data != nil {
		return nil
	}
	f, ok := ar.records["data/"+s.key]
	if !ok {
		return fmt.Errorf("its storage data/%s is missing from the archive", s.key)
	}
	size := nn.DTypeSize(s.dtype)
	if uint64(s.numel) > f.UncompressedSize64/uint64(size) {
		return fmt.Errorf("its storage data/%s should hold %d elements of %s but has %d bytes: the file is truncated or corrupt", s.key, s.numel, nn.TorchDTypeName(s.dtype), f.UncompressedSize64)
	}
	b, err := ar.read(f, ar.size*1032)
	if err != nil {
		return err
	}
	s.data = b[:s.numel*size]
	return nil
}

// gather returns the elements tensor t shows, row-major and contiguous, whatever its
// storage offset and strides, as at most budget bytes.
func (ar *torchArchive) gather(t *pytorch.Tensor, budget int) ([]byte, string, error) {
	s, ok := t.Source.(*torchStorage)
	if !ok {
		return nil, "", errors.New("it has no storage in the archive")
	}
	size := nn.DTypeSize(s.dtype)
	if len(t.Stride) != len(t.Size) {
		return nil, "", fmt.Errorf("it has shape %v but strides %v", t.Size, t.Stride)
	}
	n, ok := nn.ShapeElements(t.Size, budget/size)
	if !ok {
		return nil, "", fmt.Errorf("its shape %v is negative or larger than the file can hold", t.Size)
	}
	if n == 0 {
		return []byte{}, s.dtype, nil
	}
	if err := ar.load(s); err != nil {
		return nil, "", err
	}
	// The last element the view reaches must lie in the storage; each term is checked
	// before it is added, so nothing overflows.
	last := t.StorageOffset
	if last < 0 || last >= s.numel {
		return nil, "", fmt.Errorf("its storage offset %d is outside its storage of %d elements", last, s.numel)
	}
	contiguous, want := true, 1
	for i := len(t.Size) - 1; i >= 0; i-- {
		d, st := t.Size[i], t.Stride[i]
		if d == 1 {
			continue // PyTorch gives a dimension of 1 any stride
		}
		if st < 0 || st > (s.numel-1-last)/(d-1) {
			return nil, "", fmt.Errorf("its shape %v, strides %v and offset %d reach beyond its storage of %d elements", t.Size, t.Stride, t.StorageOffset, s.numel)
		}
		last += (d - 1) * st
		contiguous = contiguous && st == want
		want *= d
	}
	if contiguous {
		return slices.Clone(s.data[t.StorageOffset*size : (t.StorageOffset+n)*size]), s.dtype, nil
	}
	out := make([]byte, 0, n*size)
	idx := make([]int, len(t.Size))
	for range n {
		at := t.StorageOffset
		for i, k := range idx {
			at += k * t.Stride[i]
		}
		out = append(out, s.data[at*size:(at+1)*size]...)
		for i := len(idx) - 1; i >= 0; i-- { // the next index, last dimension fastest
			if idx[i]++; idx[i] < t.Size[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, s.dtype, nil
}

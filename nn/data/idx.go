package data

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/modulo-ml/modulo/internal/hugeheap"
)

// The IDX format (LeCun's, as used by MNIST): a big-endian magic 0x0000TTNN, where TT is
// the element type and NN the number of dimensions, then NN big-endian uint32 sizes, then
// the elements in row-major order. Only unsigned bytes are supported: labels are 1-D,
// images 3-D (count×rows×cols).
const (
	magicLabels = 0x00000801
	magicImages = 0x00000803
	typeUbyte   = 0x08
)

const (
	// maxDeflateRatio bounds what a gzip file can decompress to: deflate's best case
	// codes a 258-byte match in two bits, about 1032:1. A header claiming more than that
	// is a lie we can reject before reading, let alone allocating.
	maxDeflateRatio = 1032
	// allocStep caps any single allocation driven by a gzip header: beyond it the buffer
	// grows only as decompressed bytes actually arrive, so a header can never make us
	// allocate more than the data really holds (plus one step).
	allocStep = 64 << 20
)

// ReadIDX parses one IDX file of unsigned bytes, gzipped or not (recognised by the gzip
// magic 1f 8b, not by the name). It returns the dimensions and the elements. The header
// must agree exactly with the length of the data: a truncated download or a file with
// trailing bytes is an error, as are other element types and dimension counts than
// labels (0x00000801) and images (0x00000803). Errors start with the path.
func ReadIDX(path string) (dims []int, data []byte, err error) {
	dims, data, _, err = readIDX(path)
	return dims, data, err
}

// idxReads counts the files readIDX opened, so tests can check that a load reads each
// file once, counting reads where timing them would fail on a busy machine.
var idxReads atomic.Int64

// readIDX is ReadIDX that also hashes the raw bytes as they stream past, so loading a
// dataset reads each file once, and records the digest for HashFile.
func readIDX(path string) ([]int, []byte, File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, File{}, err
	}
	defer f.Close()
	idxReads.Add(1)
	st, err := f.Stat()
	if err != nil {
		return nil, nil, File{}, err
	}
	if st.IsDir() {
		return nil, nil, File{}, fmt.Errorf("%s: is a directory, not an IDX file", path)
	}
	h := sha256.New()
	cw := &countWriter{w: h}
	br := bufio.NewReaderSize(io.TeeReader(f, cw), 1<<16)
	dims, data, err := parseIDX(br, st.Size())
	if err != nil {
		return nil, nil, File{}, fmt.Errorf("%s: %w", path, err)
	}
	// Whatever the parser did not need (nothing, normally) still belongs to the digest.
	if _, err := io.Copy(cw, f); err != nil {
		return nil, nil, File{}, err
	}
	file := File{Path: absPath(path), Size: st.Size(), SHA256: hex.EncodeToString(h.Sum(nil))}
	if cw.n == st.Size() { // the file did not change while we read it
		rememberHash(file.Path, st, file)
	}
	return dims, data, file, nil
}

// parseIDX reads an IDX stream of size raw bytes from r, decompressing it if it is gzip.
func parseIDX(r *bufio.Reader, size int64) ([]int, []byte, error) {
	head, _ := r.Peek(2)
	if len(head) == 0 {
		return nil, nil, errors.New("empty file")
	}
	gz := len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b
	var in io.Reader = r
	after := ""
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, gzipError(err)
		}
		in, after = zr, " (after decompression)"
	}

	var magic [4]byte
	if n, err := readFull(in, magic[:]); err != nil || n < 4 {
		if err != nil && err != io.EOF {
			return nil, nil, streamError(err, gz)
		}
		if n == 0 {
			return nil, nil, errors.New("empty file" + after)
		}
		return nil, nil, fmt.Errorf("too short for an IDX header: %d bytes%s", n, after)
	}
	m := binary.BigEndian.Uint32(magic[:])
	if magic[0] != 0 || magic[1] != 0 {
		return nil, nil, fmt.Errorf("bad magic 0x%08x: not an IDX file (labels start with 0x%08x, images with 0x%08x)", m, magicLabels, magicImages)
	}
	if magic[2] != typeUbyte {
		return nil, nil, fmt.Errorf("unsupported IDX element type 0x%02x (magic 0x%08x); only unsigned bytes (0x08) are supported", magic[2], m)
	}
	nd := int(magic[3])
	if nd != 1 && nd != 3 {
		return nil, nil, fmt.Errorf("wrong number of dimensions: the magic 0x%08x says %d; expected 1 (labels, 0x%08x) or 3 (images, 0x%08x)", m, nd, magicLabels, magicImages)
	}
	hdr := make([]byte, 4*nd)
	if n, err := readFull(in, hdr); n < len(hdr) {
		if err != nil && err != io.EOF {
			return nil, nil, streamError(err, gz)
		}
		return nil, nil, fmt.Errorf("header truncated: %d dimension sizes need %d bytes, the file has %d%s", nd, len(hdr), n, after)
	}
	dims := make([]int, nd)
	total, overflow := uint64(1), false
	for i := range dims {
		d := uint64(binary.BigEndian.Uint32(hdr[4*i:]))
		dims[i] = int(d) // exact on 64-bit platforms, the only ones that can hold such data
		if total != 0 && d > math.MaxInt64/total {
			overflow = true
		}
		total *= d
	}
	if slices.Contains(dims, 0) {
		total, overflow = 0, false
	}
	if overflow || total > math.MaxInt {
		return nil, nil, fmt.Errorf("header says %s bytes of data, more than this machine can address", describeDims(dims, 0, true))
	}
	claim := describeDims(dims, total, false)
	headerLen := int64(4 + 4*nd)
	if gz {
		if limit := size * maxDeflateRatio; int64(total) > limit-headerLen {
			return nil, nil, fmt.Errorf("header says %s bytes of data but a %d-byte gzip file cannot decompress to more than %d bytes", claim, size, limit)
		}
	} else if avail := size - headerLen; int64(total) != avail {
		if int64(total) > avail {
			return nil, nil, fmt.Errorf("header says %s bytes of data but the file holds %d (truncated)", claim, avail)
		}
		return nil, nil, fmt.Errorf("header says %s bytes of data but the file holds %d (%d trailing bytes)", claim, avail, avail-int64(total))
	}

	data, err := readData(in, int(total))
	if err != nil && err != io.EOF {
		return nil, nil, streamError(err, gz)
	}
	if len(data) < int(total) {
		return nil, nil, fmt.Errorf("header says %s bytes of data but the file holds %d (truncated)%s", claim, len(data), after)
	}
	// One more read must hit the end. For gzip this is also where the CRC is checked.
	var one [1]byte
	n, err := readFull(in, one[:])
	if n > 0 {
		rest, err := io.Copy(io.Discard, in)
		more := ""
		if err != nil {
			more = "at least "
		}
		return nil, nil, fmt.Errorf("header says %s bytes of data but the file holds %s%d (%s%d trailing bytes)%s", claim, more, total+1+uint64(rest), more, 1+rest, after)
	}
	if err != nil && err != io.EOF {
		return nil, nil, streamError(err, gz)
	}
	return dims, data, nil
}

// readData reads exactly n bytes unless the stream ends or fails first, allocating in
// steps of at most allocStep so that a lying header costs nothing. The first step is in
// huge pages when large (hugeheap.Slice): MNIST's 47 MB of training pixels, read into
// 4 KiB pages, cost 11,500 page faults.
func readData(r io.Reader, n int) ([]byte, error) {
	data := hugeheap.Slice[byte](min(n, allocStep))[:0]
	for len(data) < n {
		step := min(n-len(data), allocStep)
		data = slices.Grow(data, step)
		k, err := readFull(r, data[len(data):len(data)+step])
		data = data[:len(data)+k]
		if err != nil {
			return data, err
		}
	}
	return data, nil
}

// readFull is io.ReadFull without its conflation of a short stream (which it reports as
// io.ErrUnexpectedEOF) with a truncated gzip stream (which compress/gzip reports the same
// way): here io.EOF means the data ended cleanly, anything else is the reader's error.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func streamError(err error, gz bool) error {
	if gz {
		return gzipError(err)
	}
	return fmt.Errorf("reading: %w", err)
}

func gzipError(err error) error {
	return fmt.Errorf("corrupt gzip stream (truncated or damaged): %w", err)
}

// describeDims renders a header's claim the way a person checks it: "60000×28×28 =
// 47040000" (or just "60000" for labels).
func describeDims(dims []int, total uint64, noTotal bool) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.Itoa(d)
	}
	s := strings.Join(parts, "×")
	if len(dims) > 1 && !noTotal {
		s += " = " + strconv.FormatUint(total, 10)
	}
	return s
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// absPath makes a path absolute for provenance, keeping it as given if that fails.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// Package npy writes arrays in NumPy's .npy format (version 1.0), which numpy.load and
// torch.from_numpy read without any other library: how a command stage hands a dataset to
// a user's script.
//
// The format is a magic string, a version, a little-endian uint16 header length and a
// Python dict literal giving dtype, order and shape, padded with spaces and a newline so
// that the data starts 64-byte aligned; then the raw little-endian elements in C order.
package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// header returns the .npy preamble for an array of dtype descr (such as "<f4") and shape.
func header(descr string, shape []int) ([]byte, error) {
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += "," // a one-element Python tuple
	}
	tuple += ")"
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	const pre = 10 // magic (6), version (2), header length (2)
	pad := 64 - (pre+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	n := len(dict) + pad + 1
	if n > math.MaxUint16 {
		return nil, fmt.Errorf("npy: shape %v makes a header too long for format 1.0", shape)
	}
	b := make([]byte, 0, pre+n)
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", pad)...)
	return append(b, '\n'), nil
}

func count(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// WriteFloat32 writes x, of the given shape in C order, as a float32 array.
func WriteFloat32(w io.Writer, shape []int, x []float32) error {
	if count(shape) != len(x) {
		return fmt.Errorf("npy: %d values for shape %v", len(x), shape)
	}
	h, err := header("<f4", shape)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(h)
	var buf [4]byte
	for _, v := range x {
		binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
		bw.Write(buf[:])
	}
	return bw.Flush()
}

// WriteInt64 writes x, of the given shape in C order, as an int64 array: class labels as
// PyTorch's cross-entropy takes them.
func WriteInt64(w io.Writer, shape []int, x []int64) error {
	if count(shape) != len(x) {
		return fmt.Errorf("npy: %d values for shape %v", len(x), shape)
	}
	h, err := header("<i8", shape)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(h)
	var buf [8]byte
	for _, v := range x {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		bw.Write(buf[:])
	}
	return bw.Flush()
}

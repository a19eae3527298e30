package artifacts

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 3, 4, 5, 7, 8, 1000, 1 << 20, 1<<20 + 3}
	gens := []struct {
		name string
		gen  func(n int) []byte
	}{
		{"random", func(n int) []byte { return randomBytes(n, uint64(n)) }},
		{"zeros", func(n int) []byte { return make([]byte, n) }},
		{"tensor", func(n int) []byte { return normalTensor(n/4+1, 1, 0)[:n] }},
	}
	for _, c := range []Codec{Raw, Shuffle4} {
		for _, g := range gens {
			for _, n := range sizes {
				data := g.gen(n)
				blob, err := Encode(data, c)
				if err != nil {
					t.Fatalf("Encode(%s %d, %v): %v", g.name, n, c, err)
				}
				got, err := Decode(blob)
				if err != nil {
					t.Fatalf("Decode(Encode(%s %d, %v)): %v", g.name, n, c, err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("Decode(Encode(%s %d, %v)) differs from input", g.name, n, c)
				}
			}
		}
	}
}

func TestShuffle4Layout(t *testing.T) {
	tests := []struct {
		in, want []byte
	}{
		{[]byte{}, []byte{}},
		{[]byte{1, 2, 3}, []byte{1, 2, 3}},
		{[]byte{1, 2, 3, 4}, []byte{1, 2, 3, 4}},
		{[]byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{1, 5, 2, 6, 3, 7, 4, 8}},
		{[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []byte{1, 5, 2, 6, 3, 7, 4, 8, 9, 10}},
	}
	for _, tt := range tests {
		if got := shuffle4(tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("shuffle4(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if got := unshuffle4(tt.want); !bytes.Equal(got, tt.in) {
			t.Errorf("unshuffle4(%v) = %v, want %v", tt.want, got, tt.in)
		}
	}
}

// rowSparseTensor returns n float32 values in rows of 256 where a fraction
// zeroFrac of the rows is entirely zero, like a network with pruned units.
func rowSparseTensor(n int, seed uint64, zeroFrac float64) []byte {
	const row = 256
	r := rand.New(rand.NewPCG(seed, seed+1))
	dense := normalTensor(n, seed, 0)
	for start := 0; start < n; start += row {
		if r.Float64() < zeroFrac {
			clear(dense[4*start : 4*min(start+row, n)])
		}
	}
	return dense
}

// TestShuffle4Compresses checks the reason Shuffle4 exists and documents
// its limits on float32 tensors. On dense weights it beats plain zstd,
// because the sign and exponent bytes become long compressible runs. On
// sparse tensors both codecs do far better than on dense ones, but with
// zeros scattered at random Raw wins: shuffling writes the pattern of zeros
// once per byte plane, four times in all.
func TestShuffle4Compresses(t *testing.T) {
	const n = 1 << 20 // 4 MiB of float32
	tests := []struct {
		name string
		data []byte
		// shuffleWins says whether Shuffle4 must be smaller than Raw.
		shuffleWins bool
		// maxFrac bounds the better codec's output as a fraction of input.
		maxFrac float64
	}{
		{"dense normal", normalTensor(n, 42, 0), true, 0.9},
		{"90% zero rows", rowSparseTensor(n, 44, 0.9), true, 0.12},
		{"90% zero scattered", normalTensor(n, 43, 0.9), false, 0.2},
	}
	for _, tt := range tests {
		raw, err := Encode(tt.data, Raw)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := Encode(tt.data, Shuffle4)
		if err != nil {
			t.Fatal(err)
		}
		size := float64(len(tt.data))
		rawFrac, shFrac := float64(len(raw))/size, float64(len(sh))/size
		t.Logf("%-18s raw %.3f of input, shuffle4 %.3f of input", tt.name, rawFrac, shFrac)
		if got := len(sh) < len(raw); got != tt.shuffleWins {
			t.Errorf("%s: shuffle4 smaller than raw = %v, want %v", tt.name, got, tt.shuffleWins)
		}
		if best := min(rawFrac, shFrac); best > tt.maxFrac {
			t.Errorf("%s: best compressed fraction %.3f, want <= %.2f", tt.name, best, tt.maxFrac)
		}
	}
}

// blobWithHeader builds a blob with the given header fields around frame.
func blobWithHeader(version byte, c Codec, n uint64, frame []byte) []byte {
	b := append([]byte(blobMagic), version, byte(c))
	b = binary.AppendUvarint(b, n)
	return append(b, frame...)
}

func TestDecodeRejects(t *testing.T) {
	data := normalTensor(1000, 7, 0)
	good, err := Encode(data, Shuffle4)
	if err != nil {
		t.Fatal(err)
	}
	frame := good[blobFixed+2:] // 4000 needs a 2-byte uvarint
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x55
	tests := []struct {
		name string
		blob []byte
	}{
		{"empty", nil},
		{"short", []byte("MDL")},
		{"bad magic", append([]byte("XDLB"), good[4:]...)},
		{"bad version", blobWithHeader(2, Shuffle4, 4000, frame)},
		{"bad codec", blobWithHeader(1, 9, 4000, frame)},
		{"no length", []byte("MDLB\x01\x00")},
		{"unterminated length", []byte("MDLB\x01\x00\xff\xff")},
		{"length too long", blobWithHeader(1, Shuffle4, 4001, frame)},
		{"length too short", blobWithHeader(1, Shuffle4, 3999, frame)},
		{"length over limit", blobWithHeader(1, Raw, 9<<30, frame)},
		{"implausible length", blobWithHeader(1, Raw, 1<<30, frame[:10])},
		{"truncated frame", good[:len(good)-5]},
		{"header only", good[:blobFixed+2]},
		{"flipped byte", flipped},
		{"trailing garbage", append(bytes.Clone(good), 1, 2, 3)},
		{"not zstd", blobWithHeader(1, Raw, 5, []byte("hello"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.blob)
			if err == nil {
				t.Errorf("Decode succeeded with %d bytes, want error", len(got))
			}
		})
	}
}

func TestEncodeRejectsUnknownCodec(t *testing.T) {
	if _, err := Encode([]byte("x"), Codec(7)); err == nil {
		t.Error("Encode with codec 7 succeeded")
	}
}

// fuzzSeeds adds valid blobs of both codecs and damaged variants to f.
func fuzzSeeds(f *testing.F) {
	inputs := [][]byte{nil, []byte("a"), []byte("hello, world"), normalTensor(300, 3, 0), normalTensor(300, 4, 0.9), randomBytes(1001, 5)}
	for _, in := range inputs {
		for _, c := range []Codec{Raw, Shuffle4} {
			blob, err := Encode(in, c)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(blob)
			f.Add(blob[:len(blob)/2])
			f.Add(blob[:min(len(blob), blobFixed+1)])
			g := bytes.Clone(blob)
			g[len(g)-1] ^= 1
			f.Add(g)
			g = bytes.Clone(blob)
			g[blobFixed] ^= 0x80 // length varint
			f.Add(g)
		}
	}
	f.Add([]byte("MDLB\x01\x00\xff\xff\xff\xff\x01"))
	f.Add([]byte{})
}

func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, blob []byte) {
		data, err := Decode(blob)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to something that decodes to the
		// same bytes, with the codec the blob names.
		again, err := Encode(data, Codec(blob[len(blobMagic)+1]))
		if err != nil {
			t.Fatalf("Encode of decoded data: %v", err)
		}
		back, err := Decode(again)
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("re-encoded blob does not round-trip: %v", err)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(nil), byte(0))
	f.Add([]byte("abc"), byte(1))
	f.Add(normalTensor(100, 9, 0), byte(1))
	f.Add(randomBytes(33, 9), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, c byte) {
		codec := Codec(c % 2)
		blob, err := Encode(data, codec)
		if err != nil {
			t.Fatalf("Encode(%d bytes, %v): %v", len(data), codec, err)
		}
		got, err := Decode(blob)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("round trip changed %d bytes with %v", len(data), codec)
		}
	})
}

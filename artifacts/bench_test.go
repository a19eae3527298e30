package artifacts

import (
	"os"
	"testing"
)

// benchTensor is a 4 MiB float32 tensor of normally distributed values,
// the shape of data modulo caches most.
var benchTensor = normalTensor(1<<20, 42, 0)

// BenchmarkPutGet stores and reads back a 4 MiB float32 tensor with each
// codec. The blob is removed before each Put (outside the timer) so that Put
// really encodes and writes rather than finding the blob already there.
// The reported MB/s are of uncompressed tensor bytes; "stored/op" is the
// blob size.
func BenchmarkPutGet(b *testing.B) {
	for _, codec := range []Codec{Raw, Shuffle4} {
		b.Run(codec.String(), func(b *testing.B) {
			c := newCache(b)
			path := c.BlobPath(NewOutputID(benchTensor))
			b.SetBytes(int64(len(benchTensor)))
			var stored int64
			for b.Loop() {
				b.StopTimer()
				os.Remove(path)
				b.StartTimer()
				id, n, err := c.Put(benchTensor, codec)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Get(id); err != nil {
					b.Fatal(err)
				}
				stored = n
			}
			b.ReportMetric(float64(stored), "stored/op")
		})
	}
}

// BenchmarkPut and BenchmarkGet split BenchmarkPutGet into its halves.
func BenchmarkPut(b *testing.B) {
	for _, codec := range []Codec{Raw, Shuffle4} {
		b.Run(codec.String(), func(b *testing.B) {
			c := newCache(b)
			path := c.BlobPath(NewOutputID(benchTensor))
			b.SetBytes(int64(len(benchTensor)))
			for b.Loop() {
				b.StopTimer()
				os.Remove(path)
				b.StartTimer()
				if _, _, err := c.Put(benchTensor, codec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	for _, codec := range []Codec{Raw, Shuffle4} {
		b.Run(codec.String(), func(b *testing.B) {
			c := newCache(b)
			id, _, err := c.Put(benchTensor, codec)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(benchTensor)))
			for b.Loop() {
				if _, err := c.Get(id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

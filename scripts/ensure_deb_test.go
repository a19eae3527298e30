package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The tests of ensure-deb.sh run it with stubs of id, apt-get and sleep first on PATH, so
// that every branch (not root, another apt holding the lock, a failed install) runs without
// root, without apt and without waiting. The apt-get stub answers as apt 2.6 does, the lock
// held by a process whose name holds a digit.
const aptStub = `#!/bin/sh
echo "$*" >>"$STUB_DIR/apt.calls"
n=$(wc -l <"$STUB_DIR/apt.calls")
case "$STUB_APT" in
lock-once) [ "$n" -gt 1 ] && exit 0 ;;
lock) ;;
missing)
	eval pkg=\${$#}
	case "$1" in install) echo "E: Unable to locate package $pkg" >&2; exit 100 ;; esac
	exit 0 ;;
esac
echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (python3)" >&2
echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
exit 100
`

type ensureRun struct {
	code           int
	stderr, log    string
	aptCalls       []string
	logPath, stubs string
}

// runEnsureDeb runs ensure-deb.sh for the package pkg with FILE absent unless present, as
// the user uid, with the apt-get stub in mode apt ("" for no apt-get at all).
func runEnsureDeb(t *testing.T, uid, apt string, present bool, env ...string) ensureRun {
	t.Helper()
	dir := t.TempDir()
	stubs := filepath.Join(dir, "bin")
	if err := os.Mkdir(stubs, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(stubs, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("id", "#!/bin/sh\necho "+uid+"\n")
	write("sleep", "#!/bin/sh\n")
	if apt != "" {
		write("apt-get", aptStub)
	}
	// Only the tools the script needs, so that the system's own apt-get is not found.
	for _, tool := range []string{"sh", "bash", "grep", "sed", "tail", "wc", "cat"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(stubs, tool)); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "libfoo.so")
	if present {
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(stubs, "bash"), "ensure-deb.sh", "libfoo", file, "modulo falls back to pure Go")
	cmd.Env = append([]string{"PATH=" + stubs, "TMPDIR=" + dir, "STUB_DIR=" + dir, "STUB_APT=" + apt}, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	r := ensureRun{stderr: stderr.String(), logPath: filepath.Join(dir, "modulo-apt-libfoo.log"), stubs: stubs}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(r.logPath); err == nil {
		r.log = string(b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "apt.calls")); err == nil {
		r.aptCalls = strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	return r
}

func TestEnsureDeb(t *testing.T) {
	tests := []struct {
		name      string
		uid, apt  string
		present   bool
		env       []string
		code      int
		aptCalls  int
		stderr    []string // each must appear
		notStderr []string // none may appear
		log       []string // each must appear in apt's log
	}{
		{name: "installed", uid: "1000", apt: "lock", present: true, code: 0},
		{name: "not root", uid: "1000", apt: "lock", code: 1,
			stderr: []string{"libfoo is not installed; run: sudo apt-get install libfoo (modulo falls back to pure Go)."}},
		{name: "no apt-get", uid: "0", apt: "", code: 1,
			stderr: []string{"libfoo is not installed, and this system has no apt-get: install it with its package manager (modulo falls back to pure Go)."}},
		{name: "lock held", uid: "0", apt: "lock", env: []string{"ENSURE_DEB_LOCK_WAIT=0"}, code: 1, aptCalls: 1,
			stderr: []string{
				"could not install libfoo: process 4242 (python3) still holds apt's lock after 0s",
				"Wait for it to finish (ps -p 4242 shows it), then run make again, or run: sudo apt-get install libfoo",
				"apt's full output is in ", "Meanwhile, modulo falls back to pure Go.",
			},
			notStderr: []string{"E: Could not get lock"},
			log:       []string{"+ apt-get update -qq", "E: Could not get lock /var/lib/apt/lists/lock"}},
		{name: "lock released while waiting", uid: "0", apt: "lock-once", code: 0, aptCalls: 3,
			stderr: []string{"waiting for process 4242 (python3) to finish with apt (up to 120s) before installing libfoo"},
			log:    []string{"+ apt-get install -y -qq libfoo"}},
		{name: "install fails", uid: "0", apt: "missing", code: 1, aptCalls: 2,
			stderr: []string{
				"could not install libfoo: apt-get install failed; apt said:\n    E: Unable to locate package libfoo\n",
				"Run it yourself to see more: sudo apt-get install libfoo",
			},
			log: []string{"E: Unable to locate package libfoo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runEnsureDeb(t, tt.uid, tt.apt, tt.present, tt.env...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if len(r.aptCalls) != tt.aptCalls {
				t.Errorf("apt-get ran %d times (%q), want %d", len(r.aptCalls), r.aptCalls, tt.aptCalls)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			for _, bad := range tt.notStderr {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr holds %q, which belongs in the log:\n%s", bad, r.stderr)
				}
			}
			for _, want := range tt.log {
				if !strings.Contains(r.log, want) {
					t.Errorf("the log %s lacks %q:\n%s", r.logPath, want, r.log)
				}
			}
			if tt.code != 0 && tt.uid == "0" && tt.apt != "" && !strings.Contains(r.stderr, r.logPath) {
				t.Errorf("the failure does not name the log %s:\n%s", r.logPath, r.stderr)
			}
		})
	}
}

// Package browser renders HTML files in headless Chromium and tells a blank
// screenshot from one that shows something.
//
// It exists for tests: an HTML report can be well-formed and still show
// nothing (a stylesheet that hides everything, an SVG with a bad viewBox),
// and only a real browser can tell. Chromium is driven through its command
// line (--screenshot) rather than the DevTools protocol: one process per page
// is slower, but it needs no client library and leaves no browser running
// between calls.
//
// Package browsertest wraps this for tests, with the policy for a missing
// Chromium.
package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// EnvChromium names the environment variable that, when set, gives the
// Chromium binary to use (a path, or a name looked up in $PATH) instead of
// the usual names.
const EnvChromium = "MODULO_CHROMIUM"

// ErrNotFound is returned, wrapped in an error that says how to install
// Chromium, by Find when none is installed.
var ErrNotFound = errors.New("chromium not found")

// names are the binaries Find looks for, in order: Debian's package, the name
// other distributions use, and Google's build.
var names = []string{"chromium", "chromium-browser", "google-chrome"}

// Find returns the path of the Chromium binary: the one named by
// $MODULO_CHROMIUM if that is set, otherwise the first of chromium,
// chromium-browser and google-chrome in $PATH. When none is installed the
// error wraps ErrNotFound. A $MODULO_CHROMIUM that names nothing executable is
// a different error: someone asked for that binary, and falling back to
// another would hide the mistake.
func Find() (string, error) {
	if bin := os.Getenv(EnvChromium); bin != "" {
		path, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("$%s: %w", EnvChromium, err)
		}
		return path, nil
	}
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w (no %s in $PATH, no $%s): install it with `apt-get install chromium` (or `make chromium`)",
		ErrNotFound, strings.Join(names, ", "), EnvChromium)
}

// Screenshot renders the HTML file htmlPath in a width×height viewport of
// headless Chromium bin and writes a PNG of it to pngPath.
//
// Chromium runs with --no-sandbox and --disable-gpu, which CI containers
// need (they run as root and have no GPU), and with its profile, cache and
// temporary files in a directory of its own, removed afterwards: it never
// reads or writes the user's profile. Plain --headless is Chromium's current
// headless mode (the old one now ships separately, as chrome-headless-shell);
// it renders the page as a normal window would.
//
// Chromium and the processes it starts run in a process group of their own,
// killed when ctx is done, so a timeout leaves nothing behind. (Only its
// crash handler leaves the group, for a session of its own, and it exits by
// itself when Chromium is gone.) Success is
// judged by the PNG, not by the exit status: Chromium exits 0 when it cannot
// write the file, and a failed page load also leaves no PNG. When there is
// none, the error ends with the last lines Chromium printed.
func Screenshot(ctx context.Context, bin, htmlPath, pngPath string, width, height int) error {
	if width <= 0 || height <= 0 {
		return fmt.Errorf("browser: bad window size %dx%d", width, height)
	}
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return err
	}
	// Chromium would fail with a log line about net::ERR_FILE_NOT_FOUND; an
	// error that wraps fs.ErrNotExist says it better.
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	png, err := filepath.Abs(pngPath)
	if err != nil {
		return err
	}
	// A PNG left from an earlier run would pass for this one's.
	if err := os.Remove(png); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	home, err := os.MkdirTemp(tempBase(), "modulo-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)

	cmd := exec.CommandContext(ctx, bin,
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--hide-scrollbars",
		fmt.Sprintf("--window-size=%d,%d", width, height),
		"--user-data-dir="+filepath.Join(home, "profile"),
		// /dev/shm is often tiny in containers; Chromium crashes when it
		// runs out of it, and uses the temporary directory instead with this.
		"--disable-dev-shm-usage",
		// Nothing that talks to the network or starts helpers the
		// screenshot does not need: quieter, faster, and no failure from a
		// machine without network access.
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-extensions",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--mute-audio",
		"--screenshot="+png,
		(&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(),
	)
	// Even with --user-data-dir, Chromium writes crash-report settings under
	// $XDG_CONFIG_HOME and dconf's under $XDG_CACHE_HOME; both go to home.
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"TMPDIR="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
	)
	var out tail
	cmd.Stdout = &out
	cmd.Stderr = &out
	setGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd) }
	// Chromium's helpers, its crash handler among them, inherit its output
	// and may hold it open for a moment after it exits; Wait waits for them
	// that long, no longer.
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	runErr := cmd.Run()
	// Whatever is left of the group (a helper that outlived WaitDelay, or
	// detached from the output) goes too, before its directory is removed.
	_ = killGroup(cmd)

	if runErr != nil && ctx.Err() != nil {
		return fmt.Errorf("browser: chromium on %s: %w after %v%s",
			htmlPath, context.Cause(ctx), time.Since(start).Round(time.Millisecond), out.lines())
	}
	if fi, err := os.Stat(png); err == nil && fi.Size() > 0 {
		return nil
	}
	why := "wrote no screenshot"
	if runErr != nil {
		why += " (" + runErr.Error() + ")"
	}
	return fmt.Errorf("browser: chromium on %s %s%s", htmlPath, why, out.lines())
}

// tempBase returns the directory to make Screenshot's own in: the usual
// one, unless its path is too long for Chromium. Chromium puts a Unix socket
// in its temporary directory, at a path 73 bytes longer than the base, and
// aborts when that exceeds the 107 bytes such paths may have.
func tempBase() string {
	base := os.TempDir()
	if len(base)+73 > 107 {
		if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
			return "/tmp"
		}
	}
	return base
}

// tail keeps the end of Chromium's output for error messages.
type tail struct{ b []byte }

// tailMax bounds what tail keeps: a few hundred log lines, enough for the
// ones that matter to survive Chromium's D-Bus noise.
const tailMax = 64 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2*tailMax {
		t.b = append(t.b[:0], t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

// lines returns, each on a line of its own after a newline, the last lines of
// output that are not D-Bus noise. Chromium logs a dozen D-Bus errors on any
// machine without a desktop session; they would push the one line that
// explains a failure out of a short tail.
func (t *tail) lines() string {
	const n = 12
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(t.b)), "\n") {
		if l == "" || strings.Contains(l, ":ERROR:dbus/") {
			continue
		}
		keep = append(keep, "\n\t"+l)
	}
	if len(keep) == 0 {
		return "; no output"
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return "; output ends:" + strings.Join(keep, "")
}

// Package browsertest checks in tests that HTML pages render to something, in
// headless Chromium.
//
// It is a package of its own, as net/http/httptest is, so that package
// browser does not import testing: a program may use browser (to check a
// report it writes, say) without linking the test framework, and the policy
// for a missing Chromium, which only makes sense in a test, lives here.
package browsertest

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/internal/browser"
)

// EnvRequire names the environment variable that, set to 1, makes a missing
// Chromium fail tests rather than skip them. $CI, set by CI systems and by
// .ci/run, does the same.
const EnvRequire = "MODULO_REQUIRE_CHROMIUM"

// Timeout bounds one screenshot. One takes under a second on an idle machine;
// a loaded CI runner with two cores can be many times slower, and a hung
// Chromium should still fail the test, not the whole run's deadline.
const Timeout = 60 * time.Second

// Width and Height are the viewport of RequireNotBlank: a laptop's window,
// wide enough for a report's tables and plots side by side.
const (
	Width  = 1200
	Height = 900
)

// Required reports whether tests must have Chromium: on CI ($CI set, and not
// to "false" or "0") or when $MODULO_REQUIRE_CHROMIUM is 1. A developer
// without Chromium gets skipped tests; CI, which installs it, must not skip
// them silently when the installation breaks.
func Required() bool {
	if os.Getenv(EnvRequire) == "1" {
		return true
	}
	switch strings.ToLower(os.Getenv("CI")) {
	case "", "0", "false":
		return false
	}
	return true
}

// Chromium returns the path of Chromium (see browser.Find). When it is not
// installed, it skips the test, or fails it if Required; either way the
// message says how to install it.
func Chromium(t testing.TB) string {
	t.Helper()
	bin, err := browser.Find()
	switch {
	case err == nil:
		return bin
	case errors.Is(err, browser.ErrNotFound) && !Required():
		t.Skip(err)
	default:
		t.Fatal(err)
	}
	return ""
}

// Screenshot renders htmlPath in a width×height viewport and returns the
// image, or ends the test: skipped or failed as Chromium does, failed if the
// screenshot fails. The PNG goes to the test's artifact directory, so that
// `go test -artifacts` keeps it to look at.
func Screenshot(t testing.TB, htmlPath string, width, height int) image.Image {
	t.Helper()
	bin := Chromium(t)
	name := strings.TrimSuffix(filepath.Base(htmlPath), filepath.Ext(htmlPath)) + ".png"
	pngPath := filepath.Join(t.ArtifactDir(), name)
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	if err := browser.Screenshot(ctx, bin, htmlPath, pngPath, width, height); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot of %s: %v", htmlPath, err)
	}
	return img
}

// RequireNotBlank renders htmlPath at Width×Height and fails the test if the
// screenshot is blank (see browser.Stats.Blank), saying what it saw. Without
// Chromium it skips the test, or fails it if Required.
func RequireNotBlank(t testing.TB, htmlPath string) {
	t.Helper()
	s := browser.Inspect(Screenshot(t, htmlPath, Width, Height))
	if s.Blank() {
		t.Fatalf("%s renders blank in Chromium: %v", htmlPath, s)
	}
}

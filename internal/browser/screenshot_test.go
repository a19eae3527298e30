package browser_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/internal/browser"
	"github.com/modulo-ml/modulo/internal/browser/browsertest"
)

// report is what the report stage writes, in small: a heading, a table and an
// inline SVG plot, with nothing loaded from elsewhere.
const report = `<!doctype html>
<html><head><meta charset="utf-8"><title>report</title>
<style>body{font-family:sans-serif;margin:2em} td,th{border:1px solid #999;padding:2px 8px}</style>
</head><body>
<h1>IMP, LeNet-300-100</h1>
<table><tr><th>level</th><th>density</th><th>test accuracy</th></tr>
<tr><td>0</td><td>1.000</td><td>0.981</td></tr>
<tr><td>1</td><td>0.800</td><td>0.982</td></tr>
<tr><td>2</td><td>0.640</td><td>0.980</td></tr></table>
<svg width="480" height="240" viewBox="0 0 480 240" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="480" height="240" fill="none" stroke="#ccc"/>
<polyline points="20,200 100,120 180,140 260,60 340,90 460,30" fill="none" stroke="steelblue" stroke-width="2"/>
</svg>
</body></html>
`

const empty = `<!doctype html><html><head><meta charset="utf-8"><title>empty</title></head><body></body></html>`

func write(t *testing.T, name, html string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(html), 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScreenshot(t *testing.T) {
	for _, tt := range []struct {
		name, html string
		blank      bool
	}{
		{"report", report, false},
		{"empty", empty, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			htmlPath := write(t, tt.name+".html", tt.html)
			start := time.Now()
			img := browsertest.Screenshot(t, htmlPath, 1200, 900)
			took := time.Since(start)
			s := browser.Inspect(img)
			t.Logf("%s in %v: %v", tt.name, took.Round(time.Millisecond), s)
			if s.Width != 1200 || s.Height != 900 {
				t.Errorf("screenshot is %dx%d, want 1200x900", s.Width, s.Height)
			}
			if s.Blank() != tt.blank {
				t.Errorf("Blank() = %v, want %v (%v)", s.Blank(), tt.blank, s)
			}
		})
	}
}

func TestRequireNotBlank(t *testing.T) {
	browsertest.RequireNotBlank(t, write(t, "report.html", report))
}

func TestScreenshotErrors(t *testing.T) {
	bin := browsertest.Chromium(t)
	dir := t.TempDir()
	htmlPath := write(t, "report.html", report)

	t.Run("missing page", func(t *testing.T) {
		err := browser.Screenshot(t.Context(), bin, filepath.Join(dir, "none.html"), filepath.Join(dir, "none.png"), 100, 100)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want one wrapping os.ErrNotExist", err)
		}
	})
	t.Run("unwritable PNG", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), browsertest.Timeout)
		defer cancel()
		err := browser.Screenshot(ctx, bin, htmlPath, filepath.Join(dir, "no", "such", "dir.png"), 100, 100)
		if err == nil || !strings.Contains(err.Error(), "wrote no screenshot") {
			t.Errorf("err = %v, want 'wrote no screenshot'", err)
		}
		t.Log(err)
	})
	t.Run("long TMPDIR", func(t *testing.T) {
		// Too long a path for the socket Chromium makes in $TMPDIR.
		long := filepath.Join(t.TempDir(), strings.Repeat("d", 80))
		if err := os.Mkdir(long, 0o777); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TMPDIR", long)
		ctx, cancel := context.WithTimeout(t.Context(), browsertest.Timeout)
		defer cancel()
		if err := browser.Screenshot(ctx, bin, htmlPath, filepath.Join(dir, "long.png"), 100, 100); err != nil {
			t.Error(err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		// A page that never finishes loading: Chromium, its renderers
		// and helpers are all up when the deadline kills them.
		// Screenshot puts Chromium's files in $TMPDIR, where the
		// processes left, if any, can be found by their arguments.
		dir, err := os.MkdirTemp("", "browser-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		t.Setenv("TMPDIR", dir)
		hang := write(t, "hang.html", "<html><body>x<script>for(;;){}</script></body></html>")
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		err = browser.Screenshot(ctx, bin, hang, filepath.Join(dir, "hang.png"), 100, 100)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want one wrapping context.DeadlineExceeded", err)
		}
		if d := time.Since(deadline(ctx)); d > 5*time.Second {
			t.Errorf("Screenshot returned %v after its deadline", d)
		}
		for _, p := range processesUsing(dir) {
			t.Errorf("left running: %s", p)
		}
	})
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// processesUsing returns the command lines that mention dir, from /proc.
func processesUsing(dir string) []string {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var found []string
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), dir) {
			found = append(found, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}

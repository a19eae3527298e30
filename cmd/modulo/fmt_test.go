package main

import (
	"bytes"
	"testing"
)

// TestFmtCheckRepository runs the README's `modulo fmt -check .` at the repository root: the
// examples are formatted, and the fixtures under testdata, invalid on purpose, are skipped.
func TestFmtCheckRepository(t *testing.T) {
	var out, stderr bytes.Buffer
	if code := Main([]string{"fmt", "-check", "../.."}, &out, &stderr); code != 0 {
		t.Errorf("modulo fmt -check at the repository root: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, &out, &stderr)
	}
}

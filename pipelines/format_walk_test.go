package pipelines

import (
	"os"
	"path/filepath"
	"testing"
)

// A directory named through a symbolic link is searched like the directory itself.
func TestFormatFilesThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "u.hcl"), []byte("locals {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip(err)
	}
	files, errs := FormatFiles([]string{link})
	if len(errs) > 0 || len(files) != 1 || filepath.Base(files[0]) != "u.hcl" {
		t.Errorf("FormatFiles(link) = %v, %v; want the one file behind the link", files, errs)
	}
}

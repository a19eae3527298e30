package pipelines

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical layout. It refuses input that is not UTF-8 text or does not
// parse, since hclwrite would otherwise reformat around the error and could lose text.
func Format(filename string, src []byte) ([]byte, hcl.Diagnostics) {
	if diags := CheckText(filename, src); diags != nil {
		return nil, diags
	}
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}

// FormatFiles lists the .hcl files that fmt handles at the given paths. A path naming a file
// is taken as it is. A directory is searched recursively, as `gofmt -l` and `terraform fmt
// -recursive` do, but skipping the directories named testdata or whose name starts with "."
// or "_", as the go command does: fixtures there are often invalid on purpose, and hidden
// directories hold other tools' state. Such a directory is formatted when it is named itself.
// Symbolic links met in the walk are not followed, so that fmt never rewrites a file through one.
//
// Files come in the order of the paths, each directory's in lexical order, each once. A path
// that cannot be read is one error in errs, and the other paths are still listed, so that one
// bad argument does not hide what the others would report.
func FormatFiles(paths []string) (files []string, errs []error) {
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot read %s: %w; give .hcl files or directories holding them", p, pathErrCause(err)))
			continue
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		// WalkDir does not follow a symbolic link, not even its root: a directory named on
		// the command line through a link is walked from the link's target.
		root := p
		if lst, err := os.Lstat(p); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
			root = p + string(filepath.Separator)
		}
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("cannot read %s: %w", path, pathErrCause(err)))
				return nil // go on with the rest of the tree
			}
			if d.IsDir() {
				if path != root && SkipFormatDir(d.Name()) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), ".hcl") && d.Type().IsRegular() {
				add(path)
			}
			return nil
		})
	}
	return files, errs
}

// SkipFormatDir reports whether fmt, searching a directory tree, passes over a directory of
// this name: testdata, and names starting with "." or "_".
func SkipFormatDir(name string) bool {
	return name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// NeedsFormat reports whether src differs from its canonical layout.
func NeedsFormat(filename string, src []byte) (bool, []byte, hcl.Diagnostics) {
	f, diags := Format(filename, src)
	if diags.HasErrors() {
		return false, nil, diags
	}
	return !bytes.Equal(f, src), f, nil
}

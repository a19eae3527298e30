package pipelines

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

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

// FormatFiles lists the .hcl files at the given paths (files, or directories searched one
// level deep, as pipelines are loaded).
func FormatFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		files, _ := filepath.Glob(filepath.Join(p, "*.hcl"))
		if len(files) == 0 {
			return nil, fmt.Errorf("%s holds no .hcl files", p)
		}
		out = append(out, files...)
	}
	sort.Strings(out)
	return out, nil
}

// NeedsFormat reports whether src differs from its canonical layout.
func NeedsFormat(filename string, src []byte) (bool, []byte, hcl.Diagnostics) {
	f, diags := Format(filename, src)
	if diags.HasErrors() {
		return false, nil, diags
	}
	return !bytes.Equal(f, src), f, nil
}

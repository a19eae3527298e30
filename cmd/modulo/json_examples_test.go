package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/pipelines/jsondoc"
	"github.com/modulo-ml/modulo/slurm/slurmtest"
)

// debianPython is the Python the JSON documents are checked with, as a notebook user's
// script would read them.
const debianPython = "/usr/bin/python3"

// TestExamplesPlanJSON plans every example pipeline with -json in a fresh cache (nothing
// runs) and checks that the document is JSON for encoding/json and for Python's json
// module: once with MNIST where it is (all work to do, exit 2), and once with MNIST missing,
// as on a machine without it (each dataset node that reads MNIST fails to plan: exit 1,
// the node's status "error", and a diagnostic with its address).
func TestExamplesPlanJSON(t *testing.T) {
	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.hcl"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	python := debianPython
	if _, err := os.Stat(python); err != nil {
		if slurmtest.Required() {
			t.Fatalf("%s is missing, and CI requires it: %v", python, err)
		}
		t.Logf("%s is missing: the documents are checked with encoding/json only", python)
		python = ""
	}
	_, mnistErr := data.MNISTDir()
	t.Setenv("TERM", "dumb")
	for _, ex := range examples {
		name := strings.TrimSuffix(filepath.Base(ex), ".hcl")
		for _, missing := range []bool{false, true} {
			sub := name
			if missing {
				sub += "/mnist_missing"
			}
			t.Run(sub, func(t *testing.T) {
				if !missing && mnistErr != nil {
					t.Skipf("MNIST is not here (%v); the mnist_missing case stands in", mnistErr)
				}
				t.Setenv("MODULO_CACHE", filepath.Join(t.TempDir(), "cache"))
				if missing {
					t.Setenv("MODULO_MNIST_DIR", t.TempDir()) // a directory without the files
				}
				var stdout, stderr bytes.Buffer
				code := Main([]string{"plan", "-json", ex}, &stdout, &stderr)
				checkJSON(t, python, stdout.Bytes())
				var doc jsondoc.Plan
				if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
					t.Fatalf("not a plan document: %v\n%s", err, stdout.Bytes())
				}
				if doc.FormatVersion != jsondoc.FormatVersion || len(doc.Nodes) == 0 {
					t.Errorf("format_version %q, %d nodes", doc.FormatVersion, len(doc.Nodes))
				}
				if stderr.Len() > 0 {
					t.Errorf("stderr is not empty:\n%s", stderr.Bytes())
				}
				for _, n := range doc.Nodes {
					if n.Status == jsondoc.StatusCached {
						t.Errorf("%s is cached in a fresh cache", n.Address)
					}
				}
				if !missing {
					if code != 2 || doc.ErrorCount != 0 || doc.Summary.Error != 0 {
						t.Errorf("exit %d, %d errors, %d nodes that failed to plan; want exit 2 (work to do) and none:\n%s", code, doc.ErrorCount, doc.Summary.Error, stdout.Bytes())
					}
					return
				}
				failed := map[string]bool{}
				for _, n := range doc.Nodes {
					if n.Status == jsondoc.StatusError {
						failed[n.Address] = true
						if n.Kind != "dataset" {
							t.Errorf("%s (%s) failed to plan without MNIST", n.Address, n.Kind)
						}
					}
				}
				if code != 1 || doc.ErrorCount == 0 || len(failed) == 0 {
					t.Errorf("exit %d, %d errors, %d nodes that failed to plan; want exit 1 and a dataset that failed:\n%s", code, doc.ErrorCount, len(failed), stdout.Bytes())
				}
				for _, d := range doc.Diagnostics {
					if d.Severity == "error" && (!failed[d.Address] || d.Range == nil || d.Summary != "Missing input files") {
						t.Errorf("diagnostic %+v: want Missing input files at a dataset node that failed", d)
					}
				}
			})
		}
	}
}

// checkJSON fails t unless doc is one JSON document for encoding/json and, if python is
// not "", for Python's json module.
func checkJSON(t *testing.T, python string, doc []byte) {
	t.Helper()
	if !json.Valid(doc) {
		t.Fatalf("not JSON for encoding/json:\n%s", doc)
	}
	if python == "" {
		return
	}
	cmd := exec.Command(python, "-c", "import json,sys; json.load(sys.stdin)")
	cmd.Stdin = bytes.NewReader(doc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("not JSON for %s: %v\n%s\n%s", python, err, out, doc)
	}
}

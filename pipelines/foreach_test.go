package pipelines

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TestSharedForEach checks that blocks whose for_each is the same reference (whose elements
// Build computes once) each get every instance, and that a bad shared for_each is reported
// at every block that uses it, not only the first.
func TestSharedForEach(t *testing.T) {
	// Two blocks share local.keys; two more share local.nums, a set of numbers.
	shared := `locals {
  keys = toset(["b", "a", "c"])
}
text "x" {
  for_each = local.keys
  value    = each.key
}
concat "y" {
  for_each = local.keys
  parts    = [text.x[each.key].out, each.value]
}
`
	bad := shared + `locals {
  nums = toset([1, 2])
}
text "z" {
  for_each = local.nums
  value    = "z"
}
text "w" {
  for_each = local.nums
  value    = "w"
}
`
	path := filepath.Join(t.TempDir(), "p.hcl")
	open := func(src string) (*Graph, hcl.Diagnostics) {
		t.Helper()
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		g, _, diags := Open(path, testRegistry(), VarSource{})
		return g, diags
	}
	_, diags := open(bad)
	var lines []int
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == "Invalid for_each argument" && d.Subject != nil {
			lines = append(lines, d.Subject.Start.Line)
		}
	}
	if !slices.Equal(lines, []int{16, 20}) || len(diags) != 2 {
		t.Fatalf("for_each errors on lines %v (all diagnostics: %v), want 16 and 20 (the for_each of z and of w)", lines, diags)
	}

	// Without the bad blocks: every instance of both blocks sharing local.keys.
	g, diags := open(shared)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := []string{`concat.y["a"]`, `concat.y["b"]`, `concat.y["c"]`, `text.x["a"]`, `text.x["b"]`, `text.x["c"]`}
	var got []string
	for addr := range g.Instances {
		got = append(got, addr)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("instances %v, want %v", got, want)
	}
	for _, addr := range want {
		if k := g.Instances[addr].Key; `["`+k+`"]` != addr[len(addr)-5:] {
			t.Errorf("%s has key %q", addr, k)
		}
	}
}

// TestEvalSet checks evalSet against plain evaluation: the same value and diagnostics for
// every expression, and for toset(...) of strings the elements forEachElems reads from that
// value, which evalSet takes from toset's argument instead.
func TestEvalSet(t *testing.T) {
	ctx := (&Graph{varObj: cty.EmptyObjectVal, locObj: cty.EmptyObjectVal}).staticContext(nil)
	for _, tc := range []struct {
		src  string
		fast bool // whether evalSet returns elements
	}{
		{`toset(["b", "a", "b"])`, true},
		{`toset([for w in [1, 2] : tostring(w)])`, true},
		{`toset(tolist(["x", "y"]))`, true},
		{`toset(["a", 1])`, false},        // converted to strings by toset: plain path
		{`toset([1, 2])`, false},          // a set of numbers, refused by forEachElems
		{`toset([])`, false},              // no elements
		{`toset(["a", null])`, false},     // null element
		{`toset(["a", nosuch.x])`, false}, // an error in the argument
		{`toset(["a"], ["b"])`, false},    // wrong arity
		{`tomap({a = "1"})`, false},       // not toset
		{`toset(["a", "b"]...)`, false},   // expanded arguments
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(tc.src), "x.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", tc.src, diags.Error())
		}
		v, elems, d := evalSet(expr, ctx)
		want, wantDiags := expr.Value(ctx)
		if d.Error() != wantDiags.Error() {
			t.Errorf("%s: diagnostics %q, want %q", tc.src, d.Error(), wantDiags.Error())
		}
		if !wantDiags.HasErrors() && !v.RawEquals(want) {
			t.Errorf("%s: value %#v, want %#v", tc.src, v, want)
		}
		if (elems != nil) != tc.fast {
			t.Errorf("%s: elements %v, want them: %v", tc.src, elems, tc.fast)
		}
		if elems == nil {
			continue
		}
		wantElems, fd := forEachElems(&Block{ForEach: expr}, want)
		if fd.HasErrors() {
			t.Fatalf("%s: %s", tc.src, fd.Error())
		}
		if len(elems) != len(wantElems) {
			t.Errorf("%s: elements %v, want %v", tc.src, elems, wantElems)
		}
		for k, e := range wantElems {
			if !elems[k].RawEquals(e) {
				t.Errorf("%s: element %q is %#v, want %#v", tc.src, k, elems[k], e)
			}
		}
	}
}

package pipelines

import (
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages/reference"
)

// evalFunc evaluates src, an expression, with the pipelines' functions and var.unknown, an
// unknown string.
func evalFunc(t *testing.T, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		t.Fatalf("%s: %s", src, diags.Error())
	}
	ctx := &hcl.EvalContext{Functions: functions, Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{"unknown": cty.UnknownVal(cty.String), "unknown_list": cty.UnknownVal(cty.List(cty.String))}),
	}}
	return expr.Value(ctx)
}

// TestFunctions calls every function a Terraform user reaches for first, with Terraform's
// semantics where they differ from cty's (index, length, coalesce, replace, sum).
func TestFunctions(t *testing.T) {
	tests := []struct {
		src  string
		want string // the result as HCL writes it (reference.Value), or
		err  string // a substring of the error
	}{
		{src: `index(["a", "b", "c"], "b")`, want: "1"},
		{src: `index([64, 128, 256], 256)`, want: "2"},
		{src: `index(["a", "b", "a"], "a")`, want: "0"},
		{src: `index([{w = 1}, {w = 2}], {w = 2})`, want: "1"},
		{src: `index(["a", "b"], "z")`, err: `"z" is not in the list`},
		{src: `index([], "z")`, err: "the list is empty"},
		{src: `index(tolist([64, 128]), "128")`, err: `the list holds numbers and "128" is a string; convert it first, as in index(list, tonumber(value))`},
		{src: `index(toset(["a"]), "a")`, err: "index takes a list, not a set(string)"},
		{src: `index({a = 1}, "a")`, err: "index takes a list, not an object"},
		{src: `index(["a", var.unknown], "b")`, want: "(unknown)"},
		{src: `index(var.unknown_list, "b")`, want: "(unknown)"},
		{src: `length([1, 2, 3])`, want: "3"},
		{src: `length({a = 1, b = 2})`, want: "2"},
		{src: `length(tomap({a = 1}))`, want: "1"},
		{src: `length(toset(["a", "a", "b"]))`, want: "2"},
		{src: `length("héllo")`, want: "5"},
		{src: `length(var.unknown)`, want: "(unknown)"},
		{src: `length(1)`, err: "length takes a string, a list"},
		{src: `keys({b = 1, a = 2})`, want: `["a", "b"]`},
		{src: `values({b = 1, a = 2})`, want: "[2, 1]"},
		{src: `lookup({a = 1}, "a", 0)`, want: "1"},
		{src: `lookup({a = 1}, "b", 0)`, want: "0"},
		{src: `contains(["a", "b"], "b")`, want: "true"},
		{src: `contains(["a", "b"], "c")`, want: "false"},
		{src: `flatten([[1, 2], [3, [4]]])`, want: "[1, 2, 3, 4]"},
		{src: `distinct(["a", "b", "a"])`, want: `["a", "b"]`},
		{src: `range(3)`, want: "[0, 1, 2]"},
		{src: `range(1, 7, 2)`, want: "[1, 3, 5]"},
		{src: `length(setproduct([64, 128], [1, 2, 3]))`, want: "6"},
		{src: `zipmap(["a", "b"], [1, 2])`, want: "{a = 1, b = 2}"},
		{src: `coalesce(null, "", "x")`, want: `"x"`},
		{src: `coalesce(null, 2)`, want: "2"},
		{src: `coalesce(null, "")`, err: "every argument is null or an empty string"},
		{src: `format("w%d-s%d", 64, 1)`, want: `"w64-s1"`},
		{src: `join("-", ["a", "b"])`, want: `"a-b"`},
		{src: `split(",", "a,b")`, want: `["a", "b"]`},
		{src: `upper("ab")`, want: `"AB"`},
		{src: `lower("AB")`, want: `"ab"`},
		{src: `replace("a-b-c", "-", "+")`, want: `"a+b+c"`},
		{src: `replace("w64-s1", "/w([0-9]+)/", "width$1")`, want: `"width64-s1"`},
		{src: `replace("a", "/(/", "")`, err: "/(/ is not a regular expression"},
		{src: `min(3, 1, 2)`, want: "1"},
		{src: `max([3, 1, 2]...)`, want: "3"},
		{src: `sum([1, 2, 3.5])`, want: "6.5"},
		{src: `sum(toset([1, 2]))`, want: "3"},
		{src: `sum([])`, err: "cannot sum an empty list"},
		{src: `sum([1, "x"])`, err: "element 1 is a string"},
		{src: `sum("1")`, err: "sum takes a list, set or tuple of numbers, not a string"},
		{src: `abs(-2)`, want: "2"},
		{src: `floor(1.5)`, want: "1"},
		{src: `ceil(1.5)`, want: "2"},
		{src: `log(8, 2)`, want: "3"},
		{src: `pow(2, 10)`, want: "1024"},
		{src: `signum(-3)`, want: "-1"},
		{src: `element(["a", "b"], 3)`, want: `"b"`},
		{src: `slice(["a", "b", "c"], 1, 3)`, want: `["b", "c"]`},
		{src: `sort(["b", "a"])`, want: `["a", "b"]`},
		{src: `reverse([1, 2, 3])`, want: "[3, 2, 1]"},
		{src: `concat([1], [2, 3])`, want: "[1, 2, 3]"},
		{src: `merge({a = 1}, {b = 2}, {a = 3})`, want: "{a = 3, b = 2}"},
		{src: `tostring(64)`, want: `"64"`},
		{src: `tonumber("64")`, want: "64"},
		{src: `tolist(toset(["b", "a"]))`, want: `["a", "b"]`},
		{src: `toset(["b", "a", "b"])`, want: `["a", "b"]`},
		{src: `tomap({a = "x"})`, want: `{a = "x"}`},
		{src: `try(tonumber("x"), 0)`, want: "0"},
		{src: `can(tonumber("x"))`, want: "false"},
		{src: `jsonencode({a = [1, true]})`, want: `"{\"a\":[1,true]}"`},
		{src: `jsondecode("[1, 2]")`, want: "[1, 2]"},
		{src: `alltrue([true, true])`, want: "true"},
		{src: `alltrue([])`, want: "true"},
		{src: `alltrue([true, false])`, want: "false"},
		{src: `anytrue([false, true])`, want: "true"},
		{src: `anytrue([])`, want: "false"},
		{src: `one(["a"])`, want: `"a"`},
		{src: `one([])`, want: "null"},
		{src: `one(["a", "b"])`, err: "at most one element"},
		{src: `startswith("w64", "w")`, want: "true"},
		{src: `endswith("w64", "w")`, want: "false"},
		{src: `strcontains("w64-s1", "-s")`, want: "true"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			v, diags := evalFunc(t, tc.src)
			if tc.err != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.err) {
					t.Errorf("%s = %s, %v; want an error containing %q", tc.src, valueText(v), diags, tc.err)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("%s: %s", tc.src, diags.Error())
			}
			if got := valueText(v); got != tc.want {
				t.Errorf("%s = %s, want %s", tc.src, got, tc.want)
			}
		})
	}
}

// TestFunctionTable checks the table the evaluator and the language reference share: sorted,
// each entry's arguments one per parameter (and one for the variadic rest), a sentence of
// documentation, and no function both offered and said to be unavailable.
func TestFunctionTable(t *testing.T) {
	if !sort.SliceIsSorted(functionTable, func(i, j int) bool { return functionTable[i].Name < functionTable[j].Name }) {
		t.Error("functionTable is not sorted by name")
	}
	for _, f := range functionTable {
		want := len(f.Fn.Params())
		if f.Fn.VarParam() != nil {
			want++
		}
		if len(f.Args) != want {
			t.Errorf("%s: Args %q, but the function takes %d parameters (counting the variadic one)", f.Name, f.Args, want)
		}
		if !strings.HasSuffix(f.Doc, ".") {
			t.Errorf("%s: Doc %q is not a sentence", f.Name, f.Doc)
		}
		if _, ok := unavailableFunctions[f.Name]; ok {
			t.Errorf("%s is in the table and also said to be unavailable", f.Name)
		}
	}
}

// TestUnavailableFunctionDiagnostic checks what a call of one of Terraform's functions
// that pipelines lack says, and that other unknown functions point at the list.
func TestUnavailableFunctionDiagnostic(t *testing.T) {
	tests := []struct{ src, summary, detail string }{
		{`file("notes.txt")`, "Function not available", "Terraform's function file is not available in modulo's pipelines. Expressions read no files"},
		{`timestamp()`, "Function not available", "pass the value in as a variable (-var)"},
		{`yamlencode({})`, "Function not available", "Use jsonencode."},
		{`sha256("x")`, "Function not available", "not available in modulo's pipelines. 'modulo doc functions' lists"},
		{`uppercase("x")`, "Call to unknown function", `There is no function named "uppercase". 'modulo doc functions' lists`},
	}
	for _, tc := range tests {
		_, diags := evalFunc(t, tc.src)
		diags = tidyDiags(tidyDiags(diags)) // a second pass changes nothing
		if len(diags) != 1 || diags[0].Summary != tc.summary || !strings.Contains(diags[0].Detail, tc.detail) || strings.Count(diags[0].Detail, "modulo doc functions") != 1 {
			t.Errorf("%s: got %v, want one %q whose detail has %q", tc.src, diags, tc.summary, tc.detail)
		}
	}
}

func valueText(v cty.Value) string { return reference.Value(v) }

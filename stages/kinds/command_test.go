package kinds

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

func TestParseTable(t *testing.T) {
	for _, c := range []struct {
		name, format, src string
		want              string // the value as cty's GoString, or the error's start
		err               bool
	}{
		{"csv types", "csv", "epoch,loss,name,ok\n1,0.5,a,true\n2,,b,false\n", `cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"epoch":cty.NumberIntVal(1), "loss":cty.NumberFloatVal(0.5), "name":cty.StringVal("a"), "ok":cty.True}), cty.ObjectVal(map[string]cty.Value{"epoch":cty.NumberIntVal(2), "loss":cty.NullVal(cty.Number), "name":cty.StringVal("b"), "ok":cty.False})})`, false},
		{"csv nan and inf are null", "csv", "loss\nnan\ninf\n1e400\n0.25\n", `cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"loss":cty.NullVal(cty.Number)}), cty.ObjectVal(map[string]cty.Value{"loss":cty.NullVal(cty.Number)}), cty.ObjectVal(map[string]cty.Value{"loss":cty.NullVal(cty.Number)}), cty.ObjectVal(map[string]cty.Value{"loss":cty.NumberFloatVal(0.25)})})`, false},
		{"csv header only", "csv", "a,b\n", `cty.ListValEmpty(cty.Object(map[string]cty.Type{"a":cty.Number, "b":cty.Number}))`, false},
		{"csv mixed column is strings", "csv", "x\n1\nfoo\n", `cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"x":cty.StringVal("1")}), cty.ObjectVal(map[string]cty.Value{"x":cty.StringVal("foo")})})`, false},
		{"json rows", "json", `[{"epoch": 1, "acc": 0.9}, {"epoch": 2, "note": "late"}]`, `cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"acc":cty.MustParseNumberVal("0.9"), "epoch":cty.NumberIntVal(1), "note":cty.NullVal(cty.String)}), cty.ObjectVal(map[string]cty.Value{"acc":cty.NullVal(cty.Number), "epoch":cty.NumberIntVal(2), "note":cty.StringVal("late")})})`, false},
		{"empty csv", "csv", "", "the CSV file is empty", true},
		{"ragged csv", "csv", "a,b\n1\n", "not CSV: record on line 2", true},
		{"json object", "json", `{"a": 1}`, "not a JSON list of objects", true},
		{"json nested", "json", `[{"a": [1, 2]}]`, `column "a" holds a []interface {}`, true},
		{"json mixed", "json", `[{"a": 1}, {"a": "x"}]`, `column "a" mixes strings`, true},
		{"json null row", "json", `[null]`, "a row is null", true},
		{"bad column name", "csv", "a b\n1\n", `column name "a b" is not usable`, true},
		{"duplicate column", "csv", "a,a\n1,2\n", `column "a" appears twice`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := parseTable([]byte(c.src), c.format)
			switch {
			case c.err && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
				t.Errorf("error %v, want one starting %q", err, c.want)
			case !c.err && err != nil:
				t.Errorf("error %v", err)
			case !c.err && v.GoString() != c.want:
				t.Errorf("got  %s\nwant %s", v.GoString(), c.want)
			}
		})
	}
}

func TestNaturalCompare(t *testing.T) {
	got := []string{"ckpt/ep10.st", "ckpt/ep2.st", "ckpt/ep1.st", "ckpt/ep02b.st", "ckpt/final.st", "ckpt/ep.st"}
	slices.SortFunc(got, naturalCompare)
	want := []string{"ckpt/ep.st", "ckpt/ep1.st", "ckpt/ep2.st", "ckpt/ep02b.st", "ckpt/ep10.st", "ckpt/final.st"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %q, want %q", got, want)
	}
}

func TestLogBufferKeepsHeadAndTail(t *testing.T) {
	var reports int
	l := newLogBuffer(&stages.Input{Progress: func(stages.Progress) { reports++ }})
	line := strings.Repeat("x", 99) + "\n"
	for range (logHead + 2*logTail) / len(line) {
		l.Write([]byte(line))
	}
	l.Write([]byte("the end\n"))
	b := l.Bytes()
	if len(b) > logHead+logTail+100 {
		t.Errorf("kept %d bytes, want at most head %d + tail %d", len(b), logHead, logTail)
	}
	if !strings.Contains(string(b), "bytes left out …]") || !strings.HasPrefix(string(b), line) {
		t.Errorf("the log does not say what it left out, or lost its start")
	}
	if tail := l.Tail(2); tail != "  "+strings.TrimSpace(line)+"\n  the end" {
		t.Errorf("Tail(2) = %q", tail)
	}
	if reports == 0 || reports > 10 {
		t.Errorf("%d progress reports for a burst of lines; want a few (at most one per %s)", reports, logEvery)
	}
}

func TestCommandFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"train.py", "lib/a.py", "lib/sub/b.py", "lib/.hidden", "lib/__pycache__/a.pyc", "conf/x.yaml", "conf/y.yaml"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := func(files ...string) cty.Value {
		var vs []cty.Value
		for _, f := range files {
			vs = append(vs, cty.StringVal(f))
		}
		k, _ := stages.Default.Lookup("command")
		return k.Schema.Config(map[string]cty.Value{"run": cty.ListVal([]cty.Value{cty.StringVal("x")}), "files": cty.ListVal(vs)})
	}
	files, err := commandFiles(cfg("train.py", "lib", "conf/*.yaml", "./train.py"), dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		if !filepath.IsAbs(f.Path) || len(f.SHA256) != 64 {
			t.Errorf("%+v: want an absolute path and a digest", f)
		}
	}
	if want := []string{"conf/x.yaml", "conf/y.yaml", "lib/a.py", "lib/sub/b.py", "train.py"}; !slices.Equal(names, want) {
		t.Errorf("files %q, want %q (hidden files and __pycache__ left out, each once)", names, want)
	}
	for _, c := range []struct{ entry, want string }{
		{"missing.py", "files: missing.py matches nothing in"},
		{"*.txt", "files: *.txt matches nothing in"},
		{"../x", `files: "../x" leaves its directory`},
		{"[", `files: "[" is not a valid glob`},
	} {
		if _, err := commandFiles(cfg(c.entry), dir); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.entry, err, c.want)
		}
	}
}

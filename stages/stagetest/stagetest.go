// Package stagetest provides small stage kinds that exercise the engine without any numerics:
// text makes a text artifact from a string, concat joins text artifacts. Both can sleep (to
// hold a node in flight for concurrency and kill tests, deaf to cancellation if asked), fail
// on demand, and append the address of every real run to the file named by MODULO_TEST_LOG,
// so tests can count executions.
//
// They are registered only by tests and by binaries built with the modulo_testkinds tag
// (benchmarks against peers); the modulo command proper does not offer them.
package stagetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// Text is the artifact type of UTF-8 text blobs.
var Text = stages.ArtifactType("text", "text/plain; charset=utf-8")

// LogEnv names the environment variable holding the run-log path.
const LogEnv = "MODULO_TEST_LOG"

// common attributes shared by text and concat.
var common = []stages.Attribute{
	{Name: "sleep", Type: cty.String, Default: cty.StringVal("0s"), Doc: "how long the run takes, as a Go duration"},
	{Name: "fail", Type: cty.String, Default: cty.StringVal(""), Doc: "if not empty, the run fails with this message"},
	{Name: "salt", Type: cty.String, Default: cty.StringVal(""), Doc: "enters the key but not the output: changing it reruns the node with identical output"},
	{Name: "deaf", Type: cty.Bool, Default: cty.False, NotInKey: true, Doc: "sleep through cancellation, as a stage that never checks its context would"},
}

// Register adds the test kinds to r.
func Register(r *stages.Registry) {
	registerFile(r)
	registerBundle(r)
	registerEmit(r)
	r.Register(&stages.Kind{
		Name:    "text",
		Version: 1,
		Doc:     "Makes a text artifact from a string.",
		Schema: stages.Schema{Attributes: append([]stages.Attribute{
			{Name: "value", Type: cty.String, Required: true},
			{Name: "upper", Type: cty.Bool, Default: cty.False},
			{Name: "threads", Type: cty.Number, Default: cty.NumberIntVal(1), NotInKey: true, Check: stages.Int(1, 64)},
		}, common...)},
		Outputs: []stages.OutputSpec{
			{Name: "out", Type: Text},
			{Name: "length", Type: cty.Number},
			{Name: "words", Type: cty.List(Text)},
		},
		Validate: validate,
		// What the value tells before the run: the words' count, and a Meta for out that
		// the run itself does not record, as a kind's older cache entries would not.
		Expect: func(p *stages.Planned) map[string]stages.Expected {
			v := p.Get("value")
			if !v.IsKnown() || v.IsNull() {
				return nil
			}
			return map[string]stages.Expected{
				"out":   {Meta: "text", Len: -1},
				"words": {Meta: "word", Len: len(strings.Fields(v.AsString()))},
			}
		},
		Cost: func(cfg cty.Value) int {
			t := cfg.GetAttr("threads")
			if !t.IsKnown() || t.IsNull() {
				return 1
			}
			n, _ := t.AsBigFloat().Int64()
			return int(n)
		},
		Run: func(ctx context.Context, in *stages.Input) (*stages.Result, error) {
			s := in.Config.GetAttr("value").AsString()
			if in.Config.GetAttr("upper").True() {
				s = strings.ToUpper(s)
			}
			if err := act(ctx, in); err != nil {
				return nil, err
			}
			var words []stages.Artifact
			for _, w := range strings.Fields(s) {
				words = append(words, stages.Artifact{Data: []byte(w)})
			}
			return result(s, words), nil
		},
	})
	r.Register(&stages.Kind{
		Name:    "concat",
		Version: 1,
		Doc:     "Joins text artifacts.",
		Schema: stages.Schema{Attributes: append([]stages.Attribute{
			{Name: "parts", Type: cty.List(Text), Required: true},
			{Name: "sep", Type: cty.String, Default: cty.StringVal("")},
		}, common...)},
		Outputs: []stages.OutputSpec{
			{Name: "out", Type: Text},
			{Name: "length", Type: cty.Number},
			{Name: "words", Type: cty.List(Text)},
		},
		Validate: validate,
		Run: func(ctx context.Context, in *stages.Input) (*stages.Result, error) {
			var parts []string
			for it := in.Config.GetAttr("parts").ElementIterator(); it.Next(); {
				_, v := it.Element()
				b, err := in.Read(stages.RefOf(v))
				if err != nil {
					return nil, err
				}
				parts = append(parts, string(b))
			}
			if err := act(ctx, in); err != nil {
				return nil, err
			}
			s := strings.Join(parts, in.Config.GetAttr("sep").AsString())
			var words []stages.Artifact
			for _, p := range parts {
				words = append(words, stages.Artifact{Data: []byte(p)})
			}
			return result(s, words), nil
		},
	})
}

// registerFile adds the file kind: a text artifact read from a file outside the cache. A
// reference to a file block is the text itself (Self), and the file's digest enters the key
// (Files), so editing the file reruns the node and nothing else does.
func registerFile(r *stages.Registry) {
	r.Register(&stages.Kind{
		Name:    "file",
		Version: 1,
		Doc:     "Reads a text file.",
		Schema:  stages.Schema{Attributes: []stages.Attribute{{Name: "path", Type: cty.String, Required: true}}},
		Outputs: []stages.OutputSpec{{Name: "content", Type: Text}},
		Self:    "content",
		Files: func(cfg cty.Value, _ string) ([]stages.File, error) {
			path := cfg.GetAttr("path").AsString()
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("cannot read %s: %v; create it or fix the path", path, err)
			}
			return []stages.File{{Name: "content", Path: path, SHA256: artifacts.NewOutputID(b).String()}}, nil
		},
		Run: func(ctx context.Context, in *stages.Input) (*stages.Result, error) {
			if err := logRun(in); err != nil {
				return nil, err
			}
			b, err := os.ReadFile(in.Config.GetAttr("path").AsString())
			if err != nil {
				return nil, err
			}
			return &stages.Result{Outputs: map[string]stages.Output{"content": {Artifacts: []stages.Artifact{{Data: b}}}}}, nil
		},
	})
}

func validate(p *stages.Planned) error {
	if v := p.Get("sleep"); v.IsKnown() && !v.IsNull() {
		if _, err := time.ParseDuration(v.AsString()); err != nil {
			return cty.GetAttrPath("sleep").NewErrorf("%q is not a duration; write it like \"250ms\" or \"2s\"", v.AsString())
		}
	}
	return nil
}

func result(s string, words []stages.Artifact) *stages.Result {
	return &stages.Result{Outputs: map[string]stages.Output{
		"out":    {Artifacts: []stages.Artifact{{Data: []byte(s), Codec: artifacts.Raw}}},
		"length": {Value: cty.NumberIntVal(int64(len(s)))},
		"words":  {Artifacts: words},
	}}
}

// logRun appends the node's address to the run log, if there is one.
func logRun(in *stages.Input) error {
	path := os.Getenv(LogEnv)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	// One short write with O_APPEND is atomic, so concurrent processes never interleave lines.
	_, err = f.WriteString(in.Address + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// act logs the run, sleeps and fails as configured.
func act(ctx context.Context, in *stages.Input) error {
	if err := logRun(in); err != nil {
		return err
	}
	d, _ := time.ParseDuration(in.Config.GetAttr("sleep").AsString())
	const steps = 10
	deaf := in.Config.GetAttr("deaf").True()
	for i := 0; i < steps && d > 0; i++ {
		if deaf {
			time.Sleep(d / steps)
		} else {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d / steps):
			}
		}
		in.Report(stages.Progress{Done: float64(i + 1), Total: steps, Unit: "step"})
	}
	if msg := in.Config.GetAttr("fail").AsString(); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// registerBundle adds the bundle kind, whose files (relative to the pipeline file) reach
// its run only through Input.ReadFile, as a command's scripts do (PortableFiles): bundle
// "b" { files = ["a.txt", "b.txt"] } is their contents joined, in order.
func registerBundle(r *stages.Registry) {
	r.Register(&stages.Kind{
		Name:    "bundle",
		Version: 1,
		Doc:     "Joins files read through the cache.",
		Schema:  stages.Schema{Attributes: []stages.Attribute{{Name: "files", Type: cty.List(cty.String), Required: true}}},
		Outputs: []stages.OutputSpec{{Name: "content", Type: Text}},
		Self:    "content",
		Files: func(cfg cty.Value, dir string) ([]stages.File, error) {
			var out []stages.File
			for _, v := range cfg.GetAttr("files").AsValueSlice() {
				path := filepath.Join(dir, v.AsString())
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, fmt.Errorf("cannot read %s: %v", v.AsString(), err)
				}
				out = append(out, stages.File{Name: v.AsString(), Path: path, SHA256: artifacts.NewOutputID(b).String()})
			}
			return out, nil
		},
		PortableFiles: true,
		Run: func(ctx context.Context, in *stages.Input) (*stages.Result, error) {
			if err := logRun(in); err != nil {
				return nil, err
			}
			var all []byte
			for _, f := range in.Files {
				b, err := in.ReadFile(f)
				if err != nil {
					return nil, err
				}
				all = append(all, b...)
			}
			return &stages.Result{Outputs: map[string]stages.Output{"content": {Artifacts: []stages.Artifact{{Data: all}}}}}, nil
		},
	})
}

// registerEmit adds the emit kind, whose blocks declare their own outputs, as a command
// stage does: emit "e" { out "greeting" { kind = "text", value = "hi" } out "n" { kind =
// "number", value = "3" } }. A text output is an artifact of value, a number a value.
func registerEmit(r *stages.Registry) {
	decl := stages.BlockSchema{Name: "out", Labels: []string{"name"}, Multi: true, Schema: stages.Schema{Attributes: []stages.Attribute{
		{Name: "kind", Type: cty.String, Required: true, Doc: "text or number"},
		{Name: "value", Type: cty.String, Required: true},
	}}}
	r.Register(&stages.Kind{
		Name:     "emit",
		Version:  1,
		Doc:      "Makes the outputs its out blocks declare.",
		Schema:   stages.Schema{Blocks: []stages.BlockSchema{decl}},
		Declares: "out",
		DeclaredOutput: func(name string, d cty.Value) (stages.OutputSpec, error) {
			k := d.GetAttr("kind")
			if !k.IsKnown() || k.IsNull() {
				return stages.OutputSpec{}, fmt.Errorf("kind must be a literal, text or number")
			}
			switch k.AsString() {
			case "text":
				return stages.OutputSpec{Name: name, Type: Text}, nil
			case "number":
				return stages.OutputSpec{Name: name, Type: cty.Number}, nil
			}
			return stages.OutputSpec{}, fmt.Errorf("kind is %q; an output is text or number", k.AsString())
		},
		Run: func(ctx context.Context, in *stages.Input) (*stages.Result, error) {
			if err := logRun(in); err != nil {
				return nil, err
			}
			res := &stages.Result{Outputs: map[string]stages.Output{}}
			for it := in.Config.GetAttr("out").ElementIterator(); it.Next(); {
				_, d := it.Element()
				name, v := d.GetAttr("name").AsString(), d.GetAttr("value").AsString()
				if d.GetAttr("kind").AsString() == "text" {
					res.Outputs[name] = stages.Output{Artifacts: []stages.Artifact{{Data: []byte(v), Codec: artifacts.Raw}}}
					continue
				}
				n, err := cty.ParseNumberVal(v)
				if err != nil {
					return nil, err
				}
				res.Outputs[name] = stages.Output{Value: n}
			}
			return res, nil
		},
	})
}

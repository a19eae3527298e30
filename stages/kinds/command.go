package kinds

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/stages"
)

// File is the artifact type of a command's opaque outputs: bytes modulo keeps and hands on
// by digest, without reading them. Its Meta is the base name the command wrote it under.
var File = stages.ArtifactType("file", "application/octet-stream")

// Log is the artifact type of what a command printed (stdout and stderr interleaved).
var Log = stages.ArtifactType("log", "text/plain; charset=utf-8")

// commandVersion: 1.
const commandVersion = 1

// outputTypes are the types a command's output blocks declare.
var outputTypes = []string{"network", "networks", "table", "file"}

var commandOutputSchema = stages.BlockSchema{
	Name:   "output",
	Labels: []string{"name"},
	Multi:  true,
	Doc:    "one file the command writes, turned into an output of the node",
	Schema: stages.Schema{
		Attributes: []stages.Attribute{
			{Name: "type", Type: cty.String, Required: true, Doc: "network (a safetensors state_dict checked against model), networks (a sequence: path is a glob, such as \"ckpt/*.safetensors\", sorted with numbers in order), table (CSV with a header row, or JSON: a list of objects) or file (opaque)", Check: stages.OneOf(outputTypes...)},
			{Name: "path", Type: cty.String, Required: true, Doc: "where the command writes it, relative to its working directory (also in $MODULO_OUTPUT_<NAME>)"},
			{Name: "format", Type: cty.String, Doc: "table: csv or json (by default, the path's extension)", Check: stages.OneOf("csv", "json")},
			{Name: "data", Type: Dataset, Doc: "network(s): the dataset whose inputs and classes the network takes"},
		},
		Blocks: []stages.BlockSchema{{Name: "model", Schema: modelSchema, Doc: "network(s): the architecture, as in train; the file must hold exactly its tensors, by PyTorch state_dict name"}},
	},
}

// commandConfig is a command block's configuration.
type commandConfig struct {
	Run     []string          `cty:"run"`
	Files   []string          `cty:"files"`
	Inputs  cty.Value         `cty:"inputs"`
	Env     map[string]string `cty:"env"`
	Timeout *string           `cty:"timeout"`
	Threads int               `cty:"threads"`
	Output  []commandOutput   `cty:"output"`
}

// commandOutput is one output block. Data and Model stay cty values: a dataset reference
// and a model block, read by outputArch.
type commandOutput struct {
	Name   string    `cty:"name"`
	Type   string    `cty:"type"`
	Path   string    `cty:"path"`
	Format *string   `cty:"format"`
	Data   cty.Value `cty:"data"`
	Model  cty.Value `cty:"model"`
}

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "command",
		Version: commandVersion,
		Doc: "Runs a program (a PyTorch training script, say) in a fresh directory with upstream artifacts as files, " +
			"and turns the files it writes into outputs: networks other stages align and interpolate, tables, files. " +
			"The cache keys on run, files, inputs and env, as DVC does: a program that is not deterministic is the user's to rerun (modulo run -force).",
		Schema: stages.Schema{
			Attributes: []stages.Attribute{
				{Name: "run", Type: cty.List(cty.String), Required: true, Doc: `the program and its arguments, without a shell (write ["bash", "-c", "…"] for one)`, Check: stages.Items(1, 10000, nil)},
				{Name: "files", Type: cty.List(cty.String), Default: cty.ListValEmpty(cty.String), Doc: "the scripts and other files it reads, relative to the pipeline file: files, directories or globs; their content enters the key, and they are copied into the working directory at the same relative paths", Check: stages.Items(0, 10000, nil)},
				{Name: "inputs", Type: cty.DynamicPseudoType, Doc: "upstream artifacts and values by name, such as { data = dataset.mnist, init = train.a.final }, written as files under inputs/ (networks as safetensors, datasets as .npy arrays, tables as CSV and JSON); $MODULO_INPUT_<NAME> holds each path and $MODULO_MANIFEST a JSON manifest"},
				{Name: "env", Type: cty.Map(cty.String), Default: cty.MapValEmpty(cty.String), Doc: "environment variables set for the program, on top of modulo's own environment (which is not keyed)"},
				{Name: "timeout", Type: cty.String, NotInKey: true, Doc: `how long the program may run ("30m", "2h"): past it, it is stopped and the node fails; no limit when null`, Check: timeoutCheck},
				{Name: "threads", Type: cty.Number, Default: cty.Zero, NotInKey: true, Doc: "cores the program uses (0: all), counted against -j; in $MODULO_THREADS, and OMP_NUM_THREADS unless env sets it", Check: stages.Int(0, 1024)},
			},
			Blocks: []stages.BlockSchema{commandOutputSchema},
		},
		Outputs:        []stages.OutputSpec{{Name: "log", Type: Log, Doc: "what the program printed, stdout and stderr interleaved"}},
		Log:            "log",
		Config:         commandConfig{},
		Declares:       "output",
		DeclaredOutput: commandDeclaredOutput,
		Validate:       validateCommand,
		Expect:         expectCommand,
		Cost:           threadsCost,
		Files:          commandFiles,
		PortableFiles:  true,
		Run:            runCommand,
	})
}

// timeoutCheck accepts a positive Go duration.
var timeoutCheck = stages.Func(`a duration such as "30m" or "2h"`, func(v cty.Value) error {
	if d, err := time.ParseDuration(v.AsString()); err != nil || d <= 0 {
		return fmt.Errorf("must be a positive duration such as \"30m\" or \"2h\", got %q", v.AsString())
	}
	return nil
})

// commandDeclaredOutput is the output an output block declares, by its type.
func commandDeclaredOutput(name string, decl cty.Value) (stages.OutputSpec, error) {
	t := decl.GetAttr("type")
	if !t.IsKnown() || t.IsNull() {
		return stages.OutputSpec{}, fmt.Errorf("type must be written as a literal, one of %s: references to the output are checked before anything is evaluated", strings.Join(outputTypes, ", "))
	}
	if !validName().MatchString(name) {
		return stages.OutputSpec{}, fmt.Errorf("output name %q must start with a letter and hold only letters, digits and _ (it names $MODULO_OUTPUT_%s)", name, envName(name))
	}
	switch t.AsString() {
	case "network":
		return stages.OutputSpec{Name: name, Type: Network, Doc: "a network the command wrote"}, nil
	case "networks":
		return stages.OutputSpec{Name: name, Type: cty.List(Network), Doc: "the networks the command wrote, in order"}, nil
	case "table":
		return stages.OutputSpec{Name: name, Type: cty.DynamicPseudoType, Doc: "a table the command wrote: a list of objects"}, nil
	case "file":
		return stages.OutputSpec{Name: name, Type: File, Doc: "a file the command wrote"}, nil
	}
	// Another type is reported by the schema's check, at the attribute.
	return stages.OutputSpec{Name: name, Type: cty.DynamicPseudoType}, nil
}

// validName is an input or output name: it becomes part of an environment variable's name.
// It and validEnv are compiled when first used, not when every command starts.
var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`) })

// validEnv is an environment variable's name.
var validEnv = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// envName is the suffix of an input's or output's variable: its name in capitals.
func envName(name string) string { return strings.ToUpper(name) }

func validateCommand(p *stages.Planned) error {
	var errs []error
	if run := p.Get("run"); run.IsWhollyKnown() && !run.IsNull() && run.LengthInt() > 0 {
		if first := run.Index(cty.Zero); first.AsString() == "" {
			errs = append(errs, cty.GetAttrPath("run").Index(cty.Zero).NewErrorf("run[0] is the program to run and cannot be empty"))
		}
	}
	if files := p.Get("files"); files.IsKnown() && !files.IsNull() {
		for i, f := range files.AsValueSlice() {
			if f.IsKnown() && !f.IsNull() {
				if err := checkRelPath(f.AsString(), "a file the command reads"); err != nil {
					errs = append(errs, cty.GetAttrPath("files").Index(cty.NumberIntVal(int64(i))).NewErrorf("%v", err))
				}
			}
		}
	}
	if env := p.Get("env"); env.IsKnown() && !env.IsNull() {
		for it := env.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			name := k.AsString()
			switch {
			case !validEnv().MatchString(name):
				errs = append(errs, cty.GetAttrPath("env").Index(k).NewErrorf("%q is not an environment variable name: letters, digits and _, not starting with a digit", name))
			case strings.HasPrefix(name, "MODULO_"):
				errs = append(errs, cty.GetAttrPath("env").Index(k).NewErrorf("%s: variables starting with MODULO_ are set by modulo (inputs, outputs, threads); choose another name", name))
			}
		}
	}
	errs = append(errs, validateInputs(p.Get("inputs"))...)
	if outs := p.Get("output"); outs.IsKnown() && !outs.IsNull() {
		for i, o := range outs.AsValueSlice() {
			at := cty.GetAttrPath("output").Index(cty.NumberIntVal(int64(i)))
			errs = append(errs, validateOutput(p, at, o)...)
		}
	}
	return errors.Join(errs...)
}

// validateInputs checks the inputs attribute: an object of named values.
func validateInputs(v cty.Value) []error {
	at := cty.GetAttrPath("inputs")
	if v.IsNull() || !v.IsKnown() && v.Type() == cty.DynamicPseudoType {
		return nil
	}
	t := v.Type()
	if !t.IsObjectType() && !t.IsMapType() {
		return []error{at.NewErrorf("inputs must be an object of named inputs, such as { data = dataset.mnist, init = train.a.final }, not %s", t.FriendlyName())}
	}
	var names []string
	if t.IsObjectType() {
		for name := range t.AttributeTypes() {
			names = append(names, name)
		}
	} else if v.IsKnown() {
		for it := v.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			names = append(names, k.AsString())
		}
	}
	slices.Sort(names)
	var errs []error
	for _, name := range names {
		if !validName().MatchString(name) {
			errs = append(errs, at.GetAttr(name).NewErrorf("input name %q must start with a letter and hold only letters, digits and _ (it names $MODULO_INPUT_%s)", name, envName(name)))
		}
	}
	return errs
}

// validateOutput checks one output block, at path at.
func validateOutput(p *stages.Planned, at cty.Path, o cty.Value) []error {
	var errs []error
	typ, pth := o.GetAttr("type"), o.GetAttr("path")
	if pth.IsKnown() && !pth.IsNull() {
		if err := checkRelPath(pth.AsString(), "where the command writes an output"); err != nil {
			errs = append(errs, at.GetAttr("path").NewErrorf("%v", err))
		} else if _, err := path.Match(pth.AsString(), ""); err != nil {
			errs = append(errs, at.GetAttr("path").NewErrorf("%q is not a valid path or glob: %v", pth.AsString(), err))
		}
	}
	if !typ.IsKnown() || typ.IsNull() {
		return errs
	}
	network := typ.AsString() == "network" || typ.AsString() == "networks"
	model, dataV := o.GetAttr("model"), o.GetAttr("data")
	switch {
	case network && model.IsKnown() && model.IsNull():
		errs = append(errs, at.NewErrorf("a %s output needs a model block, the architecture the file must hold (as in train: model { kind = \"mlp\", hidden = [512, 512] })", typ.AsString()))
	case network && dataV.IsKnown() && dataV.IsNull():
		errs = append(errs, at.GetAttr("data").NewErrorf("a %s output needs data, the dataset the network takes (data = dataset.mnist): it gives the input size and classes", typ.AsString()))
	case !network && model.IsKnown() && !model.IsNull():
		errs = append(errs, at.GetAttr("model").NewErrorf("a %s output has no model; model is for network and networks outputs", typ.AsString()))
	case !network && !dataV.IsNull():
		errs = append(errs, at.GetAttr("data").NewErrorf("a %s output has no data; data is for network and networks outputs", typ.AsString()))
	}
	if f := o.GetAttr("format"); typ.AsString() != "table" && f.IsKnown() && !f.IsNull() {
		errs = append(errs, at.GetAttr("format").NewErrorf("format is for table outputs"))
	} else if typ.AsString() == "table" && f.IsKnown() && f.IsNull() && pth.IsKnown() && !pth.IsNull() {
		if _, err := tableFormat(nil, pth.AsString()); err != nil {
			errs = append(errs, at.GetAttr("format").NewErrorf("%v", err))
		}
	}
	if network && model.IsWhollyKnown() && !model.IsNull() {
		if shape, ok := plannedShapeAt(p, at.GetAttr("data")); ok {
			if _, err := modelArch(model, shape); err != nil {
				errs = append(errs, inPath(at.GetAttr("model"), err))
			}
		}
	}
	return errs
}

// inPath puts err, a cty.PathError relative to a block, under that block's path.
func inPath(at cty.Path, err error) error {
	var pe cty.PathError
	if errors.As(err, &pe) {
		return append(at.Copy(), pe.Path...).NewErrorf("%s", pe.Error())
	}
	return at.NewError(err)
}

// plannedShapeAt is the dataset shape known at plan time for the dataset at path.
func plannedShapeAt(p *stages.Planned, at cty.Path) (datasetShape, bool) {
	metas := p.MetasAt(at)
	if len(metas) != 1 {
		return datasetShape{}, false
	}
	return shapeOfMeta(metas[0])
}

// modelArch is the architecture a model block gives for data of the given shape.
func modelArch(model cty.Value, shape datasetShape) (nn.Arch, error) {
	var mc modelConfig
	if err := stages.DecodeValue(model, &mc); err != nil {
		return nn.Arch{}, err
	}
	a, err := archOf(&mc, shape)
	if err != nil {
		return a, err
	}
	return a, a.Validate()
}

// checkRelPath refuses a path that is absolute or leaves the directory it is relative to.
func checkRelPath(p, what string) error {
	switch {
	case p == "":
		return fmt.Errorf("the path of %s cannot be empty", what)
	case filepath.IsAbs(p) || strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q is absolute; the path of %s is relative to the pipeline file (files) or to the command's working directory (outputs), so that the pipeline works from any checkout", p, what)
	case !filepath.IsLocal(p):
		return fmt.Errorf("%q leaves its directory; the path of %s stays inside it (move the file next to the pipeline, or the pipeline up)", p, what)
	}
	return nil
}

func expectCommand(p *stages.Planned) map[string]stages.Expected {
	outs := p.Get("output")
	if !outs.IsKnown() || outs.IsNull() {
		return nil
	}
	exp := map[string]stages.Expected{}
	for i, o := range outs.AsValueSlice() {
		typ, name, model := o.GetAttr("type"), o.GetAttr("name"), o.GetAttr("model")
		if !typ.IsKnown() || typ.IsNull() || !name.IsKnown() || !model.IsWhollyKnown() || model.IsNull() {
			continue
		}
		if t := typ.AsString(); t != "network" && t != "networks" {
			continue
		}
		shape, ok := plannedShapeAt(p, cty.GetAttrPath("output").Index(cty.NumberIntVal(int64(i))).GetAttr("data"))
		if !ok {
			continue
		}
		if a, err := modelArch(model, shape); err == nil {
			exp[name.AsString()] = stages.Expected{Meta: a.String(), Len: -1}
		}
	}
	return exp
}

// commandFiles lists the files of the files attribute, relative to dir, with their
// digests: each entry a file, a directory (every file under it but hidden ones and
// __pycache__, which Python rewrites), or a glob. Names are the slash-separated paths
// relative to dir, which is where the run puts them in its working directory.
func commandFiles(cfg cty.Value, dir string) ([]stages.File, error) {
	var c commandConfig
	if err := stages.DecodeValue(cfg, &c); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []stages.File
	add := func(rel string) error {
		rel = filepath.ToSlash(filepath.Clean(rel))
		if seen[rel] {
			return nil
		}
		seen[rel] = true
		abs, err := filepath.Abs(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		f, err := data.HashFile(abs)
		if err != nil {
			return fmt.Errorf("files: cannot read %s: %v", rel, err)
		}
		out = append(out, stages.File{Name: rel, Path: abs, SHA256: f.SHA256})
		return nil
	}
	for _, entry := range c.Files {
		if err := checkRelPath(entry, "a file the command reads"); err != nil {
			return nil, fmt.Errorf("files: %v", err)
		}
		matches, err := filepath.Glob(filepath.Join(dir, entry))
		if err != nil {
			return nil, fmt.Errorf("files: %q is not a valid glob: %v", entry, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("files: %s matches nothing in %s; create it or fix the path (paths are relative to the pipeline file)", entry, cmpDir(dir))
		}
		for _, m := range matches {
			rel, err := filepath.Rel(dir, m)
			if err != nil {
				return nil, err
			}
			st, err := os.Stat(m)
			if err != nil {
				return nil, fmt.Errorf("files: %v", err)
			}
			if !st.IsDir() {
				if err := add(rel); err != nil {
					return nil, err
				}
				continue
			}
			err = filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if p != m && (strings.HasPrefix(d.Name(), ".") || d.Name() == "__pycache__") {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if !d.Type().IsRegular() {
					return nil
				}
				r, err := filepath.Rel(dir, p)
				if err != nil {
					return err
				}
				return add(r)
			})
			if err != nil {
				return nil, fmt.Errorf("files: %v", err)
			}
		}
	}
	slices.SortFunc(out, func(a, b stages.File) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func cmpDir(dir string) string {
	if dir == "" || dir == "." {
		return "the current directory"
	}
	return dir
}

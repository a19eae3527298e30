package kinds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/bytesize"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/stages"
)

// Dataset is the artifact type of datasets. The artifact is a small JSON description (the
// source, its options and the digests of its files), not the data: every stage that uses
// it loads the files itself (memoised per process), so a 200 MB float array never enters
// the cache, while any change to the files still changes every key downstream.
var Dataset = stages.ArtifactType("dataset", "application/vnd.modulo.dataset+json")

// DatasetSources lists the dataset sources.
var DatasetSources = []string{"mnist", "fashion-mnist", "idx", "cifar10", "synthetic", "stripes"}

// DatasetSpec is the stored description of a dataset, enough to load it again.
type DatasetSpec struct {
	Source    string               `json:"source"`
	Dir       string               `json:"dir,omitempty"`
	Files     map[string]string    `json:"files,omitempty"` // base name → SHA-256
	Options   data.Options         `json:"options"`
	Synthetic data.SyntheticConfig `json:"synthetic,omitzero"`
	Stripes   data.StripesConfig   `json:"stripes,omitzero"`
	TrainN    int                  `json:"train_examples"`
	TestN     int                  `json:"test_examples"`
	Dims      int                  `json:"dims"`
	Classes   int                  `json:"classes"`
}

// datasetConfig is a dataset block's configuration.
type datasetConfig struct {
	Source       string   `cty:"source"`
	Path         *string  `cty:"path"`
	TrainSubset  int      `cty:"train_subset"`
	TestSubset   int      `cty:"test_subset"`
	Standardize  bool     `cty:"standardize"`
	Pad          int      `cty:"pad"`
	Examples     int      `cty:"examples"`
	TestExamples int      `cty:"test_examples"`
	Dims         int      `cty:"dims"`
	Classes      int      `cty:"classes"`
	Seed         uint64   `cty:"seed"`
	Spread       float64  `cty:"spread"`
	Channels     *int     `cty:"channels"`
	Size         *int     `cty:"size"`
	Noise        *float64 `cty:"noise"`
}

// The stripes' defaults: small gray images a ResNet learns in seconds.
const (
	stripesChannels = 1
	stripesSize     = 16
	stripesNoise    = 0.5
)

// stripesOf is the stripes configuration of c.
func stripesOf(c *datasetConfig) data.StripesConfig {
	s := data.StripesConfig{Examples: c.Examples, TestExamples: c.TestExamples, Classes: c.Classes, Seed: c.Seed, Channels: stripesChannels, Size: stripesSize, Noise: stripesNoise}
	if c.Channels != nil {
		s.Channels = *c.Channels
	}
	if c.Size != nil {
		s.Size = *c.Size
	}
	if c.Noise != nil {
		s.Noise = *c.Noise
	}
	return s
}

// maxExamples bounds a split's examples: 2^31 keeps every index an int32 and any real
// dataset fits.
const maxExamples = 1<<31 - 1

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "dataset",
		Version: 1,
		Doc:     "A classification dataset: MNIST, Fashion-MNIST, IDX files, CIFAR-10, a synthetic Gaussian mixture, or synthetic images of oriented stripes.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "source", Type: cty.String, Required: true, Doc: "mnist, fashion-mnist, idx, cifar10, synthetic (Gaussian clusters) or stripes (images of oriented stripes, one angle per class)", Check: stages.OneOf(DatasetSources...)},
			{Name: "path", Type: cty.String, Doc: "directory of the four IDX files (source idx), or CIFAR-10's binary batches, cifar-10-batches-bin (source cifar10)"},
			{Name: "train_subset", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "use only the first N training examples (0: all)", Check: stages.Int(0, maxExamples)},
			{Name: "test_subset", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "use only the first N test examples (0: all)", Check: stages.Int(0, maxExamples)},
			{Name: "standardize", Type: cty.Bool, Default: cty.False, Doc: "subtract the training set's per-pixel mean and divide by its std"},
			{Name: "pad", Type: cty.Number, Default: cty.Zero, Doc: "images: add this many rows and columns of zeros on every side (2 makes MNIST's 28×28 the 32×32 VGG needs)", Check: stages.Int(0, data.MaxPad)},
			{Name: "examples", Type: cty.Number, Default: cty.NumberIntVal(2000), Doc: "synthetic and stripes: training examples", Check: stages.Int(1, maxExamples)},
			{Name: "test_examples", Type: cty.Number, Default: cty.NumberIntVal(1000), Doc: "synthetic and stripes: test examples", Check: stages.Int(1, maxExamples)},
			{Name: "dims", Type: cty.Number, Default: cty.NumberIntVal(20), Doc: "synthetic: features", Check: stages.Int(1, 1<<20)},
			{Name: "classes", Type: cty.Number, Default: cty.NumberIntVal(4), Doc: "synthetic and stripes: classes", Check: stages.Int(1, 256)},
			{Name: "seed", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "synthetic and stripes: seed", Check: stages.Int(0, maxSeed)},
			{Name: "spread", Type: cty.Number, Default: cty.NumberFloatVal(0.5), Doc: "synthetic: cluster spread relative to the distance between centres", Check: stages.Range(0, 1000, true, false)},
			{Name: "channels", Type: cty.Number, NullNotInKey: true, Doc: "stripes: channels (1 when null)", Check: stages.Int(1, 64)},
			{Name: "size", Type: cty.Number, NullNotInKey: true, Doc: "stripes: images are size×size (16 when null)", Check: stages.Int(4, 1024)},
			{Name: "noise", Type: cty.Number, NullNotInKey: true, Doc: "stripes: noise relative to the stripes' amplitude (0.5 when null)", Check: stages.Range(0, 100, false, false)},
		}},
		Outputs:  []stages.OutputSpec{{Name: "dataset", Type: Dataset}},
		Self:     "dataset",
		Config:   datasetConfig{},
		Validate: validateDataset,
		Expect:   expectDataset,
		Files:    datasetFiles,
		Run:      runDataset,
	})
}

// maxSeed bounds seeds to what a float64 (and so a JSON reader) holds exactly.
const maxSeed = 1 << 53

// datasetShape is a dataset's Meta: what stages downstream check at plan time (a network's
// input size against dims, a batch against the examples), known from the configuration
// before the files are read.
type datasetShape struct {
	Dims    int `json:"dims"`
	Classes int `json:"classes"`
	// C, H and W are an image's channels, height and width; zero for feature vectors.
	C     int `json:"c,omitempty"`
	H     int `json:"h,omitempty"`
	W     int `json:"w,omitempty"`
	Train int `json:"train"`
	Test  int `json:"test"`
}

func (s datasetShape) meta() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// shapeOfMeta reads a dataset's Meta; ok is false when it is unknown (an IDX directory not
// read yet, a dataset cached before shapes were recorded).
func shapeOfMeta(meta string) (s datasetShape, ok bool) {
	if json.Unmarshal([]byte(meta), &s) != nil || s.Dims < 1 {
		return s, false
	}
	return s, true
}

// fileShapes are the sizes of the datasets that modulo knows by name.
var fileShapes = map[string]datasetShape{
	"mnist":         {Dims: 784, Classes: 10, C: 1, H: 28, W: 28, Train: 60000, Test: 10000},
	"fashion-mnist": {Dims: 784, Classes: 10, C: 1, H: 28, W: 28, Train: 60000, Test: 10000},
	"cifar10":       {Dims: 3072, Classes: 10, C: 3, H: 32, W: 32, Train: 50000, Test: 10000},
}

// cifarCounts sets the examples of a cifar10 shape from the sizes of its batches, so small
// files in the format are planned as what they hold; ok is false when the files cannot be
// found yet (validate reports nothing then, plan says they are missing).
func cifarCounts(p *stages.Planned, s datasetShape) (datasetShape, bool) {
	path := p.Get("path")
	if !path.IsKnown() || path.IsNull() {
		return s, false
	}
	var err error
	if s.Train, s.Test, err = data.CIFAR10Counts(path.AsString()); err != nil {
		return s, false
	}
	return s, true
}

// padded is s with p pixels of zeros on every side of its images.
func (s datasetShape) padded(p int) datasetShape {
	if p > 0 && s.C > 0 {
		s.H, s.W = s.H+2*p, s.W+2*p
		s.Dims = s.C * s.H * s.W
	}
	return s
}

// plannedShape is the shape the configuration p gives, before subsets; ok is false when it
// is not known.
func plannedShape(p *stages.Planned) (datasetShape, bool) {
	src := p.Get("source")
	if !src.IsKnown() {
		return datasetShape{}, false
	}
	if s, ok := fileShapes[src.AsString()]; ok {
		if src.AsString() == "cifar10" {
			return cifarCounts(p, s)
		}
		return s, true
	}
	if src.AsString() == "stripes" {
		var c datasetConfig
		if !p.Value.IsWhollyKnown() || stages.DecodeValue(p.Value, &c) != nil {
			return datasetShape{}, false
		}
		st := stripesOf(&c)
		return datasetShape{Dims: st.Channels * st.Size * st.Size, Classes: st.Classes, C: st.Channels, H: st.Size, W: st.Size, Train: st.Examples, Test: st.TestExamples}, true
	}
	if src.AsString() != "synthetic" {
		return datasetShape{}, false
	}
	var s datasetShape
	for _, f := range []struct {
		name string
		to   *int
	}{{"dims", &s.Dims}, {"classes", &s.Classes}, {"examples", &s.Train}, {"test_examples", &s.Test}} {
		n, ok := knownInt(p.Value, f.name)
		if !ok {
			return s, false
		}
		*f.to = n
	}
	return s, true
}

func validateDataset(p *stages.Planned) error {
	src := p.Get("source")
	if !src.IsKnown() {
		return nil
	}
	var errs []error
	s := src.AsString()
	if path := p.Get("path"); s == "idx" && path.IsKnown() && path.IsNull() {
		errs = append(errs, cty.GetAttrPath("source").NewErrorf(`source "idx" needs path, the directory holding the four IDX files`))
	}
	if path := p.Get("path"); s == "cifar10" && path.IsKnown() && path.IsNull() {
		errs = append(errs, cty.GetAttrPath("source").NewErrorf(`source "cifar10" needs path, the directory cifar-10-batches-bin of CIFAR-10's binary version (data_batch_1.bin … test_batch.bin)`))
	}
	if pad, ok := knownInt(p.Value, "pad"); ok && pad > 0 && s == "synthetic" {
		errs = append(errs, cty.GetAttrPath("pad").NewErrorf("pad applies to images, but synthetic data are vectors of features; leave pad out"))
	}
	if s != "stripes" {
		for _, name := range []string{"channels", "size", "noise"} {
			if v := p.Get(name); v.IsKnown() && !v.IsNull() {
				errs = append(errs, cty.GetAttrPath(name).NewErrorf("%s applies to source \"stripes\"; leave it out for %s", name, s))
			}
		}
	}
	if shape, ok := plannedShape(p); ok {
		for _, sub := range []struct {
			name, split string
			n           int
		}{{"train_subset", "training", shape.Train}, {"test_subset", "test", shape.Test}} {
			if k, ok := knownInt(p.Value, sub.name); ok && k > sub.n {
				errs = append(errs, cty.GetAttrPath(sub.name).NewErrorf("%s is %d but the %s split has only %d examples", sub.name, k, sub.split, sub.n))
			}
		}
		if s == "synthetic" || s == "stripes" {
			if need := 4 * int64(shape.Dims) * int64(shape.Train+shape.Test); need > memoryBudget() {
				errs = append(errs, cty.GetAttrPath("examples").NewErrorf("the synthetic data would take %s of memory (%d examples × %d features × 4 bytes), more than this machine's %s; use fewer examples or features", bytesize.Format(need), shape.Train+shape.Test, shape.Dims, bytesize.Format(memoryBudget())))
			}
		}
	}
	return errors.Join(errs...)
}

// expectDataset tells the dataset's shape from its configuration, subsets applied.
func expectDataset(p *stages.Planned) map[string]stages.Expected {
	s, ok := plannedShape(p)
	if !ok {
		return nil
	}
	if k, ok := knownInt(p.Value, "train_subset"); ok && k > 0 {
		s.Train = k
	}
	if k, ok := knownInt(p.Value, "test_subset"); ok && k > 0 {
		s.Test = k
	}
	if k, ok := knownInt(p.Value, "pad"); ok {
		s = s.padded(k)
	}
	return map[string]stages.Expected{"dataset": {Meta: s.meta(), Len: -1}}
}

// datasetDir returns the directory of a file-backed source.
func datasetDir(c *datasetConfig) (string, error) {
	switch c.Source {
	case "mnist":
		return data.MNISTDir()
	case "fashion-mnist":
		return data.FashionMNISTDir()
	case "idx", "cifar10":
		if c.Path == nil {
			return "", fmt.Errorf("source %q needs path, the directory of its files", c.Source)
		}
		return filepath.Abs(*c.Path)
	}
	return "", nil
}

// datasetFiles hashes the IDX files, so that their content enters the key. A relative path
// is relative to the working directory, as it always was (keys hold the files' digests, not
// their paths, so this only decides where modulo looks).
func datasetFiles(cfg cty.Value, _ string) ([]stages.File, error) {
	var c datasetConfig
	if err := stages.DecodeValue(cfg, &c); err != nil {
		return nil, err
	}
	return hashFiles(&c)
}

// hashFiles lists the IDX files of c with their digests.
func hashFiles(c *datasetConfig) ([]stages.File, error) {
	dir, err := datasetDir(c)
	if err != nil || dir == "" {
		return nil, err
	}
	files := data.IDXFiles
	if c.Source == "cifar10" {
		files = data.CIFAR10Files
	}
	paths, err := files(dir)
	if err != nil {
		return nil, err
	}
	var out []stages.File
	for _, p := range paths {
		f, err := data.HashFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, stages.File{Name: filepath.Base(p), Path: p, SHA256: f.SHA256})
	}
	return out, nil
}

// LoadDataset loads the data a dataset artifact describes. Its files are read where the
// dataset node found them; where they are not, or hold other bytes (a cluster node
// without the directory), from materialize (stages.Input.Materialize; nil: none), which
// copies them out of the cache that the dataset node's result carried them into.
func LoadDataset(ctx context.Context, b []byte, materialize func(map[string]string) (string, error)) (*data.Dataset, *DatasetSpec, error) {
	var spec DatasetSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, nil, fmt.Errorf("reading a dataset description: %w", err)
	}
	d, err := loadSpec(ctx, &spec)
	if err != nil && materialize != nil && len(spec.Files) > 0 && !errors.Is(err, context.Canceled) {
		dir, merr := materialize(spec.Files)
		if merr != nil {
			return nil, &spec, fmt.Errorf("%w; and from the cache: %v", err, merr)
		}
		here := spec
		here.Dir = dir
		d, err = loadSpec(ctx, &here)
	}
	return d, &spec, err
}

func loadSpec(ctx context.Context, spec *DatasetSpec) (*data.Dataset, error) {
	var d *data.Dataset
	var err error
	switch spec.Source {
	case "synthetic":
		d, err = data.SyntheticContext(ctx, spec.Synthetic)
	case "stripes":
		d, err = data.Stripes(spec.Stripes)
	case "cifar10":
		d, err = data.LoadCIFAR10(spec.Dir)
	default:
		d, err = data.LoadIDXDir(spec.Source, spec.Dir)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range d.Files {
		if want, ok := spec.Files[filepath.Base(f.Path)]; ok && want != f.SHA256 {
			return nil, fmt.Errorf("%s changed since the dataset was recorded (sha256 %s, recorded %s); rerun the pipeline", f.Path, f.SHA256, want)
		}
	}
	return d.WithOptions(spec.Options)
}

func runDataset(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var c datasetConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	spec := DatasetSpec{Source: c.Source, Options: data.Options{TrainSubset: c.TrainSubset, TestSubset: c.TestSubset, Standardize: c.Standardize, Pad: c.Pad}}
	switch spec.Source {
	case "synthetic":
		spec.Synthetic = data.SyntheticConfig{Examples: c.Examples, TestExamples: c.TestExamples, Dims: c.Dims, Classes: c.Classes, Seed: c.Seed, Spread: c.Spread}
	case "stripes":
		spec.Stripes = stripesOf(&c)
	default:
		dir, err := datasetDir(&c)
		if err != nil {
			return nil, err
		}
		spec.Dir = dir
		files, err := hashFiles(&c)
		if err != nil {
			return nil, err
		}
		spec.Files = map[string]string{}
		for _, f := range files {
			spec.Files[f.Name] = f.SHA256
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := loadSpec(ctx, &spec)
	if err != nil {
		return nil, err
	}
	spec.TrainN, spec.TestN, spec.Dims, spec.Classes = d.Train.N, d.Test.N, d.Train.D, d.Train.Classes
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	meta := datasetShape{Dims: spec.Dims, Classes: spec.Classes, C: d.Train.C, H: d.Train.H, W: d.Train.W, Train: spec.TrainN, Test: spec.TestN}.meta()
	return &stages.Result{Outputs: map[string]stages.Output{"dataset": {Artifacts: []stages.Artifact{{Data: b, Codec: artifacts.Raw, Meta: meta}}}}}, nil
}

// knownInt reads a known, non-null whole number attribute.
func knownInt(cfg cty.Value, name string) (int, bool) {
	v := cfg.GetAttr(name)
	if !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	n, acc := v.AsBigFloat().Int64()
	if acc != 0 {
		return int(n), false
	}
	return int(n), true
}

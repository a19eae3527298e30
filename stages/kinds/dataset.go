package kinds

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/modulo-ml/modulo/stages"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn/data"
)

// Dataset is the artifact type of datasets. The artifact is a small JSON description (the
// source, its options and the digests of its files), not the data: every stage that uses
// it loads the files itself (memoised per process), so a 200 MB float array never enters
// the cache, while any change to the files still changes every key downstream.
var Dataset = stages.ArtifactType("dataset", "application/vnd.modulo.dataset+json")

// DatasetSources lists the dataset sources.
var DatasetSources = []string{"mnist", "fashion-mnist", "idx", "synthetic"}

// DatasetSpec is the stored description of a dataset, enough to load it again.
type DatasetSpec struct {
	Source    string               `json:"source"`
	Dir       string               `json:"dir,omitempty"`
	Files     map[string]string    `json:"files,omitempty"` // base name → SHA-256
	Options   data.Options         `json:"options"`
	Synthetic data.SyntheticConfig `json:"synthetic,omitzero"`
	TrainN    int                  `json:"train_examples"`
	TestN     int                  `json:"test_examples"`
	Dims      int                  `json:"dims"`
	Classes   int                  `json:"classes"`
}

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "dataset",
		Version: 1,
		Doc:     "A classification dataset: MNIST, Fashion-MNIST, IDX files, or a synthetic Gaussian mixture.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "source", Type: cty.String, Required: true, Doc: "mnist, fashion-mnist, idx or synthetic"},
			{Name: "path", Type: cty.String, Doc: "directory of the four IDX files (source idx)"},
			{Name: "train_subset", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "use only the first N training examples (0: all)"},
			{Name: "test_subset", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "use only the first N test examples (0: all)"},
			{Name: "standardize", Type: cty.Bool, Default: cty.False, Doc: "subtract the training set's per-pixel mean and divide by its std"},
			{Name: "examples", Type: cty.Number, Default: cty.NumberIntVal(2000), Doc: "synthetic: training examples"},
			{Name: "test_examples", Type: cty.Number, Default: cty.NumberIntVal(1000), Doc: "synthetic: test examples"},
			{Name: "dims", Type: cty.Number, Default: cty.NumberIntVal(20), Doc: "synthetic: features"},
			{Name: "classes", Type: cty.Number, Default: cty.NumberIntVal(4), Doc: "synthetic: classes"},
			{Name: "seed", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "synthetic: seed"},
			{Name: "spread", Type: cty.Number, Default: cty.NumberFloatVal(0.5), Doc: "synthetic: cluster spread relative to the distance between centres"},
		}},
		Outputs:  []stages.OutputSpec{{Name: "dataset", Type: Dataset}},
		Self:     "dataset",
		Validate: validateDataset,
		Files:    datasetFiles,
		Run:      runDataset,
	})
}

func validateDataset(cfg cty.Value) error {
	src := cfg.GetAttr("source")
	if !src.IsKnown() {
		return nil
	}
	s := src.AsString()
	if !slices.Contains(DatasetSources, s) {
		return cty.GetAttrPath("source").NewErrorf("unknown source %q; the sources are: mnist, fashion-mnist, idx, synthetic", s)
	}
	if p := cfg.GetAttr("path"); s == "idx" && p.IsKnown() && p.IsNull() {
		return cty.GetAttrPath("source").NewErrorf(`source "idx" needs path, the directory holding the four IDX files`)
	}
	for _, name := range []string{"train_subset", "test_subset"} {
		if n, ok := knownInt(cfg, name); ok && n < 0 {
			return cty.GetAttrPath(name).NewErrorf("%s must be ≥ 0, got %d", name, n)
		}
	}
	if s == "synthetic" {
		for _, name := range []string{"examples", "test_examples", "dims", "classes"} {
			if n, ok := knownInt(cfg, name); ok && n < 1 {
				return cty.GetAttrPath(name).NewErrorf("%s must be ≥ 1, got %d", name, n)
			}
		}
		if n, ok := knownInt(cfg, "classes"); ok && n > 256 {
			return cty.GetAttrPath("classes").NewErrorf("at most 256 classes, got %d", n)
		}
	}
	return nil
}

// datasetDir returns the directory of a file-backed source.
func datasetDir(cfg cty.Value) (string, error) {
	switch cfg.GetAttr("source").AsString() {
	case "mnist":
		return data.MNISTDir()
	case "fashion-mnist":
		return data.FashionMNISTDir()
	case "idx":
		return filepath.Abs(cfg.GetAttr("path").AsString())
	}
	return "", nil
}

// datasetFiles hashes the IDX files, so that their content enters the key.
func datasetFiles(cfg cty.Value) ([]stages.File, error) {
	dir, err := datasetDir(cfg)
	if err != nil || dir == "" {
		return nil, err
	}
	paths, err := data.IDXFiles(dir)
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

// LoadDataset loads the data a dataset artifact describes.
func LoadDataset(b []byte) (*data.Dataset, *DatasetSpec, error) {
	var spec DatasetSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, nil, fmt.Errorf("reading a dataset description: %w", err)
	}
	d, err := loadSpec(&spec)
	return d, &spec, err
}

func loadSpec(spec *DatasetSpec) (*data.Dataset, error) {
	var d *data.Dataset
	var err error
	if spec.Source == "synthetic" {
		d, err = data.Synthetic(spec.Synthetic)
	} else {
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
	cfg := in.Config
	spec := DatasetSpec{Source: cfg.GetAttr("source").AsString()}
	spec.Options.TrainSubset, _ = knownInt(cfg, "train_subset")
	spec.Options.TestSubset, _ = knownInt(cfg, "test_subset")
	spec.Options.Standardize = cfg.GetAttr("standardize").True()
	if spec.Source == "synthetic" {
		spec.Synthetic.Examples, _ = knownInt(cfg, "examples")
		spec.Synthetic.TestExamples, _ = knownInt(cfg, "test_examples")
		spec.Synthetic.Dims, _ = knownInt(cfg, "dims")
		spec.Synthetic.Classes, _ = knownInt(cfg, "classes")
		seed, _ := knownInt(cfg, "seed")
		spec.Synthetic.Seed = uint64(seed)
		spec.Synthetic.Spread, _ = cfg.GetAttr("spread").AsBigFloat().Float64()
	} else {
		dir, err := datasetDir(cfg)
		if err != nil {
			return nil, err
		}
		spec.Dir = dir
		files, err := datasetFiles(cfg)
		if err != nil {
			return nil, err
		}
		spec.Files = map[string]string{}
		for _, f := range files {
			spec.Files[f.Name] = f.SHA256
		}
	}
	d, err := loadSpec(&spec)
	if err != nil {
		return nil, err
	}
	spec.TrainN, spec.TestN, spec.Dims, spec.Classes = d.Train.N, d.Test.N, d.Train.D, d.Train.Classes
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return &stages.Result{Outputs: map[string]stages.Output{"dataset": {Artifacts: []stages.Artifact{{Data: b, Codec: artifacts.Raw}}}}}, nil
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

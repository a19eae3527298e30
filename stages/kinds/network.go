package kinds

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/torchsave"
	"github.com/modulo-ml/modulo/stages"
)

// networkVersion: 1.
const networkVersion = 1

// networkConfig is a network block's configuration. Model stays a cty value, read by
// modelArch as a command's network output reads it.
type networkConfig struct {
	File  string      `cty:"file"`
	Data  *stages.Ref `cty:"data"`
	Model cty.Value   `cty:"model"`
}

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "network",
		Version: networkVersion,
		Doc: "A network trained elsewhere, read from a file: torch.save's state_dict (.pt, .pth; as it is, as open_lth saves it, or in a checkpoint dict under " +
			`"state_dict", "model_state_dict" or "model") or safetensors, checked tensor by tensor against the model block. ` +
			"The file's content is in the key: replacing it reruns the node and, if the weights differ, what depends on it.",
		Schema: stages.Schema{
			Attributes: []stages.Attribute{
				{Name: "file", Type: cty.String, Required: true, Doc: "the file, relative to the pipeline file: a torch.save file (a state_dict, or a checkpoint holding one) or safetensors"},
				{Name: "data", Type: Dataset, Required: true, Doc: "the dataset whose inputs and classes the network takes (data = dataset.mnist): it gives the input size and the outputs"},
			},
			Blocks: []stages.BlockSchema{{Name: "model", Required: true, Schema: modelSchema, Doc: "the architecture, as in train; the file must hold exactly its tensors, by PyTorch state_dict name"}},
		},
		Outputs:       []stages.OutputSpec{{Name: "network", Type: Network, Doc: "the network the file holds"}},
		Self:          "network",
		Config:        networkConfig{},
		Validate:      validateNetwork,
		Expect:        expectNetwork,
		Files:         networkFiles,
		PortableFiles: true,
		Run:           runNetwork,
	})
}

func validateNetwork(p *stages.Planned) error {
	var errs []error
	if f := p.Get("file"); f.IsKnown() && !f.IsNull() {
		if err := checkNetworkPath(f.AsString()); err != nil {
			errs = append(errs, cty.GetAttrPath("file").NewErrorf("%v", err))
		}
	}
	if _, err := plannedNetworkArch(p); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// plannedNetworkArch is the architecture the model block gives for the dataset's planned
// shape; a zero Arch and no error when either is not known yet.
func plannedNetworkArch(p *stages.Planned) (nn.Arch, error) {
	model := p.Get("model")
	if !model.IsWhollyKnown() || model.IsNull() {
		return nn.Arch{}, nil
	}
	shape, ok := plannedShapeAt(p, cty.GetAttrPath("data"))
	if !ok {
		return nn.Arch{}, nil
	}
	a, err := modelArch(model, shape)
	if err != nil {
		return nn.Arch{}, inPath(cty.GetAttrPath("model"), err)
	}
	return a, nil
}

// expectNetwork gives the network's architecture before it is read, so that validate
// refuses to match it against a network of another one.
func expectNetwork(p *stages.Planned) map[string]stages.Expected {
	a, err := plannedNetworkArch(p)
	if err != nil || a.Kind == "" {
		return nil
	}
	return map[string]stages.Expected{"network": {Meta: a.String(), Len: -1}}
}

// checkNetworkPath refuses a path that is absolute or leaves the pipeline's directory, as
// a command's files do: the pipeline then works from any checkout.
func checkNetworkPath(p string) error {
	switch {
	case p == "":
		return errors.New("file cannot be empty; give the path of a .pt, .pth or .safetensors file, relative to the pipeline file")
	case filepath.IsAbs(p) || strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q is absolute; file is relative to the pipeline file, so that the pipeline works from any checkout (copy or link the file next to it)", p)
	case !filepath.IsLocal(p):
		return fmt.Errorf("%q leaves the pipeline's directory; file stays inside it (copy or link the file next to the pipeline, or move the pipeline up)", p)
	}
	return nil
}

// networkFiles hashes the file, so that its content is in the key: a new file, or the same
// path with other bytes, reruns the node (and its dependants only if the weights differ).
func networkFiles(cfg cty.Value, dir string) ([]stages.File, error) {
	var c networkConfig
	if err := stages.DecodeValue(cfg, &c); err != nil {
		return nil, err
	}
	if err := checkNetworkPath(c.File); err != nil {
		return nil, fmt.Errorf("file: %v", err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, c.File))
	if err != nil {
		return nil, err
	}
	f, err := data.HashFile(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("file %s does not exist in %s; copy the network there or fix the path (it is relative to the pipeline file)", c.File, cmpDir(dir))
	case err != nil:
		return nil, fmt.Errorf("file %s cannot be read: %v", c.File, err)
	}
	return []stages.File{{Name: filepath.ToSlash(filepath.Clean(c.File)), Path: abs, SHA256: f.SHA256}}, nil
}

func runNetwork(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var c networkConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	shape, err := shapeOf(ctx, in, c.Data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	arch, err := modelArch(c.Model, shape)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if len(in.Files) != 1 || in.ReadFile == nil {
		return nil, fmt.Errorf("network: the engine gave %d files and no way to read them; want the one file the plan hashed", len(in.Files))
	}
	// Through ReadFile, not at its path: on a cluster node the bytes come from the cache,
	// checked against the digest the plan keyed.
	b, err := in.ReadFile(in.Files[0])
	if err != nil {
		return nil, err
	}
	n, err := decodeNetworkFile(in, c.File, b, arch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.File, err)
	}
	// Stored as modulo stores every network, so the same weights give the same artifact
	// whatever format, order or metadata the file had.
	art, err := encodeNetwork(n)
	if err != nil {
		return nil, err
	}
	return &stages.Result{Outputs: map[string]stages.Output{"network": {Artifacts: []stages.Artifact{art}}}}, nil
}

// decodeNetworkFile reads a network of arch from the bytes of file: torch.save's format
// when they are a zip archive (or PyTorch's legacy format, refused with a message), else
// safetensors. A file that is neither gets the message of the format its extension names.
func decodeNetworkFile(in *stages.Input, file string, b []byte, arch nn.Arch) (*nn.Network, error) {
	isSafetensors := func() bool { _, _, err := nn.DecodeSafetensors(b); return err == nil }
	if !torchsave.IsFile(b) && (strings.EqualFold(path.Ext(file), ".safetensors") || isSafetensors()) {
		return nn.DecodeNetworkAs(b, arch)
	}
	n, st, err := torchsave.DecodeAs(b, arch)
	if err != nil {
		return nil, err
	}
	in.Report(stages.Progress{Message: "read " + st.Source()})
	return n, nil
}

// shapeOf is the shape of dataset r: from its Meta, or by loading it when the Meta does not
// say (an IDX directory planned before it was read).
func shapeOf(ctx context.Context, in *stages.Input, r *stages.Ref) (datasetShape, error) {
	if r == nil {
		return datasetShape{}, errors.New("no dataset")
	}
	if shape, ok := shapeOfMeta(r.Meta); ok {
		return shape, nil
	}
	d, err := datasetOf(ctx, in, r)
	if err != nil {
		return datasetShape{}, fmt.Errorf("reading the dataset: %w", err)
	}
	return datasetShape{Dims: d.Train.D, Classes: d.Train.Classes, C: d.Train.C, H: d.Train.H, W: d.Train.W, Train: d.Train.N, Test: d.Test.N}, nil
}

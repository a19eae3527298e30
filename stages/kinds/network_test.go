package kinds_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/kinds"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// torchFixtures holds the files scripts/make_torch_fixtures.py writes with PyTorch: an MLP
// 20-8-4 and a ResNet-8 ×4 on 1×16×16 images, in every layout torch.save gives them.
var torchFixtures = filepath.Join("..", "..", "nn", "torchsave", "testdata")

// networkData runs the dataset kind on a small synthetic dataset of the default 20
// features and 4 classes, and on stripes of the default 1×16×16 images and 4 classes.
func networkData(t *testing.T) (f *fixture, synthetic, stripes cty.Value) {
	t.Helper()
	dk := kind(t, "dataset")
	f = &fixture{inputs: map[artifacts.OutputID][]byte{}}
	add := func(attrs map[string]cty.Value) cty.Value {
		attrs["examples"], attrs["test_examples"] = cty.NumberIntVal(16), cty.NumberIntVal(8)
		res, err := dk.Run(context.Background(), &stages.Input{Address: "dataset.d", Config: dk.Schema.Config(attrs), Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		// No Meta: the network kind reads the dataset for its shape, as for a dataset
		// cached before shapes were recorded.
		return f.add(kinds.Dataset, "dataset", res.Outputs["dataset"].Artifacts[0].Data)
	}
	return f, add(map[string]cty.Value{"source": cty.StringVal("synthetic")}), add(map[string]cty.Value{"source": cty.StringVal("stripes")})
}

func networkCfg(k *stages.Kind, file string, data cty.Value, model map[string]cty.Value) cty.Value {
	return k.Schema.Config(map[string]cty.Value{"file": cty.StringVal(file), "data": data, "model": k.Schema.Blocks[0].Schema.Config(model)})
}

var (
	mlpModel    = map[string]cty.Value{"hidden": cty.ListVal([]cty.Value{cty.NumberIntVal(8)})}
	resnetModel = map[string]cty.Value{"kind": cty.StringVal("resnet"), "depth": cty.NumberIntVal(8), "width": cty.NumberIntVal(4)}
)

// runNetwork runs the network kind on file (under torchFixtures) as the engine does: the
// file hashed by Files and read through ReadFile.
func runNetwork(t *testing.T, f *fixture, cfg cty.Value) (stages.Artifact, error) {
	t.Helper()
	k := kind(t, "network")
	files, err := k.Files(cfg, torchFixtures)
	if err != nil {
		return stages.Artifact{}, err
	}
	var read []string
	res, err := k.Run(context.Background(), &stages.Input{Address: "network.n", Config: cfg, Threads: 1, Read: f.read, Files: files,
		ReadFile: func(file stages.File) ([]byte, error) {
			read = append(read, file.Name)
			return os.ReadFile(file.Path)
		}})
	if len(read) != 1 {
		t.Errorf("read the file %d times through ReadFile, want once", len(read))
	}
	if err != nil {
		return stages.Artifact{}, err
	}
	return res.Outputs["network"].Artifacts[0], nil
}

// TestNetworkFormats imports the same weights from every layout of torch.save and from
// safetensors: each gives the same artifact, bytes for bytes, whose Meta is the model's
// architecture.
func TestNetworkFormats(t *testing.T) {
	f, syn, img := networkData(t)
	k := kind(t, "network")
	for _, c := range []struct {
		data  cty.Value
		model map[string]cty.Value
		arch  string
		files []string
	}{
		{syn, mlpModel, "mlp 20-8-4 relu", []string{"mlp.safetensors", "mlp.pt", "mlp_checkpoint.pt", "mlp_dataparallel.pt", "mlp_strided.pt"}},
		{img, resnetModel, "resnet 1x16x16 4-8-16x1 4 layernorm", []string{"resnet.safetensors", "resnet.pt"}},
	} {
		var first []byte
		for _, file := range c.files {
			cfg := networkCfg(k, file, c.data, c.model)
			if err := k.Check(cfg); err != nil {
				t.Fatal(err)
			}
			a, err := runNetwork(t, f, cfg)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if a.Meta != c.arch {
				t.Errorf("%s: Meta %q, want %q", file, a.Meta, c.arch)
			}
			if first == nil {
				first = a.Data
			} else if !bytes.Equal(a.Data, first) {
				t.Errorf("%s: the artifact differs from %s's: the same weights must give the same bytes", file, c.files[0])
			}
		}
	}
}

// TestGoldenNetwork records the network kind's output for a torch.save file.
func TestGoldenNetwork(t *testing.T) {
	f, syn, img := networkData(t)
	k := kind(t, "network")
	stagetest.GoldenFiles(t, k, "mlp-pt", networkCfg(k, "mlp.pt", syn, mlpModel), f.inputs, torchFixtures)
	stagetest.GoldenFiles(t, k, "resnet-pt", networkCfg(k, "resnet.pt", img, resnetModel), f.inputs, torchFixtures)
}

// TestNetworkErrors checks that a file that does not hold the model's network fails the
// node with a message naming the file and what is wrong, and a missing one fails the plan.
func TestNetworkErrors(t *testing.T) {
	f, syn, _ := networkData(t)
	k := kind(t, "network")
	for _, c := range []struct {
		file  string
		model map[string]cty.Value
		want  string
	}{
		{"mlp_missing.pt", mlpModel, `mlp_missing.pt: torch: tensors do not fit architecture mlp 20-8-4 relu: missing tensor "layers.1.bias"`},
		{"mlp_misshapen.pt", mlpModel, `mlp_misshapen.pt: torch: tensors do not fit architecture mlp 20-8-4 relu: tensor "layers.0.bias" has shape [9], want [8]`},
		{"mlp_f64.pt", mlpModel, `mlp_f64.pt: torch: tensor "layers.0.weight" has dtype torch.float64; parameters must be torch.float32`},
		{"mlp_truncated.pt", mlpModel, "mlp_truncated.pt: torch: the file is not a zip archive"},
		{"mlp_legacy.pt", mlpModel, "mlp_legacy.pt: torch: the file is in the legacy format"},
		{"mlp.pt", map[string]cty.Value{"hidden": cty.ListVal([]cty.Value{cty.NumberIntVal(9)})}, `tensor "layers.0.weight" has shape [8 20], want [9 20]`},
		{"resnet.safetensors", mlpModel, `resnet.safetensors: safetensors: tensors do not fit architecture mlp 20-8-4 relu: missing tensor "layers.0.weight"`},
		{"missing.pt", mlpModel, "file missing.pt does not exist in ../../nn/torchsave/testdata; copy the network there or fix the path (it is relative to the pipeline file)"},
	} {
		_, err := runNetwork(t, f, networkCfg(k, c.file, syn, c.model))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v\nwant one containing %q", c.file, err, c.want)
		}
	}
}

// TestValidateNetwork checks what validate says of a network block before any file is read.
func TestValidateNetwork(t *testing.T) {
	_, syn, _ := networkData(t)
	k := kind(t, "network")
	for _, c := range []struct {
		file  string
		model map[string]cty.Value
		want  string
	}{
		{"/nets/a.pt", mlpModel, `"/nets/a.pt" is absolute; file is relative to the pipeline file`},
		{"../a.pt", mlpModel, `"../a.pt" leaves the pipeline's directory`},
		{"", mlpModel, "file cannot be empty"},
	} {
		err := k.Check(networkCfg(k, c.file, syn, c.model))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: Validate = %v, want %q", c.file, err, c.want)
		}
	}
}

package kinds

import (
	"fmt"

	"github.com/modulo-ml/modulo/stages"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/perm"
)

// Permutation is the artifact type of permutations: int64 tensors "perm.<layer>" in
// safetensors, with the architecture they apply to in the metadata.
var Permutation = stages.ArtifactType("permutation", "application/vnd.modulo.permutation+safetensors")

// networksOf reads an attribute holding a network or a list of networks (a sequence such as
// the checkpoints of a run). seq reports which it was.
func networksOf(in *stages.Input, name string) (nets []*nn.Network, seq bool, err error) {
	v := in.Config.GetAttr(name)
	var refs []cty.Value
	if v.Type().IsListType() || v.Type().IsTupleType() {
		seq = true
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			refs = append(refs, e)
		}
	} else {
		refs = []cty.Value{v}
	}
	for i, r := range refs {
		n, err := readNetwork(in, r)
		if err != nil {
			return nil, seq, fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		nets = append(nets, n)
	}
	return nets, seq, nil
}

// readNetwork decodes the network artifact v.
func readNetwork(in *stages.Input, v cty.Value) (*nn.Network, error) {
	b, err := in.Read(stages.RefOf(v))
	if err != nil {
		return nil, err
	}
	n, _, err := nn.DecodeNetwork(b)
	return n, err
}

// checkNetworks validates, at plan time, an attribute that must be a network or a list of
// networks (unknown values pass). It returns the list length, or -1 for a single network
// or an unknown length.
func checkNetworks(cfg cty.Value, name string) (int, error) {
	v := cfg.GetAttr(name)
	t := v.Type()
	switch {
	case t == cty.DynamicPseudoType:
		return -1, nil
	case t.Equals(Network):
		return -1, nil
	case t.IsListType() && t.ElementType().Equals(Network):
		if !v.IsKnown() || v.IsNull() {
			return -1, nil
		}
		return v.LengthInt(), nil
	case t.IsTupleType():
		for _, et := range t.TupleElementTypes() {
			if !et.Equals(Network) && et != cty.DynamicPseudoType {
				return 0, cty.GetAttrPath(name).NewErrorf("%s must be a network or a list of networks, not a tuple holding %s", name, et.FriendlyName())
			}
		}
		return len(t.TupleElementTypes()), nil
	}
	return 0, cty.GetAttrPath(name).NewErrorf("%s must be a network (train.x.final) or a list of networks (train.x.checkpoints), not %s", name, t.FriendlyName())
}

// sameArch checks that networks can be aligned or interpolated: one architecture.
func sameArch(what string, nets ...*nn.Network) error {
	for _, n := range nets[1:] {
		if !n.Arch.Equal(nets[0].Arch) {
			return fmt.Errorf("%s: the networks have different architectures (%s and %s); alignment and interpolation need the same one", what, nets[0].Arch, n.Arch)
		}
	}
	return nil
}

// datasetOf loads the dataset of attribute name.
func datasetOf(in *stages.Input, name string) (*data.Dataset, error) {
	b, err := in.Read(stages.RefOf(in.Config.GetAttr(name)))
	if err != nil {
		return nil, err
	}
	d, _, err := LoadDataset(b)
	return d, err
}

// readPermutation loads the permutation of attribute name.
func readPermutation(in *stages.Input, name string) (perm.Permutation, error) {
	b, err := in.Read(stages.RefOf(in.Config.GetAttr(name)))
	if err != nil {
		return perm.Permutation{}, err
	}
	return perm.DecodeSafetensors(b)
}

// encodeNetwork is the artifact of a network: safetensors with its architecture as the
// artifact's Meta for plan-time checks. Dense tensors are byte-shuffled before zstd (~15%
// smaller); a pruned network is not: its runs of zero floats are what zstd shrinks, and
// shuffling breaks them up. Measured on LeNet-300-100 (bytes stored, raw vs shuffled): dense
// 1067k vs 910k, 20% sparse 836k vs 895k, 50% 589k vs 620k, 90% 137k vs 196k (12.8% of the
// dense float32 size; TestSparseCompresses), so more than 1/8 zeros means raw.
func encodeNetwork(n *nn.Network) (stages.Artifact, error) {
	b, err := nn.EncodeNetwork(n, nil)
	codec := shuffle4
	if zeros, total := zeroCount(n); 8*zeros > total {
		codec = artifacts.Raw
	}
	return stages.Artifact{Data: b, Codec: codec, Meta: n.Arch.String()}, err
}

// zeroCount counts the parameters of n that are exactly zero.
func zeroCount(n *nn.Network) (zeros, total int) {
	for _, p := range n.Params {
		for _, x := range p.Data {
			if x == 0 {
				zeros++
			}
		}
		total += len(p.Data)
	}
	return zeros, total
}

// archesOf returns the architectures of the networks in attribute name that are known at
// plan time (cached upstream results), with where each came from.
func archesOf(cfg cty.Value, name string) []string {
	var out []string
	for _, r := range stages.Refs(cfg.GetAttr(name)) {
		if r.Meta != "" {
			out = append(out, r.Meta)
		}
	}
	return out
}

// checkSameArch fails when the known architectures of the given attributes differ: matching
// or interpolating networks of different shapes is a configuration mistake, caught before
// anything runs when the networks are already in the cache.
func checkSameArch(cfg cty.Value, names ...string) error {
	first, firstAttr := "", ""
	for _, name := range names {
		for _, a := range archesOf(cfg, name) {
			switch {
			case first == "":
				first, firstAttr = a, name
			case a != first:
				return cty.GetAttrPath(name).NewErrorf("%s holds a network of architecture %s but %s holds %s; alignment and interpolation need networks of one architecture", name, a, firstAttr, first)
			}
		}
	}
	return nil
}

// splitBarrier is the type of a barrier per split.
var splitBarrier = cty.Object(map[string]cty.Type{"train": cty.Number, "test": cty.Number})

func splitVal(train, test float64) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"train": cty.NumberFloatVal(train), "test": cty.NumberFloatVal(test)})
}

// dataSplits is what curves are measured on.
type dataSplits struct {
	train, test *data.Set
	trainN      int
}

// splitsOf loads attribute data and reads train_examples.
func splitsOf(in *stages.Input) (*dataSplits, error) {
	d, err := datasetOf(in, "data")
	if err != nil {
		return nil, err
	}
	n, _ := knownInt(in.Config, "train_examples")
	return &dataSplits{train: d.Train, test: d.Test, trainN: n}, nil
}

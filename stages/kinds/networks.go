package kinds

import (
	"context"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/bytesize"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/perm"
	"github.com/modulo-ml/modulo/stages"
)

// Permutation is the artifact type of permutations: int64 tensors "perm.<layer>" in
// safetensors, with the architecture they apply to in the metadata.
var Permutation = stages.ArtifactType("permutation", "application/vnd.modulo.permutation+safetensors")

// Attributes that several kinds share, declared once so that their checks and docs agree.
var (
	threadsAttr       = stages.Attribute{Name: "threads", Type: cty.Number, Default: cty.Zero, NotInKey: true, Doc: "BLAS threads (0: all cores); counted against -j", Check: stages.Int(0, 1024)}
	pointsAttr        = stages.Attribute{Name: "points", Type: cty.Number, Default: cty.NumberIntVal(25), Doc: "points on each line, both ends included", Check: stages.Int(2, maxPoints)}
	trainExamplesAttr = stages.Attribute{Name: "train_examples", Type: cty.Number, Default: cty.NumberIntVal(10000), Doc: "training examples the train metrics are measured on", Check: stages.Int(1, maxExamples)}
)

// networksOf reads v, a network or a sequence (list or tuple) of networks such as the
// checkpoints of a run; name is its attribute, for messages. seq reports which it was.
func networksOf(in *stages.Input, v cty.Value, name string) (nets []*nn.Network, seq bool, err error) {
	var refs []cty.Value
	if t := v.Type(); t.IsListType() || t.IsTupleType() {
		seq = true
		refs = v.AsValueSlice()
	} else {
		refs = []cty.Value{v}
	}
	for i, r := range refs {
		if r.IsNull() || !r.Type().Equals(Network) {
			return nil, seq, fmt.Errorf("%s[%d] is not a network", name, i)
		}
		n, err := readNetwork(in, stages.RefOf(r))
		if err != nil {
			return nil, seq, fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		nets = append(nets, n)
	}
	if len(nets) == 0 {
		return nil, seq, fmt.Errorf("%s is an empty sequence; give at least one network", name)
	}
	return nets, seq, nil
}

// readNetwork decodes the network artifact r.
func readNetwork(in *stages.Input, r *stages.Ref) (*nn.Network, error) {
	b, err := in.Read(r)
	if err != nil {
		return nil, err
	}
	n, _, err := nn.DecodeNetwork(b)
	return n, err
}

// netsShape is what is known at plan time of an attribute holding networks.
type netsShape struct {
	known bool // whether it is known to be a network or a sequence
	seq   bool
	n     int // length of a sequence; -1 when not known
}

// checkNetworks validates, at plan time, an attribute that must be a network or a sequence
// of networks, and says which it is and how long.
func checkNetworks(p *stages.Planned, name string) (netsShape, error) {
	v := p.Get(name)
	t := v.Type()
	switch {
	case t == cty.DynamicPseudoType:
		return netsShape{}, nil
	case t.Equals(Network):
		return netsShape{known: true, n: -1}, nil
	case t.IsListType() && (t.ElementType().Equals(Network) || t.ElementType() == cty.DynamicPseudoType):
		s := netsShape{known: true, seq: true, n: -1}
		if n, ok := p.Len(name); ok {
			s.n = n
		}
		return s, nil
	case t.IsTupleType():
		for _, et := range t.TupleElementTypes() {
			if !et.Equals(Network) && et != cty.DynamicPseudoType {
				return netsShape{}, cty.GetAttrPath(name).NewErrorf("%s must be a network or a list of networks, not a tuple holding %s", name, et.FriendlyName())
			}
		}
		return netsShape{known: true, seq: true, n: len(t.TupleElementTypes())}, nil
	}
	return netsShape{}, cty.GetAttrPath(name).NewErrorf("%s must be a network (train.x.final) or a list of networks (train.x.checkpoints), not %s", name, t.FriendlyName())
}

// sameArch checks that networks can be aligned or interpolated: one architecture.
func sameArch(what string, nets ...*nn.Network) error {
	if len(nets) == 0 {
		return fmt.Errorf("%s: no networks", what)
	}
	for _, n := range nets[1:] {
		if !n.Arch.Equal(nets[0].Arch) {
			return fmt.Errorf("%s: the networks have different architectures (%s and %s); alignment and interpolation need the same one", what, nets[0].Arch, n.Arch)
		}
	}
	return nil
}

// datasetOf loads the dataset r.
func datasetOf(ctx context.Context, in *stages.Input, r *stages.Ref) (*data.Dataset, error) {
	b, err := in.Read(r)
	if err != nil {
		return nil, err
	}
	d, _, err := LoadDataset(ctx, b, in.Materialize)
	return d, err
}

// readPermutation loads the permutation r.
func readPermutation(in *stages.Input, r *stages.Ref) (perm.Permutation, error) {
	b, err := in.Read(r)
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

// checkSameArch fails when the known architectures of the given attributes differ: matching
// or interpolating networks of different shapes is a configuration mistake, caught before
// anything runs, from the train blocks' configuration or from cached networks.
func checkSameArch(p *stages.Planned, names ...string) error {
	first, firstAttr := "", ""
	for _, name := range names {
		for _, a := range p.Metas(name) {
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

// checkSequenceMemory fails when holding every network of the sequences in the given
// attributes at once (as interpolation along sequences does) would exceed the machine.
func checkSequenceMemory(p *stages.Planned, names ...string) error {
	var need int64
	for _, name := range names {
		n, ok := p.Len(name)
		meta, ok2 := p.Meta(name)
		arch, err := nn.ParseArch(meta)
		if !ok || !ok2 || err != nil {
			continue
		}
		need += 4 * int64(n) * arch.NumParams()
	}
	if need > memoryBudget() {
		return cty.GetAttrPath(names[0]).NewErrorf("holding the networks of these sequences would take about %s of memory, more than this machine's %s; interpolate fewer checkpoints (such as slice(train.x.checkpoints, 0, 10))", bytesize.Format(need), bytesize.Format(memoryBudget()))
	}
	return nil
}

// checkDataFits fails when the dataset in attribute data cannot be fed to the networks in
// the attributes nets: features against the input size, classes against the outputs.
func checkDataFits(p *stages.Planned, data string, nets ...string) error {
	dm, ok := p.Meta(data)
	if !ok {
		return nil
	}
	shape, ok := shapeOfMeta(dm)
	if !ok {
		return nil
	}
	for _, name := range nets {
		for _, m := range p.Metas(name) {
			a, err := nn.ParseArch(m)
			switch {
			case err != nil:
			case a.Conv() && (a.Channels != shape.C || a.Height != shape.H || a.Width != shape.W):
				return cty.GetAttrPath(data).NewErrorf("the dataset's images are %d×%d×%d but %s takes %d×%d×%d (%s); give the dataset the networks were trained on (its pad too)", shape.C, shape.H, shape.W, name, a.Channels, a.Height, a.Width, m)
			case a.Input != shape.Dims:
				return cty.GetAttrPath(data).NewErrorf("the dataset has %d features but %s takes %d inputs (%s); give the dataset the networks were trained on", shape.Dims, name, a.Input, m)
			case a.Output < shape.Classes:
				return cty.GetAttrPath(data).NewErrorf("the dataset has %d classes but %s has %d outputs (%s); give the dataset the networks were trained on", shape.Classes, name, a.Output, m)
			}
		}
	}
	return nil
}

// dataFits is checkDataFits at run time, on the loaded data and a network's architecture:
// the last line of defence when the shapes were not known at plan time.
func dataFits(d *data.Dataset, a nn.Arch) error {
	if s := d.Train; a.Conv() && (a.Channels != s.C || a.Height != s.H || a.Width != s.W) {
		return fmt.Errorf("the dataset's images are %d×%d×%d but the networks take %d×%d×%d (%s); give the dataset the networks were trained on (its pad too)", s.C, s.H, s.W, a.Channels, a.Height, a.Width, a)
	}
	if d.Train.D != a.Input {
		return fmt.Errorf("the dataset has %d features but the networks take %d inputs (%s); give the dataset the networks were trained on", d.Train.D, a.Input, a)
	}
	if d.Train.Classes > a.Output {
		return fmt.Errorf("the dataset has %d classes but the networks have %d outputs (%s); give the dataset the networks were trained on", d.Train.Classes, a.Output, a)
	}
	return nil
}

// checkPermutationFits fails when a permutation known at plan time belongs to another
// architecture than the networks it is applied to.
func checkPermutationFits(p *stages.Planned, perm string, nets ...string) error {
	pm, ok := p.Meta(perm)
	if !ok {
		return nil
	}
	for _, name := range nets {
		for _, m := range p.Metas(name) {
			if m != pm {
				return cty.GetAttrPath(perm).NewErrorf("the permutation is for networks of architecture %s but %s holds %s", pm, name, m)
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

// splitsOf loads the dataset r for measuring curves on trainN training examples.
func splitsOf(ctx context.Context, in *stages.Input, r *stages.Ref, trainN int) (*dataSplits, error) {
	d, err := datasetOf(ctx, in, r)
	if err != nil {
		return nil, err
	}
	return &dataSplits{train: d.Train, test: d.Test, trainN: trainN}, nil
}

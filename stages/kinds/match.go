package kinds

import (
	"context"
	"fmt"
	"slices"

	"github.com/modulo-ml/modulo/stages"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/perm"
)

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "match",
		Version: 1,
		Doc:     "Finds the permutation of the target's hidden units that best aligns it with the reference (weight or activation matching).",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "reference", Type: cty.DynamicPseudoType, Required: true, Doc: "a network, or a sequence of networks with at"},
			{Name: "target", Type: cty.DynamicPseudoType, Required: true, Doc: "a network, or a sequence of networks (every element is permuted)"},
			{Name: "at", Type: cty.Number, Default: cty.NumberIntVal(-1), Doc: "which element of sequences to match on; negative counts from the end"},
			{Name: "method", Type: cty.String, Default: cty.StringVal("weight"), Doc: "weight or activation"},
			{Name: "seed", Type: cty.Number, Default: cty.Zero, Doc: "order of the groups in weight matching"},
			{Name: "max_sweeps", Type: cty.Number, Default: cty.NumberIntVal(100)},
			{Name: "data", Type: Dataset, Doc: "activation matching: the examples"},
			{Name: "examples", Type: cty.Number, Default: cty.NumberIntVal(10000), Doc: "activation matching: how many training examples"},
			{Name: "kernel", Type: cty.String, Default: cty.StringVal("linear"), Doc: "activation matching: linear, cosine or correlation"},
			{Name: "threads", Type: cty.Number, Default: cty.Zero, NotInKey: true},
		}},
		Outputs: []stages.OutputSpec{
			{Name: "permutation", Type: Permutation},
			{Name: "aligned", Type: Network, Doc: "the target (or its element at) permuted"},
			{Name: "aligned_sequence", Type: cty.List(Network), Doc: "every element of the target permuted"},
			{Name: "objective", Type: cty.Number},
			{Name: "iterations", Type: cty.Number},
		},
		Validate: validateMatch,
		Cost:     threadsCost,
		Run:      runMatch,
	})
}

func validateMatch(cfg cty.Value) error {
	for _, name := range []string{"reference", "target"} {
		if _, err := checkNetworks(cfg, name); err != nil {
			return err
		}
	}
	if err := checkSameArch(cfg, "reference", "target"); err != nil {
		return err
	}
	if m := cfg.GetAttr("method"); m.IsKnown() {
		switch m.AsString() {
		case "weight":
		case "activation":
			if d := cfg.GetAttr("data"); d.IsKnown() && d.IsNull() {
				return cty.GetAttrPath("method").NewErrorf(`activation matching needs data, the dataset whose examples it runs`)
			}
		default:
			return cty.GetAttrPath("method").NewErrorf("unknown method %q; the methods are: weight, activation", m.AsString())
		}
	}
	if k := cfg.GetAttr("kernel"); k.IsKnown() && !slices.Contains([]string{"linear", "cosine", "correlation"}, k.AsString()) {
		return cty.GetAttrPath("kernel").NewErrorf("unknown kernel %q; the kernels are: linear, cosine, correlation", k.AsString())
	}
	return nil
}

// pick returns element at of a sequence (negative: from the end).
func pick(nets []*nn.Network, at int) (*nn.Network, error) {
	i := at
	if i < 0 {
		i += len(nets)
	}
	if i < 0 || i >= len(nets) {
		return nil, fmt.Errorf("at = %d is outside a sequence of %d networks", at, len(nets))
	}
	return nets[i], nil
}

func runMatch(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	cfg := in.Config
	refs, _, err := networksOf(in, "reference")
	if err != nil {
		return nil, err
	}
	targets, _, err := networksOf(in, "target")
	if err != nil {
		return nil, err
	}
	at, _ := knownInt(cfg, "at")
	ref, err := pick(refs, at)
	if err != nil {
		return nil, err
	}
	tgt, err := pick(targets, at)
	if err != nil {
		return nil, err
	}
	if err := sameArch("match", append([]*nn.Network{ref}, targets...)...); err != nil {
		return nil, err
	}
	b := blas.Default()
	b.SetThreads(in.Threads)
	var res perm.Result
	if cfg.GetAttr("method").AsString() == "activation" {
		d, err := datasetOf(in, "data")
		if err != nil {
			return nil, err
		}
		n, _ := knownInt(cfg, "examples")
		n = min(n, d.Train.N)
		res, err = perm.ActivationMatch(ref, tgt, d.Train.X[:n*d.Train.D], n, perm.AMOptions{Kernel: cfg.GetAttr("kernel").AsString(), BLAS: b})
		if err != nil {
			return nil, err
		}
	} else {
		seed, _ := knownInt(cfg, "seed")
		sweeps, _ := knownInt(cfg, "max_sweeps")
		res, err = perm.WeightMatch(ref, tgt, perm.WMOptions{Seed: uint64(seed), MaxSweeps: sweeps, BLAS: b})
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pb, err := perm.EncodeSafetensors(res.Perm)
	if err != nil {
		return nil, err
	}
	aligned, err := res.Perm.Apply(tgt)
	if err != nil {
		return nil, err
	}
	al, err := encodeNetwork(aligned)
	if err != nil {
		return nil, err
	}
	var seqArts []stages.Artifact
	for _, t := range targets {
		p, err := res.Perm.Apply(t)
		if err != nil {
			return nil, err
		}
		a, err := encodeNetwork(p)
		if err != nil {
			return nil, err
		}
		seqArts = append(seqArts, a)
	}
	return &stages.Result{Outputs: map[string]stages.Output{
		"permutation":      {Artifacts: []stages.Artifact{{Data: pb, Meta: res.Perm.Arch.String()}}},
		"aligned":          {Artifacts: []stages.Artifact{al}},
		"aligned_sequence": {Artifacts: seqArts},
		"objective":        {Value: cty.NumberFloatVal(res.Objective)},
		"iterations":       {Value: cty.NumberIntVal(int64(res.Sweeps))},
	}}, nil
}

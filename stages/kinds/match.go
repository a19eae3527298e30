package kinds

import (
	"context"
	"errors"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/internal/bytesize"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/perm"
	"github.com/modulo-ml/modulo/stages"
)

// matchConfig is a match block's configuration.
type matchConfig struct {
	Reference cty.Value   `cty:"reference"`
	Target    cty.Value   `cty:"target"`
	At        int         `cty:"at"`
	Method    string      `cty:"method"`
	Seed      uint64      `cty:"seed"`
	MaxSweeps int         `cty:"max_sweeps"`
	Data      *stages.Ref `cty:"data"`
	Examples  int         `cty:"examples"`
	Kernel    string      `cty:"kernel"`
	Threads   int         `cty:"threads"`
	Sequence  *bool       `cty:"sequence"`
	Epochs    *int        `cty:"epochs"`
	LR        *float64    `cty:"lr"`
	BatchSize *int        `cty:"batch_size"`
}

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "match",
		Version: 6, // 2: OpenBLAS runs single-threaded on fixed blocks, so the granted threads no longer change the bits; 3: ResNets compute with the kernels of revision conv-2 (nn.NumericsOf), for the networks this kind is given already trained (imported), whose bytes do not change; 4: ResNets and VGGs with conv-3; 5: ResNets and VGGs with conv-4; 6: with conv-5
		Doc:     "Finds the permutation of the target's hidden units that best aligns it with the reference (weight or activation matching).",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "reference", Type: cty.DynamicPseudoType, Required: true, Doc: "a network, or a sequence of networks with at"},
			{Name: "target", Type: cty.DynamicPseudoType, Required: true, Doc: "a network, or a sequence of networks (every element is permuted)"},
			{Name: "at", Type: cty.Number, Default: cty.NumberIntVal(-1), Doc: "which element of sequences to match on; negative counts from the end", Check: stages.Int(-maxSequence, maxSequence-1)},
			{Name: "method", Type: cty.String, Default: cty.StringVal("weight"), Doc: "weight, activation, or ste (learned matching: Git Re-Basin's straight-through estimator, MLPs)", Check: stages.OneOf("weight", "activation", "ste")},
			{Name: "seed", Type: cty.Number, Default: cty.Zero, Doc: "order of the groups in weight matching", Check: stages.Int(0, maxSeed)},
			{Name: "max_sweeps", Type: cty.Number, Default: cty.NumberIntVal(100), Check: stages.Int(1, 100000)},
			{Name: "data", Type: Dataset, Doc: "activation matching: the examples"},
			{Name: "examples", Type: cty.Number, Default: cty.NumberIntVal(10000), Doc: "activation matching: how many training examples", Check: stages.Int(1, maxExamples)},
			{Name: "kernel", Type: cty.String, Default: cty.StringVal("linear"), Doc: "activation matching: linear, cosine or correlation", Check: stages.OneOf("linear", "cosine", "correlation")},
			{Name: "epochs", Type: cty.Number, NullNotInKey: true, Doc: "ste: passes over the training examples (1 when null)", Check: stages.Int(1, 10000)},
			{Name: "lr", Type: cty.Number, NullNotInKey: true, Doc: "ste: Adam's learning rate (0.001 when null)", Check: stages.Range(0, 10, true, false)},
			{Name: "batch_size", Type: cty.Number, NullNotInKey: true, Doc: "ste: examples per step (256 when null)", Check: stages.Int(1, maxExamples)},
			{Name: "sequence", Type: cty.Bool, NullNotInKey: true, Doc: "weight matching: ONE permutation for the whole sequences, maximising the objective summed over every pair (zipped by position), started from the permutation of the pair at (so its summed objective is never below that one's); objective is then the sum (false when null)"},
			threadsAttr,
		}},
		Outputs: []stages.OutputSpec{
			{Name: "permutation", Type: Permutation},
			{Name: "aligned", Type: Network, Doc: "the target (or its element at) permuted"},
			{Name: "aligned_sequence", Type: cty.List(Network), Doc: "every element of the target permuted"},
			{Name: "objective", Type: cty.Number, Doc: "weight: ⟨reference, P(target)⟩ (summed over the pairs with sequence); activation: the matched units' summed similarity; ste: the kept permutation's midpoint loss on the examples"},
			{Name: "iterations", Type: cty.Number},
		},
		Config:   matchConfig{},
		Validate: validateMatch,
		Expect:   expectMatch,
		Cost:     threadsCost,
		Run:      runMatch,
	})
}

// maxSequence bounds the length of a sequence of networks (checkpoints, levels).
const maxSequence = 1 << 20

func validateMatch(p *stages.Planned) error {
	var errs []error
	shapes := map[string]netsShape{}
	for _, name := range []string{"reference", "target"} {
		s, err := checkNetworks(p, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		shapes[name] = s
		if s.seq && s.n == 0 {
			errs = append(errs, cty.GetAttrPath(name).NewErrorf("%s is an empty sequence; a train block with checkpoints = [] keeps none, so give it checkpoints or match its final network", name))
		}
	}
	if at, ok := knownInt(p.Value, "at"); ok {
		for _, name := range []string{"reference", "target"} {
			s := shapes[name]
			n := s.n
			if s.known && !s.seq {
				n = 1
			}
			if n > 0 && (at >= n || at < -n) {
				errs = append(errs, cty.GetAttrPath("at").NewErrorf("at = %d is outside %s, which holds %d network(s); use an index from %d to %d", at, name, n, -n, n-1))
			}
		}
	}
	if len(errs) == 0 {
		errs = append(errs, checkSameArch(p, "reference", "target"))
	}
	if sq := p.Get("sequence"); sq.IsKnown() && !sq.IsNull() && sq.True() {
		if m := p.Get("method"); m.IsKnown() && m.AsString() != "weight" {
			errs = append(errs, cty.GetAttrPath("sequence").NewErrorf("sequence matching is weight matching; remove method = %q or sequence", m.AsString()))
		}
		r, t := shapes["reference"], shapes["target"]
		switch {
		case r.known && !r.seq || t.known && !t.seq:
			errs = append(errs, cty.GetAttrPath("sequence").NewErrorf("sequence = true matches two sequences (train.x.checkpoints, prune.x.levels); reference and target must both be sequences"))
		case r.n >= 0 && t.n >= 0 && r.seq && t.seq && r.n != t.n:
			errs = append(errs, cty.GetAttrPath("target").NewErrorf("reference has %d networks and target %d; sequences are matched pair by pair, so their lengths must match", r.n, t.n))
		}
	}
	if m := p.Get("method"); m.IsKnown() && m.AsString() == "ste" {
		if d := p.Get("data"); d.IsKnown() && d.IsNull() {
			errs = append(errs, cty.GetAttrPath("method").NewErrorf(`learned matching (ste) needs data, the dataset it trains on`))
		}
		for _, meta := range p.Metas("reference") {
			if a, err := nn.ParseArch(meta); err == nil && a.Kind != "mlp" {
				errs = append(errs, cty.GetAttrPath("method").NewErrorf("learned matching (ste) is implemented for MLPs; reference holds a %s", a.Kind))
			}
		}
	}
	for _, attr := range []string{"epochs", "lr", "batch_size"} {
		if m := p.Get("method"); m.IsKnown() && m.AsString() != "ste" && !p.Get(attr).IsNull() {
			errs = append(errs, cty.GetAttrPath(attr).NewErrorf("%s is for learned matching (method = \"ste\")", attr))
		}
	}
	if m := p.Get("method"); m.IsKnown() && m.AsString() == "activation" {
		if d := p.Get("data"); d.IsKnown() && d.IsNull() {
			errs = append(errs, cty.GetAttrPath("method").NewErrorf(`activation matching needs data, the dataset whose examples it runs`))
		}
		if err := checkDataFits(p, "data", "reference", "target"); err != nil {
			errs = append(errs, err)
		}
		if arch, ok := p.Meta("reference"); ok {
			if n, ok := knownInt(p.Value, "examples"); ok {
				// The run takes min(examples, the dataset's training examples), so a
				// small dataset is not refused for the default's 10,000.
				if dm, ok := p.Meta("data"); ok {
					if s, ok := shapeOfMeta(dm); ok && s.Train > 0 {
						n = min(n, s.Train)
					}
				}
				if need := activationMemory(arch, n); need > memoryBudget() {
					errs = append(errs, cty.GetAttrPath("examples").NewErrorf("activation matching on %d examples would take about %s of memory (the hidden activations of both networks), more than this machine's %s; use fewer examples", n, bytesize.Format(need), bytesize.Format(memoryBudget())))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// activationMemory estimates activation matching's memory: both networks' activations
// (every layer's units) on n examples, in float32.
func activationMemory(arch string, n int) int64 {
	a, err := nn.ParseArch(arch)
	if err != nil {
		return 0
	}
	return 2 * 4 * int64(n) * a.Activations()
}

// expectMatch tells the architecture of the outputs (the target's) and the length of the
// aligned sequence.
func expectMatch(p *stages.Planned) map[string]stages.Expected {
	arch, ok := p.Meta("target")
	if !ok {
		arch, ok = p.Meta("reference")
	}
	if !ok {
		return nil
	}
	n := -1
	if s, err := checkNetworks(p, "target"); err == nil && s.known {
		n = s.n
		if !s.seq {
			n = 1
		}
	}
	return map[string]stages.Expected{
		"permutation":      {Meta: arch, Len: -1},
		"aligned":          {Meta: arch, Len: -1},
		"aligned_sequence": {Meta: arch, Len: n},
	}
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
	var c matchConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	refs, _, err := networksOf(in, c.Reference, "reference")
	if err != nil {
		return nil, err
	}
	targets, _, err := networksOf(in, c.Target, "target")
	if err != nil {
		return nil, err
	}
	ref, err := pick(refs, c.At)
	if err != nil {
		return nil, err
	}
	tgt, err := pick(targets, c.At)
	if err != nil {
		return nil, err
	}
	if err := sameArch("match", append([]*nn.Network{ref}, targets...)...); err != nil {
		return nil, err
	}
	b := blas.Default().WithThreads(in.Threads)
	var res perm.Result
	if c.Method == "activation" {
		if c.Data == nil {
			return nil, fmt.Errorf("activation matching needs data, the dataset whose examples it runs")
		}
		d, err := datasetOf(ctx, in, c.Data)
		if err != nil {
			return nil, err
		}
		if err := dataFits(d, ref.Arch); err != nil {
			return nil, err
		}
		n := min(c.Examples, d.Train.N)
		report := throttle(in)
		progress := func(unit string, done, total int) {
			report(stages.Progress{Done: float64(done), Total: float64(total), Unit: unit}, done == total)
		}
		res, err = perm.ActivationMatch(ctx, ref, tgt, d.Train.X[:n*d.Train.D], n, perm.AMOptions{Kernel: c.Kernel, Batch: perm.ActivationBatch, BLAS: b, Progress: progress})
		if err != nil {
			return nil, err
		}
	} else if c.Method == "ste" {
		if c.Data == nil {
			return nil, fmt.Errorf("learned matching (ste) needs data, the dataset it trains on")
		}
		d, err := datasetOf(ctx, in, c.Data)
		if err != nil {
			return nil, err
		}
		if err := dataFits(d, ref.Arch); err != nil {
			return nil, err
		}
		opt := perm.STEOptions{Epochs: 1, Batch: 256, LR: 1e-3, Seed: c.Seed, EvalN: min(c.Examples, d.Train.N), BLAS: b}
		if c.Epochs != nil {
			opt.Epochs = *c.Epochs
		}
		if c.LR != nil {
			opt.LR = *c.LR
		}
		if c.BatchSize != nil {
			opt.Batch = *c.BatchSize
		}
		report := throttle(in)
		opt.Progress = func(step, steps int, loss float64) {
			report(stages.Progress{Done: float64(step), Total: float64(steps), Unit: "step", Message: fmt.Sprintf("midpoint loss %.4f", loss)}, step == steps)
		}
		if res, err = perm.STEMatch(ctx, ref, tgt, d.Train, opt); err != nil {
			return nil, err
		}
	} else {
		// The number of sweeps is known only at the end: max_sweeps bounds it.
		report := throttle(in)
		progress := func(sweep int, gain float64) {
			report(stages.Progress{Done: float64(sweep), Total: float64(c.MaxSweeps), Unit: "sweep", Message: fmt.Sprintf("gain %.4g", gain)}, false)
		}
		in.Report(stages.Progress{Total: float64(c.MaxSweeps), Unit: "sweep"})
		opt := perm.WMOptions{Seed: c.Seed, MaxSweeps: c.MaxSweeps, Tol: perm.GainTol, BLAS: b, Progress: progress}
		res, err = perm.WeightMatch(ctx, ref, tgt, opt)
		if err != nil {
			return nil, err
		}
		if c.Sequence != nil && *c.Sequence {
			if len(refs) != len(targets) {
				return nil, fmt.Errorf("reference has %d networks and target %d; sequences are matched pair by pair, so their lengths must match", len(refs), len(targets))
			}
			// From the pair's permutation: the descent only climbs, so the sequence's
			// summed objective is at least that permutation's.
			opt.Init = &res.Perm
			if res, err = perm.WeightMatchSequence(ctx, refs, targets, opt); err != nil {
				return nil, err
			}
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

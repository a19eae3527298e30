package kinds

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/modulo-ml/modulo/stages"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/perm"
	"github.com/modulo-ml/modulo/nn/prune"
)

// Mask is the artifact type of pruning masks: one U8 tensor of 0s and 1s per pruned
// weight ("mask.layers.i.weight") in safetensors, with the architecture in the metadata.
var Mask = stages.ArtifactType("mask", "application/vnd.modulo.mask+safetensors")

// pruneMetricsType is one row of a prune node's per-level metrics: the level's final epoch.
var pruneMetricsType = cty.Object(map[string]cty.Type{
	"level": cty.Number, "sparsity": cty.Number, "weights": cty.Number,
	"train_loss": cty.Number, "train_accuracy": cty.Number,
	"test_loss": cty.Number, "test_accuracy": cty.Number,
})

// maxLevels bounds levels: at the default fraction 100 levels leave 2e-10 of the weights.
const maxLevels = 100

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "prune",
		Version: 3, // 2: trains as train version 3 does; 3: as train version 4
		Doc:     "Iterative magnitude pruning with rewinding of a train node's run, or retraining it with transported masks.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "from", Type: fromType, Required: true, Doc: `the train node whose run is pruned, such as from = train.net["a"] (the block, not one of its outputs)`},
			{Name: "levels", Type: cty.Number, Doc: "rounds of pruning: levels+1 networks, level 0 dense; with mask, defaults to every mask"},
			{Name: "fraction", Type: cty.Number, Default: cty.NumberFloatVal(prune.DefaultFraction), Doc: "fraction of the remaining weights pruned per level"},
			{Name: "scope", Type: cty.String, Default: cty.StringVal("global"), Doc: "global (one threshold) or layer (the fraction of each layer)"},
			{Name: "exempt_output", Type: cty.Bool, Default: cty.False, Doc: "leave the output layer dense (biases are never pruned)"},
			{Name: "rewind", Type: cty.String, Default: cty.StringVal("0"), Doc: `step ("500") or epoch ("1ep") of the run that survivors rewind to; "0" is the initialisation`},
			{Name: "mask", Type: cty.List(Mask), Doc: "mask transport: another prune node's masks, trained in this run instead of its own"},
			{Name: "permutation", Type: Permutation, Doc: "mask transport: aligns the mask's network to this one (match with reference = this run, target = the mask's run)"},
			{Name: "threads", Type: cty.Number, Default: cty.Zero, NotInKey: true, Doc: "BLAS threads (0: all cores); counted against -j"},
		}},
		Outputs: []stages.OutputSpec{
			{Name: "levels", Type: cty.List(Network), Doc: "the trained network of every level, level 0 dense"},
			{Name: "masks", Type: cty.List(Mask), Doc: "the mask every level trained with"},
			{Name: "final", Type: Network, Doc: "the last level's network"},
			{Name: "metrics", Type: cty.List(pruneMetricsType), Doc: "per level: sparsity, weights left, final train and test loss and accuracy"},
		},
		Validate: validatePrune,
		Cost:     threadsCost,
		Run:      runPrune,
	})
}

// fromType is what a prune node reads of its train node: a reference to the block
// converts to it, keeping only these outputs.
var fromType = cty.Object(map[string]cty.Type{
	"recipe": Recipe, "final": Network, "checkpoints": cty.List(Network), "metrics": cty.List(metricsType),
})

func validatePrune(cfg cty.Value) error {
	from := cfg.GetAttr("from")
	levels, hasLevels := knownInt(cfg, "levels")
	if v := cfg.GetAttr("levels"); v.IsKnown() && !v.IsNull() && (!hasLevels || levels < 0 || levels > maxLevels) {
		return cty.GetAttrPath("levels").NewErrorf("levels must be a whole number from 0 to %d, got %s", maxLevels, v.AsBigFloat().Text('g', -1))
	}
	mask := cfg.GetAttr("mask")
	if mask.IsKnown() && mask.IsNull() {
		if l := cfg.GetAttr("levels"); l.IsKnown() && l.IsNull() {
			return cty.GetAttrPath("levels").NewErrorf("levels is required: how many rounds of pruning (or give mask, another prune node's masks)")
		}
		if p := cfg.GetAttr("permutation"); p.IsKnown() && !p.IsNull() {
			return cty.GetAttrPath("permutation").NewErrorf("permutation moves a transported mask; it needs mask (such as mask = prune.other.masks)")
		}
	}
	if mask.IsKnown() && !mask.IsNull() {
		n := mask.LengthInt()
		if n == 0 {
			return cty.GetAttrPath("mask").NewErrorf("mask is an empty list; give another prune node's masks")
		}
		if hasLevels && levels > n-1 {
			return cty.GetAttrPath("levels").NewErrorf("levels = %d needs %d masks but mask holds %d", levels, levels+1, n)
		}
	}
	if f := cfg.GetAttr("fraction"); f.IsKnown() {
		x, _ := f.AsBigFloat().Float64()
		if !(x > 0 && x < 1) {
			return cty.GetAttrPath("fraction").NewErrorf("fraction must lie strictly between 0 and 1, got %g", x)
		}
	}
	if s := cfg.GetAttr("scope"); s.IsKnown() && !slices.Contains([]string{"global", "layer"}, s.AsString()) {
		return cty.GetAttrPath("scope").NewErrorf("unknown scope %q; the scopes are: global, layer", s.AsString())
	}
	meta, known := recipeMetaOf(from)
	if r := cfg.GetAttr("rewind"); r.IsKnown() {
		d, err := ParseDuration(r.AsString())
		if err != nil {
			return cty.GetAttrPath("rewind").NewErrorf("%v", err)
		}
		if step := d.Steps(meta.StepsPerEpoch); known && step > meta.Steps {
			return cty.GetAttrPath("rewind").NewErrorf("rewind %q is step %d, beyond the %d steps of the train node's run; rewind to an earlier point or train for longer", r.AsString(), step, meta.Steps)
		}
	}
	if known {
		return checkMaskArch(cfg, meta.Arch)
	}
	return nil
}

// checkMaskArch compares the architectures known at plan time: the masks', the
// permutation's and arch, the run's.
func checkMaskArch(cfg cty.Value, arch string) error {
	for _, name := range []string{"mask", "permutation"} {
		for _, r := range stages.Refs(cfg.GetAttr(name)) {
			if r.Meta != "" && r.Meta != arch {
				return cty.GetAttrPath(name).NewErrorf("%s belongs to a network of architecture %s, but the train node's run is %s", name, r.Meta, arch)
			}
		}
	}
	return nil
}

func runPrune(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	from := in.Config.GetAttr("from")
	rb, err := in.Read(stages.RefOf(from.GetAttr("recipe")))
	if err != nil {
		return nil, err
	}
	doc, trainCfg, err := decodeRecipe(rb)
	if err != nil {
		return nil, err
	}
	raw, err := in.Read(&stages.Ref{Type: "dataset", ID: doc.Data})
	if err != nil {
		return nil, fmt.Errorf("the train node's dataset: %w", err)
	}
	d, _, err := LoadDataset(raw)
	if err != nil {
		return nil, err
	}
	tc, err := TrainConfigOf(trainCfg, d.Train.N, d.Train.D, d.Train.Classes)
	if err != nil {
		return nil, err
	}
	b := blas.Default()
	b.SetThreads(in.Threads)
	tc.BLAS = b
	tc.Checkpoints = nil

	dense, err := denseRunOf(ctx, in, from, doc, tc, d)
	if err != nil {
		return nil, err
	}
	opt := prune.Options{
		Fraction:     num(in.Config, "fraction"),
		Scope:        prune.Scope(in.Config.GetAttr("scope").AsString()),
		ExemptOutput: in.Config.GetAttr("exempt_output").True(),
	}
	levels, hasLevels := knownInt(in.Config, "levels")

	var masks []prune.Mask
	if mv := in.Config.GetAttr("mask"); !mv.IsNull() {
		if masks, err = transportedMasks(in, tc.Arch); err != nil {
			return nil, err
		}
		if hasLevels {
			masks = masks[:levels+1]
		}
		levels = len(masks) - 1
	}

	var last time.Time
	level := 0
	tc.Progress = func(p nn.Progress) {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond || p.Step == p.Steps {
			last = now
			done := float64(level-1) + float64(p.Step)/float64(p.Steps)
			in.Report(stages.Progress{Done: done, Total: float64(levels), Unit: "level",
				Message: fmt.Sprintf("level %d/%d step %d/%d loss %.4f", level, levels, p.Step, p.Steps, p.Loss)})
		}
	}
	onLevel := func(k int) { level = k }
	var out []prune.Level
	if masks != nil {
		out, err = prune.IMPWithMasksFrom(ctx, tc, d.Train, d.Test, dense, masks, onLevel)
	} else {
		out, err = prune.IMPFrom(ctx, tc, d.Train, d.Test, dense, levels, opt, onLevel)
	}
	if err != nil {
		return nil, err
	}
	return pruneResult(tc.Arch, out)
}

// denseRunOf gathers level 0 from the train node: its final network and metrics, and its
// network at the rewind step, read from its checkpoints when it kept that step and trained
// again up to it otherwise (bit-identical: same recipe, same data order).
func denseRunOf(ctx context.Context, in *stages.Input, from cty.Value, doc *recipeDoc, tc nn.TrainConfig, d *data.Dataset) (prune.DenseRun, error) {
	var dense prune.DenseRun
	rw, err := ParseDuration(in.Config.GetAttr("rewind").AsString())
	if err != nil {
		return dense, err
	}
	step := rw.Steps(doc.StepsPerEpoch)
	if step > doc.Steps {
		return dense, fmt.Errorf("rewind %q is step %d, beyond the %d steps of the train node's run", in.Config.GetAttr("rewind").AsString(), step, doc.Steps)
	}
	if dense.Net, err = readNetwork(in, from.GetAttr("final")); err != nil {
		return dense, err
	}
	if dense.Metrics, err = epochMetricsOf(from.GetAttr("metrics")); err != nil {
		return dense, err
	}
	ckpts := from.GetAttr("checkpoints").AsValueSlice()
	if i := slices.Index(doc.Checkpoints, step); i >= 0 && i < len(ckpts) {
		dense.Rewind, err = readNetwork(in, ckpts[i])
		return dense, err
	}
	if step == 0 {
		dense.Rewind, err = nn.Init(tc.Arch, tc.Init, tc.Seed)
		return dense, err
	}
	in.Report(stages.Progress{Message: fmt.Sprintf("the train node kept no checkpoint at step %d: training up to it", step)})
	early := tc
	early.StopAfter = step
	res, err := nn.Train(ctx, early, d.Train, d.Test)
	if err != nil {
		return dense, fmt.Errorf("training up to the rewind step %d: %w", step, err)
	}
	dense.Rewind = res.Final
	return dense, nil
}

// epochMetricsOf turns a train node's metrics output back into nn's rows.
func epochMetricsOf(v cty.Value) ([]nn.EpochMetrics, error) {
	var rows []nn.EpochMetrics
	for _, r := range v.AsValueSlice() {
		f := func(name string) float64 { x, _ := r.GetAttr(name).AsBigFloat().Float64(); return x }
		rows = append(rows, nn.EpochMetrics{
			Epoch: int(f("epoch")), Step: int(f("step")), LR: f("lr"),
			TrainLoss: f("train_loss"), TrainAcc: f("train_accuracy"),
			TestLoss: f("test_loss"), TestAcc: f("test_accuracy"),
		})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("the train node has no metrics")
	}
	return rows, nil
}

// transportedMasks reads the mask attribute and, when permutation is set, moves every mask
// into this run's coordinates.
func transportedMasks(in *stages.Input, arch nn.Arch) ([]prune.Mask, error) {
	var p *perm.Permutation
	if pv := in.Config.GetAttr("permutation"); !pv.IsNull() {
		q, err := readPermutation(in, "permutation")
		if err != nil {
			return nil, err
		}
		if !q.Arch.Equal(arch) {
			return nil, fmt.Errorf("the permutation is for %s but the run is %s", q.Arch, arch)
		}
		p = &q
	}
	var masks []prune.Mask
	for i, v := range in.Config.GetAttr("mask").AsValueSlice() {
		b, err := in.Read(stages.RefOf(v))
		if err != nil {
			return nil, err
		}
		a, m, err := prune.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("mask[%d]: %w", i, err)
		}
		if !a.Equal(arch) {
			return nil, fmt.Errorf("mask[%d] belongs to %s but the run is %s", i, a, arch)
		}
		if p != nil {
			if m, err = prune.Transport(m, *p); err != nil {
				return nil, fmt.Errorf("mask[%d]: %w", i, err)
			}
		}
		masks = append(masks, m)
	}
	return masks, nil
}

// pruneResult encodes the levels.
func pruneResult(arch nn.Arch, levels []prune.Level) (*stages.Result, error) {
	var nets, masks []stages.Artifact
	var rows []cty.Value
	for k, l := range levels {
		na, err := encodeNetwork(l.Net)
		if err != nil {
			return nil, err
		}
		mb, err := prune.Encode(arch, l.Mask)
		if err != nil {
			return nil, err
		}
		nets = append(nets, na)
		masks = append(masks, stages.Artifact{Data: mb, Codec: artifacts.Raw, Meta: arch.String()})
		kept, _ := l.Mask.Count()
		m := l.Metrics[len(l.Metrics)-1]
		rows = append(rows, cty.ObjectVal(map[string]cty.Value{
			"level": cty.NumberIntVal(int64(k)), "sparsity": cty.NumberFloatVal(l.Mask.Sparsity()), "weights": cty.NumberIntVal(int64(kept)),
			"train_loss": cty.NumberFloatVal(m.TrainLoss), "train_accuracy": cty.NumberFloatVal(m.TrainAcc),
			"test_loss": cty.NumberFloatVal(m.TestLoss), "test_accuracy": cty.NumberFloatVal(m.TestAcc),
		}))
	}
	return &stages.Result{Outputs: map[string]stages.Output{
		"levels":  {Artifacts: nets},
		"masks":   {Artifacts: masks},
		"final":   {Artifacts: nets[len(nets)-1:]},
		"metrics": {Value: cty.ListVal(rows)},
	}}, nil
}

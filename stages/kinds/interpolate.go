package kinds

import (
	"context"
	"errors"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/perm"
	"github.com/modulo-ml/modulo/stages"
)

// curveRow is one point of an interpolation curve.
var curveRow = cty.Object(map[string]cty.Type{
	"pair": cty.Number, "alpha": cty.Number,
	"train_loss": cty.Number, "train_error": cty.Number, "test_loss": cty.Number, "test_error": cty.Number,
})

// pairRow is the barriers of one pair of a sequence.
var pairRow = cty.Object(map[string]cty.Type{
	"pair": cty.Number, "loss_barrier": splitBarrier, "error_barrier": splitBarrier,
})

// interpolateConfig is an interpolate block's configuration.
type interpolateConfig struct {
	A             cty.Value   `cty:"a"`
	B             cty.Value   `cty:"b"`
	Permutation   *stages.Ref `cty:"permutation"`
	Rematch       bool        `cty:"rematch"`
	Data          *stages.Ref `cty:"data"`
	Points        int         `cty:"points"`
	TrainExamples int         `cty:"train_examples"`
	Threads       int         `cty:"threads"`
	Repair        *bool       `cty:"repair"`
	RepairN       *int        `cty:"repair_examples"`
}

// repairAttrs are interpolate's and merge_three's REPAIR switches. Null by default and left
// out of the key then, so that the results computed before they existed stay cached.
var repairAttrs = []stages.Attribute{
	{Name: "repair", Type: cty.Bool, NullNotInKey: true, Doc: "reset each interpolated network by REPAIR (Jordan et al. 2023): every hidden channel's preactivation mean and std become the interpolation of the endpoints', measured on training examples and fused into the weights (MLPs with biases; false when null)"},
	{Name: "repair_examples", Type: cty.Number, NullNotInKey: true, Doc: "the training examples REPAIR's statistics are measured on (10000 when null)", Check: stages.Int(1, maxExamples)},
}

// defaultRepairExamples is repair_examples when null.
const defaultRepairExamples = 10000

// repairN is the number of examples REPAIR uses, 0 for none.
func repairN(on *bool, n *int) int {
	switch {
	case on == nil || !*on:
		return 0
	case n != nil:
		return *n
	}
	return defaultRepairExamples
}

// checkRepair refuses repair on networks it does not apply to, known at plan time from
// their architectures.
func checkRepair(p *stages.Planned, attrs ...string) error {
	if on := p.Get("repair"); !on.IsKnown() || on.IsNull() || on.False() {
		return nil
	}
	for _, name := range attrs {
		for _, m := range p.Metas(name) {
			a, err := nn.ParseArch(m)
			if err != nil {
				continue
			}
			switch {
			case a.Kind != "mlp":
				return cty.GetAttrPath("repair").NewErrorf("REPAIR is implemented for MLPs; %s holds a %s", name, a.Kind)
			case !a.Bias:
				return cty.GetAttrPath("repair").NewErrorf("REPAIR fuses its correction into the biases, and %s holds an MLP without them (bias = false)", name)
			}
		}
	}
	return nil
}

// maxPoints bounds the points on a line: far more than a curve needs, few enough that the
// curve's rows stay small.
const maxPoints = 10001

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "interpolate",
		Version: 6, // 2: OpenBLAS runs single-threaded on fixed blocks, so the granted threads no longer change the bits; 3: ResNets evaluate with the kernels of revision conv-2 (nn.NumericsOf); 4: ResNets and VGGs with conv-3; 5: ResNets and VGGs with conv-4; 6: with conv-5
		Doc:     "Measures loss and error on the straight line between networks, pairwise along two sequences, and their barriers.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "a", Type: cty.DynamicPseudoType, Required: true, Doc: "a network or a sequence of networks"},
			{Name: "b", Type: cty.DynamicPseudoType, Required: true, Doc: "a network or a sequence of the same length, zipped with a by position"},
			{Name: "permutation", Type: Permutation, Doc: "applied to every b before interpolating"},
			{Name: "rematch", Type: cty.Bool, Default: cty.False, Doc: "align each pair separately by weight matching"},
			{Name: "data", Type: Dataset, Required: true},
			pointsAttr,
			trainExamplesAttr,
			threadsAttr,
			repairAttrs[0], repairAttrs[1],
		}},
		Outputs: []stages.OutputSpec{
			{Name: "curve", Type: cty.List(curveRow), Doc: "every point of every pair"},
			{Name: "pairs", Type: cty.List(pairRow), Doc: "the barriers of each pair"},
			{Name: "loss_barrier", Type: splitBarrier, Doc: "the largest over the pairs"},
			{Name: "error_barrier", Type: splitBarrier, Doc: "the largest over the pairs"},
		},
		Config:   interpolateConfig{},
		Validate: validateInterpolate,
		Cost:     threadsCost,
		Run:      runInterpolate,
	})
}

func validateInterpolate(p *stages.Planned) error {
	var errs []error
	sa, errA := checkNetworks(p, "a")
	sb, errB := checkNetworks(p, "b")
	errs = append(errs, errA, errB)
	for name, s := range map[string]netsShape{"a": sa, "b": sb} {
		if s.seq && s.n == 0 {
			errs = append(errs, cty.GetAttrPath(name).NewErrorf("%s is an empty sequence; a train block with checkpoints = [] keeps none, so give it checkpoints or interpolate its final network", name))
		}
	}
	switch {
	case errA != nil || errB != nil || !sa.known || !sb.known:
	case sa.seq != sb.seq:
		one, other := "a", "b"
		if sb.seq {
			one, other = "b", "a"
		}
		errs = append(errs, cty.GetAttrPath("b").NewErrorf("%s is a sequence of networks but %s is a single network; sequences are zipped pair by pair, so give both as sequences (train.x.checkpoints) or both as networks (train.x.final)", one, other))
	case sa.seq && sa.n >= 0 && sb.n >= 0 && sa.n != sb.n:
		errs = append(errs, cty.GetAttrPath("b").NewErrorf("a has %d networks and b has %d; sequences are zipped by position, so their lengths must match", sa.n, sb.n))
	}
	if errA == nil && errB == nil {
		errs = append(errs, checkSameArch(p, "a", "b"), checkDataFits(p, "data", "a", "b"), checkPermutationFits(p, "permutation", "b"), checkSequenceMemory(p, "a", "b"), checkRepair(p, "a", "b"))
	}
	if pm := p.Get("permutation"); pm.IsKnown() && !pm.IsNull() && p.Get("rematch").True() {
		errs = append(errs, cty.GetAttrPath("rematch").NewErrorf("give permutation or rematch, not both"))
	}
	return errors.Join(errs...)
}

// pairBarriers measures the curve between a and b, each point reset by REPAIR on the
// first repairN training examples unless repairN is 0, and returns its rows and barriers;
// progress, if set, sees the number of points measured (see nn.Curve).
func pairBarriers(ctx context.Context, pair int, a, b *nn.Network, alphas []float64, repairN int, d *dataSplits, impl blas.Impl, progress func(done int)) ([]cty.Value, [2][2]float64, error) {
	var pts []nn.Point
	var err error
	if repairN > 0 {
		pts, err = nn.RepairedCurve(ctx, a, b, alphas, repairN, d.train, d.test, d.trainN, impl, progress)
	} else {
		pts, err = nn.Curve(ctx, a, b, alphas, d.train, d.test, d.trainN, impl, progress)
	}
	if err != nil {
		return nil, [2][2]float64{}, err
	}
	var rows []cty.Value
	series := map[string][]float64{}
	for i, p := range pts {
		rows = append(rows, cty.ObjectVal(map[string]cty.Value{
			"pair": cty.NumberIntVal(int64(pair)), "alpha": cty.NumberFloatVal(alphas[i]),
			"train_loss": cty.NumberFloatVal(p.TrainLoss), "train_error": cty.NumberFloatVal(p.TrainErr),
			"test_loss": cty.NumberFloatVal(p.TestLoss), "test_error": cty.NumberFloatVal(p.TestErr),
		}))
		for _, m := range []string{"loss", "error"} {
			for _, s := range []string{"train", "test"} {
				series[m+s] = append(series[m+s], p.Get(m, s))
			}
		}
	}
	var bar [2][2]float64 // [loss, error][train, test]
	for mi, m := range []string{"loss", "error"} {
		for si, s := range []string{"train", "test"} {
			bar[mi][si] = nn.Barrier(alphas, series[m+s])
		}
	}
	return rows, bar, nil
}

func barrierRow(pair int, bar [2][2]float64) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"pair":          cty.NumberIntVal(int64(pair)),
		"loss_barrier":  splitVal(bar[0][0], bar[0][1]),
		"error_barrier": splitVal(bar[1][0], bar[1][1]),
	})
}

func runInterpolate(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var c interpolateConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	as, _, err := networksOf(in, c.A, "a")
	if err != nil {
		return nil, err
	}
	bs, _, err := networksOf(in, c.B, "b")
	if err != nil {
		return nil, err
	}
	if len(as) != len(bs) {
		return nil, fmt.Errorf("a has %d networks and b has %d; sequences must have the same length", len(as), len(bs))
	}
	if err := sameArch("interpolate", append(as, bs...)...); err != nil {
		return nil, err
	}
	impl := blas.Default().WithThreads(in.Threads)
	if c.Permutation != nil {
		pm, err := readPermutation(in, c.Permutation)
		if err != nil {
			return nil, err
		}
		for i, b := range bs {
			if bs[i], err = pm.Apply(b); err != nil {
				return nil, err
			}
		}
	}
	d, err := splitsOf(ctx, in, c.Data, c.TrainExamples)
	if err != nil {
		return nil, err
	}
	if err := dataFits(&data.Dataset{Train: d.train}, as[0].Arch); err != nil {
		return nil, err
	}
	points := c.Points
	alphas := nn.Alphas(points)
	var curve, pairs []cty.Value
	worst := [2][2]float64{}
	report := throttle(in)
	total := float64(len(as) * len(alphas))
	for i := range as {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := bs[i]
		if c.Rematch {
			in.Report(stages.Progress{Done: float64(i * len(alphas)), Total: total, Unit: "point", Message: fmt.Sprintf("pair %d/%d: weight matching", i+1, len(as))})
			r, err := perm.WeightMatch(ctx, as[i], b, perm.WMOptions{MaxSweeps: perm.SweepLimit, Tol: perm.GainTol, BLAS: impl})
			if err != nil {
				return nil, err
			}
			if b, err = r.Perm.Apply(b); err != nil {
				return nil, err
			}
		}
		rows, bar, err := pairBarriers(ctx, i, as[i], b, alphas, repairN(c.Repair, c.RepairN), d, impl, func(done int) {
			report(stages.Progress{Done: float64(i*len(alphas) + done), Total: total, Unit: "point", Message: fmt.Sprintf("pair %d/%d", i+1, len(as))},
				i == len(as)-1 && done == len(alphas))
		})
		if err != nil {
			return nil, err
		}
		curve = append(curve, rows...)
		pairs = append(pairs, barrierRow(i, bar))
		for mi := range bar {
			for si := range bar[mi] {
				if i == 0 || bar[mi][si] > worst[mi][si] {
					worst[mi][si] = bar[mi][si]
				}
			}
		}
	}
	return &stages.Result{Outputs: map[string]stages.Output{
		"curve":         {Value: cty.ListVal(curve)},
		"pairs":         {Value: cty.ListVal(pairs)},
		"loss_barrier":  {Value: splitVal(worst[0][0], worst[0][1])},
		"error_barrier": {Value: splitVal(worst[1][0], worst[1][1])},
	}}, nil
}

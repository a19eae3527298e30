package kinds

import (
	"context"
	"fmt"

	"github.com/modulo-ml/modulo/stages"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/perm"
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

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "interpolate",
		Version: 1,
		Doc:     "Measures loss and error on the straight line between networks, pairwise along two sequences, and their barriers.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "a", Type: cty.DynamicPseudoType, Required: true, Doc: "a network or a sequence of networks"},
			{Name: "b", Type: cty.DynamicPseudoType, Required: true, Doc: "a network or a sequence of the same length, zipped with a by position"},
			{Name: "permutation", Type: Permutation, Doc: "applied to every b before interpolating"},
			{Name: "rematch", Type: cty.Bool, Default: cty.False, Doc: "align each pair separately by weight matching"},
			{Name: "data", Type: Dataset, Required: true},
			{Name: "points", Type: cty.Number, Default: cty.NumberIntVal(25)},
			{Name: "train_examples", Type: cty.Number, Default: cty.NumberIntVal(10000)},
			{Name: "threads", Type: cty.Number, Default: cty.Zero, NotInKey: true},
		}},
		Outputs: []stages.OutputSpec{
			{Name: "curve", Type: cty.List(curveRow), Doc: "every point of every pair"},
			{Name: "pairs", Type: cty.List(pairRow), Doc: "the barriers of each pair"},
			{Name: "loss_barrier", Type: splitBarrier, Doc: "the largest over the pairs"},
			{Name: "error_barrier", Type: splitBarrier, Doc: "the largest over the pairs"},
		},
		Validate: validateInterpolate,
		Cost:     threadsCost,
		Run:      runInterpolate,
	})
}

func validateInterpolate(cfg cty.Value) error {
	la, err := checkNetworks(cfg, "a")
	if err != nil {
		return err
	}
	lb, err := checkNetworks(cfg, "b")
	if err != nil {
		return err
	}
	if la >= 0 && lb >= 0 && la != lb {
		return cty.GetAttrPath("b").NewErrorf("a has %d networks and b has %d; sequences are zipped by position, so their lengths must match", la, lb)
	}
	if (la >= 0) != (lb >= 0) && cfg.GetAttr("a").Type() != cty.DynamicPseudoType && cfg.GetAttr("b").Type() != cty.DynamicPseudoType {
		return cty.GetAttrPath("b").NewErrorf("a and b must both be networks or both be sequences")
	}
	if n, ok := knownInt(cfg, "points"); ok && n < 2 {
		return cty.GetAttrPath("points").NewErrorf("points must be at least 2 (the two ends), got %d", n)
	}
	if err := checkSameArch(cfg, "a", "b"); err != nil {
		return err
	}
	if p := cfg.GetAttr("permutation"); p.IsKnown() && !p.IsNull() && cfg.GetAttr("rematch").True() {
		return cty.GetAttrPath("rematch").NewErrorf("give permutation or rematch, not both")
	}
	return nil
}

// pairBarriers measures the curve between a and b and returns its rows and barriers.
func pairBarriers(pair int, a, b *nn.Network, alphas []float64, d *dataSplits, impl blas.Impl) ([]cty.Value, [2][2]float64) {
	pts := nn.Curve(a, b, alphas, d.train, d.test, d.trainN, impl)
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
	return rows, bar
}

func barrierRow(pair int, bar [2][2]float64) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"pair":          cty.NumberIntVal(int64(pair)),
		"loss_barrier":  splitVal(bar[0][0], bar[0][1]),
		"error_barrier": splitVal(bar[1][0], bar[1][1]),
	})
}

func runInterpolate(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	cfg := in.Config
	as, _, err := networksOf(in, "a")
	if err != nil {
		return nil, err
	}
	bs, _, err := networksOf(in, "b")
	if err != nil {
		return nil, err
	}
	if len(as) != len(bs) {
		return nil, fmt.Errorf("a has %d networks and b has %d; sequences must have the same length", len(as), len(bs))
	}
	if err := sameArch("interpolate", append(as, bs...)...); err != nil {
		return nil, err
	}
	impl := blas.Default()
	impl.SetThreads(in.Threads)
	if p := cfg.GetAttr("permutation"); !p.IsNull() {
		pm, err := readPermutation(in, "permutation")
		if err != nil {
			return nil, err
		}
		for i, b := range bs {
			if bs[i], err = pm.Apply(b); err != nil {
				return nil, err
			}
		}
	}
	d, err := splitsOf(in)
	if err != nil {
		return nil, err
	}
	points, _ := knownInt(cfg, "points")
	alphas := nn.Alphas(points)
	var curve, pairs []cty.Value
	worst := [2][2]float64{}
	for i := range as {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := bs[i]
		if cfg.GetAttr("rematch").True() {
			r, err := perm.WeightMatch(as[i], b, perm.WMOptions{BLAS: impl})
			if err != nil {
				return nil, err
			}
			if b, err = r.Perm.Apply(b); err != nil {
				return nil, err
			}
		}
		rows, bar := pairBarriers(i, as[i], b, alphas, d, impl)
		curve = append(curve, rows...)
		pairs = append(pairs, barrierRow(i, bar))
		for mi := range bar {
			for si := range bar[mi] {
				if i == 0 || bar[mi][si] > worst[mi][si] {
					worst[mi][si] = bar[mi][si]
				}
			}
		}
		in.Report(stages.Progress{Done: float64(i + 1), Total: float64(len(as)), Unit: "pair"})
	}
	return &stages.Result{Outputs: map[string]stages.Output{
		"curve":         {Value: cty.ListVal(curve)},
		"pairs":         {Value: cty.ListVal(pairs)},
		"loss_barrier":  {Value: splitVal(worst[0][0], worst[0][1])},
		"error_barrier": {Value: splitVal(worst[1][0], worst[1][1])},
	}}, nil
}

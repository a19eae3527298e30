package kinds

import (
	"context"

	"github.com/modulo-ml/modulo/stages"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/perm"
)

// gridRow is one point of the 2-simplex among three networks.
var gridRow = cty.Object(map[string]cty.Type{
	"l0": cty.Number, "l1": cty.Number, "l2": cty.Number,
	"train_loss": cty.Number, "train_error": cty.Number, "test_loss": cty.Number, "test_error": cty.Number,
})

// barriers is the loss and error barrier of one comparison.
var barriers = cty.Object(map[string]cty.Type{"loss": splitBarrier, "error": splitBarrier})

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "merge_three",
		Version: 1,
		Doc: "Three networks: the barrier between two of them after aligning both to the third (via the reference), " +
			"against aligning them directly, and over the triangle they span; and how often the permutations agree.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "networks", Type: cty.List(Network), Required: true, Doc: "three networks"},
			{Name: "reference", Type: cty.Number, Default: cty.Zero, Doc: "index of the reference network (0, 1 or 2); the outputs call it network 0"},
			{Name: "align", Type: cty.Bool, Default: cty.True, Doc: "weight-match the other two to the reference first"},
			{Name: "data", Type: Dataset, Required: true},
			{Name: "resolution", Type: cty.Number, Default: cty.NumberIntVal(10), Doc: "the triangle grid has denominator resolution"},
			{Name: "points", Type: cty.Number, Default: cty.NumberIntVal(25), Doc: "points on each line"},
			{Name: "train_examples", Type: cty.Number, Default: cty.NumberIntVal(10000)},
			{Name: "seed", Type: cty.Number, Default: cty.Zero},
			{Name: "threads", Type: cty.Number, Default: cty.Zero, NotInKey: true},
		}},
		Outputs: []stages.OutputSpec{
			{Name: "grid", Type: cty.List(gridRow)},
			{Name: "loss_barrier", Type: splitBarrier, Doc: "over the triangle"},
			{Name: "error_barrier", Type: splitBarrier, Doc: "over the triangle"},
			{Name: "via_reference", Type: cty.List(curveRow), Doc: "the line between networks 1 and 2, both aligned to network 0"},
			{Name: "direct", Type: cty.List(curveRow), Doc: "the line between network 1 and network 2 aligned to it directly"},
			{Name: "via_reference_barrier", Type: barriers},
			{Name: "direct_barrier", Type: barriers},
			{Name: "fixed_points", Type: cty.Number, Doc: "fraction of units where 2→0→1 agrees with 2→1"},
		},
		Validate: validateMergeThree,
		Cost:     threadsCost,
		Run:      runMergeThree,
	})
}

func validateMergeThree(cfg cty.Value) error {
	if v := cfg.GetAttr("networks"); v.IsKnown() && !v.IsNull() && v.LengthInt() != 3 {
		return cty.GetAttrPath("networks").NewErrorf("merge_three takes exactly three networks, got %d", v.LengthInt())
	}
	if err := checkSameArch(cfg, "networks"); err != nil {
		return err
	}
	if n, ok := knownInt(cfg, "reference"); ok && (n < 0 || n > 2) {
		return cty.GetAttrPath("reference").NewErrorf("reference is an index into networks: 0, 1 or 2, got %d", n)
	}
	if n, ok := knownInt(cfg, "resolution"); ok && n < 1 {
		return cty.GetAttrPath("resolution").NewErrorf("resolution must be at least 1, got %d", n)
	}
	if n, ok := knownInt(cfg, "points"); ok && n < 2 {
		return cty.GetAttrPath("points").NewErrorf("points must be at least 2, got %d", n)
	}
	return nil
}

func barriersVal(bar [2][2]float64) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"loss": splitVal(bar[0][0], bar[0][1]), "error": splitVal(bar[1][0], bar[1][1])})
}

func runMergeThree(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	cfg := in.Config
	nets, _, err := networksOf(in, "networks")
	if err != nil {
		return nil, err
	}
	if err := sameArch("merge_three", nets...); err != nil {
		return nil, err
	}
	impl := blas.Default()
	impl.SetThreads(in.Threads)
	d, err := splitsOf(in)
	if err != nil {
		return nil, err
	}
	seed, _ := knownInt(cfg, "seed")
	wm := func(a, b *nn.Network) (perm.Permutation, error) {
		r, err := perm.WeightMatch(a, b, perm.WMOptions{Seed: uint64(seed), BLAS: impl})
		return r.Perm, err
	}
	// The reference comes first; the other two keep their order.
	ref, _ := knownInt(cfg, "reference")
	var others []*nn.Network
	for i, n := range nets {
		if i != ref {
			others = append(others, n)
		}
	}
	c, a, b := nets[ref], others[0], others[1]
	// Via the reference: both aligned to c. Directly: b aligned to a.
	pAC, pBC := perm.Identity(a.Arch), perm.Identity(a.Arch)
	if cfg.GetAttr("align").True() {
		if pAC, err = wm(c, a); err != nil {
			return nil, err
		}
		if pBC, err = wm(c, b); err != nil {
			return nil, err
		}
	}
	pBA, err := wm(a, b)
	if err != nil {
		return nil, err
	}
	// b → c → a: apply pBC, then the inverse of pAC.
	composed := pAC.Inverse().Compose(pBC)
	fixed := perm.FixedPointFraction(composed, pBA)

	aC, err := pAC.Apply(a)
	if err != nil {
		return nil, err
	}
	bC, err := pBC.Apply(b)
	if err != nil {
		return nil, err
	}
	bA, err := pBA.Apply(b)
	if err != nil {
		return nil, err
	}
	points, _ := knownInt(cfg, "points")
	alphas := nn.Alphas(points)
	viaRows, viaBar := pairBarriers(0, aC, bC, alphas, d, impl)
	in.Report(stages.Progress{Done: 1, Total: 3, Unit: "part", Message: "via reference"})
	dirRows, dirBar := pairBarriers(0, a, bA, alphas, d, impl)
	in.Report(stages.Progress{Done: 2, Total: 3, Unit: "part", Message: "direct"})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	r, _ := knownInt(cfg, "resolution")
	pts := nn.SimplexPoints(r)
	series := map[string][]float64{}
	var grid []cty.Value
	buf := nn.NewNetwork(c.Arch)
	for _, p := range pts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		nn.Combine(buf, p[:], c, aC, bC)
		m := nn.Measure(buf, d.train, d.test, d.trainN, impl)
		grid = append(grid, cty.ObjectVal(map[string]cty.Value{
			"l0": cty.NumberFloatVal(p[0]), "l1": cty.NumberFloatVal(p[1]), "l2": cty.NumberFloatVal(p[2]),
			"train_loss": cty.NumberFloatVal(m.TrainLoss), "train_error": cty.NumberFloatVal(m.TrainErr),
			"test_loss": cty.NumberFloatVal(m.TestLoss), "test_error": cty.NumberFloatVal(m.TestErr),
		}))
		for _, metric := range []string{"loss", "error"} {
			for _, s := range []string{"train", "test"} {
				series[metric+s] = append(series[metric+s], m.Get(metric, s))
			}
		}
	}
	tri := func(metric string) cty.Value {
		return splitVal(nn.SimplexBarrier(pts, series[metric+"train"]), nn.SimplexBarrier(pts, series[metric+"test"]))
	}
	return &stages.Result{Outputs: map[string]stages.Output{
		"grid":                  {Value: cty.ListVal(grid)},
		"loss_barrier":          {Value: tri("loss")},
		"error_barrier":         {Value: tri("error")},
		"via_reference":         {Value: cty.ListVal(viaRows)},
		"direct":                {Value: cty.ListVal(dirRows)},
		"via_reference_barrier": {Value: barriersVal(viaBar)},
		"direct_barrier":        {Value: barriersVal(dirBar)},
		"fixed_points":          {Value: cty.NumberFloatVal(fixed)},
	}}, nil
}

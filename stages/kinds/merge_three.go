package kinds

import (
	"context"
	"errors"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/perm"
	"github.com/modulo-ml/modulo/stages"
)

// gridRow is one point of the 2-simplex among three networks.
var gridRow = cty.Object(map[string]cty.Type{
	"l0": cty.Number, "l1": cty.Number, "l2": cty.Number,
	"train_loss": cty.Number, "train_error": cty.Number, "test_loss": cty.Number, "test_error": cty.Number,
})

// barriers is the loss and error barrier of one comparison.
var barriers = cty.Object(map[string]cty.Type{"loss": splitBarrier, "error": splitBarrier})

// mergeThreeConfig is a merge_three block's configuration.
type mergeThreeConfig struct {
	Networks      []*stages.Ref `cty:"networks"`
	Reference     int           `cty:"reference"`
	Align         bool          `cty:"align"`
	Data          *stages.Ref   `cty:"data"`
	Resolution    int           `cty:"resolution"`
	Points        int           `cty:"points"`
	TrainExamples int           `cty:"train_examples"`
	Seed          uint64        `cty:"seed"`
	Threads       int           `cty:"threads"`
	Repair        *bool         `cty:"repair"`
	RepairN       *int          `cty:"repair_examples"`
}

// maxResolution bounds the triangle's grid: 200 is 20,301 points, each a full evaluation.
const maxResolution = 200

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "merge_three",
		Version: 6, // 2: OpenBLAS runs single-threaded on fixed blocks, so the granted threads no longer change the bits; 3: ResNets evaluate with the kernels of revision conv-2 (nn.NumericsOf); 4: ResNets and VGGs with conv-3; 5: ResNets and VGGs with conv-4; 6: with conv-5
		Doc: "Three networks: the barrier between two of them after aligning both to the third (via the reference), " +
			"against aligning them directly, and over the triangle they span; and how often the permutations agree.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "networks", Type: cty.List(Network), Required: true, Doc: "three networks", Check: stages.Items(3, 3, nil)},
			{Name: "reference", Type: cty.Number, Default: cty.Zero, Doc: "index of the reference network (0, 1 or 2); the outputs call it network 0", Check: stages.Int(0, 2)},
			{Name: "align", Type: cty.Bool, Default: cty.True, Doc: "weight-match the other two to the reference first"},
			{Name: "data", Type: Dataset, Required: true},
			{Name: "resolution", Type: cty.Number, Default: cty.NumberIntVal(10), Doc: "the triangle grid has denominator resolution", Check: stages.Int(1, maxResolution)},
			pointsAttr,
			trainExamplesAttr,
			{Name: "seed", Type: cty.Number, Default: cty.Zero, Check: stages.Int(0, maxSeed)},
			threadsAttr,
			repairAttrs[0], repairAttrs[1],
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
		Config:   mergeThreeConfig{},
		Validate: validateMergeThree,
		Cost:     threadsCost,
		Run:      runMergeThree,
	})
}

func validateMergeThree(p *stages.Planned) error {
	var errs []error
	if n, ok := p.Len("networks"); ok && n != 3 {
		errs = append(errs, cty.GetAttrPath("networks").NewErrorf("merge_three takes exactly three networks, got %d", n))
	}
	errs = append(errs, checkSameArch(p, "networks"), checkDataFits(p, "data", "networks"), checkRepair(p, "networks"))
	return errors.Join(errs...)
}

func barriersVal(bar [2][2]float64) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"loss": splitVal(bar[0][0], bar[0][1]), "error": splitVal(bar[1][0], bar[1][1])})
}

func runMergeThree(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var mc mergeThreeConfig
	if err := in.Decode(&mc); err != nil {
		return nil, err
	}
	if len(mc.Networks) != 3 {
		return nil, fmt.Errorf("merge_three takes exactly three networks, got %d", len(mc.Networks))
	}
	nets, d, err := networksAndData(ctx, in, "merge_three", mc.Networks, mc.Data, mc.TrainExamples)
	if err != nil {
		return nil, err
	}
	impl := blas.Default().WithThreads(in.Threads)
	seed := mc.Seed
	aligning := throttle(in)
	matched := 0
	wm := func(a, b *nn.Network) (perm.Permutation, error) {
		matched++
		progress := func(sweep int, gain float64) {
			aligning(stages.Progress{Message: fmt.Sprintf("weight matching %d, sweep %d (gain %.4g)", matched, sweep, gain)}, false)
		}
		r, err := perm.WeightMatch(ctx, a, b, perm.WMOptions{Seed: seed, MaxSweeps: perm.SweepLimit, Tol: perm.GainTol, BLAS: impl, Progress: progress})
		return r.Perm, err
	}
	// The reference comes first; the other two keep their order.
	ref := mc.Reference
	var others []*nn.Network
	for i, n := range nets {
		if i != ref {
			others = append(others, n)
		}
	}
	c, a, b := nets[ref], others[0], others[1]
	// Via the reference: both aligned to c. Directly: b aligned to a.
	pAC, pBC := perm.Identity(a.Arch), perm.Identity(a.Arch)
	if mc.Align {
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
	alphas := nn.Alphas(mc.Points)
	pts := nn.SimplexPoints(mc.Resolution)
	// Progress counts the networks measured: the two lines', then the triangle's.
	report := throttle(in)
	total := float64(2*len(alphas) + len(pts))
	line := func(offset int, msg string) func(int) {
		return func(done int) {
			report(stages.Progress{Done: float64(offset + done), Total: total, Unit: "point", Message: msg}, false)
		}
	}
	rn := repairN(mc.Repair, mc.RepairN)
	viaRows, viaBar, err := pairBarriers(ctx, 0, aC, bC, alphas, rn, d, impl, line(0, "via reference"))
	if err != nil {
		return nil, err
	}
	dirRows, dirBar, err := pairBarriers(ctx, 0, a, bA, alphas, rn, d, impl, line(len(alphas), "direct"))
	if err != nil {
		return nil, err
	}

	series := map[string][]float64{}
	var grid []cty.Value
	buf := nn.NewNetwork(c.Arch)
	// With REPAIR, every point but the corners gets Σλᵢ·statsᵢ of the three networks.
	var repairStats []*nn.ResetStats
	var rx []float32
	if rn > 0 {
		rn = min(rn, d.train.N)
		rx = d.train.X[:rn*d.train.D]
		for _, n := range []*nn.Network{c, aC, bC} {
			st, err := nn.PreactivationStats(ctx, n, rx, rn, impl)
			if err != nil {
				return nil, err
			}
			repairStats = append(repairStats, st)
		}
	}
	for i, p := range pts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		nn.Combine(buf, p[:], c, aC, bC)
		if repairStats != nil && p[0] != 1 && p[1] != 1 && p[2] != 1 {
			if err := nn.Repair(ctx, buf, nn.MixStats(p[:], repairStats...), rx, rn, impl); err != nil {
				return nil, err
			}
		}
		m, err := nn.Measure(ctx, buf, d.train, d.test, d.trainN, impl)
		if err != nil {
			return nil, err
		}
		report(stages.Progress{Done: float64(2*len(alphas) + i + 1), Total: total, Unit: "point", Message: "triangle"}, i == len(pts)-1)
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

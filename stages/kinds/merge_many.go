package kinds

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/perm"
	"github.com/modulo-ml/modulo/stages"
)

// pairBarrierRow is the barriers between two of merge_many's networks after alignment.
var pairBarrierRow = cty.Object(map[string]cty.Type{
	"i": cty.Number, "j": cty.Number, "loss_barrier": splitBarrier, "error_barrier": splitBarrier,
})

// mergeManyConfig is a merge_many block's configuration.
type mergeManyConfig struct {
	Networks      []*stages.Ref `cty:"networks"`
	Data          *stages.Ref   `cty:"data"`
	Points        int           `cty:"points"`
	Samples       int           `cty:"samples"`
	Rounds        int           `cty:"rounds"`
	TrainExamples int           `cty:"train_examples"`
	Seed          uint64        `cty:"seed"`
	Threads       int           `cty:"threads"`
}

// maxMerge bounds the networks merge_many takes: its pairs grow as N².
const maxMerge = 64

// streamSimplex separates merge_many's simplex samples from every other use of its seed.
const streamSimplex = 0x73696d70 // "simp"

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "merge_many",
		Version: 5, // 2: ResNets evaluate with the kernels of revision conv-2 (nn.NumericsOf); 3: ResNets and VGGs with conv-3; 4: ResNets and VGGs with conv-4; 5: with conv-5
		Doc: "N networks in one frame (Git Re-Basin's MergeMany): network 0 fixes the frame, the others are weight-matched to it and then, " +
			"round by round, to the mean of all the others; then the barrier between every pair, the largest over points of the simplex " +
			"they span (sampled), and the merged network (their mean). Strong linear connectivity asks that all of these be small.",
		Schema: stages.Schema{Attributes: []stages.Attribute{
			{Name: "networks", Type: cty.List(Network), Required: true, Doc: "two or more networks of one architecture", Check: stages.Items(2, maxMerge, nil)},
			{Name: "data", Type: Dataset, Required: true},
			{Name: "points", Type: cty.Number, Default: cty.NumberIntVal(11), Doc: "points on each pair's line, both ends included", Check: stages.Int(2, maxPoints)},
			{Name: "samples", Type: cty.Number, Default: cty.NumberIntVal(64), Doc: "points of the simplex measured besides its corners: its centre, then points drawn uniformly (Dirichlet(1)) from seed", Check: stages.Int(1, 100000)},
			{Name: "rounds", Type: cty.Number, Default: cty.NumberIntVal(100), Doc: "at most this many rounds of re-aligning each network to the mean of the others", Check: stages.Int(1, 10000)},
			trainExamplesAttr,
			{Name: "seed", Type: cty.Number, Default: cty.Zero, Doc: "the order of the rounds and of weight matching's groups, and the simplex samples", Check: stages.Int(0, maxSeed)},
			threadsAttr,
		}},
		Outputs: []stages.OutputSpec{
			{Name: "aligned", Type: cty.List(Network), Doc: "every network in network 0's frame"},
			{Name: "merged", Type: Network, Doc: "the mean of the aligned networks"},
			{Name: "pairs", Type: cty.List(pairBarrierRow), Doc: "the barriers of every pair i < j after alignment"},
			{Name: "pair_barrier", Type: barriers, Doc: "the largest over the pairs"},
			{Name: "loss_barrier", Type: splitBarrier, Doc: "the largest over the sampled simplex: f(Σλᵢθᵢ) − Σλᵢf(θᵢ)"},
			{Name: "error_barrier", Type: splitBarrier, Doc: "the same for the error"},
			{Name: "merged_accuracy", Type: cty.Number, Doc: "the merged network's test accuracy"},
			{Name: "merged_loss", Type: cty.Number, Doc: "the merged network's test loss"},
			{Name: "rounds", Type: cty.Number, Doc: "rounds of re-alignment run"},
		},
		Config:   mergeManyConfig{},
		Validate: validateMergeMany,
		Cost:     threadsCost,
		Run:      runMergeMany,
	})
}

func validateMergeMany(p *stages.Planned) error {
	return errors.Join(checkSameArch(p, "networks"), checkDataFits(p, "data", "networks"))
}

func runMergeMany(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var c mergeManyConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	nets, d, err := networksAndData(ctx, in, "merge_many", c.Networks, c.Data, c.TrainExamples)
	if err != nil {
		return nil, err
	}
	impl := blas.Default().WithThreads(in.Threads)
	report := throttle(in)
	in.Report(stages.Progress{Message: "aligning"})
	perms, rounds, err := perm.MergeMany(ctx, nets, c.Rounds, perm.WMOptions{Seed: c.Seed, MaxSweeps: perm.SweepLimit, Tol: perm.GainTol, BLAS: impl})
	if err != nil {
		return nil, err
	}
	aligned := make([]*nn.Network, len(nets))
	var alignedArts []stages.Artifact
	for i, p := range perms {
		if aligned[i], err = p.Apply(nets[i]); err != nil {
			return nil, err
		}
		a, err := encodeNetwork(aligned[i])
		if err != nil {
			return nil, err
		}
		alignedArts = append(alignedArts, a)
	}
	n := len(aligned)
	alphas := nn.Alphas(c.Points)
	total := float64(n*(n-1)/2*len(alphas) + n + 1 + c.Samples)
	done := 0
	var pairs []cty.Value
	worst := [2][2]float64{}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			_, bar, err := pairBarriers(ctx, 0, aligned[i], aligned[j], alphas, 0, d, impl, func(k int) {
				report(stages.Progress{Done: float64(done + k), Total: total, Unit: "point", Message: fmt.Sprintf("pair %d–%d", i, j)}, false)
			})
			if err != nil {
				return nil, err
			}
			done += len(alphas)
			pairs = append(pairs, cty.ObjectVal(map[string]cty.Value{
				"i": cty.NumberIntVal(int64(i)), "j": cty.NumberIntVal(int64(j)),
				"loss_barrier": splitVal(bar[0][0], bar[0][1]), "error_barrier": splitVal(bar[1][0], bar[1][1]),
			}))
			for mi := range bar {
				for si := range bar[mi] {
					if len(pairs) == 1 || bar[mi][si] > worst[mi][si] {
						worst[mi][si] = bar[mi][si]
					}
				}
			}
		}
	}
	// The simplex: the corners, its centre (the merged network), then uniform samples.
	measure := func(w []float64) (nn.Point, error) {
		done++
		report(stages.Progress{Done: float64(done), Total: total, Unit: "point", Message: "simplex"}, false)
		return nn.Measure(ctx, nn.Combine(nil, w, aligned...), d.train, d.test, d.trainN, impl)
	}
	corners := make([]nn.Point, n)
	for i := range n {
		w := make([]float64, n)
		w[i] = 1
		if corners[i], err = measure(w); err != nil {
			return nil, err
		}
	}
	rng := nn.NewRand(c.Seed, streamSimplex)
	simplex := [2][2]float64{{math.Inf(-1), math.Inf(-1)}, {math.Inf(-1), math.Inf(-1)}}
	var merged nn.Point
	for s := 0; s <= c.Samples; s++ {
		w := make([]float64, n)
		sum := 0.0
		for i := range w {
			w[i] = 1
			if s > 0 {
				w[i] = rng.ExpFloat64()
			}
			sum += w[i]
		}
		for i := range w {
			w[i] /= sum
		}
		pt, err := measure(w)
		if err != nil {
			return nil, err
		}
		if s == 0 {
			merged = pt
		}
		for mi, metric := range []string{"loss", "error"} {
			for si, split := range []string{"train", "test"} {
				base := 0.0
				for i := range w {
					base += w[i] * corners[i].Get(metric, split)
				}
				simplex[mi][si] = max(simplex[mi][si], pt.Get(metric, split)-base)
			}
		}
	}
	report(stages.Progress{Done: total, Total: total, Unit: "point"}, true)
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(n)
	}
	mergedArt, err := encodeNetwork(nn.Combine(nil, w, aligned...))
	if err != nil {
		return nil, err
	}
	return &stages.Result{Outputs: map[string]stages.Output{
		"aligned":         {Artifacts: alignedArts},
		"merged":          {Artifacts: []stages.Artifact{mergedArt}},
		"pairs":           {Value: cty.ListVal(pairs)},
		"pair_barrier":    {Value: barriersVal(worst)},
		"loss_barrier":    {Value: splitVal(simplex[0][0], simplex[0][1])},
		"error_barrier":   {Value: splitVal(simplex[1][0], simplex[1][1])},
		"merged_accuracy": {Value: cty.NumberFloatVal(1 - merged.TestErr)},
		"merged_loss":     {Value: cty.NumberFloatVal(merged.TestLoss)},
		"rounds":          {Value: cty.NumberIntVal(int64(rounds))},
	}}, nil
}

// networksAndData reads the networks of a merging kind (what names it in messages), checks
// they share one architecture, and loads the data they are measured on.
func networksAndData(ctx context.Context, in *stages.Input, what string, refs []*stages.Ref, dataRef *stages.Ref, trainN int) ([]*nn.Network, *dataSplits, error) {
	var nets []*nn.Network
	for i, r := range refs {
		n, err := readNetwork(in, r)
		if err != nil {
			return nil, nil, fmt.Errorf("networks[%d]: %w", i, err)
		}
		nets = append(nets, n)
	}
	if err := sameArch(what, nets...); err != nil {
		return nil, nil, err
	}
	d, err := splitsOf(ctx, in, dataRef, trainN)
	if err != nil {
		return nil, nil, err
	}
	if err := dataFits(&data.Dataset{Train: d.train}, nets[0].Arch); err != nil {
		return nil, nil, err
	}
	return nets, d, nil
}

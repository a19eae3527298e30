package prune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/perm"
)

func synthetic(t testing.TB) *data.Dataset {
	t.Helper()
	d, err := data.Synthetic(data.SyntheticConfig{Examples: 2000, TestExamples: 500, Dims: 20, Classes: 4, Seed: 1, Spread: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func trainConfig(optim nn.OptimConfig) nn.TrainConfig {
	return nn.TrainConfig{
		Arch:      small,
		Init:      "pytorch",
		Seed:      1,
		DataSeed:  2,
		Epochs:    3,
		BatchSize: 64, // 32 steps per epoch
		Optim:     optim,
		Schedule:  nn.Schedule{LR: 0.05, Kind: "cosine", Warmup: 10},
		EvalTrain: 10000,
		BLAS:      blas.Gonum(),
	}
}

var sgd = nn.OptimConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: 1e-4}

// standard is open_lth's pruning: 20% of the remaining weights per level, globally.
var standard = Options{Fraction: DefaultFraction, Scope: Global}

// TestIMPKeepsPrunedWeightsZero runs two levels and checks that every weight a level's mask
// prunes is exactly zero in its trained network, under both scopes and with optimisers
// whose state (momentum, Adam's moments, decoupled weight decay) could move it.
func TestIMPKeepsPrunedWeightsZero(t *testing.T) {
	d := synthetic(t)
	for _, c := range []struct {
		name  string
		optim nn.OptimConfig
		opt   Options
	}{
		{"sgd global", sgd, standard},
		{"sgd nesterov layer exempt", nn.OptimConfig{Kind: "sgd", Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4}, Options{Fraction: DefaultFraction, Scope: Layer, ExemptOutput: true}},
		{"adamw global", nn.OptimConfig{Kind: "adamw", WeightDecay: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, Options{Fraction: 0.5, Scope: Global}},
	} {
		cfg := trainConfig(c.optim)
		if c.optim.Kind == "adamw" {
			cfg.Schedule.LR = 3e-3
		}
		var seen []int
		levels, err := IMP(context.Background(), cfg, d.Train, d.Test, 2, 10, c.opt, func(l int) { seen = append(seen, l) })
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(levels) != 3 || !slices.Equal(seen, []int{0, 1, 2}) {
			t.Fatalf("%s: %d levels, progress %v", c.name, len(levels), seen)
		}
		for k, l := range levels {
			masked, zeros := 0, 0
			for name, v := range l.Mask {
				for i, x := range v {
					if x == 0 {
						masked++
						if w := l.Net.Param(name).Data[i]; w != 0 || math.Signbit(float64(w)) {
							t.Fatalf("%s level %d: pruned %s[%d] is %v after training", c.name, k, name, i, w)
						}
					}
				}
			}
			for _, p := range l.Net.Params {
				for _, w := range p.Data {
					if w == 0 {
						zeros++
					}
				}
			}
			if k > 0 && (masked == 0 || zeros != masked) {
				t.Errorf("%s level %d: %d weights masked, %d parameters zero", c.name, k, masked, zeros)
			}
			if l.Sparsity != l.Mask.Sparsity() {
				t.Errorf("%s level %d: Sparsity %v, mask's %v", c.name, k, l.Sparsity, l.Mask.Sparsity())
			}
			last := l.Metrics[len(l.Metrics)-1]
			t.Logf("%s level %d: sparsity %.3f, test accuracy %.3f, test loss %.3f", c.name, k, l.Sparsity, last.TestAcc, last.TestLoss)
			if len(l.Metrics) != cfg.Epochs+1 || last.TestAcc < 0.8 {
				t.Errorf("%s level %d: %d metric rows, test accuracy %.3f", c.name, k, len(l.Metrics), last.TestAcc)
			}
		}
	}
}

// TestIMPIsTrainWithRewinding rebuilds two levels by hand from nn.Train, Next and Rewind,
// and checks IMP gives the same networks bit for bit; then that IMPWithMasks, given IMP's
// masks, gives them again.
func TestIMPIsTrainWithRewinding(t *testing.T) {
	d := synthetic(t)
	ctx := context.Background()
	const rewindStep = 20
	for _, opt := range []Options{standard, {Fraction: DefaultFraction, Scope: Layer, ExemptOutput: true}} {
		cfg := trainConfig(sgd)
		levels, err := IMP(ctx, cfg, d.Train, d.Test, 2, rewindStep, opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		dense := cfg
		dense.Checkpoints = []int{rewindStep}
		res, err := nn.Train(ctx, dense, d.Train, d.Test)
		if err != nil {
			t.Fatal(err)
		}
		rewind := res.Checkpoints[0]
		if !sameValues(levels[0].Net, res.Final) || !levels[0].Mask.Equal(Dense(small, opt)) || levels[0].Sparsity != 0 {
			t.Fatalf("%v: level 0 is not the dense run", opt)
		}
		prev, m := res.Final, Dense(small, opt)
		for k := 1; k <= 2; k++ {
			if m, err = Next(prev, m, opt); err != nil {
				t.Fatal(err)
			}
			if !levels[k].Mask.Equal(m) {
				t.Fatalf("%v level %d: IMP's mask differs from Next's", opt, k)
			}
			start := Rewind(rewind, m)
			// Rewinding restores the checkpoint's values exactly where the mask keeps.
			for i, p := range start.Params {
				for j, w := range p.Data {
					want := rewind.Params[i].Data[j]
					if v, ok := m[p.Name]; ok && v[j] == 0 {
						want = 0
					}
					if math.Float32bits(w) != math.Float32bits(want) {
						t.Fatalf("%v level %d: rewound %s[%d] = %v, want %v", opt, k, p.Name, j, w, want)
					}
				}
			}
			sparse := cfg
			sparse.Start, sparse.Masks = start, m
			r, err := nn.Train(ctx, sparse, d.Train, d.Test)
			if err != nil {
				t.Fatal(err)
			}
			if !sameValues(levels[k].Net, r.Final) {
				t.Fatalf("%v level %d: IMP's network differs from training the rewound network by hand", opt, k)
			}
			if !slices.Equal(levels[k].Metrics, withoutSeconds(r.Metrics, levels[k].Metrics)) {
				t.Errorf("%v level %d: metrics differ", opt, k)
			}
			prev = r.Final
		}
		var masks []Mask
		for _, l := range levels {
			masks = append(masks, l.Mask)
		}
		again, err := IMPWithMasks(ctx, cfg, d.Train, d.Test, masks, rewindStep)
		if err != nil {
			t.Fatal(err)
		}
		for k := range levels {
			if !sameNet(again[k].Net, levels[k].Net) || !again[k].Mask.Equal(levels[k].Mask) || again[k].Sparsity != levels[k].Sparsity {
				t.Errorf("%v level %d: IMPWithMasks differs from IMP", opt, k)
			}
		}
	}
}

// TestIMPWithTransportedMasks trains another seed with masks transported by a permutation.
func TestIMPWithTransportedMasks(t *testing.T) {
	d := synthetic(t)
	cfg := trainConfig(sgd)
	cfg.Epochs = 2
	levels, err := IMP(context.Background(), cfg, d.Train, d.Test, 1, 0, standard, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := perm.Random(small, 3)
	var masks []Mask
	for _, l := range levels {
		m, err := Transport(l.Mask, p)
		if err != nil {
			t.Fatal(err)
		}
		masks = append(masks, m)
	}
	cfg.Seed = 9
	got, err := IMPWithMasks(context.Background(), cfg, d.Train, d.Test, masks, 0)
	if err != nil {
		t.Fatal(err)
	}
	for k, l := range got {
		if !l.Mask.Equal(masks[k]) || l.Sparsity != levels[k].Sparsity {
			t.Errorf("level %d: mask or sparsity changed", k)
		}
		for name, v := range l.Mask {
			for i, x := range v {
				if x == 0 && l.Net.Param(name).Data[i] != 0 {
					t.Fatalf("level %d: pruned %s[%d] is %v", k, name, i, l.Net.Param(name).Data[i])
				}
			}
		}
	}
	// A first mask that prunes is trained from the rewind point like the others.
	one, err := IMPWithMasks(context.Background(), cfg, d.Train, d.Test, masks[1:], 0)
	if err != nil || !sameNet(one[0].Net, got[1].Net) {
		t.Errorf("a sparse first mask: %v", err)
	}
}

func TestIMPErrors(t *testing.T) {
	d := synthetic(t)
	ctx := context.Background()
	cfg := trainConfig(sgd)
	masked := cfg
	masked.Masks = Dense(small, Options{})
	bad := cfg
	bad.Optim.Kind = "lion"
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range []struct {
		name           string
		ctx            context.Context
		cfg            nn.TrainConfig
		levels, rewind int
		opt            Options
		train          *data.Set
		want           string
		wantErr        error
	}{
		{name: "negative levels", cfg: cfg, opt: standard, levels: -1, want: "levels ≥ 0"},
		{name: "options", cfg: cfg, levels: 1, opt: Options{Fraction: 2, Scope: Global}, want: "outside (0, 1)"},
		{name: "no options", cfg: cfg, levels: 1, want: "pruning fraction 0 is outside (0, 1)"},
		{name: "masks set", cfg: masked, opt: standard, levels: 1, want: "must not set any"},
		{name: "negative rewind", cfg: cfg, opt: standard, levels: 1, rewind: -1, want: "rewind step -1 is negative"},
		{name: "rewind beyond", cfg: cfg, opt: standard, levels: 1, rewind: 97, want: "rewind step 97 is beyond the run's 96 steps"},
		{name: "no data", cfg: cfg, opt: standard, levels: 1, train: &data.Set{}, want: "training and a test set"},
		{name: "bad optimiser", cfg: bad, opt: standard, levels: 1, want: `level 0 (dense): unknown optimizer "lion"`},
		{name: "cancelled", ctx: cancelled, cfg: cfg, opt: standard, levels: 1, wantErr: context.Canceled},
	} {
		ctx := c.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		train, test := d.Train, d.Test
		if c.train != nil {
			train, test = nil, nil
		}
		_, err := IMP(ctx, c.cfg, train, test, c.levels, c.rewind, c.opt, nil)
		if err == nil || (c.want != "" && !strings.Contains(err.Error(), c.want)) || (c.wantErr != nil && !errors.Is(err, c.wantErr)) {
			t.Errorf("%s: error %v, want %q %v", c.name, err, c.want, c.wantErr)
		}
	}
	for _, c := range []struct {
		name  string
		masks []Mask
		want  string
	}{
		{"none", nil, "at least one mask"},
		{"bias", []Mask{{}, {"layers.1.bias": make([]float32, 32)}}, `mask 1: mask "layers.1.bias" names no weight`},
		{"length", []Mask{{"layers.1.weight": make([]float32, 32)}}, "mask 0: mask of layers.1.weight has 32 values for 1024 weights"},
		{"value", []Mask{{"layers.2.weight": slices.Repeat([]float32{-1}, 128)}}, "value -1"},
	} {
		if _, err := IMPWithMasks(ctx, cfg, d.Train, d.Test, c.masks, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("IMPWithMasks %s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// sameValues reports whether a and b hold equal parameter values (−0 equals +0: IMP
// returns +0 where nn.Train leaves either).
func sameValues(a, b *nn.Network) bool {
	return a.Arch.Equal(b.Arch) && slices.EqualFunc(a.Params, b.Params, func(p, q *nn.Param) bool {
		return p.Name == q.Name && slices.Equal(p.Data, q.Data)
	})
}

// withoutSeconds returns got with the wall-clock times of ref, the one field two runs do
// not share.
func withoutSeconds(got, ref []nn.EpochMetrics) []nn.EpochMetrics {
	out := slices.Clone(got)
	for i := range out {
		if i < len(ref) {
			out[i].Seconds = ref[i].Seconds
		}
	}
	return out
}

// TestIMPFromTrainRun checks that IMP on a dense run done elsewhere (a train node's final
// network and the rewind point recovered with StopAfter) gives IMP's networks bit for bit.
func TestIMPFromTrainRun(t *testing.T) {
	d := synthetic(t)
	cfg := trainConfig(sgd)
	cfg.Epochs = 2
	const rewind = 40
	want, err := IMP(context.Background(), cfg, d.Train, d.Test, 2, rewind, standard, nil)
	if err != nil {
		t.Fatal(err)
	}
	full, err := nn.Train(context.Background(), cfg, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	early := cfg
	early.StopAfter = rewind
	part, err := nn.Train(context.Background(), early, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	dense := DenseRun{Net: full.Final, Metrics: full.Metrics, Rewind: part.Final}
	got, err := IMPFrom(context.Background(), cfg, d.Train, d.Test, dense, 2, standard, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if !sameNet(got[k].Net, want[k].Net) || !got[k].Mask.Equal(want[k].Mask) {
			t.Errorf("level %d differs from IMP's", k)
		}
	}
	masks := []Mask{want[0].Mask, want[1].Mask, want[2].Mask}
	again, err := IMPWithMasksFrom(context.Background(), cfg, d.Train, d.Test, dense, masks, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if !sameNet(again[k].Net, want[k].Net) {
			t.Errorf("IMPWithMasksFrom level %d differs from IMP's", k)
		}
	}
	wrong := dense
	wrong.Rewind = nil
	if _, err := IMPFrom(context.Background(), cfg, d.Train, d.Test, wrong, 1, standard, nil); err == nil {
		t.Error("a dense run without its rewind network: no error")
	}
}

// TestIMPFromCancel cancels IMP as level 2 begins: both IMPFrom and IMPWithMasksFrom stop
// there, before training that level to its end, with an error wrapping context.Canceled
// that names the level.
func TestIMPFromCancel(t *testing.T) {
	d := synthetic(t)
	cfg := trainConfig(sgd)
	ctx := context.Background()
	levels, err := IMP(ctx, cfg, d.Train, d.Test, 2, 0, standard, nil)
	if err != nil {
		t.Fatal(err)
	}
	dense := DenseRun{Net: levels[0].Net, Metrics: levels[0].Metrics, Rewind: levels[0].Net}
	masks := []Mask{levels[0].Mask, levels[1].Mask, levels[2].Mask}
	for name, run := range map[string]func(context.Context, func(int)) ([]Level, error){
		"IMPFrom": func(ctx context.Context, p func(int)) ([]Level, error) {
			return IMPFrom(ctx, cfg, d.Train, d.Test, dense, 3, standard, p)
		},
		"IMPWithMasksFrom": func(ctx context.Context, p func(int)) ([]Level, error) {
			return IMPWithMasksFrom(ctx, cfg, d.Train, d.Test, dense, masks, p)
		},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		var seen []int
		got, err := run(ctx, func(k int) {
			seen = append(seen, k)
			if k == 2 {
				cancel()
			}
		})
		cancel()
		if !errors.Is(err, context.Canceled) || !strings.Contains(fmt.Sprint(err), "level 2") || got != nil {
			t.Errorf("%s: got %d levels, %v; want none, an error naming level 2 and wrapping context.Canceled", name, len(got), err)
		}
		if !slices.Equal(seen, []int{1, 2}) {
			t.Errorf("%s: levels begun %v, want [1 2]", name, seen)
		}
	}
}

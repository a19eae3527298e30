package nn

import (
	"context"
	"errors"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

func synthetic(t *testing.T) *data.Dataset {
	t.Helper()
	d, err := data.Synthetic(data.SyntheticConfig{Examples: 2000, TestExamples: 500, Dims: 20, Classes: 4, Seed: 1, Spread: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func smallConfig() TrainConfig {
	return TrainConfig{
		Arch:      Arch{Kind: "mlp", Input: 20, Hidden: []int{32, 32}, Output: 4, Activation: "relu", Bias: true},
		Init:      "pytorch",
		Seed:      1,
		DataSeed:  2,
		Epochs:    5,
		BatchSize: 64,
		Optim:     OptimConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: 1e-4},
		Schedule:  Schedule{LR: 0.05, Kind: "cosine", Warmup: 10},
		EvalTrain: 10000,
		BLAS:      blas.Gonum(),
	}
}

func TestTrainLearnsSynthetic(t *testing.T) {
	d := synthetic(t)
	cfg := smallConfig()
	cfg.Checkpoints = []int{0, 32, 160}
	res, err := Train(context.Background(), cfg, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Metrics) != cfg.Epochs+1 || res.Steps != 5*StepsPerEpoch(2000, 64) {
		t.Fatalf("%d metric rows, %d steps", len(res.Metrics), res.Steps)
	}
	first, last := res.Metrics[0], res.Metrics[len(res.Metrics)-1]
	if last.TestAcc < 0.85 || last.TestLoss >= first.TestLoss {
		t.Errorf("test accuracy %.3f (want ≥ 0.85), loss %.3f → %.3f", last.TestAcc, first.TestLoss, last.TestLoss)
	}
	if len(res.Checkpoints) != 3 {
		t.Fatalf("%d checkpoints", len(res.Checkpoints))
	}
	init, _ := Init(cfg.Arch, "pytorch", cfg.Seed)
	if !sameParams(res.Checkpoints[0], init) {
		t.Error("checkpoint 0 is not the initialisation")
	}
	if sameParams(res.Checkpoints[1], res.Checkpoints[2]) || !sameParams(res.Checkpoints[2], res.Final) {
		t.Error("checkpoints at steps 32 and 160 (the last) are wrong")
	}
}

func TestTrainDeterministic(t *testing.T) {
	d := synthetic(t)
	for _, impl := range []blas.Impl{blas.Gonum(), blas.Default()} {
		cfg := smallConfig()
		cfg.Epochs = 2
		cfg.BLAS = impl
		a, err := Train(context.Background(), cfg, d.Train, d.Test)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Train(context.Background(), cfg, d.Train, d.Test)
		ea, _ := EncodeNetwork(a.Final, nil)
		eb, _ := EncodeNetwork(b.Final, nil)
		if string(ea) != string(eb) {
			t.Errorf("%s: two runs of one configuration differ", impl.Name())
		}
		cfg.DataSeed = 3
		c, _ := Train(context.Background(), cfg, d.Train, d.Test)
		if sameParams(a.Final, c.Final) {
			t.Errorf("%s: another data order gave the same network", impl.Name())
		}
	}
}

func TestTrainDiverges(t *testing.T) {
	d := synthetic(t)
	cfg := smallConfig()
	cfg.Schedule = Schedule{LR: 1e6, Kind: "constant"}
	_, err := Train(context.Background(), cfg, d.Train, d.Test)
	var de *DivergedError
	if !errors.As(err, &de) || de.LR != 1e6 || de.Step < 1 {
		t.Fatalf("err = %v, want divergence at lr 1e6", err)
	}
	t.Log(err)
}

// TestTrainMasks trains with a mask under each optimiser, plain SGD (which keeps no
// momentum buffer to mask) included.
func TestTrainMasks(t *testing.T) {
	d := synthetic(t)
	w := WeightName(1)
	mask := make([]float32, 32*32)
	for i := range mask {
		if i%3 == 0 {
			mask[i] = 1
		}
	}
	for _, optim := range []OptimConfig{
		{Kind: "sgd", Momentum: 0.9, WeightDecay: 1e-4},
		{Kind: "sgd"},
		{Kind: "adam", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
	} {
		cfg := smallConfig()
		cfg.Epochs = 1
		cfg.Optim = optim
		cfg.Masks = map[string][]float32{w: mask}
		res, err := Train(context.Background(), cfg, d.Train, d.Test)
		if err != nil {
			t.Fatalf("%+v: %v", optim, err)
		}
		for i, v := range res.Final.Param(w).Data {
			if mask[i] == 0 && v != 0 {
				t.Fatalf("%+v: pruned weight %d is %g after training", optim, i, v)
			}
		}
	}
}

func TestTrainCancel(t *testing.T) {
	d := synthetic(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, smallConfig(), d.Train, d.Test); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func sameParams(a, b *Network) bool {
	for i, p := range a.Params {
		for j, v := range p.Data {
			if b.Params[i].Data[j] != v {
				return false
			}
		}
	}
	return true
}

// TestTrainStopAfter checks that a run stopped early is the whole run's network at that
// step, bit for bit, even in the middle of an epoch and of a cosine schedule.
func TestTrainStopAfter(t *testing.T) {
	d := synthetic(t)
	cfg := smallConfig()
	cfg.Checkpoints = []int{45}
	whole, err := Train(context.Background(), cfg, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Checkpoints = nil
	cfg.StopAfter = 45
	part, err := Train(context.Background(), cfg, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	if !sameParams(part.Final, whole.Checkpoints[0]) {
		t.Error("stopping after step 45 does not give the whole run's checkpoint at step 45")
	}
	if part.Steps != 45 || len(part.Metrics) != 2 { // initialisation and epoch 1 (32 steps)
		t.Errorf("%d steps and %d metric rows, want 45 and 2", part.Steps, len(part.Metrics))
	}
	for _, bad := range []struct{ stop, ckpt int }{{-1, 0}, {10000, 0}, {40, 41}} {
		cfg.StopAfter, cfg.Checkpoints = bad.stop, []int{bad.ckpt}
		if _, err := Train(context.Background(), cfg, d.Train, d.Test); err == nil {
			t.Errorf("StopAfter %d with checkpoint %d: no error", bad.stop, bad.ckpt)
		}
	}
}

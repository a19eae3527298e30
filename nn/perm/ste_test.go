package perm

import (
	"context"
	"testing"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// TestSTEMatch: learned matching on two trained MLPs keeps a permutation whose midpoint
// loss is no higher than weight matching's (which it starts from and keeps as a candidate),
// is deterministic in its seed, and refuses networks it does not handle.
func TestSTEMatch(t *testing.T) {
	d, err := data.Synthetic(data.SyntheticConfig{Examples: 512, TestExamples: 128, Dims: 10, Classes: 3, Seed: 4, Spread: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	arch := nn.Arch{Kind: "mlp", Input: 10, Hidden: []int{16, 16}, Output: 3, Activation: "relu", Bias: true}
	var nets []*nn.Network
	for seed := uint64(1); seed <= 2; seed++ {
		cfg := nn.TrainConfig{Arch: arch, Init: "pytorch", Seed: seed, DataSeed: seed, Epochs: 4, BatchSize: 32,
			Optim: nn.OptimConfig{Kind: "sgd", Momentum: 0.9}, Schedule: nn.Schedule{LR: 0.1, Kind: "constant"}}
		cfg.EvalTrain = 100
		r, err := nn.Train(context.Background(), cfg, d.Train, d.Test)
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, r.Final)
	}
	opt := STEOptions{Epochs: 3, Batch: 64, LR: 1e-2, Seed: 1, EvalN: 512, BLAS: blas.Default()}
	r, err := STEMatch(context.Background(), nets[0], nets[1], d.Train, opt)
	if err != nil {
		t.Fatal(err)
	}
	wm, err := WeightMatch(context.Background(), nets[0], nets[1], WMOptions{Seed: 1, MaxSweeps: SweepLimit, Tol: GainTol})
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := wm.Perm.Apply(nets[1])
	wmLoss, _, _ := nn.Evaluate(context.Background(), nn.Combine(nil, []float64{0.5, 0.5}, nets[0], pb), d.Train, 512, blas.Default())
	if r.Objective > wmLoss {
		t.Errorf("learned matching kept a midpoint loss of %g, weight matching's is %g", r.Objective, wmLoss)
	}
	t.Logf("midpoint training loss: weight matching %.4f, learned matching %.4f (%d steps)", wmLoss, r.Objective, r.Sweeps)
	again, _ := STEMatch(context.Background(), nets[0], nets[1], d.Train, opt)
	if !samePerm(again.Perm, r.Perm) || again.Objective != r.Objective {
		t.Error("learned matching is not deterministic")
	}
	conv := nn.Arch{Kind: "resnet", Input: 64, Output: 2, Activation: "relu", LayerNorm: true, Channels: 1, Height: 8, Width: 8, Plan: []int{2, 4, 8}, Blocks: 1}
	cn, _ := nn.Init(conv, "pytorch", 1)
	if _, err := STEMatch(context.Background(), cn, cn, d.Train, opt); err == nil {
		t.Error("a ResNet: no error")
	}
}

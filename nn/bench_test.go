package nn

import (
	"context"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// BenchmarkEpochMNIST512 trains one epoch of 784-512-512-512-10 on MNIST with SGD and batch
// 128, the figure `make bench-train` compares with PyTorch. It reports the mean seconds per
// epoch, the fastest epoch's (best-s/epoch: on a shared host, noise only ever adds time)
// and the dense network's arithmetic per second over the mean epoch.
func BenchmarkEpochMNIST512(b *testing.B) {
	d := loadMNIST(b)
	cfg := mnist512(1)
	tiny := &data.Set{X: d.Test.X[:784], Y: d.Test.Y[:1], N: 1, D: 784, Classes: 10}
	b.ResetTimer()
	var e epochTimes
	for i := 0; i < b.N; i++ {
		e.add(timeTrain(b, cfg, d.Train, tiny))
	}
	e.report(b, cfg.Arch, d.Train.N)
}

// mnist512 is the configuration of the MNIST benchmarks: 784-512-512-512-10 ReLU, SGD lr 0.05
// momentum 0.9, batch 128, the per-epoch evaluation cut to one training example.
func mnist512(epochs int) TrainConfig {
	arch := Arch{Kind: "mlp", Input: 784, Hidden: []int{512, 512, 512}, Output: 10, Activation: "relu", Bias: true}
	return TrainConfig{Arch: arch, Init: "pytorch", Seed: 1, DataSeed: 1, Epochs: epochs, BatchSize: 128,
		Optim: OptimConfig{Kind: "sgd", Momentum: 0.9}, Schedule: Schedule{LR: 0.05, Kind: "constant"},
		BLAS: blas.Default(), EvalTrain: 1}
}

// timeTrain is the wall time of training cfg.
func timeTrain(b *testing.B, cfg TrainConfig, train, test *data.Set) time.Duration {
	start := time.Now()
	if _, err := Train(context.Background(), cfg, train, test); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// epochTimes sums one-epoch trainings, for the report the epoch benchmarks share.
type epochTimes struct {
	total, best time.Duration
	n           int
}

func (e *epochTimes) add(took time.Duration) {
	if e.n == 0 || took < e.best {
		e.best = took
	}
	e.total += took
	e.n++
}

// report reports the mean seconds per epoch, the fastest epoch's (best-s/epoch: on a shared
// host, noise only ever adds time) and the arithmetic per second over the mean epoch of
// arch on examples examples.
func (e *epochTimes) report(b *testing.B, arch Arch, examples int) {
	sec := e.total.Seconds() / float64(e.n)
	b.ReportMetric(sec, "s/epoch")
	b.ReportMetric(e.best.Seconds(), "best-s/epoch")
	b.ReportMetric(EpochFLOPs(arch, examples)/sec/1e9, "GFLOP/s")
}

// BenchmarkMarginalEpochMNIST512 measures the benchmark network's epoch the way `make
// bench-train` measures `modulo run`'s: each iteration trains 1 epoch and then
// marginalEpochs from the same seed, and the difference per extra epoch is the marginal
// epoch (with initialisation and the first epoch's warm-up cancelled out; more epochs
// divide the noise of the difference). Comparing it with modulo run's
// marginal epoch, rather than with the fastest of several one-epoch runs, compares like with
// like: the difference between the two is what the engine costs a train node.
func BenchmarkMarginalEpochMNIST512(b *testing.B) {
	d := loadMNIST(b)
	tiny := &data.Set{X: d.Test.X[:784], Y: d.Test.Y[:1], N: 1, D: 784, Classes: 10}
	// The first training in a process also pays for what the runtime and the BLAS set up
	// once (threads, fresh heap pages); a fresh `modulo run` process pays it in both of its
	// runs, so it cancels there, and a warm-up cancels it here.
	timeTrain(b, mnist512(1), d.Train, tiny)
	var marginal time.Duration
	n := 0
	for b.Loop() {
		marginal += timeTrain(b, mnist512(marginalEpochs), d.Train, tiny) - timeTrain(b, mnist512(1), d.Train, tiny)
		n++
	}
	b.ReportMetric(marginal.Seconds()/float64(n*(marginalEpochs-1)), "marginal-s/epoch")
}

// marginalEpochs is the longer run of BenchmarkMarginalEpochMNIST512, as bench-train's
// BENCH_RUN_EPOCHS is by default.
const marginalEpochs = 3

// BenchmarkEpochConv trains one epoch of ResNet-20 and of VGG-11 (width 16, LayerNorm) on
// MNIST padded to 1×32×32, batch 128, SGD lr 0.05 momentum 0.9, both cores, with the
// per-epoch evaluation cut to one training and one test image: the in-process figure `make
// bench-train` prints beside `modulo run`'s marginal epoch of the same training. It reports
// the mean seconds per epoch, the fastest epoch's and the arithmetic per second over the
// mean epoch.
func BenchmarkEpochConv(b *testing.B) {
	d, err := loadMNIST(b).WithOptions(data.Options{Pad: 2})
	if err != nil {
		b.Fatal(err)
	}
	tiny := &data.Set{X: d.Test.X[:d.Test.D], Y: d.Test.Y[:1], N: 1, D: d.Test.D, Classes: 10, C: 1, H: 32, W: 32}
	for _, bench := range []struct {
		name string
		arch Arch
	}{
		{"resnet20", Arch{Kind: "resnet", Input: 1024, Output: 10, Activation: "relu", LayerNorm: true, Channels: 1, Height: 32, Width: 32, Plan: []int{16, 32, 64}, Blocks: 3}},
		{"vgg11", Arch{Kind: "vgg", Input: 1024, Output: 10, Activation: "relu", Bias: true, LayerNorm: true, Channels: 1, Height: 32, Width: 32, Plan: []int{16, PlanPool, 32, PlanPool, 64, 64, PlanPool, 128, 128, PlanPool, 128, 128}}},
	} {
		b.Run(bench.name, func(b *testing.B) {
			cfg := TrainConfig{Arch: bench.arch, Init: "kaiming_normal", Seed: 1, DataSeed: 1, Epochs: 1, BatchSize: 128,
				Optim: OptimConfig{Kind: "sgd", Momentum: 0.9}, Schedule: Schedule{LR: 0.05, Kind: "constant"}, BLAS: blas.Default(),
				EvalTrain: 1}
			var e epochTimes
			for b.Loop() {
				e.add(timeTrain(b, cfg, d.Train, tiny))
			}
			e.report(b, bench.arch, d.Train.N)
		})
	}
}

// BenchmarkStepConv times training steps of ResNet-20 and VGG-11 (width 16) on 1×32×32
// images (MNIST padded, as make bench-train runs them), batch 128, both cores: ten steps per
// iteration, reported per step and as the arithmetic per second.
func BenchmarkStepConv(b *testing.B) {
	d, err := data.Stripes(data.StripesConfig{Examples: 1280, TestExamples: 1, Channels: 1, Size: 32, Classes: 10, Seed: 1, Noise: 0.5})
	if err != nil {
		b.Fatal(err)
	}
	for _, arch := range []Arch{
		{Kind: "resnet", Input: 1024, Output: 10, Activation: "relu", LayerNorm: true, Channels: 1, Height: 32, Width: 32, Plan: []int{16, 32, 64}, Blocks: 3},
		{Kind: "vgg", Input: 1024, Output: 10, Activation: "relu", Bias: true, LayerNorm: true, Channels: 1, Height: 32, Width: 32, Plan: []int{16, PlanPool, 32, PlanPool, 64, 64, PlanPool, 128, 128, PlanPool, 128, 128}},
	} {
		b.Run(arch.Kind, func(b *testing.B) {
			cfg := TrainConfig{Arch: arch, Init: "kaiming_normal", Seed: 1, DataSeed: 1, Epochs: 1, BatchSize: 128,
				Optim: OptimConfig{Kind: "sgd", Momentum: 0.9}, Schedule: Schedule{LR: 0.05, Kind: "constant"}, BLAS: blas.Default(),
				EvalTrain: 1, StopAfter: 10}
			for b.Loop() {
				if _, err := Train(context.Background(), cfg, d.Train, d.Test); err != nil {
					b.Fatal(err)
				}
			}
			step := b.Elapsed().Seconds() / float64(b.N) / 10
			b.ReportMetric(step*1000, "ms/step")
			b.ReportMetric(EpochFLOPs(arch, 128)/step/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkCurve25 measures a 25-point interpolation between two 784-512-512-512-10
// networks on 10,000 MNIST training and 10,000 test examples, the figure `make bench-align`
// reports (target ≤ 6 s).
func BenchmarkCurve25(b *testing.B) {
	d := loadMNIST(b)
	arch := Arch{Kind: "mlp", Input: 784, Hidden: []int{512, 512, 512}, Output: 10, Activation: "relu", Bias: true}
	n1, _ := Init(arch, "pytorch", 1)
	n2, _ := Init(arch, "pytorch", 2)
	impl := blas.Default()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pts, err := Curve(b.Context(), n1, n2, Alphas(25), d.Train, d.Test, 10000, impl, nil)
		if err != nil || len(pts) != 25 {
			b.Fatal(len(pts), err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/curve")
}

// loadMNIST loads MNIST, skipping the benchmark when it is not downloaded.
func loadMNIST(b *testing.B) *data.Dataset {
	dir, err := data.MNISTDir()
	if err != nil {
		b.Skip(err)
	}
	d, err := data.LoadIDXDir("mnist", dir)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

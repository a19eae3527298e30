package perm

import (
	"context"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// mnistArch is the network of the Git Re-Basin MNIST experiments and of modulo's training
// benchmark.
var mnistArch = nn.Arch{Kind: "mlp", Input: 784, Hidden: []int{512, 512, 512}, Output: 10, Activation: "relu", Bias: true}

// mnistLike returns n examples of MNIST's shape from the synthetic generator, so the
// benchmarks need no download.
func mnistLike(tb testing.TB, n int) *data.Set {
	tb.Helper()
	d, err := data.Synthetic(data.SyntheticConfig{Examples: n, TestExamples: 1, Dims: 784, Classes: 10, Seed: 1, Spread: 0.25})
	if err != nil {
		tb.Fatal(err)
	}
	return d.Train
}

// TestRecoveryMNISTScale is the recovery test at full size: a relabelled 784-512-512-512-10
// network is aligned back exactly, by weights and by activations on 1,000 examples.
func TestRecoveryMNISTScale(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size networks")
	}
	a := randomNet(t, mnistArch, 1)
	q := Random(mnistArch, 2)
	b := apply(t, q, a)
	start := time.Now()
	wm, err := WeightMatch(context.Background(), a, b, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("weight matching: %d sweeps, %v", wm.Sweeps, time.Since(start))
	if !wm.Perm.Equal(q.Inverse()) || !sameNetwork(apply(t, wm.Perm, b), a) {
		t.Errorf("weight matching did not recover q⁻¹ (fixed-point fraction %v)", FixedPointFraction(wm.Perm, q.Inverse()))
	}
	if want := selfInner(a); wm.Objective != want {
		t.Errorf("objective %v, want ⟨a, a⟩ = %v", wm.Objective, want)
	}
	s := mnistLike(t, 1000)
	dead := constantUnits(t, a, s.X, s.N)
	am, err := ActivationMatch(context.Background(), a, b, s.X, s.N, AMOptions{Kernel: "linear", Batch: ActivationBatch})
	if err != nil {
		t.Fatal(err)
	}
	checkActivationRecovery(t, "linear", am.Perm, q, dead)
}

// BenchmarkWeightMatch784x512x3 aligns two independent initialisations of
// 784-512-512-512-10, the size of the MNIST experiments; the target is 100 ms.
func BenchmarkWeightMatch784x512x3(b *testing.B) {
	x, y := randomNet(b, mnistArch, 1), randomNet(b, mnistArch, 2)
	impl := blas.Default()
	b.ResetTimer()
	sweeps := 0
	for i := 0; i < b.N; i++ {
		res, err := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: uint64(i), BLAS: impl})
		if err != nil {
			b.Fatal(err)
		}
		sweeps += res.Sweeps
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(sweeps)/float64(b.N), "sweeps/op")
}

// BenchmarkWeightMatchWarm starts weight matching from activation matching on 1,000
// examples, as a pipeline might; only the descent is timed.
func BenchmarkWeightMatchWarm(b *testing.B) {
	x, y := randomNet(b, mnistArch, 1), randomNet(b, mnistArch, 2)
	s := mnistLike(b, 1000)
	am, err := ActivationMatch(context.Background(), x, y, s.X, s.N, AMOptions{Kernel: "linear", Batch: ActivationBatch})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	sweeps := 0
	for i := 0; i < b.N; i++ {
		res, err := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: uint64(i), Init: &am.Perm})
		if err != nil {
			b.Fatal(err)
		}
		sweeps += res.Sweeps
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(sweeps)/float64(b.N), "sweeps/op")
}

// BenchmarkActivationMatch aligns two independent initialisations of 784-512-512-512-10 on
// 10,000 examples, with each kernel: two forward passes and three 512×512 cross products
// per batch of 1,000, then three 512×512 assignment problems.
func BenchmarkActivationMatch(b *testing.B) {
	x, y := randomNet(b, mnistArch, 1), randomNet(b, mnistArch, 2)
	s := mnistLike(b, 10000)
	impl := blas.Default()
	for _, k := range Kernels {
		b.Run(k, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := ActivationMatch(context.Background(), x, y, s.X, s.N, AMOptions{Kernel: k, BLAS: impl, Batch: ActivationBatch}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		})
	}
}

// resnet20 is open_lth's cifar_resnet_20 at width 16 with LayerNorm, the network of the Git
// Re-Basin CIFAR-10 experiments.
var resnet20 = nn.Arch{Kind: "resnet", Input: 3 * 32 * 32, Output: 10, Activation: "relu", LayerNorm: true, Channels: 3, Height: 32, Width: 32, Plan: []int{16, 32, 64}, Blocks: 3}

// BenchmarkWeightMatchResNet20 aligns two independent initialisations of ResNet-20 with the
// generic descent over the spec.
func BenchmarkWeightMatchResNet20(b *testing.B) {
	x, y := randomNet(b, resnet20, 1), randomNet(b, resnet20, 2)
	b.ResetTimer()
	sweeps := 0
	for i := 0; i < b.N; i++ {
		res, err := WeightMatch(context.Background(), x, y, WMOptions{MaxSweeps: SweepLimit, Tol: GainTol, Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		sweeps += res.Sweeps
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(sweeps)/float64(b.N), "sweeps/op")
}

// Command gemmshare measures how much of one modulo training epoch is spent inside SGEMM,
// for `make bench-train`. It trains the benchmark network of nn.BenchmarkEpochMNIST512
// (784-512-512-512-10, ReLU, PyTorch init, SGD momentum 0.9, lr 0.05, batch 128, one epoch
// of MNIST) through the exported API only, with a BLAS that wraps blas.Default() and times
// every Sgemm call. It prints, per run and for the fastest run, the epoch's wall time, the
// time inside SGEMM and the share outside it, and a final machine-readable RESULT line.
//
// Training runs the two parts of each step side by side, each calling SGEMM on its own
// core, so SGEMM time is counted per lane: lanes is the most calls seen in flight at once,
// the time inside SGEMM is the calls' summed time divided by lanes, and the share outside
// SGEMM is the rest of the lanes' time (1 − summed/(lanes × epoch)).
//
// Usage: go run ./scripts/gemmshare [-runs 3] [-threads 0]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// timedBLAS is a blas.Impl whose Sgemm adds its wall time to a total; everything else
// (Name, Kernel, Threads, SetThreads, Config) is the wrapped implementation's.
type timedBLAS struct {
	blas.Impl
	mu       sync.Mutex
	total    time.Duration
	calls    int
	inFlight int
	lanes    int // the most calls in flight at once
}

func (t *timedBLAS) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t.mu.Lock()
	t.inFlight++
	t.lanes = max(t.lanes, t.inFlight)
	t.mu.Unlock()
	start := time.Now()
	t.Impl.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	d := time.Since(start)
	t.mu.Lock()
	t.inFlight--
	t.total += d
	t.calls++
	t.mu.Unlock()
}

func (t *timedBLAS) reset() {
	t.mu.Lock()
	t.total, t.calls, t.lanes = 0, 0, 0
	t.mu.Unlock()
}

// read returns the time inside SGEMM per lane, the calls and the lanes.
func (t *timedBLAS) read() (time.Duration, int, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lanes := max(t.lanes, 1)
	return t.total / time.Duration(lanes), t.calls, lanes
}

func main() {
	runs := flag.Int("runs", 3, "timed one-epoch runs (the fastest is reported)")
	threads := flag.Int("threads", 0, "BLAS threads (0: the implementation's default)")
	flag.Parse()
	if err := run(*runs, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "gemmshare:", err)
		os.Exit(1)
	}
}

func run(runs, threads int) error {
	if runs < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	dir, err := data.MNISTDir()
	if err != nil {
		return err
	}
	d, err := data.LoadIDXDir("mnist", dir)
	if err != nil {
		return err
	}
	impl := &timedBLAS{Impl: blas.Default()}
	if threads > 0 {
		impl.SetThreads(threads)
	}
	// The configuration of nn.BenchmarkEpochMNIST512.
	arch := nn.Arch{Kind: "mlp", Input: 784, Hidden: []int{512, 512, 512}, Output: 10, Activation: "relu", Bias: true}
	cfg := nn.TrainConfig{Arch: arch, Init: "pytorch", Seed: 1, DataSeed: 1, Epochs: 1, BatchSize: 128,
		Optim: nn.OptimConfig{Kind: "sgd", Momentum: 0.9}, Schedule: nn.Schedule{LR: 0.05, Kind: "constant"},
		BLAS: impl, EvalTrain: 1}
	tiny := &data.Set{X: d.Test.X[:784], Y: d.Test.Y[:1], N: 1, D: 784, Classes: 10}
	flops := nn.EpochFLOPs(arch, d.Train.N)

	fmt.Printf("blas %s, kernel %s, %d threads\n", impl.Name(), impl.Kernel(), impl.Threads())

	// Warm-up: a short epoch over the first 50 batches starts the BLAS threads and faults in
	// the buffers.
	n := 50 * cfg.BatchSize
	warm := &data.Set{X: d.Train.X[:n*784], Y: d.Train.Y[:n], N: n, D: 784, Classes: 10}
	if _, err := nn.Train(context.Background(), cfg, warm, tiny); err != nil {
		return err
	}

	var bestTotal, bestGEMM time.Duration
	bestCalls, bestLanes := 0, 0
	for r := 1; r <= runs; r++ {
		impl.reset()
		start := time.Now()
		if _, err := nn.Train(context.Background(), cfg, d.Train, tiny); err != nil {
			return err
		}
		total := time.Since(start)
		gemm, calls, lanes := impl.read()
		fmt.Printf("run %d: epoch %.3f s, in SGEMM %.3f s per lane (%d calls, %d lanes), outside SGEMM %.3f s = %.1f%%\n",
			r, total.Seconds(), gemm.Seconds(), calls, lanes, (total - gemm).Seconds(), 100*(total-gemm).Seconds()/total.Seconds())
		if r == 1 || total < bestTotal {
			bestTotal, bestGEMM, bestCalls, bestLanes = total, gemm, calls, lanes
		}
	}
	t, g := bestTotal.Seconds(), bestGEMM.Seconds()
	fmt.Printf("fastest: epoch %.3f s, in SGEMM %.3f s, non-GEMM share %.1f%%, GFLOP/s over the epoch %.1f, inside SGEMM %.1f\n",
		t, g, 100*(t-g)/t, flops/t/1e9, flops/g/1e9)
	fmt.Printf("RESULT total_s=%.4f gemm_s=%.4f share=%.4f calls=%d lanes=%d epoch_gflops=%.2f gemm_gflops=%.2f blas=%s kernel=%s threads=%d\n",
		t, g, (t-g)/t, bestCalls, bestLanes, flops/t/1e9, flops/g/1e9, impl.Name(), impl.Kernel(), impl.Threads())
	return nil
}

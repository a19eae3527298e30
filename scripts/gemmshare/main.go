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
// SGEMM is the rest of the lanes' time (1 − summed/(lanes × epoch)); of that rest, the
// time a lane idles waiting for the other (nn.WaitTimer) is reported too. On inputs with
// few non-zeros, such as MNIST's, the first layer's products are sparse (package
// nn/sparse) rather than SGEMMs; their time, per lane too, is reported beside SGEMM's, and
// the share outside the matrix products counts neither. That share is of the whole 1-epoch
// Train, waits and what Train does once (initialising the network, the evaluations)
// included; the share of the steps' time that is neither a product nor a wait (the
// elementwise kernels, gathering the batch, the steps' bookkeeping) is reported beside
// it, the steps timed from Train's progress reports.
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
	"github.com/modulo-ml/modulo/nn/sparse"
)

// timedBLAS is a blas.Impl whose Sgemm adds its wall time and arithmetic to its tally;
// everything else (Name, Kernel, Threads, Config) is the wrapped handle's. The handles
// WithThreads makes (training makes one for its parts) are timed into the same tally.
type timedBLAS struct {
	blas.Impl
	*tally
}

// tally is what the timed handles add up. It also keeps the sparse products' time
// (addSparse, sparse.Timer).
type tally struct {
	mu       sync.Mutex
	total    time.Duration
	flops    float64
	calls    int
	inFlight int
	lanes    int // the most calls in flight at once
	sparse   time.Duration
	wait     time.Duration // parts waiting for each other (nn.WaitTimer), summed
}

func (t *timedBLAS) WithThreads(n int) blas.Impl {
	return &timedBLAS{Impl: t.Impl.WithThreads(n), tally: t.tally}
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
	t.flops += 2 * float64(m) * float64(n) * float64(k)
	t.calls++
	t.mu.Unlock()
}

func (t *tally) addSparse(d time.Duration) {
	t.mu.Lock()
	t.sparse += d
	t.mu.Unlock()
}

func (t *tally) addWait(d time.Duration) {
	t.mu.Lock()
	t.wait += d
	t.mu.Unlock()
}

func (t *tally) reset() {
	t.mu.Lock()
	t.total, t.flops, t.calls, t.lanes, t.sparse, t.wait = 0, 0, 0, 0, 0, 0
	t.mu.Unlock()
}

// timing is one epoch: wall time, the part of it in the training steps, and per lane the
// time in SGEMM, in sparse products and waiting for the other lane.
type timing struct {
	total, loop, gemm, sparse, wait time.Duration
	gemmGFLOPS                      float64 // SGEMM's arithmetic rate over all lanes
	calls, lanes                    int
}

func (t *tally) read(total, loop time.Duration) timing {
	t.mu.Lock()
	defer t.mu.Unlock()
	lanes := max(t.lanes, 1)
	r := timing{total: total, loop: loop, gemm: t.total / time.Duration(lanes), sparse: t.sparse / time.Duration(lanes),
		wait: t.wait / time.Duration(lanes), calls: t.calls, lanes: lanes}
	if t.total > 0 {
		r.gemmGFLOPS = t.flops * float64(lanes) / t.total.Seconds() / 1e9
	}
	return r
}

// outside is the share of the lanes' time outside the matrix products.
func (r timing) outside() float64 {
	return (r.total - r.gemm - r.sparse).Seconds() / r.total.Seconds()
}

// elementwise is the share of the training steps' time that is neither a matrix product
// nor waiting for the other lane: the activation, loss and optimiser kernels, the batch's
// gathering, and the steps' bookkeeping. It leaves out what a 1-epoch Train does once
// outside its steps (initialising the network and its buffers, the evaluations), which a
// longer run spreads over more epochs.
func (r timing) elementwise() float64 {
	return (r.loop - r.gemm - r.sparse - r.wait).Seconds() / r.loop.Seconds()
}

func main() {
	runs := flag.Int("runs", 3, "timed one-epoch runs (the fastest is reported)")
	threads := flag.Int("threads", 0, "BLAS threads (0: one per CPU)")
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
	impl := &timedBLAS{Impl: blas.Default().WithThreads(threads), tally: &tally{}}
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

	sparse.Timer = impl.addSparse
	nn.WaitTimer = impl.addWait
	// The steps' time: from the end of the first step to the end of the last, scaled to
	// every step (the products and waits of the first step are counted, so this slightly
	// overstates elementwise's share, by at most one step's worth).
	var first, last time.Time
	cfg.Progress = func(p nn.Progress) {
		now := time.Now()
		if p.Step == 1 {
			first = now
		}
		last = now
	}
	steps := nn.StepsPerEpoch(d.Train.N, cfg.BatchSize)
	var best timing
	for r := 1; r <= runs; r++ {
		impl.reset()
		start := time.Now()
		if _, err := nn.Train(context.Background(), cfg, d.Train, tiny); err != nil {
			return err
		}
		total := time.Since(start)
		loop := time.Duration(float64(last.Sub(first)) * float64(steps) / float64(steps-1))
		t := impl.read(total, loop)
		fmt.Printf("run %d: epoch %.3f s (steps %.3f s); per lane (%d lanes): SGEMM %.3f s (%d calls), sparse products %.3f s, the rest %.3f s = %.1f%% (waiting for the other lane %.3f s; in the steps, neither products nor waiting %.1f%%)\n",
			r, t.total.Seconds(), t.loop.Seconds(), t.lanes, t.gemm.Seconds(), t.calls, t.sparse.Seconds(), (t.total - t.gemm - t.sparse).Seconds(), 100*t.outside(), t.wait.Seconds(), 100*t.elementwise())
		if r == 1 || t.total < best.total {
			best = t
		}
	}
	t := best.total.Seconds()
	fmt.Printf("fastest: epoch %.3f s (steps %.3f s), SGEMM %.3f s, sparse %.3f s, outside the products %.1f%%, in the steps neither products nor waiting %.1f%%, dense-equivalent GFLOP/s over the epoch %.1f, SGEMM's %.1f\n",
		t, best.loop.Seconds(), best.gemm.Seconds(), best.sparse.Seconds(), 100*best.outside(), 100*best.elementwise(), flops/t/1e9, best.gemmGFLOPS)
	fmt.Printf("RESULT total_s=%.4f loop_s=%.4f gemm_s=%.4f sparse_s=%.4f wait_s=%.4f share=%.4f elementwise=%.4f calls=%d lanes=%d epoch_gflops=%.2f gemm_gflops=%.2f blas=%s kernel=%s threads=%d\n",
		t, best.loop.Seconds(), best.gemm.Seconds(), best.sparse.Seconds(), best.wait.Seconds(), best.outside(), best.elementwise(), best.calls, best.lanes, flops/t/1e9, best.gemmGFLOPS, impl.Name(), impl.Kernel(), impl.Threads())
	return nil
}

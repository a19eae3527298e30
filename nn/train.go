package nn

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/modulo-ml/modulo/internal/safego"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// TrainConfig is one training run. Init seed and data-order seed are separate, so two runs
// can share an initialisation and differ in data order, or the reverse.
type TrainConfig struct {
	Arch      Arch
	Init      string // see Inits
	Seed      uint64 // initialisation
	DataSeed  uint64 // order of the examples
	Epochs    int
	BatchSize int
	Optim     OptimConfig
	Schedule  Schedule // Total is set by Train
	// Checkpoints lists the steps after which to keep a copy of the network; 0 is the
	// initialisation. Steps beyond the run are an error.
	Checkpoints []int
	// EvalTrain is how many training examples the per-epoch train metrics use, ≥ 1 (all of
	// them when it exceeds the training set).
	EvalTrain int
	// Start, if set, replaces the initialisation (rewinding, fine-tuning).
	Start *Network
	// StopAfter, if positive, ends the run after that many steps, with the schedule and the
	// data order of the whole run: its Final is the whole run's network at that step, bit
	// for bit (how a pruning run recovers a rewind point its dense run did not keep).
	// Metrics cover the epochs completed; checkpoints must not lie beyond it.
	StopAfter int
	// Augment transforms the training images of each batch (conv kinds only).
	Augment Augment
	// Masks, if set, holds a 0/1 mask per parameter name: masked weights are zeroed at the
	// start and stay zero, optimiser state included.
	Masks map[string][]float32
	BLAS  blas.Impl
	// Progress, if set, is called after every step.
	Progress func(Progress)
}

// Progress reports a training step.
type Progress struct {
	Epoch, Step, Steps int
	Loss, LR           float64
}

// EpochMetrics are measured after each epoch (epoch 0: at initialisation).
type EpochMetrics struct {
	Epoch     int     `json:"epoch"`
	Step      int     `json:"step"`
	LR        float64 `json:"lr"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_accuracy"`
	TestLoss  float64 `json:"test_loss"`
	TestAcc   float64 `json:"test_accuracy"`
	Seconds   float64 `json:"seconds"`
}

// TrainResult is what a run produces.
type TrainResult struct {
	Final       *Network
	Checkpoints []*Network // in the order of TrainConfig.Checkpoints
	Metrics     []EpochMetrics
	Steps       int
}

// StepsPerEpoch is the number of steps of one pass over n examples: the last batch may be
// short, as with PyTorch's DataLoader without drop_last.
func StepsPerEpoch(n, batch int) int { return (n + batch - 1) / batch }

// DivergedError reports a loss that became NaN or infinite.
type DivergedError struct {
	Step, Epoch int
	LR, Loss    float64
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged: the loss is %v at step %d (epoch %d) with learning rate %g; lower the learning rate or add warmup", e.Loss, e.Step, e.Epoch, e.LR)
}

// Train runs cfg on train, measuring on test after every epoch. It is deterministic: the same
// configuration, data and BLAS give bit-identical networks.
func Train(ctx context.Context, cfg TrainConfig, train, test *data.Set) (*TrainResult, error) {
	if err := cfg.Optim.Validate(); err != nil {
		return nil, err
	}
	if cfg.Epochs < 0 || cfg.BatchSize < 1 {
		return nil, fmt.Errorf("epochs must be ≥ 0 and batch_size ≥ 1, got %d and %d", cfg.Epochs, cfg.BatchSize)
	}
	if cfg.EvalTrain < 1 {
		return nil, fmt.Errorf("eval_train_examples must be at least 1, got %d: it is how many training examples the per-epoch train metrics use (10000 is usual)", cfg.EvalTrain)
	}
	if train.D != cfg.Arch.Input || train.Classes > cfg.Arch.Output {
		return nil, fmt.Errorf("the data has %d features and %d classes but the model takes %d inputs and has %d outputs", train.D, train.Classes, cfg.Arch.Input, cfg.Arch.Output)
	}
	if err := cfg.Augment.Validate(train.C, train.H, train.W); err != nil {
		return nil, err
	}
	if cfg.Augment.On() && !cfg.Arch.Conv() {
		return nil, fmt.Errorf("random crops and flips are for convolutional networks; an %s takes its inputs as a vector", cfg.Arch.Kind)
	}
	if a := cfg.Arch; a.Conv() && (train.C != a.Channels || train.H != a.Height || train.W != a.Width) {
		return nil, fmt.Errorf("the data's images are %d×%d×%d but the %s takes %d×%d×%d", train.C, train.H, train.W, a.Kind, a.Channels, a.Height, a.Width)
	}
	spe := StepsPerEpoch(train.N, cfg.BatchSize)
	total := spe * cfg.Epochs
	sched := cfg.Schedule
	sched.Total = total
	if err := sched.Validate(); err != nil {
		return nil, err
	}
	if cfg.StopAfter < 0 || cfg.StopAfter > total {
		return nil, fmt.Errorf("cannot stop after step %d of a run of %d steps", cfg.StopAfter, total)
	}
	last := total
	if cfg.StopAfter > 0 {
		last = cfg.StopAfter
	}
	ckpts := slices.Clone(cfg.Checkpoints)
	slices.Sort(ckpts)
	for _, c := range ckpts {
		if c < 0 || c > last {
			return nil, fmt.Errorf("checkpoint at step %d is outside the run's %d steps", c, last)
		}
	}
	net := cfg.Start
	if net == nil {
		var err error
		if net, err = Init(cfg.Arch, cfg.Init, cfg.Seed); err != nil {
			return nil, err
		}
	} else {
		if !net.Arch.Equal(cfg.Arch) {
			return nil, fmt.Errorf("the starting network is %s, not %s", net.Arch, cfg.Arch)
		}
		net = net.Clone()
	}
	b := cfg.BLAS
	if b == nil {
		b = blas.Default()
	}
	if cfg.Arch.Conv() {
		defer holdSpareP()() // see spare.go
	}
	// With two threads or more, the parts of a step (and the chunks of the per-epoch
	// evaluation) run side by side, each with its share of the threads for its GEMMs: a
	// handle of its own, so the caller's is left as it was.
	var helper *crew
	if threads := b.Threads(); threads >= stepParts {
		b = b.WithThreads(threads / stepParts)
		helper = newCrew()
		defer helper.close()
	}
	masks := make([][]float32, len(net.Params))
	for i, p := range net.Params {
		if m := cfg.Masks[p.Name]; m != nil {
			if len(m) != len(p.Data) {
				return nil, fmt.Errorf("mask of %s has %d values for %d weights", p.Name, len(m), len(p.Data))
			}
			masks[i] = m
			applyMask(p.Data, m)
		}
	}
	if cfg.Masks == nil {
		masks = nil
	}
	opt, err := NewOptimizer(cfg.Optim)
	if err != nil {
		return nil, err
	}
	var model learner
	switch {
	case cfg.Arch.Conv():
		model = newConvLearner(net, cfg.BatchSize, b, helper, masks, newAugmenter(cfg.Augment, train.C, train.H, train.W, cfg.DataSeed))
	case unitSplittable(net):
		model = newUnitLearner(newMLPLearner(net, cfg.BatchSize, b, helper, masks, train))
	default:
		model = newMLPLearner(net, cfg.BatchSize, b, helper, masks, train)
	}
	evalModels := model.forwarders(evalChunk(net.Arch)) // nil: evaluation builds its own
	rng := NewRand(cfg.DataSeed, streamOrder)
	order := make([]int, train.N)
	for i := range order {
		order[i] = i
	}

	res := &TrainResult{}
	byStep := map[int]*Network{}
	snapshot := func(step int) {
		if slices.Contains(ckpts, step) {
			model.sync()
			byStep[step] = net.Clone()
		}
	}
	measure := func(epoch, step int, lr float64, start time.Time) error {
		m := EpochMetrics{Epoch: epoch, Step: step, LR: lr}
		model.sync()
		// Evaluation shares its chunks among the parts' goroutines, each with the parts'
		// handle, rather than each GEMM using all the threads: fewer, larger tasks (with
		// OpenBLAS's own threads, which spin for a while after a call, the other way cost
		// ~0.1 s an epoch here).
		workers := 1
		if helper != nil {
			workers = stepParts
		}
		var err error
		if m.TrainLoss, m.TrainAcc, err = evaluate(ctx, net, train, cfg.EvalTrain, b, workers, evalModels); err != nil {
			return err
		}
		if m.TestLoss, m.TestAcc, err = evaluate(ctx, net, test, 0, b, workers, evalModels); err != nil {
			return err
		}
		m.Seconds = time.Since(start).Seconds()
		res.Metrics = append(res.Metrics, m)
		return nil
	}
	start := time.Now()
	snapshot(0)
	if err := measure(0, 0, 0, start); err != nil {
		return nil, err
	}
	step := 0
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var lr float64
		for s := 0; s < spe; s++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			lo := s * cfg.BatchSize
			rows := min(cfg.BatchSize, train.N-lo)
			inv := 1 / float64(rows)
			lr = sched.At(step)
			loss := model.step(train, order[lo:lo+rows], inv, opt, lr) * inv
			if !finite(loss) {
				return nil, &DivergedError{Step: step, Epoch: epoch, LR: lr, Loss: loss}
			}
			step++
			snapshot(step)
			if cfg.Progress != nil {
				cfg.Progress(Progress{Epoch: epoch, Step: step, Steps: last, Loss: loss, LR: lr})
			}
			if step == last && last < total {
				model.sync()
				return finish(res, net, cfg.Checkpoints, byStep, step), nil
			}
		}
		if err := measure(epoch, step, lr, start); err != nil {
			return nil, err
		}
		if last := res.Metrics[len(res.Metrics)-1]; math.IsNaN(last.TrainLoss) {
			return nil, &DivergedError{Step: step, Epoch: epoch, LR: lr, Loss: last.TrainLoss}
		}
	}
	model.sync()
	return finish(res, net, cfg.Checkpoints, byStep, step), nil
}

// stepParts is the number of parts a training step is split into, to use two cores
// without OpenBLAS's threads: the rows of the batch go forward and back in stepParts
// ranges, then the parameter gradients and the optimiser's update are computed in stepParts
// ranges of output units, each part with single-threaded GEMMs on a goroutine of its own.
// (A ReLU MLP splits every pass by units instead: see unitLearner.)
// On the 2-core development machine this is faster than each GEMM on two OpenBLAS threads
// (0.85-0.89 s against 0.93-0.95 s per MNIST epoch of 784-512-512-512-10, best runs,
// before the sparse first layer took it to 0.77 s): a GEMM's threads synchronise inside
// every call, about ten a step, and the elementwise work between the GEMMs ran on one core.
// The second part runs on a helper goroutine that yields between parts (see crew): starting
// a goroutine for each part took ~60 µs here, twice a step.
//
// The split is the same whatever the threads (with one, the parts run in turn), so a
// trained network's bits do not depend on the threads it was given. They do depend on the
// split with OpenBLAS, whose rounding depends on a GEMM's shape: changing stepParts
// changes the outputs of train and prune (bump their versions).
const stepParts = 2

// runParts calls f for each part: side by side, the second on the crew's helper, when
// helper is not nil; in turn otherwise.
func runParts(helper *crew, f func(part int)) {
	if helper == nil {
		for k := range stepParts {
			f(k)
		}
		return
	}
	helper.run(f)
}

// finish fills in the final network, the checkpoints in the order asked for, and the steps
// taken.
func finish(res *TrainResult, net *Network, asked []int, byStep map[int]*Network, steps int) *TrainResult {
	res.Final = net
	res.Steps = steps
	for _, c := range asked {
		res.Checkpoints = append(res.Checkpoints, byStep[c])
	}
	return res
}

// Evaluate returns the mean cross-entropy and the accuracy of net on the first limit
// examples of s (all when limit is 0 or larger than s). It checks ctx before each chunk of
// 1,000 examples and returns ctx.Err() (unwrapped) once it is done. b's threads evaluate
// chunks of examples side by side, each with its share of them, rather than each GEMM on
// all of them: a goroutine started for every GEMM of a forward pass often starts too late
// to help (see blas.Impl.WithThreads), one per chunk runs the whole time.
func Evaluate(ctx context.Context, net *Network, s *data.Set, limit int, b blas.Impl) (loss, acc float64, err error) {
	return evaluate(ctx, net, s, limit, b, b.Threads(), nil)
}

// evaluate is Evaluate with its chunks shared among up to workers goroutines, each with
// a handle of b's threads divided among them, or with models[w] for worker w if models
// has one for each (models of net that take a chunk, each used by one worker at a time).
// The chunks' losses are added in chunk order, and a handle's threads do not change its
// bits, so the result does not depend on workers. Once ctx is done, every worker stops before its next chunk, so a cancelled
// evaluation ends within one chunk's forward pass.
func evaluate(ctx context.Context, net *Network, s *data.Set, limit int, b blas.Impl, workers int, models []Forwarder) (loss, acc float64, err error) {
	n := s.N
	if limit > 0 && limit < n {
		n = limit
	}
	if n == 0 {
		return math.NaN(), math.NaN(), nil
	}
	if net.Arch.Conv() {
		defer holdSpareP()() // see spare.go
	}
	chunk := evalChunk(net.Arch)
	chunks := (n + chunk - 1) / chunk
	losses := make([]float64, chunks)
	corrects := make([]int, chunks)
	workers = max(1, min(workers, chunks))
	if workers > 1 {
		b = b.WithThreads(max(1, b.Threads()/workers))
	}
	var next atomic.Int64
	work := func(w int) {
		var m Forwarder
		if len(models) >= workers {
			m = models[w]
		} else {
			m = NewForwarder(net, min(chunk, n), b)
		}
		forward := m.Forward
		if cm, ok := m.(*ConvModel); ok {
			// The weights stay as they are while evaluate runs: a conv model lays them out
			// for its kernels once, not at every chunk (for VGG-11 in chunks of 50 images
			// that was 7% of an evaluation).
			cm.prepare()
			forward = cm.forwardPrepared
		}
		for c := int(next.Add(1) - 1); c < chunks && ctx.Err() == nil; c = int(next.Add(1) - 1) {
			lo := c * chunk
			rows := min(chunk, n-lo)
			logits := forward(s.X[lo*s.D:(lo+rows)*s.D], rows)
			l, k := SoftmaxCrossEntropy(logits, s.Y[lo:lo+rows], rows, net.Arch.Output, nil)
			losses[c], corrects[c] = l*float64(rows), k
		}
	}
	var wg safego.Group
	for w := range workers - 1 {
		wg.Go(func() { work(w + 1) })
	}
	work(0)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	var total float64
	correct := 0
	for c := range chunks {
		total += losses[c]
		correct += corrects[c]
	}
	return total / float64(n), float64(correct) / float64(n), nil
}

// evalChunk is how many examples an evaluation runs through a network at once: 1,000
// for an MLP, whose GEMMs run at full speed at that size; 50 images for a convolutional
// network, in passes of convPassFor (its model keeps every layer's activations of a pass,
// 1.5 MB an image for ResNet-20 on 32×32 images).
func evalChunk(a Arch) int {
	if a.Conv() {
		return 50
	}
	return 1000
}

// Forwarder computes the logits of a batch (rows×Output, valid until the next call).
type Forwarder interface {
	Forward(x []float32, rows int) []float32
}

// NewForwarder returns a model of net's kind that evaluates batches of up to batch
// examples, without the buffers of the backward pass.
func NewForwarder(net *Network, batch int, b blas.Impl) Forwarder {
	if net.Arch.Conv() {
		return newConvModel(net, batch, convPassFor(net.Arch), b, false)
	}
	return newModel(net, batch, b, false)
}

// EpochFLOPs counts the floating-point operations of one training epoch over n examples.
// For an MLP, the GEMMs: forward x·Wᵀ, weight gradients dzᵀ·x, and input gradients dz·W for
// every layer but the first, 2·m·n·k each. For a convolutional network, its convolutions and
// head counted the same way (2 per multiply-add, forward, weight gradient and input gradient
// but the first layer's), the elementwise layers not at all.
func EpochFLOPs(a Arch, n int) float64 {
	if a.Conv() {
		fwd, first := a.convFLOPs()
		return (3*fwd - first) * float64(n)
	}
	w := a.Widths()
	var f float64
	for i := 0; i < a.Layers(); i++ {
		per := 2 * float64(w[i]) * float64(w[i+1])
		f += 2 * per // forward and weight gradient
		if i > 0 {
			f += per
		}
	}
	return f * float64(n)
}

// convFLOPs is a convolutional network's forward arithmetic per example, and its first
// convolution's share.
func (a Arch) convFLOPs() (total, first float64) {
	h, w, in := a.Height, a.Width, a.Channels
	conv := func(out, k, stride, pad int) {
		oh, ow := (h+2*pad-k)/stride+1, (w+2*pad-k)/stride+1
		f := 2 * float64(out) * float64(in) * float64(k*k) * float64(oh*ow)
		if total == 0 {
			first = f
		}
		total += f
	}
	switch a.Kind {
	case "vgg":
		for _, p := range a.Plan {
			if p == PlanPool {
				h, w = h/2, w/2
				continue
			}
			conv(p, 3, 1, 1)
			in = p
		}
	case "resnet":
		conv(a.Plan[0], 3, 1, 1)
		in = a.Plan[0]
		for s, c := range a.Plan {
			for k := range a.Blocks {
				stride := 1
				if s > 0 && k == 0 {
					stride = 2
				}
				hi, wi, ci := h, w, in
				conv(c, 3, stride, 1) // conv1
				h, w = (hi+2-3)/stride+1, (wi+2-3)/stride+1
				in = c
				conv(c, 3, 1, 1) // conv2
				if stride != 1 || c != ci {
					h, w, in = hi, wi, ci
					conv(c, 1, stride, 0)
					h, w, in = (hi-1)/stride+1, (wi-1)/stride+1, c
				}
			}
		}
	}
	total += 2 * float64(in) * float64(a.Output)
	return total, first
}

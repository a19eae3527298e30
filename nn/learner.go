package nn

import (
	"math"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// learner is a network being trained, as a training step sees it: a forward and backward
// pass over a batch, then the optimiser's update. How an architecture makes those fast (an
// MLP's sparse first layer and its split of the gradients by output units; a convolutional
// network's split of the batch) stays behind it, so Train's step reads top to bottom.
type learner interface {
	// step takes the examples idx of s as the batch, computes the gradients of the loss
	// scaled by inv (the batch's mean loss for inv = 1/len(idx)) and applies the optimiser
	// with learning rate lr to every parameter (masked weights stay zero), unless the
	// batch's scaled loss is not finite: then the parameters stay as they were. It returns
	// the examples' summed loss.
	step(s *data.Set, idx []int, inv float64, opt *Optimizer, lr float64) float64
	// sync brings the network's parameters up to date: training may keep some in a layout
	// of its own.
	sync()
	// forwarders returns up to stepParts models of the network being trained that can
	// evaluate it, chunk examples at a time, between steps; nil if it has none to lend.
	forwarders(chunk int) []Forwarder
}

// mlpLearner trains an MLP: each part of the batch's rows goes forward and back on a core
// of its own, then each part computes and applies its share of the parameter gradients
// (see stepParts and Model.gradients).
type mlpLearner struct {
	model   *Model
	helper  *crew
	params  [][]float32 // what the optimiser updates: Net's parameters, the first weight in its training layout
	byLayer [][]int     // each layer's parameters
	masks   [][]float32 // per parameter, in the training layout; nil without masks
	into    [][]float32 // per layer, what its weight's gradient is added to (Model.gradients)
	xb      []float32
	yb      []uint8
	dlogits []float32
}

func newMLPLearner(net *Network, batch int, b blas.Impl, helper *crew, masks [][]float32, train *data.Set) *mlpLearner {
	// The share of non-zero inputs, from the first 10,000 examples (a whole scan of MNIST
	// takes 25 ms), decides whether the first layer multiplies only the non-zero ones.
	sample := train.X[:min(train.N, 10000)*train.D]
	model := newTrainingModel(net, batch, b, density(sample) < sparseDensity)
	l := &mlpLearner{model: model, helper: helper, params: model.first.params, masks: masks}
	l.byLayer = make([][]int, net.Arch.Layers())
	for i := range l.byLayer {
		l.byLayer[i] = model.layerParams(i)
	}
	for i, m := range masks {
		if m != nil {
			masks[i] = model.trainingLayout(i, m)
		}
	}
	l.xb = make([]float32, batch*net.Arch.Input)
	l.yb = make([]uint8, batch)
	l.dlogits = make([]float32, batch*net.Arch.Output)
	return l
}

func (l *mlpLearner) step(s *data.Set, idx []int, inv float64, opt *Optimizer, lr float64) float64 {
	return twoPassStep(l, s, idx, inv, opt, lr)
}

// twoPass is a learner whose step is a forward and backward pass over the batch, then the
// update.
type twoPass interface {
	forwardBackward(s *data.Set, idx []int, inv float64) float64
	update(opt *Optimizer, lr float64)
}

// twoPassStep is learner.step for a twoPass: the update is skipped when the loss is not
// finite.
func twoPassStep(l twoPass, s *data.Set, idx []int, inv float64, opt *Optimizer, lr float64) float64 {
	loss := l.forwardBackward(s, idx, inv)
	if finite(loss * inv) {
		l.update(opt, lr)
	}
	return loss
}

// finite reports whether x is neither infinite nor NaN.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// forwardBackward takes the examples idx of s as the batch and computes the gradients of
// the loss scaled by inv; it returns the examples' summed loss.
func (l *mlpLearner) forwardBackward(s *data.Set, idx []int, inv float64) float64 {
	m, D, C := l.model, s.D, l.model.Net.Arch.Output
	var losses [stepParts]float64
	m.start(l.xb, len(idx))
	runParts(l.helper, func(k int) {
		r0, r1 := m.partRows(k, stepParts)
		if m.first.sparse {
			m.first.take(k, s.X, idx[r0:r1], D)
		}
		for r := r0; r < r1; r++ {
			e := idx[r]
			if !m.first.sparse {
				copy(l.xb[r*D:(r+1)*D], s.X[e*D:(e+1)*D])
			}
			l.yb[r] = s.Y[e]
		}
		m.forwardPart(k, stepParts)
		losses[k], _ = crossEntropy(m.logits[r0*C:], l.yb[r0:], r1-r0, C, inv, l.dlogits[r0*C:])
		m.backwardPart(k, stepParts, l.dlogits[r0*C:])
	})
	var loss float64
	for _, v := range losses {
		loss += v
	}
	return loss
}

// update applies the optimiser with the gradients of the last forwardBackward.
func (l *mlpLearner) update(opt *Optimizer, lr float64) {
	m := l.model
	l.prepare(opt)
	runParts(l.helper, func(k int) {
		m.gradients(k, stepParts, l.into, func(layer int) { l.updateLayer(layer, k, opt, lr) })
	})
}

// prepare starts the optimiser's step: its state, and on the first step the momentum
// buffers the weights' gradients are added to.
func (l *mlpLearner) prepare(opt *Optimizer) {
	opt.begin(l.params)
	if l.into == nil {
		// SGD with momentum takes the weights' gradients added to its buffers.
		l.into = make([][]float32, len(l.byLayer))
		for i := range l.into {
			l.into[i] = opt.addToMomentum(l.model.layers[i].wi)
		}
	}
}

// updateLayer applies the optimiser to part k's share of layer's parameters, whose
// gradients are ready.
func (l *mlpLearner) updateLayer(layer, k int, opt *Optimizer, lr float64) {
	for _, i := range l.byLayer[layer] {
		var mask []float32
		if l.masks != nil {
			mask = l.masks[i]
		}
		lo, hi := l.model.paramPart(i, k, stepParts)
		opt.update(i, lo, hi, l.params[i], l.model.Grads[i], mask, lr)
	}
}

func (l *mlpLearner) sync() { l.model.sync() }

// forwarders is nil: an MLP's training model keeps its first layer in a layout of its own,
// and an evaluation model of 1,000 examples is small.
func (l *mlpLearner) forwarders(int) []Forwarder { return nil }

// convLearner trains a VGG or ResNet: the batch is split in stepParts parts of images, each
// going forward and back (in passes of convPassFor images) through a model of its own on a
// core of its own, with gradients of its own; then each part adds the parts' gradients
// over its share of every parameter's elements, in part order, and applies the optimiser
// there. The split is the same whatever the threads, so the bits are too.
type convLearner struct {
	models  [stepParts]*ConvModel
	aug     *augmenter // nil: none
	helper  *crew
	net     *Network
	params  [][]float32
	masks   [][]float32
	xb      [stepParts][]float32
	yb      []uint8
	dlogits []float32
}

func newConvLearner(net *Network, batch int, b blas.Impl, helper *crew, masks [][]float32, aug *augmenter) *convLearner {
	l := &convLearner{helper: helper, net: net, masks: masks, aug: aug}
	per := (batch + stepParts - 1) / stepParts
	for k := range l.models {
		l.models[k] = newConvModel(net, per, convPassFor(net.Arch), b, true)
		l.xb[k] = make([]float32, per*net.Arch.Input)
	}
	for _, p := range net.Params {
		l.params = append(l.params, p.Data)
	}
	l.yb = make([]uint8, batch)
	l.dlogits = make([]float32, batch*net.Arch.Output)
	return l
}

func (l *convLearner) step(s *data.Set, idx []int, inv float64, opt *Optimizer, lr float64) float64 {
	return twoPassStep(l, s, idx, inv, opt, lr)
}

func (l *convLearner) forwardBackward(s *data.Set, idx []int, inv float64) float64 {
	D, C := s.D, l.net.Arch.Output
	var losses [stepParts]float64
	if l.aug != nil {
		l.aug.draw(len(idx))
	}
	runParts(l.helper, func(k int) {
		r0, r1 := len(idx)*k/stepParts, len(idx)*(k+1)/stepParts
		m, x := l.models[k], l.xb[k]
		for r := r0; r < r1; r++ {
			e := idx[r]
			if l.aug != nil {
				l.aug.apply(r, x[(r-r0)*D:(r-r0+1)*D], s.X[e*D:(e+1)*D])
			} else {
				copy(x[(r-r0)*D:(r-r0+1)*D], s.X[e*D:(e+1)*D])
			}
			l.yb[r] = s.Y[e]
		}
		for _, g := range m.Grads {
			clear(g)
		}
		if r1 == r0 {
			return
		}
		// The loss is summed once every pass has run, over the part's rows in order, as
		// one pass would.
		dl := l.dlogits[r0*C : r1*C]
		logits := m.Train(x, r1-r0, dl, func(logits []float32, p0, n int) {
			crossEntropy(logits, l.yb[r0+p0:], n, C, inv, dl[p0*C:])
		})
		losses[k], _ = crossEntropy(logits, l.yb[r0:], r1-r0, C, inv, nil)
	})
	var loss float64
	for _, v := range losses {
		loss += v
	}
	return loss
}

func (l *convLearner) update(opt *Optimizer, lr float64) {
	opt.begin(l.params)
	runParts(l.helper, func(k int) {
		for i, w := range l.params {
			lo, hi := len(w)*k/stepParts, len(w)*(k+1)/stepParts
			g := l.models[0].Grads[i]
			for _, m := range l.models[1:] {
				for j, v := range m.Grads[i][lo:hi] {
					g[lo+j] += v
				}
			}
			var mask []float32
			if l.masks != nil {
				mask = l.masks[i]
			}
			opt.update(i, lo, hi, w, g, mask, lr)
		}
	})
}

func (l *convLearner) sync() {}

// forwarders lends the parts' models, which share the network's parameters: evaluating
// with them needs no second set of every layer's activations (12 MB a pass of eight
// ResNet-20 images, per evaluating core, allocated at every evaluation).
func (l *convLearner) forwarders(chunk int) []Forwarder {
	if l.models[0].Batch < chunk {
		return nil
	}
	f := make([]Forwarder, len(l.models))
	for k, m := range l.models {
		f[k] = m
	}
	return f
}

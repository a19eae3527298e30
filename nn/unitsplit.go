package nn

import (
	"errors"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/nn/sparse"
	"github.com/modulo-ml/modulo/nn/vec"
)

// unitLearner trains a ReLU MLP with each core computing a share of every layer's units
// for the whole batch, instead of every unit for a share of the batch (mlpLearner). A core
// then reads and updates only its own rows of each weight, which stay in its caches from
// one step to the next, and exchanges activations instead: per step and core, ~0.6 MB
// (half of each layer's outputs, half of each input gradient's partial sums) against
// ~2.2 MB for the split of the batch, whose every weight line is written by one core and
// read by both. On the 2-vCPU development VM that traffic was 0.2-0.4 s of a 1.1 s MNIST
// epoch (784-512-512-512-10): with the update skipped, or the cores reduced to one, it
// vanished, and writing the weights' own values back brought it back.
//
// A step is a list of phases with a barrier between consecutive ones; in each, part k
// works on its units U_k of one layer (share, or the first layer's panels):
//
//   - gather: part k takes its half of the batch's rows (compressed when the first layer
//     is sparse) and labels;
//   - forward, per hidden layer: z[:, U_k] = h·W[U_k]ᵀ, then h[:, U_k] = ReLU(z + b);
//   - head: every part computes all the logits and the loss (10 outputs: cheaper than a
//     barrier), then dz[:, U_k] of the last hidden layer from the logits' gradient;
//   - backward, per hidden layer i below: each part's partial input gradient
//     P_k = dz_{i+1}[:, U_k]·W_{i+1}[U_k, :] (written in the phase before), then
//     dz_i[:, U_k] = ReLU'(P_0 + P_1)[:, U_k]: mlpLearner sums all units in one GEMM,
//     so the bits differ from its (train's version 6).
//
// Each layer's weight gradient and update run as soon as its dz and the weight's last
// reader allow. The phases are the same whatever the threads (with one, each phase runs
// for both parts in turn), so the bits do not depend on them.
type unitLearner struct {
	*mlpLearner
	logits  [stepParts][]float32
	dlogits [stepParts][]float32
	// partial holds each part's partial input gradients, alternating between two buffers
	// by layer so that a part writes one while the other part still reads the other.
	partial [stepParts][2][]float32
	loss    [stepParts]float64
	phases  []func(k int)
	part    func(k int) // runPart, made a func once: a method value per step would allocate

	arrived [stepParts]atomic.Uint64 // barriers each part has reached
	failed  atomic.Bool              // a part panicked: the other stops at its next barrier
	waited  [stepParts]time.Duration // time spent at barriers in the step, for WaitTimer

	// The step being taken.
	s   *data.Set
	idx []int
	inv float64
	opt *Optimizer
	lr  float64
}

// unitSplittable reports whether net can be trained by a unitLearner: an MLP of hidden
// ReLU layers with biases and without LayerNorm.
func unitSplittable(net *Network) bool {
	a := net.Arch
	return !a.Conv() && len(a.Hidden) > 0 && a.Activation == "relu" && a.Bias && !a.LayerNorm
}

func newUnitLearner(l *mlpLearner) *unitLearner {
	m := l.model
	u := &unitLearner{mlpLearner: l}
	C := m.Net.Arch.Output
	for k := range stepParts {
		u.logits[k] = make([]float32, m.Batch*C)
		u.dlogits[k] = make([]float32, m.Batch*C)
		for p := range u.partial[k] {
			u.partial[k][p] = make([]float32, m.Batch*slices.Max(m.Net.Arch.Hidden))
		}
	}
	u.part = u.runPart
	u.phases = u.plan()
	return u
}

// units returns part k's units of layer i: for a sparse first layer, the columns of its
// panels; else share's.
func (u *unitLearner) units(i, k int) (j0, j1 int) {
	l := &u.model.layers[i]
	if i == 0 && u.model.first.sparse {
		p0, p1 := u.model.first.panels(k, stepParts)
		return min(p0*sparse.PanelWidth, l.out), min(p1*sparse.PanelWidth, l.out)
	}
	return share(l.out, k, stepParts)
}

// plan lists a step's phases (see unitLearner).
func (u *unitLearner) plan() []func(k int) {
	m := u.model
	H := len(m.layers) - 1 // hidden layers; layer H is the output
	// The first layer's update computes its bias gradient on share's units (and with dense
	// inputs its weight gradient on rows of Wᵀ, from every unit's dz); when those are not
	// the units a part computed dz for, it must wait a barrier for the other part's.
	late0 := !m.first.sparse
	for k := range stepParts {
		j0, j1 := u.units(0, k)
		s0, s1 := share(m.layers[0].out, k, stepParts)
		late0 = late0 || s0 != j0 || s1 != j1
	}
	phases := []func(k int){u.gather}
	for i := range H {
		phases = append(phases, func(k int) { u.forward(i, k) })
	}
	phases = append(phases, func(k int) {
		u.head(k)
		if i := H - 1; i > 0 {
			u.backPartial(i, k)
			u.update(i, k)
		} else if !late0 {
			u.update(0, k)
		}
	})
	for i := H - 2; i >= 0; i-- {
		phases = append(phases, func(k int) {
			u.backward(i, k)
			if i == H-2 {
				u.update(H, k) // every part has read the output weight (head)
			}
			if i > 0 {
				u.backPartial(i, k)
				u.update(i, k)
			} else if !late0 {
				u.update(0, k)
			}
		})
	}
	if H == 1 || late0 {
		phases = append(phases, func(k int) {
			if H == 1 {
				u.update(H, k)
			}
			if late0 {
				u.update(0, k)
			}
		})
	}
	return phases
}

func (u *unitLearner) step(s *data.Set, idx []int, inv float64, opt *Optimizer, lr float64) float64 {
	u.s, u.idx, u.inv, u.opt, u.lr = s, idx, inv, opt, lr
	u.prepare(opt)
	u.model.start(u.xb, len(idx))
	if u.helper == nil {
		for _, ph := range u.phases {
			for k := range stepParts {
				ph(k)
			}
		}
	} else {
		u.helper.run(u.part)
		if WaitTimer != nil {
			WaitTimer(u.waited[0] + u.waited[1])
			u.waited = [stepParts]time.Duration{}
		}
	}
	u.s, u.opt = nil, nil
	return u.loss[0]
}

// errAborted stops a part whose partner panicked; the partner's panic is the one raised.
var errAborted = errors.New("nn: training step aborted")

// runPart runs part k's phases, meeting the other part at a barrier between each two.
func (u *unitLearner) runPart(k int) {
	defer func() {
		if r := recover(); r != nil {
			if r == errAborted {
				return
			}
			u.failed.Store(true)
			panic(r)
		}
	}()
	for i, ph := range u.phases {
		if i > 0 {
			u.barrier(k)
		}
		ph(k)
	}
}

// barrier returns once the other part has reached as many barriers as part k has.
func (u *unitLearner) barrier(k int) {
	n := u.arrived[k].Add(1)
	var t0 time.Time
	if WaitTimer != nil {
		t0 = time.Now()
	}
	for u.arrived[1-k].Load() < n {
		if u.failed.Load() {
			panic(errAborted)
		}
		runtime.Gosched()
	}
	if WaitTimer != nil {
		u.waited[k] += time.Since(t0)
	}
}

// gather takes part k's rows of the batch and their labels.
func (u *unitLearner) gather(k int) {
	m, s := u.model, u.s
	D := s.D
	r0, r1 := m.partRows(k, stepParts)
	sparseIn := m.first.sparse
	if sparseIn {
		m.first.rows[k].FromRows(s.X, u.idx[r0:r1], D)
	}
	for r := r0; r < r1; r++ {
		e := u.idx[r]
		if !sparseIn {
			copy(u.xb[r*D:(r+1)*D], s.X[e*D:(e+1)*D])
		}
		u.yb[r] = s.Y[e]
	}
}

// forward computes part k's units of hidden layer i for the whole batch.
func (u *unitLearner) forward(i, k int) {
	m := u.model
	l := &m.layers[i]
	if i == 0 && m.first.sparse {
		// The weight gradient reads this part's rows by column.
		m.first.rows[k].Transpose(&m.first.cols[k])
	}
	j0, j1 := u.units(i, k)
	if j0 == j1 {
		return
	}
	rows := m.rows
	switch {
	case i == 0 && m.first.sparse:
		f := m.first
		p0, p1 := f.panels(k, stepParts)
		for p := range stepParts {
			r0, _ := m.partRows(p, stepParts)
			sparse.MulPanelsLD(&f.rows[p], f.wp.Slice(p0, p1), nil, l.z[r0*l.out+j0:], l.out)
		}
	case i == 0:
		m.BLAS.Sgemm(false, false, rows, j1-j0, l.in, 1, m.x, l.in, m.first.wt[j0:], l.out, 0, l.z[j0:], l.out)
	default:
		m.BLAS.Sgemm(false, true, rows, j1-j0, l.in, 1, m.layers[i-1].h, l.in, l.w[j0*l.in:], l.in, 0, l.z[j0:], l.out)
	}
	vec.BiasReluLD(l.z[j0:], l.b[j0:j1], l.h[j0:], rows, j1-j0, l.out)
}

// head computes every logit and the loss in part k's buffers, its rows of the output
// layer's dz, and dz[:, U_k] of the last hidden layer.
func (u *unitLearner) head(k int) {
	m := u.model
	H := len(m.layers) - 1
	out, last := &m.layers[H], &m.layers[H-1]
	C, rows := out.out, m.rows
	logits, dlogits := u.logits[k], u.dlogits[k]
	linear(m.BLAS, last.h, rows, out.w, false, out.b, out.in, C, logits)
	// The loss adds the parts' sums, as mlpLearner's does.
	var loss float64
	for p := range stepParts {
		r0, r1 := m.partRows(p, stepParts)
		l, _ := crossEntropy(logits[r0*C:], u.yb[r0:], r1-r0, C, u.inv, dlogits[r0*C:])
		loss += l
	}
	u.loss[k] = loss
	r0, r1 := m.partRows(k, stepParts)
	copy(out.dz[r0*C:r1*C], dlogits[r0*C:r1*C])
	j0, j1 := u.units(H-1, k)
	if j0 == j1 {
		return
	}
	// dh[:, U_k] = dlogits·W[:, U_k], into the buffer this part's next partial goes to.
	dh := u.partial[k][(H-1)%2]
	m.BLAS.Sgemm(false, false, rows, j1-j0, C, 1, dlogits, C, out.w[j0:], out.in, 0, dh[j0:], out.in)
	vec.ReluBackwardSum(last.y[j0:], dh[j0:], nil, last.dz[j0:], rows, j1-j0, last.out)
}

// backPartial writes part k's partial gradient w.r.t. the input of hidden layer i ≥ 1:
// dz[:, U_k]·W[U_k, :].
func (u *unitLearner) backPartial(i, k int) {
	m := u.model
	l := &m.layers[i]
	j0, j1 := u.units(i, k)
	p := u.partial[k][i%2]
	if j0 == j1 {
		clear(p[:m.rows*l.in])
		return
	}
	m.BLAS.Sgemm(false, false, m.rows, l.in, j1-j0, 1, l.dz[j0:], l.out, l.w[j0*l.in:], l.in, 0, p, l.in)
}

// backward sets dz[:, U_k] of hidden layer i from the parts' partial gradients of the
// layer above.
func (u *unitLearner) backward(i, k int) {
	m := u.model
	l := &m.layers[i]
	j0, j1 := u.units(i, k)
	if j0 == j1 {
		return
	}
	src := (i + 1) % 2
	vec.ReluBackwardSum(l.y[j0:], u.partial[0][src][j0:], u.partial[1][src][j0:], l.dz[j0:], m.rows, j1-j0, l.out)
}

// update computes part k's share of layer i's gradients and applies the optimiser to it,
// unless the step's loss is not finite.
func (u *unitLearner) update(i, k int) {
	if !finite(u.loss[k] * u.inv) {
		return
	}
	u.model.layerGradients(i, k, stepParts, u.into)
	u.updateLayer(i, k, u.opt, u.lr)
}

package nn

import (
	"fmt"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/conv"
	"github.com/modulo-ml/modulo/nn/vec"
)

// normEps is the LayerNorm epsilon of the convolutional kinds, PyTorch's default.
const normEps = 1e-5

// act is a batch of activations, images of c×h×w, with the gradient of the loss with
// respect to them (g is nil in a model that only evaluates).
type act struct {
	c, h, w int
	v, g    []float32 // capacity: the model's batch of images
}

func (a *act) size() int { return a.c * a.h * a.w }

// at returns the first n images of values and gradients.
func (a *act) vals(n int) []float32 { return a.v[:n*a.size()] }
func (a *act) grads(n int) []float32 {
	if a.g == nil {
		return nil
	}
	return a.g[:n*a.size()]
}

// imageLayer is one stage of a convolutional network: it reads its input x and writes its
// output (activations it owns); backward reads the output's gradient, adds its parameters'
// gradients to the model's and writes x's gradient to dx (nil: not wanted, at the input).
type imageLayer interface {
	forward(m *ConvModel, x *act, n int) *act
	backward(m *ConvModel, x *act, n int, dx []float32)
}

// ConvModel is a VGG or ResNet prepared for batches of up to Batch images: it owns the
// activations and gradients of a pass, so a training step allocates nothing. A batch runs
// through it in passes of up to Pass images, each forward and back before the next: every
// layer treats images independently (the norm is over each position's channels), so only
// the sums of the gradients over the images span passes, and they are kept in the order
// of one pass of the whole batch. Passes of a few images keep a layer's activations in
// the cache instead of streaming a whole batch's from memory. It is not safe for
// concurrent use; give each goroutine its own.
type ConvModel struct {
	Net   *Network
	Batch int
	Pass  int // images whose activations are held at once, at most Batch
	BLAS  blas.Impl
	// Grads holds one gradient per parameter, in Net.Params order (nil for a model that
	// only evaluates). Backward adds to them.
	Grads [][]float32

	input  act      // the batch, whose values are the caller's slice
	taps   [][]*act // per permutation group, the activations whose channels it labels
	layers []imageLayer
	ins    []*act // the input of each layer
	head   head
	col    []float32 // im2col scratch, shared by every convolution
	units  []*unit   // every convolution unit, for the work done once a batch
}

// passBudget bounds the activations a pass of the training and evaluation models holds
// (every layer's values, summed over the pass's images). A pass trades two costs: few
// images keep the large early layers' activations in the caches, many stream the small
// late layers' weights through them fewer times a batch (a 128×128 layer's transformed
// weights are 1 MB a direction; 4×4 and 2×2 images give its GEMMs few rows). Measured
// with BenchmarkStepConv (AMD EPYC, 2 cores), ms a step for passes of 8/16/32/64 images:
// ResNet-20 at width 16 (1.5 MB an image) 166–177/166–167/170–171/175–179, VGG-11 at width
// 16 (0.33 MB) 42–44/39–40/38–38.5/38–42.
const passBudget = 12 << 20

// convPassFor is the pass of a's training and evaluation models: the most whole groups of
// the kernels' weight-gradient sums (conv.GradGroup images, summed as in one pass of the
// batch, so that the bits do not depend on the pass) whose activations fit passBudget,
// and at least one group. It gives ResNet-20 at width 16 passes of 8, VGG-11 passes of 32.
func convPassFor(a Arch) int {
	return conv.GradGroup * max(1, passBudget/(conv.GradGroup*4*actFloats(a)))
}

// actFloats is the number of activations one image of a holds in a model: every
// convolution's output (the shortcuts' too), and the norm's beside it, and every pool's
// (Arch.Activations adds the input for memory estimates).
func actFloats(a Arch) int {
	per := 1
	if a.LayerNorm {
		per = 2
	}
	c, h, w := a.Channels, a.Height, a.Width
	total := 0
	switch a.Kind {
	case "vgg":
		for _, width := range a.Plan {
			if width == PlanPool {
				h, w = h/2, w/2
				total += c * h * w
				continue
			}
			c = width
			total += per * c * h * w
		}
	case "resnet":
		total += per * a.Plan[0] * h * w
		for s, width := range a.Plan {
			for k := range a.Blocks {
				units := 2
				if s > 0 && k == 0 {
					h, w = (h-1)/2+1, (w-1)/2+1
					units = 3 // the shortcut's
				}
				total += units * per * width * h * w
			}
		}
	}
	return max(1, total)
}

// NewConvModel prepares n, a vgg or resnet, for batches of up to batch images on b, in one
// pass (Taps sees every image); with backward false it holds no gradients and evaluates
// only.
func NewConvModel(n *Network, batch int, b blas.Impl, backward bool) *ConvModel {
	return newConvModel(n, batch, batch, b, backward)
}

// newConvModel is NewConvModel for passes of up to pass images.
func newConvModel(n *Network, batch, pass int, b blas.Impl, backward bool) *ConvModel {
	a := n.Arch
	if !a.Conv() {
		panic(fmt.Errorf("%w: %s is not a convolutional network", ErrShape, a))
	}
	pass = max(1, min(pass, batch))
	m := &ConvModel{Net: n, Batch: batch, Pass: pass, BLAS: b}
	m.input = act{c: a.Channels, h: a.Height, w: a.Width}
	if backward {
		m.Grads = make([][]float32, len(n.Params))
		for i, p := range n.Params {
			m.Grads[i] = make([]float32, len(p.Data))
		}
	}
	bl := builder{m: m, next: 0, backward: backward}
	cur := &m.input
	// The layers are built, and the groups' taps recorded, in Arch.Spec's order.
	tap := func(a *act) int {
		m.taps = append(m.taps, []*act{a})
		return len(m.taps) - 1
	}
	switch a.Kind {
	case "vgg":
		for _, width := range a.Plan {
			var l imageLayer
			if width == PlanPool {
				l = bl.pool(cur)
			} else {
				u := bl.unit(cur, width, 3, 1, 1, a.LayerNorm, true, slotZ1, bl.nextOut())
				tap(u.y)
				l = u
			}
			m.add(l, cur)
			cur = outOf(l)
		}
	case "resnet":
		stem := bl.unit(cur, a.Plan[0], 3, 1, 1, a.LayerNorm, true, slotZ1, bl.nextOut())
		m.add(stem, cur)
		cur = stem.y
		stream := tap(stem.y)
		for s, width := range a.Plan {
			for k := range a.Blocks {
				stride := 1
				if s > 0 && k == 0 {
					stride = 2
				}
				blk := &resBlock{}
				blk.c1 = bl.unit(cur, width, 3, stride, 1, a.LayerNorm, true, slotZ1, slotY1)
				tap(blk.c1.y)
				blk.c2 = bl.unit(blk.c1.y, width, 3, 1, 1, a.LayerNorm, false, slotZ2, bl.nextOut())
				if stride != 1 || width != cur.c {
					blk.sc = bl.unit(cur, width, 1, stride, 0, a.LayerNorm, false, slotShortZ, slotShortY)
					bl.grad(slotShortDX, pass*cur.size(), func(g []float32) { blk.scdx = g })
					stream = tap(blk.c2.y)
				} else {
					m.taps[stream] = append(m.taps[stream], blk.c2.y)
				}
				m.add(blk, cur)
				cur = blk.c2.y
			}
		}
	}
	m.head = head{in: cur, w: bl.take(), b: bl.take(), out: a.Output}
	m.head.pooled = make([]float32, batch*cur.c)
	m.head.logits = make([]float32, batch*a.Output)
	if backward {
		m.head.dpooled = make([]float32, pass*cur.c)
	}
	if bl.next != len(n.Params) {
		panic(fmt.Errorf("%w: %s uses %d of %d parameters", ErrShape, a, bl.next, len(n.Params)))
	}
	m.col = make([]float32, bl.col)
	bl.allocGrads()
	return m
}

func (m *ConvModel) add(l imageLayer, in *act) {
	m.layers = append(m.layers, l)
	m.ins = append(m.ins, in)
}

// outOf returns a layer's output activations.
func outOf(l imageLayer) *act {
	switch l := l.(type) {
	case *unit:
		return l.y
	case *maxPool:
		return l.y
	case *resBlock:
		return l.c2.y
	}
	panic("unknown layer")
}

// builder hands out the network's parameters in state-dict order (Arch.Spec's), which the
// layers are built in, sizes the shared scratch and the gradient slots.
type builder struct {
	m        *ConvModel
	next     int
	backward bool
	col      int
	out      int // the slot of the last layer's output gradient
	slots    [numSlots]struct {
		size int
		uses []func([]float32)
	}
}

// The activations' gradients share a few buffers, slots, whose uses never overlap in
// Backward: a layer's output gradient is written by the next layer's backward and is dead
// once its own has run, and a block's inner gradients are dead once the block's backward
// has. Layer outputs alternate between slotOut0 and slotOut1, so that a layer's input and
// output gradients are distinct; the inner gradients of every block reuse the same slots.
// Values are not shared: Taps and backward need every layer's. For ResNet-20 this cuts a
// training model's memory by about 40%.
const (
	slotOut0    = iota
	slotOut1    // the other layer output
	slotZ1      // the pre-norm output of a unit with a ReLU (a block's first, the stem, VGG's)
	slotY1      // a block's first unit's output
	slotZ2      // a block's second unit's pre-norm output
	slotShortZ  // the shortcut's pre-norm output
	slotShortY  // the shortcut's output
	slotShortDX // the shortcut's gradient with respect to the block's input
	numSlots
)

// nextOut returns the gradient slot of the next layer's output, the one the last layer's
// output does not use.
func (b *builder) nextOut() int {
	b.out = slotOut0 + slotOut1 - b.out
	return b.out
}

// grad asks for a gradient of size floats in slot, which use receives once every layer is
// built; nothing in a model that only evaluates.
func (b *builder) grad(slot, size int, use func([]float32)) {
	if !b.backward {
		return
	}
	s := &b.slots[slot]
	s.size = max(s.size, size)
	s.uses = append(s.uses, use)
}

// allocGrads allocates each slot at its largest size and hands it to its users.
func (b *builder) allocGrads() {
	for i := range b.slots {
		s := &b.slots[i]
		if s.size == 0 {
			continue
		}
		buf := make([]float32, s.size)
		for _, use := range s.uses {
			use(buf)
		}
	}
}

// take returns the index of the next parameter.
func (b *builder) take() int {
	b.next++
	return b.next - 1
}

// newAct returns activations for a pass of c×h×w images, their gradient in slot.
func (b *builder) newAct(c, h, w, slot int) *act {
	a := &act{c: c, h: h, w: w, v: make([]float32, b.m.Pass*c*h*w)}
	b.grad(slot, len(a.v), func(g []float32) { a.g = g[:len(a.v)] })
	return a
}

// unit is a convolution followed by the optional LayerNorm over channels and ReLU; the
// norm's input gradient goes in slot zSlot, the unit's output gradient in ySlot.
func (b *builder) unit(x *act, out, k, stride, pad int, norm, relu bool, zSlot, ySlot int) *unit {
	u := &unit{conv: conv.Conv2D{In: x.c, Out: out, K: k, Stride: stride, Pad: pad}, relu: relu, bias: -1, gamma: -1, in: x}
	b.m.units = append(b.m.units, u)
	oh, ow := u.conv.OutSize(x.h, x.w)
	u.w = b.take()
	if b.m.Net.Arch.Bias {
		u.bias = b.take()
	}
	if !norm {
		zSlot = ySlot
	}
	u.z = b.newAct(out, oh, ow, zSlot)
	u.y = u.z
	if norm {
		u.norm = conv.ChannelNorm{C: out, Eps: normEps}
		u.gamma, u.beta = b.take(), b.take()
		u.y = b.newAct(out, oh, ow, ySlot)
		u.stats = make([]float32, u.norm.StatsSize(b.m.Pass, oh, ow))
		if b.backward {
			u.sums = make([]float64, u.norm.SumsSize(oh, ow))
		}
	}
	b.col = max(b.col, u.conv.ColSize(x.h, x.w))
	u.prep = make([]float32, u.conv.PrepSize(x.h, x.w))
	return u
}

func (b *builder) pool(x *act) *maxPool {
	p := &maxPool{y: b.newAct(x.c, x.h/2, x.w/2, b.nextOut())}
	p.arg = make([]int32, len(p.y.v))
	return p
}

// Forward computes the logits of the rows images of x (rows×C×H×W) and returns them
// (rows×Output, valid until the next call). It panics if rows exceeds the model's batch.
func (m *ConvModel) Forward(x []float32, rows int) []float32 {
	m.prepare()
	return m.forwardPrepared(x, rows)
}

// forwardPrepared is Forward on the weights as the last prepare laid them out for the
// kernels: for a run of batches through weights that do not change meanwhile.
func (m *ConvModel) forwardPrepared(x []float32, rows int) []float32 {
	m.checkRows(x, rows)
	for r0 := 0; r0 < rows; r0 += m.Pass {
		m.forwardPass(x, r0, min(m.Pass, rows-r0))
	}
	return m.head.logits[:rows*m.Net.Arch.Output]
}

func (m *ConvModel) checkRows(x []float32, rows int) {
	if rows > m.Batch || len(x) < rows*m.input.size() {
		panic(fmt.Errorf("%w: %d images for a model of batch %d", ErrShape, rows, m.Batch))
	}
}

// prepare lays out every convolution's weight for its kernels, once a batch: the
// parameters change between batches only.
func (m *ConvModel) prepare() {
	for _, u := range m.units {
		u.conv.Prepare(m.param(u.w), m.param(u.bias), u.in.h, u.in.w, u.prep)
	}
}

// finish adds the gradients summed over a batch's passes to Grads, once its last pass
// has run back: the norms' and fc's, whose logits' gradient is dlogits (rows×Output).
func (m *ConvModel) finish(dlogits []float32, rows int) {
	for _, u := range m.units {
		if u.gamma >= 0 {
			u.norm.Flush(u.sums, u.z.h, u.z.w, m.grad(u.gamma), m.grad(u.beta))
		}
	}
	m.head.paramGrads(m, dlogits, rows)
}

// forwardPass runs images r0..r0+n−1 of x through the layers and the head.
func (m *ConvModel) forwardPass(x []float32, r0, n int) {
	m.input.v = x[r0*m.input.size() : (r0+n)*m.input.size()]
	cur := &m.input
	for _, l := range m.layers {
		cur = l.forward(m, cur, n)
	}
	m.head.forward(m, r0, n)
}

// Train runs the rows images of x forward and back, a pass at a time, and adds to Grads
// the gradients of the loss: after each pass's forward, loss(logits, r0, n) must write the
// gradient of the loss with respect to the logits of images r0..r0+n−1 (n×Output) to
// dlogits[r0·Output:]. The gradients are those of one Forward and Backward of every row,
// to the bit. It returns the logits of every row, valid until the next call.
func (m *ConvModel) Train(x []float32, rows int, dlogits []float32, loss func(logits []float32, r0, n int)) []float32 {
	m.checkRows(x, rows)
	m.prepare()
	out := m.Net.Arch.Output
	for r0 := 0; r0 < rows; r0 += m.Pass {
		n := min(m.Pass, rows-r0)
		m.forwardPass(x, r0, n)
		loss(m.head.logits[r0*out:(r0+n)*out], r0, n)
		m.backwardPass(dlogits[r0*out:(r0+n)*out], n)
	}
	m.finish(dlogits, rows)
	return m.head.logits[:rows*out]
}

// Tap is a batch's activations whose channels one permutation group labels: Images ×
// Channels × Positions, row-major (NCHW with the positions flattened).
type Tap struct {
	Channels, Positions int
	Data                []float32
}

// Taps returns, for each permutation group of Arch.Spec, the post-ReLU activations of the
// last Forward's rows images that the group's channels label: a VGG convolution's output; a
// ResNet block's inner channels; and for a residual stream, the stem's or the stage's first
// block's output and every later block's output in the stage. They are valid until the
// next pass. Activation matching compares them; it needs a model of one pass (rows ≤ Pass).
func (m *ConvModel) Taps(rows int) [][]Tap {
	if rows > m.Pass {
		panic(fmt.Errorf("%w: taps of %d images from a model of passes of %d", ErrShape, rows, m.Pass))
	}
	out := make([][]Tap, len(m.taps))
	for g, acts := range m.taps {
		for _, a := range acts {
			out[g] = append(out[g], Tap{Channels: a.c, Positions: a.h * a.w, Data: a.vals(rows)})
		}
	}
	return out
}

// Backward adds to Grads the gradients of the loss whose gradient with respect to the
// logits of the last Forward is dlogits (rows×Output). The Forward must have been one
// pass (rows ≤ Pass); Train runs larger batches.
func (m *ConvModel) Backward(dlogits []float32, rows int) {
	if rows > m.Pass {
		panic(fmt.Errorf("%w: backward of %d images through a model of passes of %d", ErrShape, rows, m.Pass))
	}
	m.backwardPass(dlogits, rows)
	m.finish(dlogits, rows)
}

// backwardPass runs the last pass's n images back through the head's input gradient and
// the layers.
func (m *ConvModel) backwardPass(dlogits []float32, n int) {
	m.head.backward(m, dlogits, n)
	for i := len(m.layers) - 1; i >= 0; i-- {
		x := m.ins[i]
		m.layers[i].backward(m, x, n, x.grads(n))
	}
}

// param and grad return parameter i's values and gradient; nil for i < 0.
func (m *ConvModel) param(i int) []float32 {
	if i < 0 {
		return nil
	}
	return m.Net.Params[i].Data
}

func (m *ConvModel) grad(i int) []float32 {
	if i < 0 {
		return nil
	}
	return m.Grads[i]
}

// unit is conv → LayerNorm over channels (optional) → ReLU (optional). Without the norm,
// y is z; the ReLU runs in place on y, and its backward reads y's sign.
type unit struct {
	conv                 conv.Conv2D
	w, bias, gamma, beta int // parameter indices; −1 for none
	norm                 conv.ChannelNorm
	relu                 bool
	in, z, y             *act // the convolution's input and output, and the unit's
	stats                []float32
	sums                 []float64 // the norm's γ and β gradient sums over a batch's passes
	prep                 []float32 // the conv's weight and bias as its kernels read them
}

func (u *unit) forward(m *ConvModel, x *act, n int) *act {
	z := u.z.vals(n)
	u.conv.Forward(m.BLAS, x.vals(n), n, x.h, x.w, m.param(u.w), m.param(u.bias), u.prep, z, m.col[:u.conv.ColSize(x.h, x.w)])
	switch {
	case u.gamma >= 0 && u.relu:
		u.norm.ForwardReLU(z, n, u.z.h, u.z.w, m.param(u.gamma), m.param(u.beta), u.y.vals(n), u.stats[:u.norm.StatsSize(n, u.z.h, u.z.w)])
	case u.gamma >= 0:
		u.norm.Forward(z, n, u.z.h, u.z.w, m.param(u.gamma), m.param(u.beta), u.y.vals(n), u.stats[:u.norm.StatsSize(n, u.z.h, u.z.w)])
	case u.relu:
		y := u.y.vals(n)
		vec.Relu(y, y)
	}
	return u.y
}

func (u *unit) backward(m *ConvModel, x *act, n int, dx []float32) {
	dy := u.y.grads(n)
	dz := dy
	if u.gamma >= 0 {
		// With the ReLU, the norm's backward applies its mask as it reads dy.
		var y []float32
		if u.relu {
			y = u.y.vals(n)
		}
		dz = u.z.grads(n)
		h, w := u.z.h, u.z.w
		u.norm.PassBackward(u.z.vals(n), n, h, w, m.param(u.gamma), u.stats[:u.norm.StatsSize(n, h, w)], y, dy, dz, u.sums)
	} else if u.relu {
		vec.ReluBackward(u.y.vals(n), dy, dy)
	}
	u.conv.Backward(m.BLAS, x.vals(n), n, x.h, x.w, m.param(u.w), u.prep, dz, dx, m.grad(u.w), m.grad(u.bias), m.col[:u.conv.ColSize(x.h, x.w)])
}

// resBlock is open_lth's ResNet block: relu(c2(c1(x)) + shortcut(x)), the shortcut the
// identity or, where the block changes the shape, a 1×1 convolution with its norm. The sum
// is formed in c2's output, in place.
type resBlock struct {
	c1, c2 *unit
	sc     *unit     // nil: the identity
	scdx   []float32 // the shortcut's gradient with respect to x, before it is added
}

func (r *resBlock) forward(m *ConvModel, x *act, n int) *act {
	r.c1.forward(m, x, n)
	y := r.c2.forward(m, r.c1.y, n).vals(n)
	short := x.vals(n)
	if r.sc != nil {
		short = r.sc.forward(m, x, n).vals(n)
	}
	conv.AddReLU(y, short)
	return r.c2.y
}

func (r *resBlock) backward(m *ConvModel, x *act, n int, dx []float32) {
	dy := r.c2.y.grads(n)
	vec.ReluBackward(r.c2.y.vals(n), dy, dy)
	r.c2.backward(m, r.c1.y, n, r.c1.y.grads(n)) // reads dy, leaves it as it is
	r.c1.backward(m, x, n, dx)
	if r.sc == nil {
		addTo(dx, dy)
		return
	}
	var sdx []float32
	if dx != nil {
		sdx = r.scdx[:len(dx)]
	}
	copy(r.sc.y.grads(n), dy)
	r.sc.backward(m, x, n, sdx)
	addTo(dx, sdx)
}

// addTo adds src to dst; nothing when dst is nil.
func addTo(dst, src []float32) {
	if dst == nil {
		return
	}
	conv.Add(dst, src)
}

// maxPool is a 2×2 max-pool with stride 2.
type maxPool struct {
	y   *act
	arg []int32
}

func (p *maxPool) forward(m *ConvModel, x *act, n int) *act {
	conv.MaxPool2(x.vals(n), n, x.c, x.h, x.w, p.y.vals(n), p.arg[:n*p.y.size()])
	return p.y
}

func (p *maxPool) backward(m *ConvModel, x *act, n int, dx []float32) {
	if dx != nil {
		conv.MaxPool2Backward(p.y.grads(n), p.arg[:n*p.y.size()], dx)
	}
}

// head is the global average pool and the linear layer "fc" that give the logits. It
// keeps the pooled features and logits of a whole batch, which a pass fills its rows of,
// so that the gradients of fc's parameters are summed over the batch at once, as one pass
// would.
type head struct {
	in                      *act
	w, b, out               int
	pooled, dpooled, logits []float32 // a batch's, a pass's, a batch's
}

// forward computes the pooled features and logits of the last pass's images, rows
// r0..r0+n−1 of the batch's.
func (h *head) forward(m *ConvModel, r0, n int) {
	c := h.in.c
	pooled, logits := h.pooled[r0*c:(r0+n)*c], h.logits[r0*h.out:(r0+n)*h.out]
	conv.GlobalAvgPool(h.in.vals(n), n, c, h.in.h, h.in.w, pooled)
	linear(m.BLAS, pooled, n, m.param(h.w), false, m.param(h.b), c, h.out, logits)
}

// backward writes the gradient with respect to its input of the last pass's n images,
// whose logits' gradient is dl (n×out).
func (h *head) backward(m *ConvModel, dl []float32, n int) {
	c := h.in.c
	dp := h.dpooled[:n*c]
	m.BLAS.Sgemm(false, false, n, c, h.out, 1, dl[:n*h.out], h.out, m.param(h.w), c, 0, dp, c)
	conv.GlobalAvgPoolBackward(dp, n, c, h.in.h, h.in.w, h.in.grads(n))
}

// paramGrads adds the gradients of fc's weight and bias over a batch's rows, whose
// logits' gradient is dlogits (rows×out).
func (h *head) paramGrads(m *ConvModel, dlogits []float32, rows int) {
	c := h.in.c
	dl := dlogits[:rows*h.out]
	m.BLAS.Sgemm(true, false, h.out, c, rows, 1, dl, h.out, h.pooled[:rows*c], c, 1, m.grad(h.w), c)
	db := m.grad(h.b)
	for r := range rows {
		for j, v := range dl[r*h.out : (r+1)*h.out] {
			db[j] += v
		}
	}
}

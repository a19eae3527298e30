package nn

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/conv"
	"github.com/modulo-ml/modulo/nn/data"
)

// ref64 is a float64 reference of the convolutional kinds, written from open_lth's
// modules directly (loops, no im2col), to check ConvModel's forward pass against and to
// take finite differences precise enough to check its backward pass: in float32, the
// ReLUs that follow a norm sit so near their kinks that differences with steps large
// enough to beat rounding cross them.
type ref64 struct {
	a Arch
	p map[string][]float64
}

func newRef64(n *Network) *ref64 {
	r := &ref64{a: n.Arch, p: map[string][]float64{}}
	for _, q := range n.Params {
		v := make([]float64, len(q.Data))
		for i, x := range q.Data {
			v[i] = float64(x)
		}
		r.p[q.Name] = v
	}
	return r
}

// img is one image, c×h×w.
type img struct {
	c, h, w int
	v       []float64
}

func (r *ref64) conv(x img, name string, out, k, stride, pad int, bias bool) img {
	wt := r.p[name+".weight"]
	oh, ow := (x.h+2*pad-k)/stride+1, (x.w+2*pad-k)/stride+1
	y := img{out, oh, ow, make([]float64, out*oh*ow)}
	for o := range out {
		for oy := range oh {
			for ox := range ow {
				s := 0.0
				if bias {
					s = r.p[name+".bias"][o]
				}
				for c := range x.c {
					for ky := range k {
						for kx := range k {
							iy, ix := oy*stride+ky-pad, ox*stride+kx-pad
							if iy >= 0 && iy < x.h && ix >= 0 && ix < x.w {
								s += wt[((o*x.c+c)*k+ky)*k+kx] * x.v[(c*x.h+iy)*x.w+ix]
							}
						}
					}
				}
				y.v[(o*oh+oy)*ow+ox] = s
			}
		}
	}
	return y
}

func (r *ref64) norm(x img, name string) img {
	if !r.a.LayerNorm {
		return x
	}
	g, b := r.p[name+".layernorm.weight"], r.p[name+".layernorm.bias"]
	y := img{x.c, x.h, x.w, make([]float64, len(x.v))}
	hw := x.h * x.w
	for p := range hw {
		m, v := 0.0, 0.0
		for c := range x.c {
			m += x.v[c*hw+p]
		}
		m /= float64(x.c)
		for c := range x.c {
			d := x.v[c*hw+p] - m
			v += d * d
		}
		v /= float64(x.c)
		for c := range x.c {
			y.v[c*hw+p] = g[c]*(x.v[c*hw+p]-m)/math.Sqrt(v+normEps) + b[c]
		}
	}
	return y
}

func relu64(x img) img {
	for i, v := range x.v {
		x.v[i] = max(v, 0)
	}
	return x
}

func (r *ref64) forward(x []float64) []float64 {
	a := r.a
	cur := img{a.Channels, a.Height, a.Width, x}
	switch a.Kind {
	case "vgg":
		for i, w := range a.Plan {
			if w == PlanPool {
				y := img{cur.c, cur.h / 2, cur.w / 2, make([]float64, cur.c*(cur.h/2)*(cur.w/2))}
				for c := range cur.c {
					for oy := range y.h {
						for ox := range y.w {
							m := math.Inf(-1)
							for d := range 4 {
								m = max(m, cur.v[(c*cur.h+2*oy+d/2)*cur.w+2*ox+d%2])
							}
							y.v[(c*y.h+oy)*y.w+ox] = m
						}
					}
				}
				cur = y
				continue
			}
			name := fmt.Sprintf("layers.%d", i)
			cur = relu64(r.norm(r.conv(cur, name+".conv", w, 3, 1, 1, true), name+".bn"))
		}
	case "resnet":
		cur = relu64(r.norm(r.conv(cur, "conv", a.Plan[0], 3, 1, 1, false), "bn"))
		j := 0
		for s, w := range a.Plan {
			for k := range a.Blocks {
				name, stride := fmt.Sprintf("blocks.%d", j), 1
				if s > 0 && k == 0 {
					stride = 2
				}
				out := relu64(r.norm(r.conv(cur, name+".conv1", w, 3, stride, 1, false), name+".bn1"))
				out = r.norm(r.conv(out, name+".conv2", w, 3, 1, 1, false), name+".bn2")
				short := cur
				if stride != 1 || w != cur.c {
					short = r.norm(r.conv(cur, name+".shortcut.0", w, 1, stride, 0, false), name+".shortcut.1")
				}
				for i := range out.v {
					out.v[i] += short.v[i]
				}
				cur = relu64(out)
				j++
			}
		}
	}
	fw, fb := r.p["fc.weight"], r.p["fc.bias"]
	logits := make([]float64, a.Output)
	hw := float64(cur.h * cur.w)
	for o := range a.Output {
		s := fb[o]
		for c := range cur.c {
			m := 0.0
			for _, v := range cur.v[c*cur.h*cur.w : (c+1)*cur.h*cur.w] {
				m += v
			}
			s += fw[o*cur.c+c] * m / hw
		}
		logits[o] = s
	}
	return logits
}

// loss is the mean cross-entropy of the rows images of x.
func (r *ref64) loss(x []float64, y []uint8) float64 {
	n := r.a.Input
	total := 0.0
	for i, label := range y {
		z := r.forward(x[i*n : (i+1)*n])
		m := math.Inf(-1)
		for _, v := range z {
			m = max(m, v)
		}
		s := 0.0
		for _, v := range z {
			s += math.Exp(v - m)
		}
		total += math.Log(s) + m - z[label]
	}
	return total / float64(len(y))
}

// TestConvModelMatchesReference checks ConvModel's logits against the float64 reference
// (1e-5) and its gradients against the reference's central differences, for small VGGs and
// ResNets with and without LayerNorm: every parameter tensor, so every path of the backward
// pass (shortcuts, pools, norms, the head) is checked. The last case, a two-stage ResNet on
// odd 15×15 images at batch 40, is where a stride-2 path once went wrong for some batch
// sizes; its gradients are sampled more sparsely, as each reference pass is 40 images.
func TestConvModelMatchesReference(t *testing.T) {
	type tc struct {
		a       Arch
		rows    int
		samples int // gradient entries checked per parameter tensor, about
	}
	var cases []tc
	for _, a := range convArchs() {
		cases = append(cases, tc{a, 3, 12})
	}
	cases = append(cases, tc{Arch{Kind: "resnet", Input: 15 * 15, Output: 4, Activation: "relu", LayerNorm: true,
		Channels: 1, Height: 15, Width: 15, Plan: []int{8, 16}, Blocks: 1}, 40, 2})
	for _, c := range cases {
		a, rows := c.a, c.rows
		t.Run(fmt.Sprintf("%s/batch%d", a, rows), func(t *testing.T) {
			net, err := Init(a, "pytorch", 7)
			if err != nil {
				t.Fatal(err)
			}
			rng := NewRand(3, 3)
			for _, p := range net.Params {
				if len(p.Shape) == 1 { // norms away from 1 and 0, biases larger
					for j := range p.Data {
						p.Data[j] += float32(rng.NormFloat64() * 0.3)
					}
				}
			}
			x := make([]float32, rows*a.Input)
			x64 := make([]float64, len(x))
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				x64[i] = float64(x[i])
			}
			y := make([]uint8, rows)
			for i := range y {
				y[i] = uint8([]int{0, 2, 1}[i%3] % a.Output)
			}
			for _, impl := range []blas.Impl{blas.Gonum(), blas.Default()} {
				m := NewConvModel(net, rows, impl, true)
				dl := make([]float32, rows*a.Output)
				logits := m.Forward(x, rows)
				ref := newRef64(net)
				for i := range rows {
					for o, want := range ref.forward(x64[i*a.Input : (i+1)*a.Input]) {
						if got := float64(logits[i*a.Output+o]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
							t.Fatalf("%s: logit %d of image %d is %.7f, the reference's %.7f", impl, o, i, got, want)
						}
					}
				}
				SoftmaxCrossEntropy(logits, y, rows, a.Output, dl)
				m.Backward(dl, rows)
				for pi, p := range net.Params {
					// A sample of each tensor keeps the reference's passes few.
					for j := 0; j < len(p.Data); j += 1 + len(p.Data)/c.samples {
						v := ref.p[p.Name]
						orig, h := v[j], 1e-6
						v[j] = orig + h
						lp := ref.loss(x64, y)
						v[j] = orig - h
						lm := ref.loss(x64, y)
						v[j] = orig
						num, got := (lp-lm)/(2*h), float64(m.Grads[pi][j])
						if math.Abs(num-got) > 1e-4+1e-3*math.Abs(num) {
							t.Errorf("%s: %s[%d]: backward %.6f, reference's finite difference %.6f", impl, p.Name, j, got, num)
						}
					}
				}
			}
		})
	}
}

// syntheticImages is a small 4-class problem of 1×8×8 images.
func syntheticImages(t *testing.T) *data.Dataset {
	t.Helper()
	d, err := data.Stripes(data.StripesConfig{Examples: 600, TestExamples: 200, Channels: 1, Size: 8, Classes: 4, Seed: 1, Noise: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func convTrainConfig(a Arch) TrainConfig {
	return TrainConfig{
		Arch: a, Init: "kaiming_normal", Seed: 1, DataSeed: 2, Epochs: 3, BatchSize: 32,
		Optim:     OptimConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: 1e-4},
		Schedule:  Schedule{LR: 0.05, Kind: "constant"},
		EvalTrain: 10000,
		BLAS:      blas.Default(),
	}
}

// TestConvTrains: a small ResNet and VGG learn the synthetic images, two runs give the same
// bits whatever the threads, and masked weights stay zero.
func TestConvTrains(t *testing.T) {
	d := syntheticImages(t)
	// Adam for 5 epochs: with SGD and momentum (lr 0.05) networks this small stay near chance
	// for some initialisations (seeds 1-6 of the ResNet and 1-8 of the VGG reached 0.23-0.95
	// test accuracy), so the test passed or failed with the last bits of the kernels. With
	// Adam, the same seeds all reach ≥ 0.955, well clear of the 0.8 asked.
	for _, a := range []Arch{
		{Kind: "resnet", Input: 64, Output: 4, Activation: "relu", LayerNorm: true, Channels: 1, Height: 8, Width: 8, Plan: []int{8, 16}, Blocks: 1},
		{Kind: "vgg", Input: 64, Output: 4, Activation: "relu", Bias: true, LayerNorm: true, Channels: 1, Height: 8, Width: 8, Plan: []int{8, PlanPool, 16}},
	} {
		t.Run(a.Kind, func(t *testing.T) {
			cfg := convTrainConfig(a)
			cfg.Epochs = 5
			cfg.Optim = OptimConfig{Kind: "adam", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
			cfg.Schedule = Schedule{LR: 0.01, Kind: "constant"}
			// A conv net trains with a spare P (see holdSpareP), given back at the end.
			base, during := runtime.GOMAXPROCS(0), 0
			cfg.Progress = func(Progress) { during = runtime.GOMAXPROCS(0) }
			res, err := Train(context.Background(), cfg, d.Train, d.Test)
			if err != nil {
				t.Fatal(err)
			}
			if after := runtime.GOMAXPROCS(0); during != base+1 || after != base {
				t.Errorf("GOMAXPROCS %d before training, %d during, %d after; want %d, %d, %d", base, during, after, base, base+1, base)
			}
			cfg.Progress = nil
			first, last := res.Metrics[0], res.Metrics[len(res.Metrics)-1]
			if last.TestAcc < 0.8 || last.TestLoss >= first.TestLoss {
				t.Errorf("test accuracy %.3f (want ≥ 0.8), loss %.3f → %.3f", last.TestAcc, first.TestLoss, last.TestLoss)
			}
			for _, threads := range []int{1, 3} {
				cfg.BLAS = blas.Default().WithThreads(threads)
				again, err := Train(context.Background(), cfg, d.Train, d.Test)
				if err != nil {
					t.Fatal(err)
				}
				for i, p := range res.Final.Params {
					sameBits(t, fmt.Sprintf("%s with %d threads", p.Name, threads), again.Final.Params[i].Data, p.Data)
				}
			}
			w := res.Final.Params[0]
			mask := make([]float32, len(w.Data))
			for i := range mask {
				mask[i] = float32(i % 2)
			}
			cfg.Masks = map[string][]float32{w.Name: mask}
			masked, err := Train(context.Background(), cfg, d.Train, d.Test)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range masked.Final.Params[0].Data {
				if mask[i] == 0 && v != 0 {
					t.Fatalf("masked weight %d of %s is %g", i, w.Name, v)
				}
			}
		})
	}
}

// TestConvEvaluationWithTrainingModels: at batch 100 the training parts' models (50
// images each) take evaluation's chunks, and the metrics Train reports are those of a
// fresh evaluation of the same network, bit for bit.
func TestConvEvaluationWithTrainingModels(t *testing.T) {
	d := syntheticImages(t)
	a := Arch{Kind: "resnet", Input: 64, Output: 4, Activation: "relu", LayerNorm: true, Channels: 1, Height: 8, Width: 8, Plan: []int{8, 16}, Blocks: 1}
	cfg := convTrainConfig(a)
	cfg.Epochs, cfg.BatchSize, cfg.EvalTrain = 1, 100, 300
	net, err := Init(a, cfg.Init, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	l := newConvLearner(net, cfg.BatchSize, cfg.BLAS, nil, nil, nil)
	if f := l.forwarders(evalChunk(a)); len(f) != stepParts {
		t.Fatalf("a learner of batch %d lends %d models for chunks of %d, want %d", cfg.BatchSize, len(f), evalChunk(a), stepParts)
	}
	res, err := Train(context.Background(), cfg, d.Train, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	last := res.Metrics[len(res.Metrics)-1]
	for _, c := range []struct {
		name      string
		s         *data.Set
		limit     int
		loss, acc float64
	}{{"train", d.Train, cfg.EvalTrain, last.TrainLoss, last.TrainAcc}, {"test", d.Test, 0, last.TestLoss, last.TestAcc}} {
		loss, acc, err := Evaluate(context.Background(), res.Final, c.s, c.limit, blas.Default())
		if err != nil {
			t.Fatal(err)
		}
		if loss != c.loss || acc != c.acc {
			t.Errorf("%s: Train reported loss %v accuracy %v, a fresh evaluation %v and %v", c.name, c.loss, c.acc, loss, acc)
		}
	}
}

// TestTapsFollowTheSpec: each group's taps have its channels, and a network whose group g
// alone is relabelled shows g's taps relabelled the same way (checked through the spec's
// sizes here; perm's tests check the relabelling).
func TestTapsFollowTheSpec(t *testing.T) {
	for _, a := range convArchs() {
		net, _ := Init(a, "pytorch", 1)
		m := NewConvModel(net, 2, blas.Gonum(), false)
		x := make([]float32, 2*a.Input)
		m.Forward(x, 2)
		taps, groups := m.Taps(2), a.Spec().Groups
		if len(taps) != len(groups) {
			t.Fatalf("%s: %d taps for %d groups", a, len(taps), len(groups))
		}
		for g, ts := range taps {
			if len(ts) == 0 {
				t.Errorf("%s: group %s has no tap", a, groups[g].Name)
			}
			for _, tp := range ts {
				if tp.Channels != groups[g].Size || len(tp.Data) != 2*tp.Channels*tp.Positions {
					t.Errorf("%s: a tap of group %s has %d channels (%d values), want %d", a, groups[g].Name, tp.Channels, len(tp.Data), groups[g].Size)
				}
			}
		}
	}
}

// TestPassesGiveOnePassBits: a batch run forward and back in passes of one or two groups
// (conv.GradGroup images) gives the logits and gradients of one pass of every image, to
// the bit, with either BLAS (the head's GEMMs included: its parameters' gradients are
// summed over the batch at once). 21 images make passes of 8, 8 and 5, or 16 and 5.
func TestPassesGiveOnePassBits(t *testing.T) {
	archs := append(convArchs(), Arch{Kind: "resnet", Input: 16 * 16, Output: 10, Activation: "relu", LayerNorm: true,
		Channels: 1, Height: 16, Width: 16, Plan: []int{16, 32, 64}, Blocks: 1})
	const rows = 21
	for _, a := range archs {
		net, err := Init(a, "pytorch", 7)
		if err != nil {
			t.Fatal(err)
		}
		rng := NewRand(3, 3)
		x := make([]float32, rows*a.Input)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		y := make([]uint8, rows)
		for i := range y {
			y[i] = uint8(i % a.Output)
		}
		for _, impl := range []blas.Impl{blas.Gonum(), blas.Default()} {
			one := newConvModel(net, rows, rows, impl, true)
			dl := make([]float32, rows*a.Output)
			want := slices.Clone(one.Forward(x, rows))
			crossEntropy(want, y, rows, a.Output, 1.0/rows, dl)
			one.Backward(dl, rows)

			// Passes of one group and of two (convPassFor picks any number of groups).
			for _, pass := range []int{conv.GradGroup, 2 * conv.GradGroup} {
				passes := newConvModel(net, rows, pass, impl, true)
				dl2 := make([]float32, rows*a.Output)
				var seen, wantSeen []int
				for r0 := 0; r0 < rows; r0 += pass {
					wantSeen = append(wantSeen, r0, min(pass, rows-r0))
				}
				got := passes.Train(x, rows, dl2, func(logits []float32, r0, n int) {
					seen = append(seen, r0, n)
					crossEntropy(logits, y[r0:], n, a.Output, 1.0/rows, dl2[r0*a.Output:])
				})
				if !slices.Equal(seen, wantSeen) {
					t.Fatalf("%s: passes (first, images) %v, want %v", a, seen, wantSeen)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s, %s, passes of %d: logits of passes differ from one pass's", a, impl, pass)
				}
				for i, p := range net.Params {
					if !slices.Equal(passes.Grads[i], one.Grads[i]) {
						t.Errorf("%s, %s, passes of %d: gradient of %s from passes differs from one pass's", a, impl, pass, p.Name)
					}
				}
			}
		}
	}
}

// TestConvPassFor checks the activations convPassFor counts against those a model holds,
// and the passes it picks: ResNet-20 at width 16 in one group of images, VGG-11 in four,
// a network too large for the budget still in one.
func TestConvPassFor(t *testing.T) {
	resnet := Arch{Kind: "resnet", Input: 1024, Output: 10, Activation: "relu", LayerNorm: true, Channels: 1, Height: 32, Width: 32,
		Plan: []int{16, 32, 64}, Blocks: 3}
	vgg := Arch{Kind: "vgg", Input: 1024, Output: 10, Activation: "relu", Bias: true, LayerNorm: true, Channels: 1, Height: 32, Width: 32,
		Plan: []int{16, PlanPool, 32, PlanPool, 64, 64, PlanPool, 128, 128, PlanPool, 128, 128}}
	wide := resnet
	wide.Plan = []int{256, 512, 1024}
	for _, a := range append(convArchs(), resnet, vgg) {
		net, err := Init(a, "pytorch", 1)
		if err != nil {
			t.Fatal(err)
		}
		m := newConvModel(net, 1, 1, blas.Gonum(), false)
		held := 0
		for _, u := range m.units {
			held += u.z.size()
			if u.y != u.z {
				held += u.y.size()
			}
		}
		for _, l := range m.layers {
			if p, ok := l.(*maxPool); ok {
				held += p.y.size()
			}
		}
		if got := actFloats(a); got != held {
			t.Errorf("%s: actFloats %d, the model holds %d an image", a, got, held)
		}
	}
	for _, c := range []struct {
		a    Arch
		want int
	}{{resnet, 8}, {vgg, 32}, {wide, conv.GradGroup}} {
		if got := convPassFor(c.a); got != c.want {
			t.Errorf("%s: pass %d, want %d", c.a, got, c.want)
		}
	}
}

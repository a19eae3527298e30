// Command nnstep is modulo's side of the one-step cross-check (issue 16): it takes a batch
// of MNIST training images (the first -batch from -offset, padded with zeros for a
// convolutional network larger than 28×28, as the dataset option pad does), writes it as the
// raw files scripts/torch_step.py reads (float32 rows, uint8 labels), takes -steps SGD
// steps on it from the network in -net with nn.Train, the trainer pipelines run (mean
// cross-entropy, PyTorch's SGD semantics), and writes the network after them to -out. torch_step.py then
// takes the same steps in PyTorch and, with --compare, checks every parameter within 1e-5:
//
//	go run ./scripts/nnstep -net net.safetensors -images x.f32 -labels y.u8 -out modulo.safetensors
//	python3 scripts/torch_step.py --net net.safetensors --images x.f32 --labels y.u8 --lr 0.05 \
//	  --momentum 0.9 --out torch.safetensors --compare modulo.safetensors
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

type config struct {
	net, images, labels, out, dir string
	batch, offset, steps          int
	opt                           nn.OptimConfig
	lr                            float64
}

func main() {
	var c config
	flag.StringVar(&c.net, "net", "", "network before the step (safetensors)")
	flag.StringVar(&c.images, "images", "", "output: the batch's inputs, raw little-endian float32 rows")
	flag.StringVar(&c.labels, "labels", "", "output: the batch's labels, one uint8 each")
	flag.StringVar(&c.out, "out", "", "output: the network after the steps (safetensors)")
	flag.StringVar(&c.dir, "mnist", "", "MNIST IDX directory (default: data.MNISTDir())")
	flag.IntVar(&c.batch, "batch", 128, "examples in the batch")
	flag.IntVar(&c.offset, "offset", 0, "index of the batch's first training example")
	flag.IntVar(&c.steps, "steps", 1, "SGD steps on the batch (the second uses the momentum buffer)")
	flag.Float64Var(&c.lr, "lr", 0.05, "learning rate")
	flag.Float64Var(&c.opt.Momentum, "momentum", 0.9, "SGD momentum")
	flag.Float64Var(&c.opt.WeightDecay, "weight-decay", 0, "weight decay (added to the gradient)")
	flag.BoolVar(&c.opt.Nesterov, "nesterov", false, "Nesterov momentum")
	flag.Parse()
	c.opt.Kind = "sgd"
	if c.net == "" || c.images == "" || c.labels == "" || c.out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: nnstep -net NET -images X.f32 -labels Y.u8 -out AFTER.safetensors [-batch 128] [-offset 0] [-steps 1] [-lr 0.05] [-momentum 0.9] [-weight-decay 0] [-nesterov] [-mnist DIR]")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "nnstep:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	b, err := os.ReadFile(c.net)
	if err != nil {
		return err
	}
	net, metadata, err := nn.DecodeNetwork(b)
	if err != nil {
		return fmt.Errorf("%s: %w", c.net, err)
	}
	x, y, err := batch(c, net.Arch)
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.images, nn.F32Bytes(x), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(c.labels, y, 0o644); err != nil {
		return err
	}
	if c.steps < 1 {
		return fmt.Errorf("-steps must be at least 1, got %d", c.steps)
	}
	impl := blas.Default()
	rows := len(y)
	a := net.Arch
	set := &data.Set{X: x, Y: y, N: rows, D: a.Input, Classes: a.Output}
	if a.Conv() {
		set.C, set.H, set.W = a.Channels, a.Height, a.Width
	}
	// The steps are taken by nn.Train itself, on the batch as the whole training set (one
	// step an epoch, the batch in a shuffled order, split in the trainer's parts), so what
	// is checked is the trainer that pipelines run.
	res, err := nn.Train(context.Background(), nn.TrainConfig{
		Arch: a, Start: net, Epochs: c.steps, BatchSize: rows, Optim: c.opt,
		Schedule: nn.Schedule{LR: c.lr, Kind: "constant"}, EvalTrain: rows, BLAS: impl,
	}, set, set)
	if err != nil {
		return err
	}
	net = res.Final
	first := res.Metrics[0].TrainLoss
	delete(metadata, "format") // EncodeNetwork writes these two itself
	delete(metadata, "modulo.arch")
	out, err := nn.EncodeNetwork(net, metadata)
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.out, out, 0o644); err != nil {
		return err
	}
	fmt.Printf("modulo: %s, batch of %d (training examples %d to %d), SGD lr %g momentum %g weight_decay %g, %d step(s): loss %.6f before -> %s (blas %s, kernel %s)\n",
		net.Arch, rows, c.offset, c.offset+rows-1, c.lr, c.opt.Momentum, c.opt.WeightDecay, c.steps, first, c.out, impl.Name(), impl.Kernel())
	return nil
}

// batch returns training examples [offset, offset+batch) of MNIST, padded to the network's
// image size if it is a convolutional one that needs it.
func batch(c config, a nn.Arch) ([]float32, []uint8, error) {
	dir := c.dir
	if dir == "" {
		var err error
		if dir, err = data.MNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	d, err := data.LoadIDXDir("mnist", dir)
	if err != nil {
		return nil, nil, err
	}
	if a.Conv() && d.Train.IsImage() && a.Height-d.Train.H == a.Width-d.Train.W && a.Height > d.Train.H {
		if d, err = d.WithOptions(data.Options{Pad: (a.Height - d.Train.H) / 2}); err != nil {
			return nil, nil, err
		}
	}
	s := d.Train
	if s.D != a.Input {
		return nil, nil, fmt.Errorf("MNIST's examples have %d values but %s takes %d", s.D, a, a.Input)
	}
	if c.batch < 1 || c.offset < 0 || c.offset+c.batch > s.N {
		return nil, nil, fmt.Errorf("-offset %d and -batch %d do not fit the %d training examples", c.offset, c.batch, s.N)
	}
	return s.X[c.offset*s.D : (c.offset+c.batch)*s.D], s.Y[c.offset : c.offset+c.batch], nil
}

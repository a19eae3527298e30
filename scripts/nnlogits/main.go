// Command nnlogits computes a saved network's logits on the MNIST test set, for
// `make crosscheck`: it decodes a safetensors network (nn.DecodeNetwork), loads the test
// split (data.LoadIDXDir of data.MNISTDir(), or -mnist DIR), runs nn.Model.Forward over it
// in chunks, and writes the logits as raw little-endian float32, N×Output row-major. It
// prints the MNIST directory, the network and the test accuracy (first arg-max, as modulo's
// own evaluation counts it). A convolutional network whose images are larger than MNIST's
// by the same even amount both ways gets the digits padded with zeros on every side (the
// dataset option pad: 2 for 32×32), as scripts/crosscheck.py pads them too.
//
// Usage: go run ./scripts/nnlogits -net net.safetensors -out logits.f32 [-mnist DIR] [-chunk 1000]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

func main() {
	netPath := flag.String("net", "", "network file (safetensors, as `modulo export` writes it)")
	out := flag.String("out", "", "output file for the logits (raw little-endian float32)")
	dir := flag.String("mnist", "", "MNIST IDX directory (default: data.MNISTDir())")
	chunk := flag.Int("chunk", 1000, "rows per forward pass")
	flag.Parse()
	if *netPath == "" || *out == "" || *chunk < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: nnlogits -net NET.safetensors -out LOGITS.f32 [-mnist DIR] [-chunk N]")
		os.Exit(2)
	}
	if err := run(*netPath, *out, *dir, *chunk); err != nil {
		fmt.Fprintln(os.Stderr, "nnlogits:", err)
		os.Exit(1)
	}
}

func run(netPath, out, dir string, chunk int) error {
	b, err := os.ReadFile(netPath)
	if err != nil {
		return err
	}
	net, _, err := nn.DecodeNetwork(b)
	if err != nil {
		return fmt.Errorf("%s: %w", netPath, err)
	}
	if dir == "" {
		if dir, err = data.MNISTDir(); err != nil {
			return err
		}
	}
	d, err := data.LoadIDXDir("mnist", dir)
	if err != nil {
		return err
	}
	if p := padFor(net.Arch, d.Test); p > 0 {
		if d, err = d.WithOptions(data.Options{Pad: p}); err != nil {
			return err
		}
	}
	test := d.Test
	if test.D != net.Arch.Input {
		return fmt.Errorf("the test set has %d features but the network %s takes %d", test.D, net.Arch, net.Arch.Input)
	}
	C := net.Arch.Output
	impl := blas.Default()
	if net.Arch.Conv() {
		chunk = min(chunk, 100) // a conv model keeps every layer's activations
	}
	m := nn.NewForwarder(net, min(chunk, test.N), impl)
	logits := make([]float32, test.N*C)
	correct := 0
	for lo := 0; lo < test.N; lo += chunk {
		rows := min(chunk, test.N-lo)
		z := m.Forward(test.X[lo*test.D:(lo+rows)*test.D], rows)
		copy(logits[lo*C:(lo+rows)*C], z)
		for r := 0; r < rows; r++ {
			row := z[r*C : (r+1)*C]
			arg := 0
			for j, v := range row {
				if v > row[arg] {
					arg = j
				}
			}
			if arg == int(test.Y[lo+r]) {
				correct++
			}
		}
	}
	if err := os.WriteFile(out, nn.F32Bytes(logits), 0o644); err != nil {
		return err
	}
	fmt.Printf("mnist_dir %s\n", dir)
	fmt.Printf("network %s, %d parameters; blas %s, kernel %s, %d threads\n", net.Arch, net.NumParams(), impl.Name(), impl.Kernel(), impl.Threads())
	fmt.Printf("logits %d×%d float32 -> %s\n", test.N, C, out)
	fmt.Printf("accuracy %.4f (%d/%d)\n", float64(correct)/float64(test.N), correct, test.N)
	return nil
}

// padFor returns the zeros to add on every side of s's images for a's input, or 0 if a
// takes s as it is or padding cannot make it fit (the caller's size check says so).
func padFor(a nn.Arch, s *data.Set) int {
	if !a.Conv() || !s.IsImage() || s.C != a.Channels {
		return 0
	}
	dh, dw := a.Height-s.H, a.Width-s.W
	if dh <= 0 || dh != dw || dh%2 != 0 {
		return 0
	}
	return dh / 2
}

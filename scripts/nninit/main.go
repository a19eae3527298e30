// Command nninit writes a freshly initialised network as safetensors, the way modulo
// stores one (nn.Init, then nn.EncodeNetwork), so that the PyTorch modules in
// scripts/torch_models.py can be checked against modulo's parameter names, shapes and
// order without training anything: `python3 scripts/torch_models.py FILE...` loads each
// file with load_state_dict(strict=True).
//
// Usage: go run ./scripts/nninit -arch "resnet 1x32x32 16-32-64x3 10 layernorm" [-init kaiming_normal] [-seed 1] -out net.safetensors
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/modulo-ml/modulo/nn"
)

func main() {
	archFlag := flag.String("arch", "", `architecture as nn.ParseArch reads it, e.g. "vgg 1x32x32 16-M-32-M-64 10 layernorm"`)
	method := flag.String("init", "kaiming_normal", "initialisation: pytorch or kaiming_normal")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("out", "", "output file (safetensors)")
	flag.Parse()
	if *archFlag == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, `usage: nninit -arch "ARCH" -out NET.safetensors [-init kaiming_normal|pytorch] [-seed N]`)
		os.Exit(2)
	}
	if err := run(*archFlag, *method, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "nninit:", err)
		os.Exit(1)
	}
}

func run(archStr, method string, seed uint64, out string) error {
	a, err := nn.ParseArch(archStr)
	if err != nil {
		return err
	}
	net, err := nn.Init(a, method, seed)
	if err != nil {
		return fmt.Errorf("%s: %w", a, err)
	}
	b, err := nn.EncodeNetwork(net, nil)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: %d tensors, %d parameters, init %s seed %d -> %s\n", a, len(net.Params), net.NumParams(), method, seed, out)
	return nil
}

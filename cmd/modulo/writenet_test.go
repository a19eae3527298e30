package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/modulo-ml/modulo/nn"
)

// writeNet is the scripts' write-net command: a stand-in for a training script that a
// command node runs, writing an MLP's state_dict as safetensors without modulo's metadata,
// as PyTorch would. `write-net -input 20 -classes 4 -hidden 8,8 -seed 1 OUT`, or any
// architecture as nn.Arch.String writes it: `-arch "resnet 1x16x16 4-8-16x1 2 layernorm"`;
// -f64 writes float64 tensors, a mistake a script can make.
func writeNet(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("write-net", flag.ContinueOnError)
	fs.SetOutput(stderr)
	input := fs.Int("input", 20, "input features")
	classes := fs.Int("classes", 4, "classes")
	hidden := fs.String("hidden", "8", "hidden widths, comma-separated")
	seed := fs.Uint64("seed", 1, "initialisation seed")
	f64 := fs.Bool("f64", false, "write float64 tensors")
	archFlag := fs.String("arch", "", "an architecture as nn.Arch.String writes it (instead of the MLP flags)")
	if fs.Parse(args) != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: write-net [-input N] [-classes N] [-hidden W,W] [-seed S] [-f64] OUT")
		return 2
	}
	a := nn.Arch{Kind: "mlp", Input: *input, Output: *classes, Activation: "relu", Bias: true}
	for _, w := range strings.Split(*hidden, ",") {
		n, err := strconv.Atoi(w)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		a.Hidden = append(a.Hidden, n)
	}
	if *archFlag != "" {
		var err error
		if a, err = nn.ParseArch(*archFlag); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	n, err := nn.Init(a, "pytorch", *seed)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var ts []nn.Tensor
	for _, p := range n.Params {
		t := nn.Tensor{Name: p.Name, DType: "F32", Shape: p.Shape, Data: nn.F32Bytes(p.Data)}
		if *f64 {
			t.DType, t.Data = "F64", make([]byte, 8*len(p.Data))
		}
		ts = append(ts, t)
	}
	b, err := nn.EncodeSafetensors(ts, map[string]string{"format": "pt"})
	if err == nil {
		err = os.WriteFile(fs.Arg(0), b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

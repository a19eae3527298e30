package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
)

// cmdDoctor reports what modulo will compute with: the BLAS and its kernel, a quick GEMM
// speed, where the datasets and the cache are. It is the first thing to run on a machine
// where training is slower than expected.
func cmdDoctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "skip the GEMM speed probe")
	if _, ok := parseFlags(fs, args, stderr); !ok {
		return 1
	}
	b := blas.Default()
	fmt.Fprintf(stdout, "modulo    %s (%s, %s/%s, %d cores)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(stdout, "blas      %s, kernel %s, %d threads\n", b.Name(), b.Kernel(), b.Threads())
	fmt.Fprintf(stdout, "          %s\n", b.Config())
	if err := blas.LoadError(); err != nil {
		fmt.Fprintf(stdout, "          OpenBLAS not in use: %v\n", err)
	}
	if !*quick {
		for _, n := range []int{512, 2048} {
			g := blas.GFLOPS(b, n, 300*time.Millisecond)
			fmt.Fprintf(stdout, "sgemm     %d³: %.0f GFLOP/s\n", n, g)
		}
	}
	if dir, err := data.MNISTDir(); err == nil {
		fmt.Fprintf(stdout, "mnist     %s\n", dir)
	} else {
		fmt.Fprintf(stdout, "mnist     missing: %v\n", err)
	}
	if dir, err := data.FashionMNISTDir(); err == nil {
		fmt.Fprintf(stdout, "fashion   %s\n", dir)
	} else {
		fmt.Fprintf(stdout, "fashion   missing: %v\n", err)
	}
	if dir, err := artifacts.DefaultDir(); err == nil {
		fmt.Fprintf(stdout, "cache     %s\n", dir)
	}
	return 0
}

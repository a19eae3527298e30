//go:build cgo && amd64

package conv

import (
	"fmt"
	"testing"
)

// TestDirectKernelsEveryISA reruns the convolution tests on each instruction set this CPU
// has and each blocking of the direct kernels, whichever the automatic choice would take.
func TestDirectKernelsEveryISA(t *testing.T) {
	defer forceKernels(-1, -1)
	for isa := range isaSupported() + 1 {
		for mode := range 2 {
			t.Run(fmt.Sprintf("isa%d/mode%d", isa, mode), func(t *testing.T) {
				forceKernels(isa, mode)
				TestConvForwardMatchesDefinition(t)
				TestConvBackwardFiniteDifferences(t)
				TestConvBackwardAccumulatesAndRepeats(t)
			})
		}
	}
}

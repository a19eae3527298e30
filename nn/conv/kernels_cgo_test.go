//go:build cgo && amd64

package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDirectKernelsEveryISA reruns the convolution tests on each instruction set this CPU
// has and each blocking of the direct kernels (and Winograd's), whichever the automatic
// choice would take.
// The gradients are checked against refConvGrad, not by finite differences, which cost a
// convolution per parameter (80 s for these six runs).
func TestDirectKernelsEveryISA(t *testing.T) {
	defer forceKernels(-1, -1)
	for isa := range isaSupported() + 1 {
		for mode := range 3 { // positions, channels, Winograd where it fits (channels elsewhere)
			t.Run(fmt.Sprintf("isa%d/mode%d", isa, mode), func(t *testing.T) {
				forceKernels(isa, mode)
				TestConvForwardMatchesDefinition(t)
				TestConvBackwardMatchesDerivative(t)
				TestConvBackwardAccumulatesAndRepeats(t)
			})
		}
	}
}

// TestNormStatsEveryLevel checks each version of the norm's statistics this CPU can run
// against the arithmetic of the scalar loop it stands for, bit for bit: q − m² fused with
// FMA (the AVX2 and AVX-512 clones contract it), unfused without; the variance clamped at
// 0 with NaN kept; IEEE division and square root. Block lengths 1 to 64 cover the tails.
func TestNormStatsEveryLevel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const c, eps = 16, 1e-5
	for level := range normStatsLevel() + 1 {
		for nb := 1; nb <= 64; nb++ {
			s, ss := make([]float64, nb), make([]float64, nb)
			for j := range nb {
				s[j] = r.NormFloat64() * 8
				switch j % 7 {
				case 0: // q < m²: rounding makes the variance negative, clamped to 0
					ss[j] = s[j] * s[j] / c * (1 - 1e-15)
				case 1:
					ss[j] = math.NaN()
				case 2:
					s[j], ss[j] = 0, 0
				case 3, 4: // a large mean, a small variance: m² rounded or fused differ
					m := 100 + r.NormFloat64()
					s[j], ss[j] = m*c, (m*m+1e-3*math.Abs(r.NormFloat64()))*c
				default:
					ss[j] = s[j]*s[j]/c + math.Abs(r.NormFloat64())*50
				}
			}
			mean, rstd := make([]float64, nb), make([]float64, nb)
			normStats(level, s, ss, c, eps, mean, rstd)
			for j := range nb {
				m := s[j] / c
				var v float64
				if level > 0 {
					v = math.FMA(-m, m, ss[j]/c)
				} else {
					v = ss[j]/c - float64(m*m) // the conversion keeps Go from fusing
				}
				if v < 0 {
					v = 0
				}
				want := 1 / math.Sqrt(v+eps)
				if math.Float64bits(mean[j]) != math.Float64bits(m) || math.Float64bits(rstd[j]) != math.Float64bits(want) &&
					!(math.IsNaN(rstd[j]) && math.IsNaN(want)) {
					t.Fatalf("level %d, nb %d, position %d: mean %v rstd %v, want %v %v", level, nb, j, mean[j], rstd[j], m, want)
				}
			}
		}
	}
}

// TestTransposeEveryISA checks transpose, whose whole 16×16 blocks take a shuffle network
// on AVX-512, against the definition on every instruction set this CPU has, with shapes
// that are whole blocks, edges, both, and smaller than a block.
func TestTransposeEveryISA(t *testing.T) {
	defer forceKernels(-1, -1)
	r := rand.New(rand.NewPCG(5, 6))
	for isa := range isaSupported() + 1 {
		forceKernels(isa, -1)
		for _, sh := range [][2]int{{16, 16}, {16, 1024}, {64, 64}, {32, 256}, {17, 33}, {3, 5}, {48, 20}, {1, 16}} {
			rows, cols := sh[0], sh[1]
			ld := rows + 16 // rows of t longer than rows: the gap must stay untouched
			a := randSlice(r, rows*cols)
			got := transposeForTest(a, rows, cols, ld)
			for c := range cols {
				for k := range ld {
					want := float32(0)
					if k < rows {
						want = a[k*cols+c]
					}
					if got[c*ld+k] != want {
						t.Fatalf("isa %d, %d×%d: t[%d][%d] = %v, want %v", isa, rows, cols, c, k, got[c*ld+k], want)
					}
				}
			}
		}
	}
}

//go:build cgo && amd64

package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDirectKernelsEveryISA reruns the convolution tests on each instruction set this CPU
// has and each blocking of the direct kernels (and Winograd's and the dense path's),
// whichever the automatic choice would take.
// The gradients are checked against refConvGrad, not by finite differences, which cost a
// convolution per parameter (80 s for these six runs).
func TestDirectKernelsEveryISA(t *testing.T) {
	defer forceKernels(-1, -1)
	for isa := range isaSupported() + 1 {
		// Modes: positions, channels, Winograd where it fits, dense where it fits (channels
		// elsewhere), F(4×4, 3×3) where it fits (F(2×2)'s weight gradient where that fits).
		for mode := range 5 {
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

// TestNormKernelsEveryISA checks the norm's backward vector kernel against its loops on
// each instruction set this CPU has: the same bits where both fuse the same products (every
// instruction set with FMA, as the loops' clones have it here when the CPU has AVX2), close
// otherwise. Planes of one vector, of several blocks, of a block and a part, and a batch
// summed in passes, with and without the ReLU.
func TestNormKernelsEveryISA(t *testing.T) {
	defer forceKernels(-1, -1)
	defer forceNormAny(false)
	r := rand.New(rand.NewPCG(7, 8))
	for isa := range isaSupported() + 1 {
		forceKernels(isa, -1)
		exact := isa >= 1
		for _, sh := range [][4]int{{3, 7, 4, 4}, {2, 16, 32, 32}, {4, 5, 8, 10}, {3, 128, 4, 4}, {2, 3, 16, 6}} {
			n, c, h, w := sh[0], sh[1], sh[2], sh[3]
			if h*w%[]int{4, 8, 16}[isa] != 0 {
				continue
			}
			l := ChannelNorm{C: c, Eps: 1e-5}
			size := n * c * h * w
			x, dy := randSlice(r, size), randSlice(r, size)
			for i := range x {
				x[i] = x[i]*3 + float32(i%c) // a mean far from 0 and unequal variances
			}
			gamma, beta := randSlice(r, c), randSlice(r, c)
			for _, relu := range []bool{false, true} {
				type out struct {
					dx, dg, db []float32
				}
				run := func(any bool) out {
					forceNormAny(any)
					o := out{dx: make([]float32, size), dg: make([]float32, c), db: make([]float32, c)}
					y, stats := make([]float32, size), make([]float32, l.StatsSize(n, h, w))
					if relu {
						l.ForwardReLU(x, n, h, w, gamma, beta, y, stats)
					} else {
						l.Forward(x, n, h, w, gamma, beta, y, stats)
						y = nil
					}
					sums := make([]float64, l.SumsSize(h, w))
					per := c * h * w
					for i0 := 0; i0 < n; i0 += 2 { // passes of two images
						i1 := min(n, i0+2)
						var yp []float32
						if y != nil {
							yp = y[i0*per : i1*per]
						}
						l.PassBackward(x[i0*per:i1*per], i1-i0, h, w, gamma, stats[2*i0*h*w:2*i1*h*w], yp,
							dy[i0*per:i1*per], o.dx[i0*per:i1*per], sums)
					}
					l.Flush(sums, h, w, o.dg, o.db)
					return o
				}
				want, got := run(true), run(false)
				name := fmt.Sprintf("isa %d, %d×%d×%d×%d, relu %v", isa, n, c, h, w, relu)
				for _, f := range []struct {
					what      string
					got, want []float32
				}{{"dx", got.dx, want.dx}, {"dgamma", got.dg, want.dg}, {"dbeta", got.db, want.db}} {
					for i := range f.want {
						g, w := f.got[i], f.want[i]
						if exact && math.Float32bits(g) != math.Float32bits(w) ||
							!exact && math.Abs(float64(g-w)) > 1e-5*(1+math.Abs(float64(w))) {
							t.Fatalf("%s: %s[%d] = %v, the loops give %v", name, f.what, i, g, w)
						}
					}
				}
			}
		}
	}
}

package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func clone(x []float32) []float32 { return append([]float32(nil), x...) }

func same(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %g, want %g (bit-identical)", name, i, got[i], want[i])
		}
	}
}

// TestKernelsMatchScalar checks each kernel against a plain scalar loop, bit for bit, at
// lengths that exercise vector bodies and tails.
func TestKernelsMatchScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 16, 33, 1000} {
		w, g, buf := randSlice(r, n), randSlice(r, n), randSlice(r, n)
		for _, nesterov := range []bool{false, true} {
			ww, bb := clone(w), clone(buf)
			SGD(ww, g, bb, 0.05, 0.9, 1e-4, nesterov)
			rw, rb := clone(w), clone(buf)
			for i := range rw {
				d := g[i] + float32(1e-4)*rw[i]
				b := float32(0.9)*rb[i] + d
				rb[i] = b
				if nesterov {
					rw[i] -= float32(0.05) * (d + float32(0.9)*b)
				} else {
					rw[i] -= float32(0.05) * b
				}
			}
			same(t, "sgd w", ww, rw)
			same(t, "sgd buf", bb, rb)
		}
		for _, wd := range []float32{0, 1e-4} {
			ww, bb := clone(w), clone(buf)
			SGDAdded(ww, bb, 0.05, 0.9, wd)
			rw, rb := clone(w), clone(buf)
			for i := range rw {
				b := rb[i]
				if wd != 0 {
					b += wd * rw[i]
				}
				rw[i] -= float32(0.05) * b
				rb[i] = float32(0.9) * b
			}
			same(t, "sgd-added w", ww, rw)
			same(t, "sgd-added buf", bb, rb)
		}
		ww := clone(w)
		SGD(ww, g, nil, 0.1, 0, 0.01, false)
		for i := range w {
			want := w[i] - float32(0.1)*(g[i]+float32(0.01)*w[i])
			if ww[i] != want {
				t.Fatalf("plain sgd[%d] = %g, want %g", i, ww[i], want)
			}
		}
		for _, dec := range []bool{false, true} {
			m, v := randSlice(r, n), randSlice(r, n)
			for i := range v {
				v[i] *= v[i]
			}
			ww, mm, vv := clone(w), clone(m), clone(v)
			Adam(ww, g, mm, vv, 0.01, 0.1, 0.9, 0.999, 1e-8, 0.1, 0.5, dec)
			for i := range w {
				d, wi := g[i], w[i]
				if dec {
					wi -= float32(0.01) * float32(0.1) * wi
				} else {
					d += float32(0.1) * wi
				}
				mi := float32(0.9)*m[i] + (1-float32(0.9))*d
				vi := float32(0.999)*v[i] + (1-float32(0.999))*d*d
				wi -= float32(0.1) * mi / (float32(math.Sqrt(float64(vi)))/float32(0.5) + float32(1e-8))
				if ww[i] != wi || mm[i] != mi || vv[i] != vi {
					t.Fatalf("adam[%d] (decoupled %v) = %g %g %g, want %g %g %g", i, dec, ww[i], mm[i], vv[i], wi, mi, vi)
				}
			}
		}
		y, dh := randSlice(r, n), randSlice(r, n)
		h, dy := make([]float32, n), make([]float32, n)
		Relu(y, h)
		ReluBackward(y, dh, dy)
		for i := range y {
			if h[i] != max(y[i], 0) || (y[i] > 0 && dy[i] != dh[i]) || (y[i] <= 0 && dy[i] != 0) {
				t.Fatalf("relu[%d]: y %g h %g dh %g dy %g", i, y[i], h[i], dh[i], dy[i])
			}
		}
		x, mask := randSlice(r, n), make([]float32, n)
		for i := range mask {
			mask[i] = float32(i % 2)
		}
		Mul(x, mask)
		for i := range x {
			if i%2 == 0 && x[i] != 0 {
				t.Fatalf("masked x[%d] = %g", i, x[i])
			}
		}
	}
}

// TestBiasReluAndColSums checks the two row-wise kernels against scalar loops, bit for bit,
// for widths with and without whole vectors and 64-column blocks, and column ranges.
func TestBiasReluAndColSums(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, shape := range [][2]int{{1, 1}, {3, 7}, {5, 64}, {9, 130}, {128, 512}} {
		rows, cols := shape[0], shape[1]
		z, b := randSlice(r, rows*cols), randSlice(r, cols)
		zz, h := clone(z), make([]float32, rows*cols)
		BiasRelu(zz, b, h, rows, cols)
		for i := range z {
			v := z[i] + b[i%cols]
			if zz[i] != v || h[i] != max(v, 0) {
				t.Fatalf("%d×%d: biasRelu[%d] = %g %g, want %g %g", rows, cols, i, zz[i], h[i], v, max(v, 0))
			}
		}
		for _, j := range [][2]int{{0, cols}, {cols / 3, cols}, {0, cols / 2}} {
			dst := randSlice(r, cols)
			want := clone(dst)
			ColSums(z, rows, cols, j[0], j[1], dst)
			for c := j[0]; c < j[1]; c++ {
				var s float64
				for row := 0; row < rows; row++ {
					s += float64(z[row*cols+c])
				}
				want[c] = float32(s)
			}
			same(t, "colSums", dst, want)
		}
	}
}

// TestStridedKernels checks BiasReluLD and ReluBackwardSum on blocks of wider matrices
// against scalar loops, bit for bit, with zero inputs (and a NaN where the derivative is
// taken): the columns outside the block keep their values.
func TestStridedKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, shape := range [][3]int{{1, 1, 1}, {3, 7, 20}, {5, 64, 64}, {9, 130, 300}, {128, 256, 512}} {
		rows, cols, ld := shape[0], shape[1], shape[2]
		n := (rows-1)*ld + cols
		z, b := randSlice(r, n), randSlice(r, cols)
		z[n-1] = 0
		zz, h := clone(z), randSlice(r, n)
		h0 := clone(h)
		BiasReluLD(zz, b, h, rows, cols, ld)
		for i := range z {
			v, hv := z[i], h0[i]
			if i%ld < cols {
				v += b[i%ld]
				hv = max(v, 0)
			}
			same(t, "biasReluLD z", zz[i:i+1], []float32{v})
			same(t, "biasReluLD h", h[i:i+1], []float32{hv})
		}
		y, a, c := randSlice(r, n), randSlice(r, n), randSlice(r, n)
		y[0] = float32(math.NaN())
		for _, withB := range []bool{false, true} {
			dy := randSlice(r, n)
			want := clone(dy)
			var bb []float32
			if withB {
				bb = c
			}
			ReluBackwardSum(y, a, bb, dy, rows, cols, ld)
			for i := range want {
				if i%ld >= cols {
					continue
				}
				switch {
				case !(y[i] > 0):
					want[i] = 0
				case withB:
					want[i] = a[i] + c[i]
				default:
					want[i] = a[i]
				}
			}
			same(t, "reluBackwardSum", dy, want)
		}
	}
}

func TestLengthPanics(t *testing.T) {
	defer func() {
		if recover() != ErrLength {
			t.Error("short slice did not panic with ErrLength")
		}
	}()
	SGD(make([]float32, 4), make([]float32, 3), nil, 1, 0, 0, false)
}

func BenchmarkSGD(b *testing.B) {
	const n = 1 << 20
	w, g, buf := make([]float32, n), make([]float32, n), make([]float32, n)
	b.SetBytes(4 * n * 5)
	for i := 0; i < b.N; i++ {
		SGD(w, g, buf, 0.01, 0.9, 1e-4, false)
	}
}

// TestSGDFlushesSubnormalMomentum checks that a momentum buffer that decays below the
// smallest normal float32 is kept as zero (arithmetic on subnormals is slow) while the
// weights move exactly as without the flush.
func TestSGDFlushesSubnormalMomentum(t *testing.T) {
	const tiny = 0x1p-126 // smallest normal
	for _, c := range []struct {
		name     string
		buf      float32
		want     float32
		wantW    float32
		added    bool
		nesterov bool
	}{
		{"added, stays normal", 2 * tiny / 0.5, 2 * tiny, 0.25, true, false},
		{"added, turns subnormal", tiny, 0, 0.25, true, false},
		{"sgd, turns subnormal", tiny, 0, 0.25, false, false},
		{"nesterov, turns subnormal", tiny, 0, 0.25, false, true},
		{"added, normal", 1, 0.5, 0.25 - 0.5, true, false},
	} {
		w, buf := []float32{0.25}, []float32{c.buf}
		if c.added {
			SGDAdded(w, buf, 0.5, 0.5, 0)
		} else {
			SGD(w, []float32{0}, buf, 0.5, 0.5, 0, c.nesterov)
		}
		if buf[0] != c.want || w[0] != c.wantW {
			t.Errorf("%s: buf %g, w %g; want buf %g, w %g", c.name, buf[0], w[0], c.want, c.wantW)
		}
	}
}

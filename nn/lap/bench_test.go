package lap

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// benchCase is one benchmark matrix: uniform random costs in [0,1), minimised, or
// weight-matching-like costs A·Bᵀ of two n×784 standard Gaussian matrices, maximised.
type benchCase struct {
	Kind     string `json:"kind"`
	N        int    `json:"n"`
	Maximize bool   `json:"maximize"`
}

var benchCases = []benchCase{
	{"uniform", 512, false}, {"uniform", 2048, false},
	{"wm", 512, true}, {"wm", 2048, true},
}

func (c benchCase) name() string { return fmt.Sprintf("%s_%d", c.Kind, c.N) }

var benchCache sync.Map // name → []float64

// matrix returns the case's n×n cost matrix, the same on every run (PCG seeded by the
// case), built once per process.
func (c benchCase) matrix() []float64 {
	if m, ok := benchCache.Load(c.name()); ok {
		return m.([]float64)
	}
	n := c.N
	m := make([]float64, n*n)
	switch c.Kind {
	case "uniform":
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		for i := range m {
			m[i] = rng.Float64()
		}
	case "wm":
		const k = 784
		rng := rand.New(rand.NewPCG(2, uint64(n)))
		a, b := make([]float64, n*k), make([]float64, n*k)
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		gemmABt(m, a, b, n, k)
	default:
		panic("unknown bench case " + c.Kind)
	}
	benchCache.Store(c.name(), m)
	return m
}

// gemmABt sets c (n×n) to a·bᵀ for a, b n×k, on all cores.
func gemmABt(c, a, b []float64, n, k int) {
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				ai := a[i*k : i*k+k]
				for j := range n {
					bj := b[j*k : j*k+k]
					var s0, s1, s2, s3 float64
					p := 0
					for ; p+4 <= k; p += 4 {
						s0 += ai[p] * bj[p]
						s1 += ai[p+1] * bj[p+1]
						s2 += ai[p+2] * bj[p+2]
						s3 += ai[p+3] * bj[p+3]
					}
					for ; p < k; p++ {
						s0 += ai[p] * bj[p]
					}
					c[i*n+j] = (s0 + s1) + (s2 + s3)
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkSolve times Solver.Solve (buffers reused, as weight matching does) on the bench
// matrices: BenchmarkSolve/{uniform,wm}/{512,2048}.
func BenchmarkSolve(b *testing.B) {
	for _, c := range benchCases {
		b.Run(fmt.Sprintf("%s/%d", c.Kind, c.N), func(b *testing.B) {
			m := c.matrix()
			var s Solver
			if _, _, err := s.Solve(context.Background(), m, c.N, c.N, c.Maximize); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := s.Solve(context.Background(), m, c.N, c.N, c.Maximize); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
		})
	}
}

// benchResult is what TestWriteBenchMatrices records of one case for scripts/bench_lap.py.
type benchResult struct {
	benchCase
	File  string  `json:"file"`  // raw little-endian float64, row-major n×n
	Total float64 `json:"total"` // modulo's optimal total
	Ms    float64 `json:"ms"`    // modulo's best time of 5 after a warm-up, in ms
}

// TestWriteBenchMatrices writes the bench matrices, modulo's totals and timings into the
// directory named by $LAP_BENCH_DIR (skipped when unset), for scripts/bench_lap.py to time
// scipy on the very same matrices and compare the totals.
func TestWriteBenchMatrices(t *testing.T) {
	dir := os.Getenv("LAP_BENCH_DIR")
	if dir == "" {
		t.Skip("LAP_BENCH_DIR not set")
	}
	var results []benchResult
	for _, c := range benchCases {
		m := c.matrix()
		buf := make([]byte, 8*len(m))
		for i, x := range m {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(x))
		}
		file := c.name() + ".f64"
		if err := os.WriteFile(filepath.Join(dir, file), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		var s Solver
		_, total, err := s.Solve(context.Background(), m, c.N, c.N, c.Maximize) // warm-up
		if err != nil {
			t.Fatal(err)
		}
		best := math.Inf(1)
		for range 5 {
			start := time.Now()
			_, tot, err := s.Solve(context.Background(), m, c.N, c.N, c.Maximize)
			el := time.Since(start).Seconds() * 1e3
			if err != nil || tot != total {
				t.Fatalf("%s: rerun gave %v, %v; first %v", c.name(), tot, err, total)
			}
			best = min(best, el)
		}
		results = append(results, benchResult{c, file, total, best})
	}
	js, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "modulo.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
}

package lap

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// kernels runs f once per available scan kernel: pure Go, and AVX-512 when the CPU has it.
func kernels(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	names := []string{"go"}
	if haveAVX512 {
		names = append(names, "avx512")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			defer setKernel(name)()
			f(t)
		})
	}
}

// setKernel selects the scan kernel named as in kernels and returns a function restoring
// the default.
func setKernel(name string) (restore func()) {
	useAVX512 = name == "avx512"
	return func() { useAVX512 = haveAVX512 }
}

// bruteForce returns the optimal total over all assignments of min(rows, cols) pairs.
func bruteForce(cost []float64, rows, cols int, maximize bool) float64 {
	if rows == 0 || cols == 0 {
		return 0
	}
	// Assign each of the smaller side's items a distinct item of the larger side.
	small, large := rows, cols
	at := func(a, b int) float64 { return cost[a*cols+b] }
	if rows > cols {
		small, large = cols, rows
		at = func(a, b int) float64 { return cost[b*cols+a] }
	}
	best := math.Inf(1)
	if maximize {
		best = math.Inf(-1)
	}
	used := make([]bool, large)
	var rec func(a int, sum float64)
	rec = func(a int, sum float64) {
		if a == small {
			if (!maximize && sum < best) || (maximize && sum > best) {
				best = sum
			}
			return
		}
		for b := range large {
			if !used[b] {
				used[b] = true
				rec(a+1, sum+at(a, b))
				used[b] = false
			}
		}
	}
	rec(0, 0)
	return best
}

// checkAssignment fails t unless rowToCol is an injection covering min(rows, cols) pairs
// whose cost, summed in row order, is total.
func checkAssignment(t *testing.T, cost []float64, rows, cols int, rowToCol []int, total float64) {
	t.Helper()
	if len(rowToCol) != rows {
		t.Fatalf("len(rowToCol) = %d, want %d", len(rowToCol), rows)
	}
	seen := make([]bool, cols)
	n, sum := 0, 0.0
	for i, j := range rowToCol {
		if j == -1 {
			continue
		}
		if j < 0 || j >= cols || seen[j] {
			t.Fatalf("rowToCol = %v: bad or repeated column %d", rowToCol, j)
		}
		seen[j] = true
		n++
		sum += cost[i*cols+j]
	}
	if n != min(rows, cols) {
		t.Fatalf("rowToCol = %v assigns %d pairs, want %d", rowToCol, n, min(rows, cols))
	}
	if sum != total {
		t.Fatalf("total = %v, but the assignment sums to %v", total, sum)
	}
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b))
}

// dists are the random cost distributions the tests draw from.
var dists = []struct {
	name string
	f    func(r *rand.Rand) float64
}{
	{"uniform", func(r *rand.Rand) float64 { return r.Float64() }},
	{"normal", func(r *rand.Rand) float64 { return 100 * r.NormFloat64() }},
	{"int0-2", func(r *rand.Rand) float64 { return float64(r.IntN(3)) }},
	{"int-9-9", func(r *rand.Rand) float64 { return float64(r.IntN(19) - 9) }},
}

func randMatrix(r *rand.Rand, rows, cols int, f func(*rand.Rand) float64) []float64 {
	m := make([]float64, rows*cols)
	for i := range m {
		m[i] = f(r)
	}
	return m
}

func TestBruteForce(t *testing.T) {
	type shape struct{ rows, cols int }
	var shapes []shape
	for n := 1; n <= 8; n++ {
		shapes = append(shapes, shape{n, n})
	}
	for r := 1; r <= 5; r++ {
		for c := r + 1; c <= 8; c++ {
			shapes = append(shapes, shape{r, c}, shape{c, r})
		}
	}
	// Wider than eight columns: the AVX-512 scan's tail.
	shapes = append(shapes, shape{2, 9}, shape{3, 11}, shape{4, 12}, shape{12, 4}, shape{5, 13})
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		var s Solver
		for _, sh := range shapes {
			trials := 12
			if max(sh.rows, sh.cols) >= 8 {
				trials = 3
			}
			for _, dist := range dists {
				for _, maximize := range []bool{false, true} {
					name := fmt.Sprintf("%dx%d/%s/max=%v", sh.rows, sh.cols, dist.name, maximize)
					for trial := range trials {
						cost := randMatrix(r, sh.rows, sh.cols, dist.f)
						rowToCol, total, err := s.Solve(context.Background(), cost, sh.rows, sh.cols, maximize)
						if err != nil {
							t.Fatalf("%s #%d: %v", name, trial, err)
						}
						checkAssignment(t, cost, sh.rows, sh.cols, rowToCol, total)
						if want := bruteForce(cost, sh.rows, sh.cols, maximize); !near(total, want) {
							t.Fatalf("%s #%d: total = %v, want %v (cost %v, rowToCol %v)",
								name, trial, total, want, cost, rowToCol)
						}
					}
				}
			}
		}
	})
}

func TestKnown(t *testing.T) {
	diag := func(n int, anti bool, on, off float64) []float64 {
		m := make([]float64, n*n)
		for i := range n {
			for j := range n {
				m[i*n+j] = off
				if (!anti && i == j) || (anti && j == n-1-i) {
					m[i*n+j] = on
				}
			}
		}
		return m
	}
	constant := make([]float64, 16*16)
	for i := range constant {
		constant[i] = 7
	}
	tests := []struct {
		name       string
		cost       []float64
		rows, cols int
		maximize   bool
		want       []int
		total      float64
	}{
		{"classic3x3", []float64{4, 1, 3, 2, 0, 5, 3, 2, 2}, 3, 3, false, []int{1, 0, 2}, 5},
		{"classic3x3/max", []float64{4, 1, 3, 2, 0, 5, 3, 2, 2}, 3, 3, true, []int{0, 2, 1}, 11},
		{"identity", diag(6, false, 0, 1), 6, 6, false, []int{0, 1, 2, 3, 4, 5}, 0},
		{"identity/max", diag(10, false, 1, 0), 10, 10, true, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10},
		{"antidiagonal", diag(5, true, -3, 2), 5, 5, false, []int{4, 3, 2, 1, 0}, -15},
		{"antidiagonal/max", diag(9, true, 1, 0), 9, 9, true, []int{8, 7, 6, 5, 4, 3, 2, 1, 0}, 9},
		{"constant", constant, 16, 16, false, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 112},
		{"1x1", []float64{-2.5}, 1, 1, false, []int{0}, -2.5},
		{"wide", []float64{1, 2, 3, 3, 2, 1}, 2, 3, false, []int{0, 2}, 2},
		{"wide/max", []float64{1, 2, 3, 3, 2, 1}, 2, 3, true, []int{2, 0}, 6},
		{"tall", []float64{1, 3, 2, 2, 3, 1}, 3, 2, false, []int{0, -1, 1}, 2},
		{"tall/max", []float64{1, 3, 2, 2, 3, 1}, 3, 2, true, []int{1, -1, 0}, 6},
		{"row", []float64{5, 4, 9, 1, 7}, 1, 5, false, []int{3}, 1},
		{"column", []float64{5, 4, 9, 1, 7}, 5, 1, true, []int{-1, -1, 0, -1, -1}, 9},
	}
	kernels(t, func(t *testing.T) {
		for _, tt := range tests {
			got, total, err := Solve(context.Background(), tt.cost, tt.rows, tt.cols, tt.maximize)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !slices.Equal(got, tt.want) || total != tt.total {
				t.Errorf("%s: got %v, %v; want %v, %v", tt.name, got, total, tt.want, tt.total)
			}
		}
	})
}

// Adding a constant to a row (or, when square, a column) adds it to every complete
// assignment, so an optimal assignment stays optimal.
func TestRowConstantInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	shapes := []struct{ rows, cols int }{{6, 6}, {4, 7}, {20, 20}, {13, 30}}
	for _, sh := range shapes {
		for _, maximize := range []bool{false, true} {
			for trial := range 20 {
				cost := randMatrix(r, sh.rows, sh.cols, dists[trial%len(dists)].f)
				rowToCol, _, err := Solve(context.Background(), cost, sh.rows, sh.cols, maximize)
				if err != nil {
					t.Fatal(err)
				}
				shifted := slices.Clone(cost)
				k, c := r.IntN(sh.rows), 1000*r.NormFloat64()
				for j := range sh.cols {
					shifted[k*sh.cols+j] += c
				}
				if sh.rows == sh.cols {
					k2, c2 := r.IntN(sh.cols), 1000*r.NormFloat64()
					for i := range sh.rows {
						shifted[i*sh.cols+k2] += c2
					}
				}
				_, want, err := Solve(context.Background(), shifted, sh.rows, sh.cols, maximize)
				if err != nil {
					t.Fatal(err)
				}
				got := 0.0
				for i, j := range rowToCol {
					got += shifted[i*sh.cols+j]
				}
				if !near(got, want) {
					t.Fatalf("%dx%d max=%v #%d: old assignment costs %v on the shifted matrix, optimum %v",
						sh.rows, sh.cols, maximize, trial, got, want)
				}
			}
		}
	}
}

func TestEmpty(t *testing.T) {
	tests := []struct{ rows, cols int }{{0, 0}, {0, 5}, {5, 0}}
	for _, tt := range tests {
		got, total, err := Solve(context.Background(), nil, tt.rows, tt.cols, false)
		want := slices.Repeat([]int{-1}, tt.rows)
		if err != nil || total != 0 || !slices.Equal(got, want) || got == nil {
			t.Errorf("%dx%d: got %v, %v, %v; want %v, 0, nil", tt.rows, tt.cols, got, total, err, want)
		}
	}
}

func TestNotFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, at := range []int{0, 7, 11} {
			cost := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
			cost[at] = bad
			for _, shape := range [][2]int{{3, 4}, {4, 3}} {
				got, total, err := Solve(context.Background(), cost, shape[0], shape[1], at == 7)
				if !errors.Is(err, ErrNotFinite) || got != nil || total != 0 {
					t.Errorf("%v at %d, %v: got %v, %v, %v; want ErrNotFinite", bad, at, shape, got, total, err)
				}
			}
		}
	}
}

func TestShape(t *testing.T) {
	if _, _, err := Solve(context.Background(), nil, -1, 3, false); !errors.Is(err, ErrShape) {
		t.Errorf("-1×3: err = %v, want ErrShape", err)
	}
	defer func() {
		p := recover()
		if err, ok := p.(error); !ok || !errors.Is(err, ErrShape) {
			t.Errorf("short slice: recovered %v, want an ErrShape panic", p)
		}
	}()
	Solve(context.Background(), make([]float64, 5), 2, 3, false)
	t.Error("short slice: no panic")
}

// Costs near the float64 limit are scaled, exactly, so paths cannot overflow.
func TestHugeCosts(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, scale := range []float64{0x1p1000, 0x1p1015, 0x1p1019, -0x1p1019} {
			for _, n := range []int{3, 8, 9} {
				small := randMatrix(r, n, n, func(r *rand.Rand) float64 { return float64(r.IntN(15) - 7) })
				huge := slices.Clone(small)
				for i := range huge {
					huge[i] *= scale
				}
				for _, maximize := range []bool{false, true} {
					rowToCol, _, err := Solve(context.Background(), huge, n, n, maximize)
					if err != nil {
						t.Fatal(err)
					}
					// The total may overflow: check the assignment on the small matrix.
					got := 0.0
					for i, j := range rowToCol {
						got += small[i*n+j]
					}
					checkAssignment(t, small, n, n, rowToCol, got)
					// scale < 0 swaps min and max.
					if want := bruteForce(small, n, n, maximize != (scale < 0)); got != want {
						t.Errorf("scale %g n %d max=%v: total/scale = %v, want %v", scale, n, maximize, got, want)
					}
				}
			}
		}
	})
}

// checkDuals verifies the optimality certificate the solver leaves behind for the
// rows×cols problem (rows ≤ cols) on sgn*cost: reduced costs ≥ 0, 0 on the assignment,
// v ≤ 0 and v = 0 on unassigned columns.
func checkDuals(t *testing.T, s *Solver, cost []float64, rows, cols int, sgn, tol float64) {
	t.Helper()
	u, v := s.u[:rows], s.v[:cols]
	for i := range rows {
		for j := range cols {
			red := sgn*cost[i*cols+j] - u[i] - v[j]
			if red < -tol {
				t.Fatalf("reduced cost [%d][%d] = %v < 0", i, j, red)
			}
			if s.col4row[i] == j && math.Abs(red) > tol {
				t.Fatalf("reduced cost of assigned [%d][%d] = %v ≠ 0", i, j, red)
			}
		}
	}
	for j := range cols {
		if v[j] > tol || (s.row4col[j] < 0 && v[j] != 0) {
			t.Fatalf("v[%d] = %v (row %d)", j, v[j], s.row4col[j])
		}
	}
}

func TestLarge(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 300
	}
	shapes := []struct{ rows, cols int }{{n, n}, {n * 3 / 5, n}, {n, n * 3 / 5}}
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, sh := range shapes {
			for _, maximize := range []bool{false, true} {
				cost := randMatrix(r, sh.rows, sh.cols, dists[0].f)
				var s Solver
				rowToCol, total, err := s.Solve(context.Background(), cost, sh.rows, sh.cols, maximize)
				if err != nil {
					t.Fatal(err)
				}
				checkAssignment(t, cost, sh.rows, sh.cols, rowToCol, total)
				sgn := 1.0
				if maximize {
					sgn = -1
				}
				if sh.rows <= sh.cols {
					checkDuals(t, &s, cost, sh.rows, sh.cols, sgn, 1e-9)
				} else {
					tr := make([]float64, len(cost))
					transpose(tr, cost, sh.rows, sh.cols)
					checkDuals(t, &s, tr, sh.cols, sh.rows, sgn, 1e-9)
				}
				// No 2-swap of assigned rows, nor a move of a row to a free column, improves.
				assigned := make([]int, 0, sh.rows)
				used := make([]bool, sh.cols)
				for i, j := range rowToCol {
					if j >= 0 {
						assigned = append(assigned, i)
						used[j] = true
					}
				}
				var freeCols []int
				for j, u := range used {
					if !u {
						freeCols = append(freeCols, j)
					}
				}
				c := func(i, j int) float64 { return sgn * cost[i*sh.cols+j] }
				for range 200000 {
					a, b := assigned[r.IntN(len(assigned))], assigned[r.IntN(len(assigned))]
					ja, jb := rowToCol[a], rowToCol[b]
					if gain := c(a, ja) + c(b, jb) - c(a, jb) - c(b, ja); gain > 1e-12 {
						t.Fatalf("%v max=%v: swapping rows %d and %d gains %v", sh, maximize, a, b, gain)
					}
					if len(freeCols) > 0 {
						jf := freeCols[r.IntN(len(freeCols))]
						if gain := c(a, ja) - c(a, jf); gain > 1e-12 {
							t.Fatalf("%v max=%v: moving row %d to column %d gains %v", sh, maximize, a, jf, gain)
						}
					}
				}
			}
		}
	})
}

// The pure Go and AVX-512 scans compute the same values and make the same choices:
// identical assignments, also under ties.
func TestKernelsAgree(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(9, 10))
	// Block (64) and chunk (8) boundaries first, then random shapes.
	edges := []int{8, 9, 15, 16, 63, 64, 65, 127, 128, 129, 200}
	for trial := range 600 + 2*len(edges) {
		rows, cols := 1+r.IntN(90), 1+r.IntN(90)
		if trial < 2*len(edges) {
			rows, cols = edges[trial/2], edges[trial/2]
			if trial%2 == 1 {
				rows = 1 + r.IntN(cols)
			}
		}
		dist := dists[trial%len(dists)]
		cost := randMatrix(r, rows, cols, dist.f)
		maximize := trial%3 == 0
		restore := setKernel("go")
		want, wantTotal, err := Solve(context.Background(), cost, rows, cols, maximize)
		restore()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"avx512"} {
			restore := setKernel(name)
			got, gotTotal, err := Solve(context.Background(), cost, rows, cols, maximize)
			restore()
			if err != nil || !slices.Equal(got, want) || gotTotal != wantTotal {
				t.Fatalf("%dx%d %s max=%v: %s %v %v %v, go %v %v",
					rows, cols, dist.name, maximize, name, got, gotTotal, err, want, wantTotal)
			}
		}
	}
}

// A Solver reused across sizes and senses answers as fresh ones do.
func TestSolverReuse(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var s Solver
	for trial := range 100 {
		rows, cols := 1+r.IntN(40), 1+r.IntN(40)
		cost := randMatrix(r, rows, cols, dists[trial%len(dists)].f)
		maximize := trial%2 == 0
		want, wantTotal, _ := Solve(context.Background(), cost, rows, cols, maximize)
		got, gotTotal, err := s.Solve(context.Background(), cost, rows, cols, maximize)
		if err != nil || !slices.Equal(got, want) || gotTotal != wantTotal {
			t.Fatalf("%dx%d: reused %v %v %v, fresh %v %v", rows, cols, got, gotTotal, err, want, wantTotal)
		}
	}
}

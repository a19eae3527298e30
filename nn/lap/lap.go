// Package lap solves the linear assignment problem (LAP) on dense float64 cost matrices:
// assign rows to columns, each at most once, so that the sum of the chosen costs is minimal
// (or maximal). modulo uses it to permute hidden units when aligning networks (weight and
// activation matching), where one alignment solves hundreds of n×n problems.
//
// The method is the exact shortest augmenting path algorithm of Crouse (2016), "On
// implementing 2D rectangular assignment algorithms", IEEE Trans. Aerospace and Electronic
// Systems 52(4), the method behind scipy.optimize.linear_sum_assignment: one Dijkstra
// search per row over reduced costs c[i][j] − u[i] − v[j], keeping the dual variables u and
// v feasible, so the result is optimal (up to float64 rounding in the reduced costs), for
// square and rectangular matrices alike.
//
// Implementation notes. Each search step (a row scan) runs over all columns with a dense
// loop rather than over a compacted list of the unscanned columns, as scipy does: a
// scanned column is masked by setting its v to −Inf (its reduced cost becomes +Inf, so it
// is never relaxed) and its distance to +Inf (so it is never selected again), the true
// values kept aside for the dual update. The dense loop needs no gather, so on amd64 CPUs
// with AVX-512 (F, DQ, VL) it is an assembly kernel relaxing eight columns a step without
// a branch; elsewhere, and with the purego build tag, it is plain Go. Both make the same
// floating-point operations and choices and so return identical assignments. Among
// columns at the least distance the search prefers an unassigned one, which ends it: with
// integer costs ties are common. Costs are used as given (negated for maximize): there is
// no copy of the matrix unless rows > cols, when the problem is solved on its transpose,
// or unless its entries are so large (beyond about 1e304) that path lengths could
// overflow, when it is scaled by a power of two.
package lap

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Errors returned (or, for ErrShape on a short cost slice, panicked with) by Solve.
var (
	// ErrShape: the cost slice is shorter than rows*cols (Solve panics with it: a programmer
	// error) or a dimension is negative (returned).
	ErrShape = errors.New("lap: cost matrix shape does not match its slice")
	// ErrNotFinite: a cost is NaN, +Inf or −Inf.
	ErrNotFinite = errors.New("lap: cost matrix has a NaN or infinite entry")
	// ErrInfeasible: no complete assignment exists. With finite costs every matrix is
	// feasible, so this only reports a numerical failure of the search.
	ErrInfeasible = errors.New("lap: cost matrix is infeasible")
)

// Solve assigns rows to columns of the rows×cols cost matrix (row-major) so that the sum of
// the chosen costs is minimal (or maximal with maximize). It returns rowToCol (len rows; −1
// for a row left unassigned when rows > cols) and the total cost of the assignment (summed
// in float64 in row order). Every row (when rows ≤ cols) or every column (when rows > cols)
// is assigned exactly once. Errors (never panics) for NaN or ±Inf entries, or an infeasible
// matrix; panics only if len(cost) < rows*cols (programmer error, sentinel ErrShape).
//
// A negative dimension is an error wrapping ErrShape. The assignment is optimal up to
// float64 rounding in the reduced costs: when several are optimal, which one is returned
// is deterministic (the same on every machine) but unspecified.
//
// A 2048² problem takes a quarter of a second and the time grows faster than n², so Solve
// checks ctx before each row's search and returns ctx.Err() (unwrapped) once it is done:
// a cancelled alignment of wide layers stops within one row's search.
func Solve(ctx context.Context, cost []float64, rows, cols int, maximize bool) (rowToCol []int, total float64, err error) {
	var s Solver
	return s.Solve(ctx, cost, rows, cols, maximize)
}

// Solver solves assignment problems like Solve, reusing its buffers across calls (weight
// matching solves hundreds of problems of one size). The zero value is ready to use. A
// Solver is not safe for concurrent use; the slice each call returns is the caller's.
type Solver struct {
	u, v, d []float64 // dual variables of rows and columns; shortest path distances
	path    []int32   // path[j]: the row from which column j was reached (rows < 2³¹: rows ≤ cols)
	row4col []int     // row assigned to column j, or −1
	col4row []int     // column assigned to row i, or −1
	free    []uint8   // bitset of the unassigned columns

	// The columns scanned by the current search, in order, with their distance and v
	// before masking.
	scCol []int
	scD   []float64
	scV   []float64

	bmin, bfmin []float64 // the AVX-512 scan's block minima

	t []float64 // the costs transposed (rows > cols) or scaled
}

// Solve is the package-level Solve with s's buffers; see there.
func (s *Solver) Solve(ctx context.Context, cost []float64, rows, cols int, maximize bool) ([]int, float64, error) {
	if rows < 0 || cols < 0 {
		return nil, 0, fmt.Errorf("%w: %d×%d", ErrShape, rows, cols)
	}
	if len(cost) < rows*cols {
		panic(fmt.Errorf("%w: %d×%d matrix in a slice of %d", ErrShape, rows, cols, len(cost)))
	}
	cost = cost[:rows*cols]
	rowToCol := make([]int, rows)
	for i := range rowToCol {
		rowToCol[i] = -1
	}
	if rows == 0 || cols == 0 {
		return rowToCol, 0, nil
	}
	maxAbs := 0.0
	for _, c := range cost {
		// One comparison catches NaN (fails c <= maxAbs and c >= -maxAbs alike) and ±Inf.
		if a := math.Abs(c); !(a <= maxAbs) {
			if a != a || a > math.MaxFloat64 {
				return nil, 0, ErrNotFinite
			}
			maxAbs = a
		}
	}

	// Costs so large that path lengths (sums of up to 2n reduced costs, each bounded by a
	// few times the largest cost) could overflow are scaled, on a copy, by a power of two:
	// exact but for subnormals, which such a matrix cannot resolve anyway.
	scale := 1.0
	if limit := math.MaxFloat64 / float64(8*(max(rows, cols)+1)); maxAbs > limit {
		_, e := math.Frexp(maxAbs / limit)
		scale = math.Ldexp(1, -e)
	}
	work, wrows, wcols := cost, rows, cols
	if rows > cols || scale != 1 {
		// The search needs rows ≤ cols: solve the transpose, whose rows are our columns.
		t := grow(&s.t, rows*cols)
		if rows > cols {
			transpose(t, cost, rows, cols)
			wrows, wcols = cols, rows
		} else {
			copy(t, cost)
		}
		if scale != 1 {
			for i := range t {
				t[i] *= scale
			}
		}
		work = t
	}
	if err := s.solveWide(ctx, work, wrows, wcols, maximize); err != nil {
		return nil, 0, err
	}
	if rows <= cols {
		copy(rowToCol, s.col4row[:rows])
	} else {
		for j, i := range s.col4row[:cols] {
			rowToCol[i] = j
		}
	}
	total := 0.0
	for i, j := range rowToCol {
		if j >= 0 {
			total += cost[i*cols+j]
		}
	}
	return rowToCol, total, nil
}

// grow returns (*buf)[:n], reallocating when the capacity is short.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// transpose writes the cols×rows transpose of the rows×cols matrix a into t, in blocks so
// that both sides stay in cache.
func transpose(t, a []float64, rows, cols int) {
	const blk = 32
	for i0 := 0; i0 < rows; i0 += blk {
		i1 := min(i0+blk, rows)
		for j0 := 0; j0 < cols; j0 += blk {
			j1 := min(j0+blk, cols)
			for i := i0; i < i1; i++ {
				row := a[i*cols : i*cols+cols]
				for j := j0; j < j1; j++ {
					t[j*rows+i] = row[j]
				}
			}
		}
	}
}

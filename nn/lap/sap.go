package lap

import (
	"context"
	"math"
)

// solveWide solves the rows×cols problem (rows ≤ cols) on the costs sgn*cost (sgn = −1 to
// maximise, else 1) by shortest augmenting paths, leaving the assignment in s.col4row and
// s.row4col and the optimal dual variables in s.u and s.v.
//
// Invariants between augmentations: every reduced cost sgn*c[i][j] − u[i] − v[j] of an
// assigned row i is ≥ 0 and is 0 on its assigned column; v[j] ≤ 0, and v[j] = 0 for a
// column never assigned. Together they prove the final assignment optimal, also for
// rectangular matrices.
//
// ctx is checked before each row's search, whose cost is at least one scan of the columns,
// so the check (an atomic load) costs nothing measurable; it returns ctx.Err() as it is.
func (s *Solver) solveWide(ctx context.Context, cost []float64, rows, cols int, maximize bool) error {
	u := grow(&s.u, rows)
	v := grow(&s.v, cols)
	d := grow(&s.d, cols)
	row4col := grow(&s.row4col, cols)
	col4row := grow(&s.col4row, rows)
	scCol := grow(&s.scCol, cols)
	scD := grow(&s.scD, cols)
	scV := grow(&s.scV, cols)
	clear(u)
	clear(v)
	for j := range row4col {
		row4col[j] = -1
	}
	for i := range col4row {
		col4row[i] = -1
	}
	k := s.newKernel(cost, cols, maximize)
	free := k.free
	inf := math.Inf(1)

	for cur := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Dijkstra from row cur over the columns. The distances of the first row's
		// columns may be negative (u[cur] is 0, not a row minimum): edges out of the source
		// are all relaxed at once, so only the later ones, reduced costs, need be ≥ 0.
		for j := range d {
			d[j] = inf
		}
		lowest, idx := k.scan(cur, -u[cur])
		nsc := 0
		sink := -1
		minVal := 0.0
		for {
			if idx < 0 || lowest == inf {
				for k := range nsc { // restore the masked columns
					v[scCol[k]] = scV[k]
				}
				return ErrInfeasible
			}
			minVal = lowest
			j := idx
			scCol[nsc], scD[nsc], scV[nsc] = j, lowest, v[j]
			nsc++
			d[j], v[j] = inf, math.Inf(-1) // mask: never relaxed nor selected again
			i := row4col[j]
			if i < 0 {
				sink = j
				break
			}
			lowest, idx = k.scan(i, minVal-u[i])
		}

		// Update the duals: the scanned columns (and their rows) by how much shorter their
		// path is than the sink's.
		u[cur] += minVal
		for k := range nsc {
			j := scCol[k]
			delta := minVal - scD[k]
			v[j] = scV[k] - delta
			if j != sink {
				u[row4col[j]] += delta
			}
		}

		// Augment along the path back from the sink.
		free[sink>>3] &^= 1 << (sink & 7)
		path := k.path
		for j := sink; ; {
			i := int(path[j])
			row4col[j] = i
			j, col4row[i] = col4row[i], j
			if i == cur {
				break
			}
		}
	}
	return nil
}

// kernel holds what one search step reads and updates.
type kernel struct {
	cost    []float64 // rows×n, row-major
	n       int       // columns
	sgn     float64   // 1, or −1 to maximise
	v, d    []float64
	path    []int32 // the row from which column j was reached
	row4col []int
	free    []uint8 // bit j&7 of free[j>>3]: column j is unassigned

	// For the AVX-512 scan: per block of 64 columns, the least distance in each of the 8
	// lanes, over all columns and over the free ones.
	avx512      bool
	bmin, bfmin []float64
}

func (s *Solver) newKernel(cost []float64, cols int, maximize bool) kernel {
	k := kernel{cost: cost, n: cols, sgn: 1, v: s.v[:cols], d: s.d[:cols], row4col: s.row4col[:cols]}
	if maximize {
		k.sgn = -1
	}
	k.path = grow(&s.path, cols)
	k.free = grow(&s.free, (cols+7)/8)
	for b := range k.free {
		k.free[b] = 0xff
	}
	if cols%8 != 0 {
		k.free[len(k.free)-1] = 1<<(cols%8) - 1
	}
	if useAVX512 && cols >= 8 {
		k.avx512 = true
		k.bmin = grow(&s.bmin, (cols+63)/64*8)
		k.bfmin = grow(&s.bfmin, (cols+63)/64*8)
	}
	return k
}

// scan relaxes the columns from row i (h is the distance at which it was reached less
// u[i]): for every column j with r = (sgn*cost[i][j] + h) − v[j] < d[j] it sets d[j] = r
// and path[j] = i. It returns the least distance and its column: the first unassigned
// column at that distance if there is one (which ends the search: with integer costs,
// ties are common), else the first column; or +Inf and −1 if every distance is +Inf.
// Scanned columns are masked (v = −Inf, d = +Inf), so never updated nor returned.
//
// The pure Go and the AVX-512 scans compute the same values and make the same choices, so
// they return identical results.
func (k *kernel) scan(i int, h float64) (float64, int) {
	if k.avx512 {
		return k.scanAVX512(i, h)
	}
	return k.scanGo(i, h)
}

func (k *kernel) scanGo(i int, h float64) (float64, int) {
	d := k.d
	n := len(d)
	row := k.cost[i*k.n:]
	row, v, path, row4col := row[:n], k.v[:n], k.path[:n], k.row4col[:n]
	sgn := k.sgn
	lowest, idx, idxFree := math.Inf(1), -1, false
	for j := range d {
		dj := d[j]
		if r := sgn*row[j] + h - v[j]; r < dj {
			dj = r
			d[j] = r
			path[j] = int32(i)
		}
		if dj < lowest {
			lowest, idx, idxFree = dj, j, row4col[j] < 0
		} else if dj == lowest && !idxFree && row4col[j] < 0 {
			idx, idxFree = j, true
		}
	}
	if idx < 0 {
		return lowest, idx
	}
	return d[idx], idx
}

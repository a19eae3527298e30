package kinds

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/modulo-ml/modulo/stages"
)

// A report's aggregate block summarises replicates: rows that agree on the by columns form
// a group, and each value column becomes its statistics over the group, so that a claim
// ("the barrier falls with width") is stated with its spread rather than from one seed.

// aggregateStats are the statistics an aggregate block offers, in the order their columns
// come: n is the group's size; std and sem are the sample standard deviation (n−1) and
// the standard error of the mean; ci the two-sided confidence interval of the mean from
// Student's t with n−1 degrees of freedom (ci_low and ci_high columns).
var aggregateStats = []string{"n", "mean", "std", "sem", "ci", "min", "max", "median"}

// defaultStats are what an aggregate block computes when it names none.
var defaultStats = []string{"n", "mean", "std", "sem", "ci", "min", "max"}

var aggregateSchema = stages.BlockSchema{
	Name: "aggregate",
	Doc:  "summarise replicates: one row per group of rows equal in the by columns, each value column replaced by its statistics",
	Schema: stages.Schema{Attributes: []stages.Attribute{
		{Name: "by", Type: cty.List(cty.String), Required: true, Doc: "the columns that identify a group, such as [\"width\"]; the other columns are its replicates' values", Check: stages.Items(0, 100, nil)},
		{Name: "values", Type: cty.List(cty.String), Doc: "the columns to summarise (by default every column of numbers not in by); column v gives v_mean, v_std, … (v_ci_low and v_ci_high for ci)", Check: stages.Items(1, 1000, nil)},
		{Name: "stats", Type: cty.List(cty.String), Default: stringListVal(defaultStats), Doc: "which statistics, in this order: n, mean, std, sem, ci, min, max, median", Check: stages.Items(1, len(aggregateStats), stages.OneOf(aggregateStats...))},
		{Name: "confidence", Type: cty.Number, Default: cty.NumberFloatVal(0.95), Doc: "the confidence level of ci", Check: stages.Range(0, 1, true, true)},
	}},
}

func stringListVal(s []string) cty.Value {
	vs := make([]cty.Value, len(s))
	for i, x := range s {
		vs[i] = cty.StringVal(x)
	}
	return cty.ListVal(vs)
}

// aggregateConfig is an aggregate block.
type aggregateConfig struct {
	By         []string `cty:"by"`
	Values     []string `cty:"values"`
	Stats      []string `cty:"stats"`
	Confidence float64  `cty:"confidence"`
}

// statColumns are the columns statistic st gives for value column v.
func statColumns(v, st string) []string {
	switch st {
	case "n":
		return []string{v + "_n"}
	case "ci":
		return []string{v + "_ci_low", v + "_ci_high"}
	}
	return []string{v + "_" + st}
}

// aggregate returns tb summarised by a: the by columns, then each value's statistics,
// one row per group in the order of the by columns' values (numbers as numbers), so that
// a plot's line runs along its x. display is the same as people read it in Markdown and
// on the HTML page: the by columns, n, and one column per value, its mean with the
// interval ("0.022 [0.020, 0.024]") or the spread ("0.022 ± 0.0009") when those were
// asked for. A mistake is a *plotError naming the block's attribute at fault.
func aggregate(tb *table, a *aggregateConfig) (out, display *table, err error) {
	cols := rowKeys(tb.rows)
	for _, c := range a.By {
		if !slices.Contains(cols, c) {
			return nil, nil, &plotError{attr: "by", err: fmt.Errorf("by names %q, which is not a column; the columns are %s", c, joinQuoted(cols))}
		}
	}
	values := a.Values
	if values == nil {
		for _, c := range tb.columns {
			if !slices.Contains(a.By, c) && tb.numeric(c) {
				values = append(values, c)
			}
		}
		if len(values) == 0 {
			return nil, nil, &plotError{attr: "by", err: fmt.Errorf("no column of numbers to summarise besides by %s", joinQuoted(a.By))}
		}
	}
	for _, v := range values {
		switch {
		case !slices.Contains(cols, v):
			return nil, nil, &plotError{attr: "values", err: fmt.Errorf("values names %q, which is not a column; the columns are %s", v, joinQuoted(cols))}
		case slices.Contains(a.By, v):
			return nil, nil, &plotError{attr: "values", err: fmt.Errorf("%q is in both by and values", v)}
		case !tb.numeric(v):
			return nil, nil, &plotError{attr: "values", err: fmt.Errorf("column %q holds something other than numbers; only numbers are summarised", v)}
		}
	}
	// Groups in the order they first appear, as the rows were written.
	type group struct {
		key  map[string]cty.Value
		vals map[string][]float64
		rows int
	}
	var groups []*group
	index := map[string]*group{}
	for _, r := range tb.rows {
		var parts []string
		for _, c := range a.By {
			parts = append(parts, cell(r[c], true))
		}
		id := strings.Join(parts, "\x00")
		g, ok := index[id]
		if !ok {
			g = &group{key: map[string]cty.Value{}, vals: map[string][]float64{}}
			for _, c := range a.By {
				g.key[c] = r[c]
			}
			index[id] = g
			groups = append(groups, g)
		}
		g.rows++
		for _, v := range values {
			if x, ok := r[v]; ok && !x.IsNull() && x.IsKnown() {
				f, _ := x.AsBigFloat().Float64()
				g.vals[v] = append(g.vals[v], f)
			}
		}
	}
	slices.SortStableFunc(groups, func(x, y *group) int {
		for _, c := range a.By {
			if d := compareCells(x.key[c], y.key[c]); d != 0 {
				return d
			}
		}
		return 0
	})
	out = &table{columns: slices.Clone(a.By)}
	display = &table{columns: append(slices.Clone(a.By), "n")}
	for _, v := range values {
		for _, st := range a.Stats {
			out.columns = append(out.columns, statColumns(v, st)...)
		}
		display.columns = append(display.columns, v)
	}
	for _, g := range groups {
		row, shown := map[string]cty.Value{}, map[string]cty.Value{"n": cty.NumberIntVal(int64(g.rows))}
		for c, x := range g.key {
			row[c], shown[c] = x, x
		}
		for _, v := range values {
			s := summarise(g.vals[v], a.Confidence)
			for _, st := range a.Stats {
				for i, c := range statColumns(v, st) {
					row[c] = numberOrNull(s.get(st, i))
				}
			}
			shown[v] = cty.StringVal(s.text(a.Stats))
		}
		out.rows = append(out.rows, row)
		display.rows = append(display.rows, shown)
	}
	return out, display, nil
}

// compareCells orders two values of a by column: nulls first, numbers by value, anything
// else by its text with the numbers in it in order ("epoch 2" before "epoch 10").
func compareCells(x, y cty.Value) int {
	switch {
	case x.IsNull() || y.IsNull():
		return cmpBool(!x.IsNull(), !y.IsNull())
	case x.Type() == cty.Number && y.Type() == cty.Number:
		return x.AsBigFloat().Cmp(y.AsBigFloat())
	}
	return naturalCompare(cell(x, true), cell(y, true))
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// text is how display shows s: the mean, with the interval or the spread among stats.
func (s summary) text(stats []string) string {
	if s.n == 0 {
		return ""
	}
	num := func(f float64) string { return shortNumber(f) }
	t := num(s.mean)
	switch {
	case s.n < 2:
	case slices.Contains(stats, "ci"):
		t += " [" + num(s.lo) + ", " + num(s.hi) + "]"
	case slices.Contains(stats, "std"):
		t += " ± " + num(s.std)
	case slices.Contains(stats, "sem"):
		t += " ± " + num(s.sem)
	}
	return t
}

// summary is the statistics of one value over one group.
type summary struct {
	n                      int
	mean, std, sem, lo, hi float64
	min, max, median       float64
}

// summarise computes the statistics of xs at confidence level conf. What needs more
// values than there are is NaN (the standard deviation of one value), written as null.
func summarise(xs []float64, conf float64) summary {
	s := summary{n: len(xs)}
	nan := math.NaN()
	s.mean, s.std, s.sem, s.lo, s.hi, s.min, s.max, s.median = nan, nan, nan, nan, nan, nan, nan, nan
	if s.n == 0 {
		return s
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	s.mean = sum / float64(s.n)
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	s.min, s.max = sorted[0], sorted[s.n-1]
	if s.n%2 == 1 {
		s.median = sorted[s.n/2]
	} else {
		s.median = (sorted[s.n/2-1] + sorted[s.n/2]) / 2
	}
	if s.n < 2 {
		return s
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - s.mean) * (x - s.mean)
	}
	s.std = math.Sqrt(ss / float64(s.n-1))
	s.sem = s.std / math.Sqrt(float64(s.n))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(s.n - 1)}.Quantile(0.5 + conf/2)
	s.lo, s.hi = s.mean-t*s.sem, s.mean+t*s.sem
	return s
}

// get is statistic st (column i of it).
func (s summary) get(st string, i int) float64 {
	switch st {
	case "n":
		return float64(s.n)
	case "mean":
		return s.mean
	case "std":
		return s.std
	case "sem":
		return s.sem
	case "ci":
		if i == 0 {
			return s.lo
		}
		return s.hi
	case "min":
		return s.min
	case "max":
		return s.max
	}
	return s.median
}

func numberOrNull(f float64) cty.Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return cty.NullVal(cty.Number)
	}
	return cty.NumberFloatVal(f)
}

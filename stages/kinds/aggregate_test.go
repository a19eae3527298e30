package kinds

import (
	"math"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestSummarise checks the statistics against scipy 1.10 (stats.t.ppf, numpy std with
// ddof=1) on the same values.
func TestSummarise(t *testing.T) {
	for _, c := range []struct {
		xs                     []float64
		mean, std, sem, lo, hi float64
	}{
		{[]float64{1, 2, 3, 4}, 2.5, 1.2909944487358056, 0.6454972243679028, 0.445739743239121, 4.5542602567608785},
		{[]float64{0.1, 0.12, 0.17}, 0.13, 0.0360555127546399, 0.02081665999466133, 0.04043314104633561, 0.2195668589536644},
		{[]float64{5, 5}, 5, 0, 0, 5, 5},
	} {
		s := summarise(c.xs, 0.95)
		for _, g := range []struct {
			name      string
			got, want float64
		}{{"mean", s.mean, c.mean}, {"std", s.std, c.std}, {"sem", s.sem, c.sem}, {"ci_low", s.lo, c.lo}, {"ci_high", s.hi, c.hi}} {
			if math.Abs(g.got-g.want) > 1e-9*math.Max(1, math.Abs(g.want)) {
				t.Errorf("%v: %s = %.12g, scipy %.12g", c.xs, g.name, g.got, g.want)
			}
		}
	}
	one := summarise([]float64{0.3}, 0.95)
	if one.mean != 0.3 || one.median != 0.3 || !math.IsNaN(one.std) || !math.IsNaN(one.lo) {
		t.Errorf("one value: %+v; want its mean and median, and no spread", one)
	}
	if m := summarise([]float64{4, 1, 3, 2}, 0.95).median; m != 2.5 {
		t.Errorf("median of 1..4 = %g", m)
	}
	if s := summarise(nil, 0.95); s.n != 0 || !math.IsNaN(s.mean) {
		t.Errorf("no values: %+v", s)
	}
}

func TestAggregate(t *testing.T) {
	row := func(w int64, seed int64, b cty.Value) map[string]cty.Value {
		return map[string]cty.Value{"width": cty.NumberIntVal(w), "seed": cty.NumberIntVal(seed), "barrier": b, "note": cty.StringVal("x")}
	}
	f := cty.NumberFloatVal
	tb := &table{columns: []string{"width", "seed", "barrier", "note"}, rows: []map[string]cty.Value{
		row(64, 1, f(1)), row(16, 1, f(0.1)), row(64, 2, f(2)), row(16, 2, f(0.12)), row(64, 3, f(3)), row(16, 3, f(0.17)), row(64, 4, f(4)), row(16, 4, cty.NullVal(cty.Number)),
	}}
	out, shown, err := aggregate(tb, &aggregateConfig{By: []string{"width"}, Values: []string{"barrier"}, Stats: defaultStats, Confidence: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.columns, " "); got != "width barrier_n barrier_mean barrier_std barrier_sem barrier_ci_low barrier_ci_high barrier_min barrier_max" {
		t.Errorf("columns %s", got)
	}
	if len(out.rows) != 2 || cell(out.rows[0]["width"], true) != "16" {
		t.Fatalf("groups %v; want 16 then 64, in numeric order", out.rows)
	}
	if got := shown.markdown(); !strings.Contains(got, "| width | n | barrier |") || !strings.Contains(got, "| 16 | 4 | 0.13 [0.04043, 0.2196] |") || !strings.Contains(got, "| 64 | 4 | 2.5 [0.4457, 4.554] |") {
		t.Errorf("as people read it:\n%s", got)
	}
	num := func(r map[string]cty.Value, c string) float64 { x, _ := r[c].AsBigFloat().Float64(); return x }
	if r := out.rows[0]; num(r, "barrier_n") != 3 || math.Abs(num(r, "barrier_ci_high")-0.2195668589536644) > 1e-9 || num(r, "barrier_max") != 0.17 {
		t.Errorf("width 16 (a null left out): n %g, ci_high %.17g, max %.17g", num(r, "barrier_n"), num(r, "barrier_ci_high"), num(r, "barrier_max"))
	}
	// Every numeric column but by, by default: seed too.
	all, _, err := aggregate(tb, &aggregateConfig{By: []string{"width"}, Stats: []string{"mean"}, Confidence: 0.95})
	if err != nil || strings.Join(all.columns, " ") != "width seed_mean barrier_mean" {
		t.Errorf("default values: %v, %v", all.columns, err)
	}
	for _, c := range []struct {
		a    aggregateConfig
		want string
	}{
		{aggregateConfig{By: []string{"depth"}}, `by names "depth", which is not a column`},
		{aggregateConfig{By: []string{"width"}, Values: []string{"note"}}, `column "note" holds something other than numbers`},
		{aggregateConfig{By: []string{"width"}, Values: []string{"width"}}, `"width" is in both by and values`},
		{aggregateConfig{By: []string{"width"}, Values: []string{"loss"}}, `values names "loss", which is not a column`},
		{aggregateConfig{By: []string{"width", "seed", "barrier"}}, "no column of numbers to summarise"},
	} {
		c.a.Stats, c.a.Confidence = defaultStats, 0.95
		if _, _, err := aggregate(tb, &c.a); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.a, err, c.want)
		}
	}
}

package kinds

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/modulo-ml/modulo/stages"
)

// plotSpec is one plot block.
type plotSpec struct {
	title, kind, x, seriesCol string
	y                         []string
	logX, logY                bool
	xLabel, yLabel            string
	errorBars                 string // "" (the default for the table: ci), ci, std, sem, minmax or none
}

// The size of every figure: wide enough for a legend beside ten curves, and the PNG at
// 150 dpi is sharp on a laptop screen.
const (
	figWidth  = 7 * vg.Inch
	figHeight = 4.5 * vg.Inch
	pngDPI    = 150
)

// plotConfig is a plot block's configuration (plotSchema).
type plotConfig struct {
	Name   string    `cty:"name"`
	Title  *string   `cty:"title"`
	Kind   string    `cty:"kind"`
	Table  cty.Value `cty:"table"`
	X      *string   `cty:"x"`
	Y      []string  `cty:"y"`
	Series *string   `cty:"series"`
	LogX   bool      `cty:"log_x"`
	LogY   bool      `cty:"log_y"`
	XLabel *string   `cty:"x_label"`
	YLabel *string   `cty:"y_label"`
	Error  *string   `cty:"error"`
}

// plotConfigOf decodes one element of a report's plot blocks.
func plotConfigOf(v cty.Value) (*plotConfig, error) {
	var pc plotConfig
	if err := stages.DecodeValue(v, &pc); err != nil {
		return nil, err
	}
	return &pc, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func plotSpecOf(p *plotConfig) (*plotSpec, error) {
	s := &plotSpec{
		title: deref(p.Title), kind: p.Kind,
		x: deref(p.X), seriesCol: deref(p.Series),
		y: p.Y, logX: p.LogX, logY: p.LogY,
		xLabel: deref(p.XLabel), yLabel: deref(p.YLabel),
		errorBars: deref(p.Error),
	}
	switch s.kind {
	case "line", "scatter":
		if s.x == "" {
			return nil, fmt.Errorf("a %s plot needs x, the column on the horizontal axis", s.kind)
		}
		if len(s.y) == 0 {
			return nil, fmt.Errorf("y is empty; name at least one column to draw")
		}
	case "triangle":
		if len(s.y) != 1 {
			return nil, fmt.Errorf("a triangle plot colours the grid by one column: y = [\"test_loss\"], not %d", len(s.y))
		}
		if s.logX || s.logY || s.seriesCol != "" {
			return nil, fmt.Errorf("a triangle plot has no log axes and no series")
		}
	default:
		return nil, fmt.Errorf("unknown kind %q; the kinds are: line, scatter, triangle", s.kind)
	}
	return s, nil
}

// line is one drawn series.
type line struct {
	name string
	xys  plotter.XYs
	z    []float64 // triangle: the value at each point
	// lo and hi, when set, are the error bars' extent below and above each point.
	lo, hi []float64
}

// yColumn is a y column as drawn: a column of the table, or for a column an aggregate
// summarised (width → width_mean), its mean with the error bars' columns.
type yColumn struct {
	name, col string
	lo, hi    string // columns of the bars' ends ("": none)
	spread    bool   // lo is a spread to subtract and add (std, sem), not an end
}

// yColumns resolves the plot's y columns against the table's columns cols.
func (s *plotSpec) yColumns(cols []string) ([]yColumn, error) {
	var out []yColumn
	for _, y := range s.y {
		if slices.Contains(cols, y) || s.kind == "triangle" || !slices.Contains(cols, y+"_mean") {
			if s.errorBars != "" && s.errorBars != "none" && s.kind != "triangle" {
				return nil, &plotError{attr: "error", err: fmt.Errorf("error bars need the report's aggregate block and a y column it summarises; %q is not one", y)}
			}
			out = append(out, yColumn{name: y, col: y})
			continue
		}
		yc := yColumn{name: y, col: y + "_mean"}
		bars := s.errorBars
		if bars == "" {
			bars = "ci"
			if !slices.Contains(cols, y+"_ci_low") {
				bars = "std"
			}
			if !slices.Contains(cols, y+"_std") && bars == "std" {
				bars = "none"
			}
		}
		switch bars {
		case "ci":
			yc.lo, yc.hi = y+"_ci_low", y+"_ci_high"
			yc.name += " (mean, confidence interval)"
		case "minmax":
			yc.lo, yc.hi = y+"_min", y+"_max"
			yc.name += " (mean, min to max)"
		case "std", "sem":
			yc.lo, yc.spread = y+"_"+bars, true
			yc.name += " (mean ± " + bars + ")"
		default:
			yc.name += " (mean)"
		}
		for _, c := range []string{yc.lo, yc.hi} {
			if c != "" && !slices.Contains(cols, c) {
				return nil, &plotError{attr: "error", err: fmt.Errorf("error = %q needs the column %q; add %q to the aggregate block's stats", bars, c, strings.TrimPrefix(c, y+"_"))}
			}
		}
		out = append(out, yc)
	}
	return out, nil
}

// series extracts the drawn points: one line per y column and value of the series column,
// rows in table order. It reports missing or non-numeric columns and values a log axis
// cannot show.
func (s *plotSpec) series(tb *table) ([]line, error) {
	if err := s.checkColumns(tb); err != nil {
		return nil, err
	}
	num := func(r map[string]cty.Value, c string, row int) (float64, bool, error) {
		v, ok := r[c]
		if !ok || v.IsNull() {
			return 0, false, nil
		}
		if v.Type() != cty.Number {
			return 0, false, fmt.Errorf("column %q holds %s in row %d; plots need numbers", c, v.Type().FriendlyName(), row)
		}
		f, _ := v.AsBigFloat().Float64()
		return f, true, nil
	}
	ycols, err := s.yColumns(rowKeys(tb.rows))
	if err != nil {
		return nil, err
	}
	var lines []line
	index := map[string]int{}
	for i, r := range tb.rows {
		key := ""
		if s.seriesCol != "" {
			key = cell(r[s.seriesCol], false)
		}
		for _, ycol := range ycols {
			yc := ycol.col
			var x, y float64
			var okx, oky bool
			var err error
			if s.kind == "triangle" {
				// Barycentric (l0, l1, l2) to the plane: network 0 at (0, 0), 1 at (1, 0),
				// 2 at (½, √3/2).
				l1, _, e1 := num(r, "l1", i)
				l2, _, e2 := num(r, "l2", i)
				if err = cmp.Or(e1, e2); err != nil {
					return nil, err
				}
				x, y, okx = l1+l2/2, l2*math.Sqrt(3)/2, true
			} else if x, okx, err = num(r, s.x, i); err != nil {
				return nil, err
			}
			z, oky, err := num(r, yc, i)
			if err != nil {
				return nil, err
			}
			if !okx || !oky {
				continue
			}
			if s.logX && x <= 0 {
				return nil, &plotError{attr: "log_x", err: fmt.Errorf("log_x, but %s = %g in row %d; a log axis needs positive values", s.x, x, i)}
			}
			if s.logY && z <= 0 {
				return nil, &plotError{attr: "log_y", err: fmt.Errorf("log_y, but %s = %g in row %d; a log axis needs positive values (barriers can be 0 or negative: use a linear axis or max(%s, 1e-6))", yc, z, i, yc)}
			}
			name := ycol.name
			switch {
			case s.seriesCol != "" && len(s.y) > 1:
				name = fmt.Sprintf("%s, %s = %s", ycol.name, s.seriesCol, key)
			case s.seriesCol != "":
				name = fmt.Sprintf("%s = %s", s.seriesCol, key)
			}
			j, ok := index[name]
			if !ok {
				j = len(lines)
				index[name] = j
				lines = append(lines, line{name: name})
			}
			if s.kind == "triangle" {
				lines[j].xys = append(lines[j].xys, plotter.XY{X: x, Y: y})
				lines[j].z = append(lines[j].z, z)
				continue
			}
			lines[j].xys = append(lines[j].xys, plotter.XY{X: x, Y: z})
			if ycol.lo != "" {
				// A missing bar (one replicate has no spread) is drawn as none.
				a, oka, e1 := num(r, ycol.lo, i)
				b, okb, e2 := num(r, cmp.Or(ycol.hi, ycol.lo), i)
				if err := cmp.Or(e1, e2); err != nil {
					return nil, err
				}
				lo, hi := 0.0, 0.0
				switch {
				case ycol.spread && oka:
					lo, hi = a, a
				case !ycol.spread && oka && okb:
					lo, hi = z-a, b-z
				}
				lines[j].lo = append(lines[j].lo, lo)
				lines[j].hi = append(lines[j].hi, hi)
			}
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("no row has numbers in both %s and %s", s.x, joinQuoted(s.y))
	}
	return lines, nil
}

// checkColumns reports a column the plot names that no row has. It needs only the rows'
// attribute names, so plan can run it while the values are still unknown.
func (s *plotSpec) checkColumns(tb *table) error {
	cols := rowKeys(tb.rows)
	type need struct{ col, attr string }
	var needs []need
	ycols, err := s.yColumns(cols)
	if err != nil {
		return err
	}
	for _, c := range ycols {
		needs = append(needs, need{c.col, "y"})
	}
	if s.kind == "triangle" {
		needs = append(needs, need{"l0", "table"}, need{"l1", "table"}, need{"l2", "table"})
	} else {
		needs = append(needs, need{s.x, "x"})
	}
	if s.seriesCol != "" {
		needs = append(needs, need{s.seriesCol, "series"})
	}
	for _, n := range needs {
		if !slices.Contains(cols, n.col) {
			return &plotError{attr: n.attr, err: fmt.Errorf("no column %q; the table's columns are %s", n.col, joinQuoted(cols))}
		}
	}
	return nil
}

// plotError is a mistake in a plot block, with the attribute it is about, so that plan
// points at that line.
type plotError struct {
	attr string
	err  error
}

func (e *plotError) Error() string { return e.err.Error() }

func joinQuoted(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(q)
}

// draw renders the plot as PNG and SVG.
func (s *plotSpec) draw(tb *table) (png, svg []byte, err error) {
	lines, err := s.series(tb)
	if err != nil {
		return nil, nil, err
	}
	var render func(c draw.Canvas)
	if s.kind == "triangle" {
		render, err = s.triangle(lines[0])
	} else {
		render, err = s.lines(lines)
	}
	if err != nil {
		return nil, nil, err
	}
	img := vgimg.NewWith(vgimg.UseWH(figWidth, figHeight), vgimg.UseDPI(pngDPI))
	render(draw.New(img))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}
	sc := vgsvg.New(figWidth, figHeight)
	render(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	return pb.Bytes(), sb.Bytes(), nil
}

// lines draws line or scatter plots, one colour and glyph per series.
func (s *plotSpec) lines(lines []line) (func(draw.Canvas), error) {
	p := plot.New()
	p.Title.Text = s.title
	p.X.Label.Text = cmp.Or(s.xLabel, s.x)
	p.Y.Label.Text = s.yLabel
	if p.Y.Label.Text == "" && len(s.y) == 1 {
		p.Y.Label.Text = s.y[0]
	}
	if s.logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		if ticks := dataTicks(lines); ticks != nil {
			// Widths 16, 32, …, 1024: label each one rather than only the decades.
			p.X.Tick.Marker = ticks
		}
	}
	if s.logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	for i, l := range lines {
		sc, err := plotter.NewScatter(l.xys)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color = plotutil.Color(i)
		sc.GlyphStyle.Shape = plotutil.Shape(i)
		sc.GlyphStyle.Radius = vg.Points(2.5)
		if l.lo != nil {
			eb, err := plotter.NewYErrorBars(errorPoints{l.xys, l.lo, l.hi})
			if err != nil {
				return nil, err
			}
			eb.LineStyle.Color = plotutil.Color(i)
			eb.LineStyle.Width = vg.Points(1)
			eb.CapWidth = vg.Points(5)
			p.Add(eb)
		}
		if s.kind == "line" {
			ln, err := plotter.NewLine(l.xys)
			if err != nil {
				return nil, err
			}
			ln.LineStyle.Color = plotutil.Color(i)
			ln.LineStyle.Width = vg.Points(1.5)
			ln.LineStyle.Dashes = plotutil.Dashes(i / len(plotutil.DefaultColors))
			p.Add(ln, sc)
			p.Legend.Add(l.name, ln, sc)
		} else {
			p.Add(sc)
			p.Legend.Add(l.name, sc)
		}
	}
	if len(lines) > 1 || s.seriesCol != "" {
		p.Legend.Top = true
	} else {
		p.Legend = plot.NewLegend() // one unnamed series: the axis label says it all
	}
	return func(c draw.Canvas) { p.Draw(c) }, nil
}

// triangle draws a merge_three grid: every point of the 2-simplex coloured by the value,
// with a colour bar beside it.
func (s *plotSpec) triangle(l line) (func(draw.Canvas), error) {
	lo, hi := slices.Min(l.z), slices.Max(l.z)
	if hi == lo {
		hi = lo + 1
	}
	cm := moreland.SmoothBlueRed()
	cm.SetMin(lo)
	cm.SetMax(hi)
	p := plot.New()
	p.Title.Text = cmp.Or(s.title, s.y[0])
	p.HideAxes()
	sc, err := plotter.NewScatter(l.xys)
	if err != nil {
		return nil, err
	}
	n := len(l.xys)
	// A grid of resolution r has (r+1)(r+2)/2 points; size the dots to touch.
	r := (math.Sqrt(8*float64(n)+1) - 3) / 2
	radius := vg.Length(math.Max(2, 130/math.Max(r, 1)))
	sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		c, err := cm.At(l.z[i])
		if err != nil {
			c = color.Black
		}
		return draw.GlyphStyle{Color: c, Radius: vg.Points(float64(radius) / 2), Shape: draw.CircleGlyph{}}
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{
		XYs:    []plotter.XY{{X: 0, Y: -0.07}, {X: 1, Y: -0.07}, {X: 0.5, Y: math.Sqrt(3)/2 + 0.04}},
		Labels: []string{"network 0", "network 1", "network 2"},
	})
	if err != nil {
		return nil, err
	}
	p.Add(sc, labels)
	p.X.Min, p.X.Max = -0.12, 1.12
	p.Y.Min, p.Y.Max = -0.12, 1.0

	bar := plot.New()
	bar.HideX()
	bar.Y.Padding = 0
	bar.Title.Text = s.y[0]
	cb := &plotter.ColorBar{ColorMap: cm, Vertical: true}
	bar.Add(cb)
	return func(c draw.Canvas) {
		w := c.Max.X - c.Min.X
		main, side := c, c
		main.Max.X = c.Min.X + w*0.82
		side.Min.X = c.Min.X + w*0.86
		side.Max.X = c.Min.X + w*0.95
		p.Draw(main)
		bar.Draw(side)
	}, nil
}

// dataTicks returns ticks at the distinct x values of lines when there are few of them
// (at most 12), else nil.
func dataTicks(lines []line) plot.ConstantTicks {
	seen := map[float64]bool{}
	for _, l := range lines {
		for _, p := range l.xys {
			seen[p.X] = true
		}
	}
	if len(seen) > 12 {
		return nil
	}
	xs := make([]float64, 0, len(seen))
	for x := range seen {
		xs = append(xs, x)
	}
	slices.Sort(xs)
	ticks := make(plot.ConstantTicks, len(xs))
	for i, x := range xs {
		ticks[i] = plot.Tick{Value: x, Label: shortNumber(x)}
	}
	return ticks
}

// errorPoints are a line's points with their error bars, as plotter.NewYErrorBars takes them.
type errorPoints struct {
	plotter.XYs
	lo, hi []float64
}

func (e errorPoints) YError(i int) (float64, float64) { return e.lo[i], e.hi[i] }

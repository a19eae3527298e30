package kinds

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// Report media types: each report output is one file a user opens.
var (
	CSVFile      = stages.ArtifactType("csv", "text/csv; charset=utf-8")
	JSONFile     = stages.ArtifactType("json", "application/json")
	MarkdownFile = stages.ArtifactType("markdown", "text/markdown; charset=utf-8")
	HTMLFile     = stages.ArtifactType("html", "text/html; charset=utf-8")
	PNGFile      = stages.ArtifactType("png", "image/png")
	SVGFile      = stages.ArtifactType("svg", "image/svg+xml")
)

var plotSchema = stages.Schema{Attributes: []stages.Attribute{
	{Name: "title", Type: cty.String, Doc: "the figure's title"},
	{Name: "kind", Type: cty.String, Default: cty.StringVal("line"), Doc: "line, scatter, or triangle (a merge_three grid: columns l0, l1, l2 and one y)", Check: stages.OneOf("line", "scatter", "triangle")},
	{Name: "table", Type: cty.DynamicPseudoType, Doc: "rows to plot when not the report's table, such as interpolate.x.curve"},
	{Name: "x", Type: cty.String, Doc: "the column on the x axis (line and scatter)"},
	{Name: "y", Type: cty.List(cty.String), Required: true, Doc: "the columns drawn against x, one line each; triangle: the column that colours the grid", Check: stages.Items(1, 100, nil)},
	{Name: "series", Type: cty.String, Doc: "a column whose values split the rows into separate lines, such as pair"},
	{Name: "log_x", Type: cty.Bool, Default: cty.False},
	{Name: "log_y", Type: cty.Bool, Default: cty.False},
	{Name: "x_label", Type: cty.String},
	{Name: "y_label", Type: cty.String},
	{Name: "error", Type: cty.String, Doc: "with the report's aggregate block, the error bars around each y column's mean: ci (the default), std, sem, minmax or none", Check: stages.OneOf("ci", "std", "sem", "minmax", "none")},
}}

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "report",
		Version: 3, // 3: plots of aggregated tables draw error bars
		Doc:     "Writes a table (CSV, JSON, Markdown), plots (PNG, SVG) and one self-contained HTML page.",
		Schema: stages.Schema{
			Attributes: []stages.Attribute{
				{Name: "title", Type: cty.String, Default: cty.StringVal("Report")},
				{Name: "description", Type: cty.String, Default: cty.StringVal(""), Doc: "a paragraph under the title"},
				{Name: "table", Type: cty.DynamicPseudoType, Required: true, Doc: "a list of objects, one per row, such as [for w in var.widths : { width = w, barrier = … }]"},
				{Name: "columns", Type: cty.List(cty.String), Doc: "the columns in order; by default every attribute of the rows, in the order they first appear"},
			},
			Blocks: []stages.BlockSchema{{Name: "plot", Labels: []string{"name"}, Multi: true, Schema: plotSchema}, aggregateSchema},
		},
		Outputs: []stages.OutputSpec{
			{Name: "csv", Type: CSVFile},
			{Name: "json", Type: JSONFile},
			{Name: "markdown", Type: MarkdownFile},
			{Name: "html", Type: HTMLFile, Doc: "the tables and the plots (inline SVG) in one page"},
			{Name: "png", Type: cty.List(PNGFile), Doc: "each plot as PNG, in the order of the plot blocks"},
			{Name: "svg", Type: cty.List(SVGFile), Doc: "each plot as SVG, in the order of the plot blocks"},
			{Name: "rows", Type: cty.Number},
		},
		Summary:  "markdown",
		Config:   reportConfig{},
		Validate: validateReport,
		Run:      runReport,
	})
}

// reportConfig is a report block's configuration. Plot holds the plot blocks as a list or,
// when their tables differ in type, a tuple; each element decodes with plotConfigOf.
type reportConfig struct {
	Title       string           `cty:"title"`
	Description string           `cty:"description"`
	Table       cty.Value        `cty:"table"`
	Columns     []string         `cty:"columns"`
	Aggregate   *aggregateConfig `cty:"aggregate"`
	Plot        cty.Value        `cty:"plot"`
}

// table is a report's rows with its column order.
type table struct {
	columns []string
	rows    []map[string]cty.Value
}

// tableOf reads a table value: a list, tuple or set of objects or maps. columns, when given,
// fixes the order; otherwise columns come in the order they first appear (each row's
// attributes sorted, as cty orders them).
func tableOf(v cty.Value, columns []string) (*table, error) {
	t := v.Type()
	if !(t.IsListType() || t.IsTupleType() || t.IsSetType()) {
		return nil, fmt.Errorf("a table is a list of objects, one per row, not %s", t.FriendlyName())
	}
	tb := &table{columns: columns}
	seen := map[string]bool{}
	for _, c := range columns {
		seen[c] = true
	}
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, row := it.Element()
		rt := row.Type()
		if row.IsNull() || !(rt.IsObjectType() || rt.IsMapType()) {
			return nil, fmt.Errorf("row %d of the table is %s, not an object such as { width = 64, barrier = 0.1 }", i, rt.FriendlyName())
		}
		m := row.AsValueMap()
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !seen[k] && columns == nil {
				seen[k] = true
				tb.columns = append(tb.columns, k)
			}
		}
		tb.rows = append(tb.rows, m)
	}
	if len(tb.rows) == 0 {
		return nil, fmt.Errorf("the table has no rows")
	}
	for _, c := range columns {
		found := false
		for _, r := range tb.rows {
			if _, ok := r[c]; ok {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("column %q is in no row; the rows have %s", c, strings.Join(rowKeys(tb.rows), ", "))
		}
	}
	return tb, nil
}

// rowKeys lists every attribute of the rows, sorted.
func rowKeys(rows []map[string]cty.Value) []string {
	set := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// cell renders a value for a table: exact for CSV, short (4 significant digits) for
// people.
func cell(v cty.Value, exact bool) string {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return ""
	}
	switch t := v.Type(); {
	case t == cty.String:
		return v.AsString()
	case t == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		if exact {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return shortNumber(f)
	case t == cty.Bool:
		return strconv.FormatBool(v.True())
	case t.IsCapsuleType():
		if r, ok := v.EncapsulatedValue().(*stages.Ref); ok {
			return r.String()
		}
		return t.FriendlyName()
	default:
		b, err := ctyjson.SimpleJSONValue{Value: v}.MarshalJSON()
		if err != nil {
			return t.FriendlyName()
		}
		return string(b)
	}
}

// shortNumber prints integers whole and other numbers with 4 significant digits.
func shortNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

func (tb *table) csv() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(tb.columns); err != nil {
		return nil, err
	}
	for _, r := range tb.rows {
		rec := make([]string, len(tb.columns))
		for i, c := range tb.columns {
			rec[i] = cell(r[c], true)
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func (tb *table) json() ([]byte, error) {
	rows := make([]json.RawMessage, len(tb.rows))
	for i, r := range tb.rows {
		obj := map[string]cty.Value{}
		for _, c := range tb.columns {
			if v, ok := r[c]; ok {
				obj[c] = v
			}
		}
		b, err := ctyjson.SimpleJSONValue{Value: cty.ObjectVal(obj)}.MarshalJSON()
		if err != nil {
			return nil, err
		}
		rows[i] = b
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	return append(b, '\n'), err
}

// markdown renders a GitHub-flavoured table, numbers right-aligned.
func (tb *table) markdown() string {
	var sb strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	sb.WriteString("|")
	for _, c := range tb.columns {
		sb.WriteString(" " + esc(c) + " |")
	}
	sb.WriteString("\n|")
	for _, c := range tb.columns {
		if tb.numeric(c) {
			sb.WriteString("---:|")
		} else {
			sb.WriteString("---|")
		}
	}
	sb.WriteString("\n")
	for _, r := range tb.rows {
		sb.WriteString("|")
		for _, c := range tb.columns {
			sb.WriteString(" " + esc(cell(r[c], false)) + " |")
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// numeric reports whether every present value of column c is a number.
func (tb *table) numeric(c string) bool {
	seen := false
	for _, r := range tb.rows {
		v, ok := r[c]
		if !ok || v.IsNull() {
			continue
		}
		if v.Type() != cty.Number {
			return false
		}
		seen = true
	}
	return seen
}

func validateReport(p *stages.Planned) error {
	var errs []error
	cols := stringList(p.Get("columns"))
	// What the plots of the report's table see: the table, or its aggregate's columns.
	var shape *table
	if v := p.Get("table"); knownRows(v) {
		tb, err := tableOf(v, cols)
		if err != nil {
			errs = append(errs, cty.GetAttrPath("table").NewErrorf("%v", err))
		} else if shape, err = aggregateShape(tb, p.Get("aggregate")); err != nil {
			at := cty.GetAttrPath("aggregate")
			var pe *plotError
			if errors.As(err, &pe) {
				at = at.GetAttr(pe.attr)
			}
			errs = append(errs, at.NewErrorf("%v", err))
		}
	}
	plots := p.Get("plot")
	if !plots.IsKnown() || plots.IsNull() {
		return errors.Join(errs...)
	}
	names := map[string]bool{}
	for it := plots.ElementIterator(); it.Next(); {
		key, pv := it.Element()
		at := func(attr string) cty.Path { return cty.GetAttrPath("plot").Index(key).GetAttr(attr) }
		if !pv.IsWhollyKnown() {
			continue
		}
		pc, err := plotConfigOf(pv)
		if err != nil {
			continue // the schema's checks have said what is wrong
		}
		name := pc.Name
		if names[name] {
			errs = append(errs, at("name").NewErrorf("two plots are named %q; plot names are file names and must differ", name))
			continue
		}
		names[name] = true
		if !validFileName(name) {
			errs = append(errs, at("name").NewErrorf("plot %q: names become file names; use letters, digits, '-' and '_'", name))
			continue
		}
		spec, err := plotSpecOf(pc)
		if err != nil {
			errs = append(errs, at("kind").NewErrorf("plot %q: %v", name, err))
			continue
		}
		tv := pc.Table
		aggregated := !p.Get("aggregate").IsNull()
		if tv.IsNull() && !aggregated {
			tv = p.Get("table")
		}
		var tb *table
		switch {
		case tv.IsNull() && shape == nil:
			continue
		case tv.IsNull():
			tb, tv = shape, cty.UnknownVal(cty.DynamicPseudoType) // names only: the values are not computed
		case !knownRows(tv):
			continue
		default:
			if tb, err = tableOf(tv, nil); err != nil {
				errs = append(errs, at("table").NewErrorf("plot %q: %v", name, err))
				continue
			}
		}
		if err == nil {
			if tv.IsWhollyKnown() {
				_, err = spec.series(tb)
			} else {
				err = spec.checkColumns(tb)
			}
		}
		if err != nil {
			attr := "table"
			var pe *plotError
			if errors.As(err, &pe) {
				attr = pe.attr
			}
			errs = append(errs, at(attr).NewErrorf("plot %q: %v", name, err))
		}
	}
	return errors.Join(errs...)
}

// aggregateShape is what plan knows of the table the plots of tb see: tb itself without
// an aggregate block, else a row of nulls under the aggregated columns (values not yet
// computed cannot be summarised, but their names can be checked). nil: not known yet.
func aggregateShape(tb *table, av cty.Value) (*table, error) {
	if av.IsNull() {
		return tb, nil
	}
	if !av.IsWhollyKnown() {
		return nil, nil
	}
	var a aggregateConfig
	if err := stages.DecodeValue(av, &a); err != nil {
		return nil, nil
	}
	// A row of unknown numbers in every column not in by: aggregate checks the names and
	// gives the columns; tb.numeric cannot tell unknown values apart, so they stand in.
	probe := &table{columns: tb.columns}
	row := map[string]cty.Value{}
	for _, c := range rowKeys(tb.rows) {
		if slices.Contains(a.By, c) {
			row[c] = cty.StringVal("")
		} else if tb.numeric(c) || !knownValues(tb, c) {
			row[c] = cty.Zero
		} else {
			row[c] = cty.StringVal("")
		}
	}
	probe.rows = []map[string]cty.Value{row}
	out, _, err := aggregate(probe, &a)
	return out, err
}

// knownValues reports whether every value of column c is known.
func knownValues(tb *table, c string) bool {
	for _, r := range tb.rows {
		if v, ok := r[c]; ok && !v.IsKnown() {
			return false
		}
	}
	return true
}

// knownRows reports whether a table's rows and their attribute names are known at plan
// time, though their values may not be (a row built from an upstream node not yet run).
func knownRows(v cty.Value) bool {
	if !v.IsKnown() || v.IsNull() {
		return false
	}
	t := v.Type()
	if !(t.IsListType() || t.IsTupleType() || t.IsSetType()) {
		return true // tableOf says what is wrong
	}
	for it := v.ElementIterator(); it.Next(); {
		_, row := it.Element()
		if !row.IsKnown() {
			return false
		}
	}
	return true
}

func validFileName(s string) bool {
	if s == "" || s == "index" || s == "table" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func stringList(v cty.Value) []string {
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out
}

func optString(v cty.Value) string {
	if v.IsNull() || !v.IsKnown() {
		return ""
	}
	return v.AsString()
}

func runReport(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var c reportConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	tb, err := tableOf(c.Table, c.Columns)
	if err != nil {
		return nil, fmt.Errorf("table: %v", err)
	}
	shown := tb // what people read: the Markdown and the page
	if c.Aggregate != nil {
		if tb, shown, err = aggregate(tb, c.Aggregate); err != nil {
			return nil, fmt.Errorf("aggregate: %w", err)
		}
	}
	title, desc := c.Title, c.Description
	csvb, err := tb.csv()
	if err != nil {
		return nil, err
	}
	jsonb, err := tb.json()
	if err != nil {
		return nil, err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# %s\n\n", title)
	if desc != "" {
		fmt.Fprintf(&md, "%s\n\n", desc)
	}
	md.WriteString(shown.markdown())

	var pngs, svgs []stages.Artifact
	var figures []figure
	for it := c.Plot.ElementIterator(); it.Next(); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_, pv := it.Element()
		p, err := plotConfigOf(pv)
		if err != nil {
			return nil, err
		}
		name := p.Name
		spec, err := plotSpecOf(p)
		if err != nil {
			return nil, fmt.Errorf("plot %q: %v", name, err)
		}
		ptb := tb
		if tv := p.Table; !tv.IsNull() {
			if ptb, err = tableOf(tv, nil); err != nil {
				return nil, fmt.Errorf("plot %q: %v", name, err)
			}
		}
		png, svg, err := spec.draw(ptb)
		if err != nil {
			return nil, fmt.Errorf("plot %q: %v", name, err)
		}
		pngs = append(pngs, stages.Artifact{Data: png, Codec: artifacts.Raw, Meta: name + ".png"})
		svgs = append(svgs, stages.Artifact{Data: svg, Codec: artifacts.Raw, Meta: name + ".svg"})
		figures = append(figures, figure{name: name, title: spec.title, svg: svg})
		fmt.Fprintf(&md, "\n![%s](%s.png)\n", cmp.Or(spec.title, name), name)
	}
	page := htmlPage(title, desc, shown, figures)
	return &stages.Result{Outputs: map[string]stages.Output{
		"csv":      {Artifacts: []stages.Artifact{{Data: csvb, Meta: "table.csv"}}},
		"json":     {Artifacts: []stages.Artifact{{Data: jsonb, Meta: "table.json"}}},
		"markdown": {Artifacts: []stages.Artifact{{Data: []byte(md.String()), Meta: "table.md"}}},
		"html":     {Artifacts: []stages.Artifact{{Data: page, Meta: "index.html"}}},
		"png":      {Artifacts: pngs},
		"svg":      {Artifacts: svgs},
		"rows":     {Value: cty.NumberIntVal(int64(len(tb.rows)))},
	}}, nil
}

// figure is one plot on the HTML page.
type figure struct {
	name, title string
	svg         []byte
}

// htmlPage is a self-contained page: no scripts, no external styles or images, so it opens
// from a file, an e-mail or an archive years later.
func htmlPage(title, desc string, tb *table, figures []figure) []byte {
	var b bytes.Buffer
	e := html.EscapeString
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%s</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 2em 0; }
figure svg { max-width: 100%%; height: auto; }
</style>
</head>
<body>
<h1>%s</h1>
`, e(title), e(title))
	if desc != "" {
		fmt.Fprintf(&b, "<p>%s</p>\n", e(desc))
	}
	b.WriteString("<table>\n<tr>")
	for _, c := range tb.columns {
		fmt.Fprintf(&b, "<th>%s</th>", e(c))
	}
	b.WriteString("</tr>\n")
	for _, r := range tb.rows {
		b.WriteString("<tr>")
		for _, c := range tb.columns {
			class := ""
			if v, ok := r[c]; ok && !v.IsNull() && v.Type() == cty.Number {
				class = ` class="num"`
			}
			fmt.Fprintf(&b, "<td%s>%s</td>", class, e(cell(r[c], false)))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	for _, f := range figures {
		fmt.Fprintf(&b, "<figure id=\"%s\">\n", e(f.name))
		svg := f.svg
		if i := bytes.Index(svg, []byte("<svg")); i > 0 {
			svg = svg[i:] // drop the XML declaration: inline SVG is part of the HTML document
		}
		b.Write(svg)
		fmt.Fprintf(&b, "\n<figcaption>%s</figcaption>\n</figure>\n", e(cmp.Or(f.title, f.name)))
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes()
}

package kinds_test

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/internal/browser"
	"github.com/modulo-ml/modulo/internal/browser/browsertest"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// reportFixture is a report with a table of barriers against width and three plots: a
// log-x line plot, interpolation curves split by pair, and a triangle grid.
func reportFixture(k *stages.Kind) cty.Value {
	var rows, curve, grid []cty.Value
	for i, w := range []int64{16, 64, 256, 1024} {
		rows = append(rows, cty.ObjectVal(map[string]cty.Value{
			"width":   cty.NumberIntVal(w),
			"barrier": cty.NumberFloatVal(0.5 / float64(i+1)),
			"note":    cty.StringVal("a|b"),
		}))
	}
	for pair := range 2 {
		for j := range 5 {
			a := float64(j) / 4
			curve = append(curve, cty.ObjectVal(map[string]cty.Value{
				"pair": cty.NumberIntVal(int64(pair)), "alpha": cty.NumberFloatVal(a),
				"test_loss": cty.NumberFloatVal(0.1 + float64(pair+1)*a*(1-a)),
			}))
		}
	}
	const r = 4
	for i := 0; i <= r; i++ {
		for j := 0; i+j <= r; j++ {
			l1, l2 := float64(i)/r, float64(j)/r
			grid = append(grid, cty.ObjectVal(map[string]cty.Value{
				"l0": cty.NumberFloatVal(1 - l1 - l2), "l1": cty.NumberFloatVal(l1), "l2": cty.NumberFloatVal(l2),
				"test_loss": cty.NumberFloatVal(0.1 + l1*l2 + math.Sin(l1)),
			}))
		}
	}
	plot := func(name string, attrs map[string]cty.Value) cty.Value {
		return plotBlock(k, name, attrs)
	}
	plots := cty.TupleVal([]cty.Value{
		plot("barrier_vs_width", map[string]cty.Value{"x": cty.StringVal("width"), "y": cty.ListVal([]cty.Value{cty.StringVal("barrier")}), "log_x": cty.True, "title": cty.StringVal("Barrier against width")}),
		plot("curves", map[string]cty.Value{"table": cty.TupleVal(curve), "x": cty.StringVal("alpha"), "y": cty.ListVal([]cty.Value{cty.StringVal("test_loss")}), "series": cty.StringVal("pair")}),
		plot("triangle", map[string]cty.Value{"table": cty.TupleVal(grid), "kind": cty.StringVal("triangle"), "y": cty.ListVal([]cty.Value{cty.StringVal("test_loss")})}),
	})
	return k.Schema.Config(map[string]cty.Value{
		"title":   cty.StringVal("Width"),
		"table":   cty.TupleVal(rows),
		"columns": cty.ListVal([]cty.Value{cty.StringVal("width"), cty.StringVal("barrier"), cty.StringVal("note")}),
		"plot":    plots,
	})
}

// plotBlock is a plot block's value as the engine decodes it: attributes and the label.
func plotBlock(k *stages.Kind, name string, attrs map[string]cty.Value) cty.Value {
	m := k.Schema.Blocks[0].Schema.Config(attrs).AsValueMap()
	m["name"] = cty.StringVal(name)
	return cty.ObjectVal(m)
}

func TestReport(t *testing.T) {
	k := kind(t, "report")
	cfg := reportFixture(k)
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	stagetest.Golden(t, k, "width", cfg, nil)
	res, err := k.Run(context.Background(), &stages.Input{Address: "report.width", Config: cfg, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string, i int) stages.Artifact { return res.Outputs[name].Artifacts[i] }
	wantCSV := "width,barrier,note\n16,0.5,a|b\n64,0.25,a|b\n256,0.16666666666666666,a|b\n1024,0.125,a|b\n"
	if got := string(file("csv", 0).Data); got != wantCSV {
		t.Errorf("CSV:\n%s\nwant\n%s", got, wantCSV)
	}
	md := string(file("markdown", 0).Data)
	for _, want := range []string{"# Width\n", "| width | barrier | note |\n|---:|---:|---|\n", "| 256 | 0.1667 | a\\|b |", "![Barrier against width](barrier_vs_width.png)"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	page := string(file("html", 0).Data)
	if strings.Count(page, "<svg") != 3 || strings.Contains(page, "<?xml") || !strings.Contains(page, "<td class=\"num\">0.1667</td>") || strings.Contains(page, "http://") && strings.Contains(page, "src=") {
		t.Errorf("the HTML page should inline three SVGs and the table")
	}
	if n := len(res.Outputs["png"].Artifacts); n != 3 || len(res.Outputs["svg"].Artifacts) != 3 {
		t.Fatalf("%d PNGs", n)
	}
	for i, name := range []string{"barrier_vs_width", "curves", "triangle"} {
		p, s := file("png", i), file("svg", i)
		if p.Meta != name+".png" || s.Meta != name+".svg" {
			t.Errorf("file names %q %q", p.Meta, s.Meta)
		}
		img, err := png.Decode(bytes.NewReader(p.Data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != 1050 || b.Dy() != 675 {
			t.Errorf("%s: %v, want 1050×675 (7×4.5 in at 150 dpi)", name, b)
		}
	}
}

func TestValidateReport(t *testing.T) {
	k := kind(t, "report")
	row := func(w int64, b cty.Value) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"width": cty.NumberIntVal(w), "barrier": b})
	}
	table := cty.TupleVal([]cty.Value{row(16, cty.NumberFloatVal(0.1)), row(32, cty.NumberFloatVal(-0.01))})
	plot := func(attrs map[string]cty.Value) cty.Value {
		return cty.ListVal([]cty.Value{plotBlock(k, "p", attrs)})
	}
	y := func(c ...string) cty.Value {
		var v []cty.Value
		for _, s := range c {
			v = append(v, cty.StringVal(s))
		}
		return cty.ListVal(v)
	}
	tests := []struct {
		cfg  map[string]cty.Value
		want string
	}{
		{map[string]cty.Value{"table": cty.StringVal("x")}, "a table is a list of objects"},
		{map[string]cty.Value{"table": cty.EmptyTupleVal}, "no rows"},
		{map[string]cty.Value{"table": cty.TupleVal([]cty.Value{cty.NumberIntVal(1)})}, "row 0 of the table is number"},
		{map[string]cty.Value{"table": table, "columns": y("depth")}, `column "depth" is in no row; the rows have barrier, width`},
		{map[string]cty.Value{"table": table, "plot": plot(map[string]cty.Value{"x": cty.StringVal("w"), "y": y("barrier")})}, `no column "w"`},
		{map[string]cty.Value{"table": table, "plot": plot(map[string]cty.Value{"y": y("barrier")})}, "needs x"},
		{map[string]cty.Value{"table": table, "plot": plot(map[string]cty.Value{"x": cty.StringVal("width"), "y": y("barrier"), "log_y": cty.True})}, "log_y, but barrier = -0.01 in row 1"},
		{map[string]cty.Value{"table": table, "plot": plot(map[string]cty.Value{"x": cty.StringVal("width"), "y": y("barrier"), "kind": cty.StringVal("pie")})}, `unknown kind "pie"`},
		{map[string]cty.Value{"table": table, "plot": plot(map[string]cty.Value{"kind": cty.StringVal("triangle"), "y": y("barrier")})}, `no column "l0"`},
	}
	for _, tt := range tests {
		err := k.Check(k.Schema.Config(tt.cfg))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate = %v, want %q", err, tt.want)
		}
	}
}

// TestReportHTMLRenders opens a report's page in headless Chromium: it must not be blank,
// and its inline SVG plots must show, which the coloured pixels of their lines and dots
// prove (the rest of the page is black, white and grey).
func TestReportHTMLRenders(t *testing.T) {
	k := kind(t, "report")
	res, err := k.Run(context.Background(), &stages.Input{Address: "report.width", Config: reportFixture(k), Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "index.html")
	if err := os.WriteFile(page, res.Outputs["html"].Artifacts[0].Data, 0o644); err != nil {
		t.Fatal(err)
	}
	img := browsertest.Screenshot(t, page, browsertest.Width, 2400)
	if s := browser.Inspect(img); s.Blank() {
		t.Fatalf("the report renders blank: %v", s)
	}
	b := img.Bounds()
	coloured := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			hi, lo := max(r, g, bl), min(r, g, bl)
			if hi-lo > 0x5000 {
				coloured++
			}
		}
	}
	if frac := float64(coloured) / float64(b.Dx()*b.Dy()); frac < 0.002 {
		t.Errorf("only %.4f%% of the page is coloured: the plots did not render", 100*frac)
	}
}

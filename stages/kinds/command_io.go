package kinds

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/internal/npy"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/stages"
)

// artifactExt is the file extension an input artifact of each type is written with.
var artifactExt = map[string]string{
	"network": ".safetensors", "permutation": ".safetensors", "mask": ".safetensors",
	"recipe": ".json", "json": ".json", "csv": ".csv", "markdown": ".md", "html": ".html",
	"png": ".png", "svg": ".svg", "log": ".log",
}

// writeInputs writes the inputs object v into dir, one file or directory per input named
// after it, and records each in man.
func writeInputs(ctx context.Context, in *stages.Input, v cty.Value, dir string, man map[string]manifestInput) error {
	if v.IsNull() {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := v.AsValueMap()
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		mi, err := writeInput(ctx, in, m[name], filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("input %q: %w", name, err)
		}
		man[name] = mi
	}
	return nil
}

// writeInput writes one input at base (a path without extension).
func writeInput(ctx context.Context, in *stages.Input, v cty.Value, base string) (manifestInput, error) {
	t := v.Type()
	if v.IsNull() {
		return manifestInput{}, fmt.Errorf("it is null; give an artifact or a value")
	}
	if t.IsCapsuleType() {
		return writeArtifact(ctx, in, stages.RefOf(v), base)
	}
	if (t.IsListType() || t.IsTupleType()) && v.LengthInt() > 0 && allArtifacts(v) {
		if err := os.MkdirAll(base, 0o755); err != nil {
			return manifestInput{}, err
		}
		mi := manifestInput{Path: base}
		for i, e := range v.AsValueSlice() {
			item, err := writeArtifact(ctx, in, stages.RefOf(e), filepath.Join(base, fmt.Sprintf("%03d", i)))
			if err != nil {
				return mi, fmt.Errorf("item %d: %w", i, err)
			}
			if mi.Type == "" {
				mi.Type = item.Type + "s"
			} else if mi.Type != item.Type+"s" {
				mi.Type = "artifacts"
			}
			mi.Items = append(mi.Items, item.Path)
		}
		return mi, nil
	}
	if len(stages.Refs(v)) > 0 {
		return manifestInput{}, fmt.Errorf("it is a %s holding artifacts; pass artifacts one by one (train.a.final) or as a list of them (train.a.checkpoints)", t.FriendlyName())
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return manifestInput{}, err
	}
	path := base + ".json"
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return manifestInput{}, err
	}
	mi := manifestInput{Type: "value", Path: path}
	if tb, err := tableOf(v, nil); err == nil {
		c, err := tb.csv()
		if err != nil {
			return mi, err
		}
		mi.Type, mi.CSV = "table", base+".csv"
		if err := os.WriteFile(mi.CSV, c, 0o644); err != nil {
			return mi, err
		}
	}
	return mi, nil
}

func allArtifacts(v cty.Value) bool {
	for _, e := range v.AsValueSlice() {
		if e.IsNull() || !e.Type().IsCapsuleType() {
			return false
		}
	}
	return true
}

// writeArtifact writes one artifact at base: its bytes as they are stored, with the
// extension of its type, or for a dataset a directory of .npy arrays.
func writeArtifact(ctx context.Context, in *stages.Input, r *stages.Ref, base string) (manifestInput, error) {
	mi := manifestInput{Type: r.Type, SHA256: r.ID.String(), Meta: r.Meta}
	b, err := in.Read(r)
	if err != nil {
		return mi, err
	}
	if r.Type == "dataset" {
		mi.Path = base
		return mi, writeDataset(ctx, in, b, base)
	}
	ext, ok := artifactExt[r.Type]
	if r.Type == "file" {
		ext, ok = filepath.Ext(r.Meta), true
	}
	if !ok {
		ext = ".bin"
	}
	mi.Path = base + ext
	return mi, os.WriteFile(mi.Path, b, 0o644)
}

// datasetInfo is dataset.json in a dataset input's directory.
type datasetInfo struct {
	Name    string `json:"name"`
	Classes int    `json:"classes"`
	// Shape is one example's: [C, H, W] for images, [D] for feature vectors.
	Shape []int `json:"shape"`
	Train int   `json:"train"`
	Test  int   `json:"test"`
	// Spec is the dataset's description as modulo keeps it (source, options such as
	// standardize and pad): the arrays are the data after those options, exactly what
	// modulo's stages feed a network.
	Spec json.RawMessage `json:"spec"`
}

// writeDataset writes the dataset described by spec into dir: train_x.npy and test_x.npy
// (float32, N×C×H×W or N×D), train_y.npy and test_y.npy (int64 labels), dataset.json.
func writeDataset(ctx context.Context, in *stages.Input, spec []byte, dir string) error {
	d, _, err := LoadDataset(ctx, spec, in.Materialize)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	shape := []int{d.Train.D}
	if d.Train.IsImage() {
		shape = []int{d.Train.C, d.Train.H, d.Train.W}
	}
	for _, split := range []struct {
		name string
		set  *data.Set
	}{{"train", d.Train}, {"test", d.Test}} {
		if err := writeNpy(filepath.Join(dir, split.name+"_x.npy"), func(w io.Writer) error {
			return npy.WriteFloat32(w, append([]int{split.set.N}, shape...), split.set.X)
		}); err != nil {
			return err
		}
		y := make([]int64, len(split.set.Y))
		for i, c := range split.set.Y {
			y[i] = int64(c)
		}
		if err := writeNpy(filepath.Join(dir, split.name+"_y.npy"), func(w io.Writer) error {
			return npy.WriteInt64(w, []int{split.set.N}, y)
		}); err != nil {
			return err
		}
	}
	info, _ := json.MarshalIndent(datasetInfo{Name: d.Name, Classes: d.Train.Classes, Shape: shape,
		Train: d.Train.N, Test: d.Test.N, Spec: json.RawMessage(spec)}, "", "  ")
	return os.WriteFile(filepath.Join(dir, "dataset.json"), append(info, '\n'), 0o644)
}

func writeNpy(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseTable reads a table a command wrote: CSV with a header row, or JSON, a list of flat
// objects. Each column takes one type: number when every cell is one (an empty cell, NaN
// or an infinity is null: cty numbers are finite), bool when every cell is true or false,
// else string. The result is a list of objects, one per row, with every column in each.
func parseTable(b []byte, format string) (cty.Value, error) {
	var cols []string
	var rows []map[string]any
	switch format {
	case "csv":
		r := csv.NewReader(bytes.NewReader(b))
		recs, err := r.ReadAll()
		if err != nil {
			return cty.NilVal, fmt.Errorf("not CSV: %v", err)
		}
		if len(recs) == 0 {
			return cty.NilVal, fmt.Errorf("the CSV file is empty; a table starts with a header row naming its columns")
		}
		cols = recs[0]
		for _, rec := range recs[1:] {
			row := map[string]any{}
			for i, c := range cols {
				row[c] = rec[i]
			}
			rows = append(rows, row)
		}
	case "json":
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var recs []map[string]any
		if err := dec.Decode(&recs); err != nil {
			return cty.NilVal, fmt.Errorf("not a JSON list of objects (one per row, such as [{\"epoch\": 1, \"loss\": 0.3}]): %v", err)
		}
		seen := map[string]bool{}
		for _, rec := range recs {
			if rec == nil {
				return cty.NilVal, fmt.Errorf("a row is null; every row is an object")
			}
			for _, k := range slices.Sorted(maps.Keys(rec)) {
				if !seen[k] {
					seen[k] = true
					cols = append(cols, k)
				}
			}
		}
		rows = recs
	default:
		return cty.NilVal, fmt.Errorf("unknown table format %q", format)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if c == "" || !validColumn(c) {
			return cty.NilVal, fmt.Errorf("column name %q is not usable in expressions; name columns with letters, digits, _ and -", c)
		}
		if seen[c] {
			return cty.NilVal, fmt.Errorf("column %q appears twice", c)
		}
		seen[c] = true
	}
	types := map[string]cty.Type{}
	for _, c := range cols {
		t, err := columnType(c, rows)
		if err != nil {
			return cty.NilVal, err
		}
		types[c] = t
	}
	if len(rows) == 0 {
		return cty.ListValEmpty(cty.Object(types)), nil
	}
	vals := make([]cty.Value, len(rows))
	for i, row := range rows {
		obj := map[string]cty.Value{}
		for _, c := range cols {
			v, err := cellValue(row[c], types[c])
			if err != nil {
				return cty.NilVal, fmt.Errorf("row %d, column %q: %v", i+1, c, err)
			}
			obj[c] = v
		}
		vals[i] = cty.ObjectVal(obj)
	}
	return cty.ListVal(vals), nil
}

func validColumn(c string) bool {
	for i, r := range c {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r == '-' || r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// columnType is the one type of column c's non-null cells.
func columnType(c string, rows []map[string]any) (cty.Type, error) {
	isNum, isBool, any := true, true, false
	for _, row := range rows {
		switch x := row[c].(type) {
		case nil:
		case json.Number:
			any, isBool = true, false
		case bool:
			any, isNum = true, false
		case string:
			if x == "" {
				continue
			}
			any = true
			if _, err := strconv.ParseFloat(x, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
				isNum = false
			}
			if x != "true" && x != "false" {
				isBool = false
			}
		default:
			return cty.NilType, fmt.Errorf("column %q holds a %T; table cells are numbers, strings, booleans or null", c, x)
		}
	}
	switch {
	case !any, isNum:
		return cty.Number, nil
	case isBool:
		return cty.Bool, nil
	}
	for _, row := range rows { // a string column: every cell must be a string (or null)
		switch row[c].(type) {
		case string, nil:
		default:
			return cty.NilType, fmt.Errorf("column %q mixes strings with numbers or booleans; give each column one type", c)
		}
	}
	return cty.String, nil
}

// cellValue converts one cell to a column of type t.
func cellValue(x any, t cty.Type) (cty.Value, error) {
	s, isStr := x.(string)
	if x == nil || isStr && s == "" && t != cty.String {
		return cty.NullVal(t), nil
	}
	switch t {
	case cty.Number:
		if n, ok := x.(json.Number); ok {
			s = string(n)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return cty.NilVal, err
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return cty.NullVal(cty.Number), nil
		}
		return cty.ParseNumberVal(strings.TrimSpace(s))
	case cty.Bool:
		if b, ok := x.(bool); ok {
			return cty.BoolVal(b), nil
		}
		return cty.BoolVal(s == "true"), nil
	}
	return cty.StringVal(s), nil
}

package pipelines

import (
	"context"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// entryValue rebuilds the value of a cached action from its manifest: the outputs object, or
// the output itself for a kind with Self. An entry that lacks an output of the kind (written
// by a different version) is an error: a miss.
func entryValue(k *stages.Kind, e *artifacts.Entry) (cty.Value, error) {
	return entryValueExpect(k, e, nil)
}

// entryValueExpect is entryValue that gives the artifacts the Meta their configuration
// expects (exp, by output) where the cache recorded none (an entry stored before its kind
// described that output, such as a dataset's shape), so that the nodes downstream of a
// cached node are checked as thoroughly as when it had just run.
func entryValueExpect(k *stages.Kind, e *artifacts.Entry, exp map[string]stages.Expected) (cty.Value, error) {
	attrs := make(map[string]cty.Value, len(k.Outputs))
	for _, spec := range k.Outputs {
		out, ok := e.Outputs[spec.Name]
		if !ok {
			return cty.NilVal, fmt.Errorf("cached entry lacks output %q", spec.Name)
		}
		v, err := outputValue(spec, out, exp[spec.Name].Meta)
		if err != nil {
			return cty.NilVal, fmt.Errorf("output %q: %w", spec.Name, err)
		}
		if k.Self != "" {
			return v, nil
		}
		attrs[spec.Name] = v
	}
	return cty.ObjectVal(attrs), nil
}

func outputValue(spec stages.OutputSpec, out artifacts.Output, meta string) (cty.Value, error) {
	elem, seq, isArt := stages.ArtifactShape(spec.Type)
	if !isArt {
		if out.Value == nil {
			return cty.NilVal, fmt.Errorf("no value stored")
		}
		if spec.Type == cty.Number {
			if s, ok := numberLiteral(out.Value); ok {
				// As ctyjson reads it, without its decoder (a buffer per value): a plan
				// reads every cached node's numbers, and most outputs that are values are.
				return cty.ParseNumberVal(s)
			}
		}
		return ctyjson.Unmarshal(out.Value, spec.Type)
	}
	name, _, _ := stages.IsArtifactType(elem)
	refs := make([]cty.Value, len(out.Items))
	for i, it := range out.Items {
		m := it.Meta
		if m == "" {
			m = meta // what the configuration expects, when the cache recorded nothing
		}
		refs[i] = stages.RefVal(elem, &stages.Ref{Type: name, Media: out.Media, ID: it.ID, Size: it.Size, Meta: m})
	}
	if !seq {
		if len(refs) != 1 {
			return cty.NilVal, fmt.Errorf("want one artifact, have %d", len(refs))
		}
		return refs[0], nil
	}
	if len(refs) == 0 {
		return cty.ListValEmpty(elem), nil
	}
	return cty.ListVal(refs), nil
}

// storeOutputs writes a run's outputs to the cache and returns the manifest. It returns
// ctx.Err() once ctx is done, checked before each artifact: compressing a prune node's
// networks can take seconds, and a run stopped meanwhile writes no entry, so the blobs
// already stored are unreferenced, never a half-stored result.
func storeOutputs(ctx context.Context, c *artifacts.Cache, k *stages.Kind, res *stages.Result) (map[string]artifacts.Output, error) {
	if res == nil {
		return nil, fmt.Errorf("stage %s returned no result", k.Name)
	}
	outs := make(map[string]artifacts.Output, len(k.Outputs))
	for _, spec := range k.Outputs {
		got, ok := res.Outputs[spec.Name]
		if !ok {
			return nil, fmt.Errorf("stage %s did not produce its output %q", k.Name, spec.Name)
		}
		elem, seq, isArt := stages.ArtifactShape(spec.Type)
		if !isArt {
			v, err := convertOutput(got.Value, spec.Type)
			if err != nil {
				return nil, fmt.Errorf("stage %s output %q: %w", k.Name, spec.Name, err)
			}
			b, err := ctyjson.Marshal(v, spec.Type)
			if err != nil {
				return nil, fmt.Errorf("stage %s output %q: %w", k.Name, spec.Name, err)
			}
			outs[spec.Name] = artifacts.Output{Value: b}
			continue
		}
		if !seq && len(got.Artifacts) != 1 {
			return nil, fmt.Errorf("stage %s output %q: want one artifact, got %d", k.Name, spec.Name, len(got.Artifacts))
		}
		_, media, _ := stages.IsArtifactType(elem)
		o := artifacts.Output{Media: media}
		for _, a := range got.Artifacts {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			id, stored, err := c.Put(a.Data, a.Codec)
			if err != nil {
				return nil, err
			}
			o.Items = append(o.Items, artifacts.Item{ID: id, Size: int64(len(a.Data)), Stored: stored, Meta: a.Meta, Codec: a.Codec})
		}
		outs[spec.Name] = o
	}
	return outs, nil
}

func convertOutput(v cty.Value, t cty.Type) (cty.Value, error) {
	if v == cty.NilVal {
		return cty.NilVal, fmt.Errorf("no value")
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, fmt.Errorf("value is not wholly known")
	}
	return convert.Convert(v, t)
}

// numberLiteral returns b as a string if it is a plain JSON number literal (a sign, digits,
// a fraction, an exponent), which ctyjson would read as cty.ParseNumberVal of that text.
func numberLiteral(b []byte) (string, bool) {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return "", false
	}
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
		default:
			return "", false
		}
	}
	return string(b), true
}

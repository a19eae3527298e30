package pipelines

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// Salt enters every action key. Bump it when the way keys are built changes, which
// invalidates every cached action without touching stored blobs.
const Salt = "modulo-key-1"

// actionKey describes a run of kind on cfg: one labelled line per influence. Any new
// influence on a stage's outputs must be added here, or the cache will return stale results.
// Inputs enter by content: an artifact is written as its OutputID, so an upstream rerun that
// reproduces the same bytes leaves this key unchanged (early cutoff).
func actionKey(kind *stages.Kind, cfg cty.Value, files []stages.File) *artifacts.Key {
	k := artifacts.NewKey(Salt)
	k.Add("stage", kind.Name)
	k.Add("version", strconv.Itoa(kind.Version))
	if n := kind.Revision(cfg); n != "" {
		k.Add("numerics", n)
	}
	cfg = kind.Schema.WithoutNewNulls(cfg)
	names := make([]string, 0)
	for name := range cfg.Type().AttributeTypes() {
		if a, ok := kind.Schema.Attribute(name); ok && a.NotInKey {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		k.Add("attr."+name, canonical(cfg.GetAttr(name)))
	}
	for _, f := range files {
		k.Add("file."+f.Name, "sha256:"+f.SHA256)
	}
	return k
}

// kindKey computes the key of a run of kind on cfg, wholly known, hashing the files the
// kind reads from outside the cache (relative paths from dir): what the driver keys and
// what a worker checks.
func kindKey(kind *stages.Kind, cfg cty.Value, dir string) (*artifacts.Key, []stages.File, error) {
	var files []stages.File
	if f := kind.Files; f != nil {
		var err error
		if files, err = f(cfg, dir); err != nil {
			return nil, nil, err
		}
	}
	return actionKey(kind, cfg, files), files, nil
}

// nodeKey is kindKey for a node, a missing file reported at its block.
func nodeKey(inst *Instance, cfg cty.Value) (*artifacts.Key, []stages.File, hcl.Diagnostics) {
	key, files, err := kindKey(inst.Block.Kind, cfg, filepath.Dir(inst.Block.DeclRange.Filename))
	if err != nil {
		return nil, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Missing input files",
			Detail:   capitalize(err.Error()) + ".",
			Subject:  inst.Block.DeclRange.Ptr(),
		}}
	}
	return key, files, nil
}

// canonical renders a wholly known value as compact JSON with sorted object keys; artifacts
// render as {"artifact":"type:sha256:hex"}. Numbers use their shortest exact decimal form,
// so 10 and 10.0 are the same key.
func canonical(v cty.Value) string {
	var sb strings.Builder
	sb.Grow(64) // most attributes' JSON fits: one allocation rather than a few
	writeCanonical(&sb, v)
	return sb.String()
}

// writeJSONString writes s as json.Marshal does (HTML characters escaped too): keys depend on
// every byte. Plain printable ASCII, nearly every string of a configuration, is written
// as it is, without json.Marshal's reflection and allocations (a tenth of a plan's key
// hashing); anything else goes through json.Marshal.
func writeJSONString(sb *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			sb.Write(b)
			return
		}
	}
	sb.WriteByte('"')
	sb.WriteString(s)
	sb.WriteByte('"')
}

func writeCanonical(sb *strings.Builder, v cty.Value) {
	t := v.Type()
	switch {
	case !v.IsKnown():
		panic("pipelines: canonical of an unknown value")
	case v.IsNull():
		sb.WriteString("null")
	case t.IsCapsuleType():
		r, ok := v.EncapsulatedValue().(*stages.Ref)
		if !ok {
			panic("pipelines: canonical of a foreign capsule")
		}
		sb.WriteString(`{"artifact":`) // what `{"artifact":%q}` prints, without fmt's cost
		sb.WriteString(strconv.Quote(r.String()))
		sb.WriteByte('}')
	case t == cty.String:
		writeJSONString(sb, v.AsString())
	case t == cty.Number:
		sb.WriteString(v.AsBigFloat().Text('g', -1))
	case t == cty.Bool:
		sb.WriteString(strconv.FormatBool(v.True()))
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		sb.WriteByte('[')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			_, e := it.Element()
			writeCanonical(sb, e)
		}
		sb.WriteByte(']')
	case t.IsMapType() || t.IsObjectType():
		m := v.AsValueMap()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSONString(sb, k)
			sb.WriteByte(':')
			writeCanonical(sb, m[k])
		}
		sb.WriteByte('}')
	default:
		panic("pipelines: canonical of unexpected type " + t.FriendlyName())
	}
}

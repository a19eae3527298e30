package stages

import (
	"slices"

	"github.com/zclconf/go-cty/cty"
)

// Expected is what the configuration tells of an artifact output before its node has run:
// the Meta the artifact will carry (Ref.Meta: a network's architecture, a dataset's shape)
// and, for a sequence output, its length (Len; -1 when the configuration does not say).
//
// Expectations are what let `modulo validate` catch mistakes that would otherwise surface
// only after an hour of training: matching networks of two architectures, interpolating a
// sequence against a single network, a checkpoint beyond the end of the run.
type Expected struct {
	Meta string
	Len  int
}

// metaMark carries an Expected Meta on the unknown value of an output that has not been
// computed. cty marks travel through every expression (indexing, for, function calls), so
// train.net["a"].checkpoints[0] still knows its architecture; lengths travel as cty
// refinements instead, which functions such as slice keep exact or drop, but never get wrong.
type metaMark struct{ meta string }

// ExpectedValue returns the plan-time value of an output of type t that is not computed yet:
// unknown, marked with e.Meta and, for a sequence, refined to length e.Len.
func ExpectedValue(t cty.Type, e Expected) cty.Value {
	v := cty.UnknownVal(t)
	if e.Len >= 0 && (t.IsListType() || t.IsSetType() || t.IsMapType()) {
		v = v.Refine().NotNull().CollectionLength(e.Len).NewValue()
	} else {
		v = v.Refine().NotNull().NewValue()
	}
	if e.Meta != "" {
		v = v.Mark(metaMark{e.Meta})
	}
	return v
}

// Planned is a configuration as Validate and Expect see it at plan time: Value may hold
// unknown values (upstream results not computed yet), and Planned knows what is expected of
// the artifacts among them. Value itself carries no marks.
type Planned struct {
	Value cty.Value
	metas []pathMeta
	known bool
}

type pathMeta struct {
	path cty.Path
	meta string
}

// NewPlanned strips the expectation marks from v, remembering where they were, and notes
// whether v is wholly known, in one walk over v (a plan of 10,000 nodes walked each
// configuration three times).
func NewPlanned(v cty.Value) *Planned {
	p := &Planned{}
	var marked bool
	marked, p.known = scan(v)
	if !marked {
		p.Value = v
		return p
	}
	var pvms []cty.PathValueMarks
	p.Value, pvms = v.UnmarkDeepWithPaths()
	for _, pvm := range pvms {
		for m := range pvm.Marks {
			if mm, ok := m.(metaMark); ok {
				p.metas = append(p.metas, pathMeta{pvm.Path, mm.meta})
			}
		}
	}
	return p
}

// WhollyKnown reports whether the configuration NewPlanned was given is wholly known.
func (p *Planned) WhollyKnown() bool { return p.known }

// Get returns the value of attribute name.
func (p *Planned) Get(name string) cty.Value { return p.Value.GetAttr(name) }

// Metas returns the distinct Metas of the artifacts in attribute name, stored (Ref.Meta)
// or expected, in a fixed order. An empty result means nothing is known.
func (p *Planned) Metas(name string) []string { return p.MetasAt(cty.GetAttrPath(name)) }

// MetasAt is Metas for the value at path, such as from.recipe.
func (p *Planned) MetasAt(path cty.Path) []string {
	var out []string
	if v, err := path.Apply(p.Value); err == nil {
		for _, r := range Refs(v) {
			if r.Meta != "" && !slices.Contains(out, r.Meta) {
				out = append(out, r.Meta)
			}
		}
	}
	for _, pm := range p.metas {
		if hasPrefix(pm.path, path) && !slices.Contains(out, pm.meta) {
			out = append(out, pm.meta)
		}
	}
	slices.Sort(out)
	return out
}

// hasPrefix reports whether path starts with prefix.
func hasPrefix(path, prefix cty.Path) bool {
	if len(path) < len(prefix) {
		return false
	}
	return path[:len(prefix)].Equals(prefix)
}

// Meta returns the one Meta known for the artifacts of attribute name, if they agree.
func (p *Planned) Meta(name string) (string, bool) {
	if m := p.Metas(name); len(m) == 1 {
		return m[0], true
	}
	return "", false
}

// Len returns the length of the sequence (list or tuple) in attribute name when it is known
// or expected exactly.
func (p *Planned) Len(name string) (int, bool) {
	return lengthOf(p.Get(name))
}

func lengthOf(v cty.Value) (int, bool) {
	t := v.Type()
	if !(t.IsListType() || t.IsTupleType() || t.IsSetType()) {
		return 0, false
	}
	if v.IsKnown() {
		if v.IsNull() {
			return 0, false
		}
		return v.LengthInt(), true
	}
	if t.IsTupleType() {
		return len(t.TupleElementTypes()), true
	}
	r := v.Range()
	if lo, hi := r.LengthLowerBound(), r.LengthUpperBound(); lo == hi {
		return lo, true
	}
	return 0, false
}

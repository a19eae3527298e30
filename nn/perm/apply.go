package perm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modulo-ml/modulo/nn"
)

// spec says how one parameter of an architecture moves under a permutation: it is viewed as
// a rows×cols matrix (a vector is rows×1) whose rows follow group rowGroup and whose
// columns follow group colGroup; −1 means that axis is an input or output and stays put.
type spec struct {
	name               string
	rows, cols         int
	rowGroup, colGroup int
	vector             bool // a bias or norm parameter: shape [rows], not [rows, cols]
}

// shape returns the tensor shape of s, as nn.NewNetwork allocates it.
func (s spec) shape() []int {
	if s.vector {
		return []int{s.rows}
	}
	return []int{s.rows, s.cols}
}

// specs lists the parameters of arch a in nn.NewNetwork's order, with the groups they touch.
// It is the single place that encodes which axes move, so Apply, ApplyMasks and the matching
// objective cannot disagree.
func specs(a nn.Arch) []spec {
	w := a.Widths()
	hidden := len(a.Hidden)
	var s []spec
	for i := 0; i < a.Layers(); i++ {
		in, out := w[i], w[i+1]
		rg, cg := i, i-1
		if i == hidden {
			rg = -1 // the logits
		}
		s = append(s, spec{nn.WeightName(i), out, in, rg, cg, false})
		if a.Bias {
			s = append(s, spec{nn.BiasName(i), out, 1, rg, -1, true})
		}
		if a.LayerNorm && i < hidden {
			s = append(s, spec{nn.NormWeightName(i), out, 1, rg, -1, true}, spec{nn.NormBiasName(i), out, 1, rg, -1, true})
		}
	}
	return s
}

// specByName indexes specs(a).
func specByName(a nn.Arch) map[string]spec {
	m := map[string]spec{}
	for _, s := range specs(a) {
		m[s.name] = s
	}
	return m
}

// group returns the indices an axis follows, or nil for an axis that does not move.
func (p Permutation) group(g int) []int {
	if g < 0 {
		return nil
	}
	return p.Groups[g]
}

// permuteInto sets dst to src (laid out as s says) with p applied: entry (i, k) of dst is
// entry (P_row[i], P_col[k]) of src. Rows are copied whole when the columns stay put.
func (p Permutation) permuteInto(dst, src []float32, s spec) {
	rp, cp := p.group(s.rowGroup), p.group(s.colGroup)
	for i := 0; i < s.rows; i++ {
		si := i
		if rp != nil {
			si = rp[i]
		}
		from, to := src[si*s.cols:(si+1)*s.cols], dst[i*s.cols:(i+1)*s.cols]
		if cp == nil {
			copy(to, from)
			continue
		}
		for k, c := range cp {
			to[k] = from[c]
		}
	}
}

// params checks that n has exactly the parameters of arch a, with their shapes, and returns
// their data by name. Networks come from files and other packages, so a mismatch is an
// error naming the parameter, not an index panic.
func params(n *nn.Network, a nn.Arch) (map[string][]float32, error) {
	if n == nil {
		return nil, fmt.Errorf("network is nil")
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if !n.Arch.Equal(a) {
		return nil, fmt.Errorf("network is %s, not %s", n.Arch, a)
	}
	want := specByName(a)
	got := make(map[string][]float32, len(n.Params))
	for _, q := range n.Params {
		s, ok := want[q.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("network has unexpected parameter %q for %s", q.Name, a)
		case got[q.Name] != nil:
			return nil, fmt.Errorf("network has parameter %q twice", q.Name)
		case len(q.Data) != s.rows*s.cols || !slices.Equal(q.Shape, s.shape()):
			return nil, fmt.Errorf("parameter %q has shape %v and %d values, want shape %v", q.Name, q.Shape, len(q.Data), s.shape())
		}
		got[q.Name] = q.Data
	}
	if len(got) != len(want) {
		var missing []string
		for name := range want {
			if got[name] == nil {
				missing = append(missing, name)
			}
		}
		slices.Sort(missing)
		return nil, fmt.Errorf("network lacks parameters %s", strings.Join(missing, ", "))
	}
	return got, nil
}

// Apply returns a new network: n with its hidden units relabelled by p. It computes the
// same function as n (up to float32 rounding in the order of sums). n is not modified; the
// result keeps n's parameter order. It is an error if n's architecture differs from p's,
// if p is invalid, or if n's parameters do not fit its architecture.
func (p Permutation) Apply(n *nn.Network) (*nn.Network, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if _, err := params(n, p.Arch); err != nil {
		return nil, err
	}
	want := specByName(p.Arch)
	out := &nn.Network{Arch: cloneArch(n.Arch), Params: make([]*nn.Param, len(n.Params))}
	for i, q := range n.Params {
		d := make([]float32, len(q.Data))
		p.permuteInto(d, q.Data, want[q.Name])
		out.Params[i] = &nn.Param{Name: q.Name, Shape: slices.Clone(q.Shape), Data: d}
	}
	return out, nil
}

// ApplyMasks moves pruning masks (0/1 per weight, keyed by parameter name, the layout of
// nn.TrainConfig.Masks) exactly as Apply moves the weights, so a mask found on one network
// stays attached to the same weights after alignment. Masks may cover any subset of the
// parameters; an unknown name or a wrong length is an error. The input is not modified.
func (p Permutation) ApplyMasks(masks map[string][]float32) (map[string][]float32, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	want := specByName(p.Arch)
	out := make(map[string][]float32, len(masks))
	for name, m := range masks {
		s, ok := want[name]
		if !ok {
			return nil, fmt.Errorf("mask %q names no parameter of %s", name, p.Arch)
		}
		if len(m) != s.rows*s.cols {
			return nil, fmt.Errorf("mask of %s has %d values for %d weights", name, len(m), s.rows*s.cols)
		}
		d := make([]float32, len(m))
		p.permuteInto(d, m, s)
		out[name] = d
	}
	return out, nil
}

// Inner returns ⟨a, p(b)⟩, the Frobenius inner product over all parameters of a and b with
// p applied, accumulated in float64 in the order of a's parameters and entries. It is the
// objective weight matching maximises; since ‖a − p(b)‖² = ‖a‖² + ‖b‖² − 2⟨a, p(b)⟩, a
// larger value means p brings b closer to a.
func Inner(a, b *nn.Network, p Permutation) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if _, err := params(a, p.Arch); err != nil {
		return 0, fmt.Errorf("first network: %v", err)
	}
	bp, err := params(b, p.Arch)
	if err != nil {
		return 0, fmt.Errorf("second network: %v", err)
	}
	want := specByName(p.Arch)
	var total float64
	for _, q := range a.Params {
		s := want[q.Name]
		src := bp[q.Name]
		rp, cp := p.group(s.rowGroup), p.group(s.colGroup)
		for i := 0; i < s.rows; i++ {
			si := i
			if rp != nil {
				si = rp[i]
			}
			from, row := src[si*s.cols:(si+1)*s.cols], q.Data[i*s.cols:(i+1)*s.cols]
			for k, v := range row {
				c := k
				if cp != nil {
					c = cp[k]
				}
				total += float64(v) * float64(from[c])
			}
		}
	}
	return total, nil
}

package stages

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/zclconf/go-cty/cty"
)

// A Constraint restricts the values of an attribute beyond its type: a whole number in a
// range, one of a few words, a list of bounded length. The engine checks it on every known,
// non-null value (already converted to the attribute's type) at validate, plan and run time,
// and reports a failure as a diagnostic at the attribute, so a kind's Run only ever sees
// values its constraints allow. Constraints are declarative so that the schema alone says
// what is valid: documentation (Doc) and checks cannot drift apart.
type Constraint interface {
	// Check returns an error saying what is wrong with v and what would be right, as a
	// sentence fragment: "must be a whole number from 1 to 100, got 1.5".
	Check(v cty.Value) error
	// Doc describes the allowed values: "a whole number from 1 to 100".
	Doc() string
}

// Int allows whole numbers from min to max inclusive. Every count, size, index and seed is an
// Int, so a fraction is an error rather than silently truncated.
func Int(min, max int64) Constraint { return intRange{min, max} }

type intRange struct{ min, max int64 }

func (r intRange) Doc() string { return fmt.Sprintf("a whole number from %d to %d", r.min, r.max) }

func (r intRange) Check(v cty.Value) error {
	f := v.AsBigFloat()
	if !f.IsInt() || f.Cmp(new(big.Float).SetInt64(r.min)) < 0 || f.Cmp(new(big.Float).SetInt64(r.max)) > 0 {
		return fmt.Errorf("must be %s, got %s", r.Doc(), numText(f))
	}
	return nil
}

// Range allows real numbers from min to max; openMin and openMax exclude the bound itself
// (a fraction strictly between 0 and 1 is Range(0, 1, true, true)).
func Range(min, max float64, openMin, openMax bool) Constraint {
	return realRange{min, max, openMin, openMax}
}

// AtLeast allows real numbers ≥ min, up to a bound large enough for any sensible value but
// small enough to keep float64 arithmetic finite.
func AtLeast(min float64) Constraint { return realRange{min: min, max: 1e30} }

// Positive allows real numbers > 0 (learning rates, epsilons).
func Positive() Constraint { return realRange{min: 0, max: 1e30, openMin: true} }

type realRange struct {
	min, max         float64
	openMin, openMax bool
}

func (r realRange) Doc() string {
	lo, hi := "≥", "≤"
	if r.openMin {
		lo = ">"
	}
	if r.openMax {
		hi = "<"
	}
	if r.max >= 1e30 {
		return fmt.Sprintf("a number %s %g", lo, r.min)
	}
	return fmt.Sprintf("a number %s %g and %s %g", lo, r.min, hi, r.max)
}

func (r realRange) Check(v cty.Value) error {
	f := v.AsBigFloat()
	x, _ := f.Float64()
	ok := !f.IsInf() && (x > r.min || !r.openMin && x == r.min) && (x < r.max || !r.openMax && x == r.max)
	if !ok {
		return fmt.Errorf("must be %s, got %s", r.Doc(), numText(f))
	}
	return nil
}

// OneOf allows the given strings only; a near miss gets a "did you mean".
func OneOf(words ...string) Constraint { return oneOf(words) }

type oneOf []string

func (o oneOf) Doc() string { return "one of " + quoteList(o) }

func (o oneOf) Check(v cty.Value) error {
	s := v.AsString()
	for _, w := range o {
		if s == w {
			return nil
		}
	}
	msg := fmt.Sprintf("must be %s, got %q", o.Doc(), s)
	if near := Suggest(s, o); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	return fmt.Errorf("%s", msg)
}

// Items constrains a list: its length from min to max, and each element by elem (nil: any).
func Items(min, max int, elem Constraint) Constraint { return items{min, max, elem} }

type items struct {
	min, max int
	elem     Constraint
}

func (c items) Doc() string {
	var n string
	switch {
	case c.min == c.max:
		n = fmt.Sprintf("a list of exactly %d", c.min)
	case c.min == 0:
		n = fmt.Sprintf("a list of at most %d", c.max)
	default:
		n = fmt.Sprintf("a list of %d to %d", c.min, c.max)
	}
	if c.elem != nil {
		return n + " elements, each " + c.elem.Doc()
	}
	return n + " elements"
}

func (c items) Check(v cty.Value) error {
	if n := v.LengthInt(); n < c.min || n > c.max {
		return fmt.Errorf("must be %s, got %d", c.Doc(), n)
	}
	if c.elem == nil {
		return nil
	}
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, e := it.Element()
		if !e.IsKnown() || e.IsNull() {
			continue
		}
		if err := c.elem.Check(e); err != nil {
			return fmt.Errorf("element %d %v", i, err)
		}
	}
	return nil
}

// Func is a constraint written as a function, for syntaxes such as "500" or "2ep": check
// returns the error for a bad value (as Check does), doc describes the good ones.
func Func(doc string, check func(cty.Value) error) Constraint { return funcConstraint{doc, check} }

type funcConstraint struct {
	doc   string
	check func(cty.Value) error
}

func (f funcConstraint) Doc() string             { return f.doc }
func (f funcConstraint) Check(v cty.Value) error { return f.check(v) }

// Suggest returns the candidate closest to given when it is close enough to be a likely typo,
// else "".
func Suggest(given string, candidates []string) string {
	best, bestDist := "", 3
	if len(given) <= 3 {
		bestDist = 2
	}
	for _, c := range candidates {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// numText renders a number for a message: exact for whole numbers of sensible size, else in
// short scientific form, never thousands of digits.
func numText(f *big.Float) string {
	if f.IsInt() && f.MinPrec() <= 64 {
		if i, acc := f.Int64(); acc == big.Exact {
			return fmt.Sprint(i)
		}
	}
	return f.Text('g', 6)
}

func quoteList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// Check runs every check the engine runs on a configuration of k, without HCL: each
// attribute's Constraint (nested blocks included), then k.Validate. Tests and programs that
// build configurations with Schema.Config use it; the engine checks the same things but
// reports each at its source range.
func (k *Kind) Check(cfg cty.Value) error {
	var errs []error
	errs = append(errs, k.Schema.check(cfg, nil)...)
	if k.Validate != nil {
		errs = append(errs, k.Validate(NewPlanned(cfg)))
	}
	return errors.Join(errs...)
}

// check applies s's constraints to obj, an object of s's type; path locates obj in errors.
func (s *Schema) check(obj cty.Value, path cty.Path) []error {
	if !obj.IsKnown() || obj.IsNull() {
		return nil
	}
	var errs []error
	for _, a := range s.Attributes {
		v := obj.GetAttr(a.Name)
		if a.Check == nil || !v.IsKnown() || v.IsNull() {
			continue
		}
		if err := a.Check.Check(v); err != nil {
			p := append(path.Copy(), cty.GetAttrStep{Name: a.Name})
			errs = append(errs, p.NewErrorf("%s %v", a.Name, err))
		}
	}
	for i := range s.Blocks {
		b := &s.Blocks[i]
		v := obj.GetAttr(b.Name)
		p := append(path.Copy(), cty.GetAttrStep{Name: b.Name})
		if !b.Multi {
			errs = append(errs, b.Schema.check(v, p)...)
			continue
		}
		if !v.IsKnown() || v.IsNull() {
			continue
		}
		for it := v.ElementIterator(); it.Next(); {
			key, e := it.Element()
			errs = append(errs, b.Schema.check(e, append(p.Copy(), cty.IndexStep{Key: key}))...)
		}
	}
	return errs
}

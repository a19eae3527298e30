package torchsave

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// opaqueClass is a Python class or function a torch.save pickle names that modulo has no
// use for (argparse.Namespace, a numpy scalar, the user's own module class): calling it or
// creating an instance gives an opaqueObject, which takes any state.
type opaqueClass struct{ module, name string }

func (c *opaqueClass) Call(args ...any) (any, error)  { return &opaqueObject{class: c}, nil }
func (c *opaqueClass) PyNew(args ...any) (any, error) { return &opaqueObject{class: c}, nil }

// opaqueObject is an instance of an opaqueClass; its state is dropped, but for noting
// whether it is a torch.nn.Module (whose state has "_modules" and "_parameters").
type opaqueObject struct {
	class  *opaqueClass
	module bool
}

func (*opaqueObject) PySetAttr(string, any) error { return nil }

func (o *opaqueObject) PyDictSet(k, _ any) error {
	o.module = o.module || k == "_modules" || k == "_parameters"
	return nil
}

func (o *opaqueObject) PySetState(state any) error {
	if d, ok := state.(*types.Dict); ok {
		for _, e := range *d {
			o.PyDictSet(e.Key, e.Value)
		}
	}
	return nil
}

var (
	_ types.Callable        = (*opaqueClass)(nil)
	_ types.PyNewable       = (*opaqueClass)(nil)
	_ types.PyStateSettable = (*opaqueObject)(nil)
	_ types.PyDictSettable  = (*opaqueObject)(nil)
	_ types.PyAttrSettable  = (*opaqueObject)(nil)
)

// entry is one key and value of a pickled dict, in its order.
type entry struct {
	name  string
	value any
}

// dictEntries returns the entries of a pickled dict or OrderedDict; ok is false for
// anything else. A key that is not a string is named by describe.
func dictEntries(v any) (es []entry, ok bool) {
	add := func(k, v any) {
		name, isStr := k.(string)
		if !isStr {
			name = "<" + describe(k) + ">"
		}
		es = append(es, entry{name, v})
	}
	switch d := v.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			oe := e.Value.(*types.OrderedDictEntry)
			add(oe.Key, oe.Value)
		}
	case *types.Dict:
		for _, de := range *d {
			add(de.Key, de.Value)
		}
	default:
		return nil, false
	}
	return es, true
}

// stateDict finds the state_dict in the object a torch.save file holds, and checks that
// every entry of it is a tensor.
func stateDict(obj any) (*State, []entry, error) {
	st := &State{}
	es, ok := dictEntries(obj)
	if !ok {
		return nil, nil, fmt.Errorf("torch: the file holds %s, not a state_dict; save the model's: torch.save(model.state_dict(), path)", describe(obj))
	}
	for _, key := range stateDictKeys {
		i := slices.IndexFunc(es, func(e entry) bool { return e.name == key })
		if i < 0 {
			continue
		}
		inner, ok := dictEntries(es[i].value)
		if !ok {
			return nil, nil, fmt.Errorf("torch: the checkpoint's %q entry is %s, not a state_dict; save the model's state_dict there: {%q: model.state_dict(), …}", key, describe(es[i].value), key)
		}
		st.Key, es = key, inner
		break
	}
	if len(es) == 0 {
		return nil, nil, errors.New("torch: the state_dict is empty")
	}
	for _, e := range es {
		if _, ok := e.value.(*pytorch.Tensor); ok {
			continue
		}
		if st.Key == "" {
			return nil, nil, fmt.Errorf("torch: entry %q of the file's dict is %s, not a tensor: the file is neither a state_dict nor a checkpoint holding one under %s (its entries: %s)", e.name, describe(e.value), quoteAll(stateDictKeys, "or"), names(es))
		}
		return nil, nil, fmt.Errorf("torch: entry %q of the checkpoint's %q is %s, not a tensor; a state_dict maps names to tensors", e.name, st.Key, describe(e.value))
	}
	// DataParallel's prefix, when every name has it.
	const dp = "module."
	if !slices.ContainsFunc(es, func(e entry) bool { return !strings.HasPrefix(e.name, dp) }) {
		st.Prefix = dp
		for i := range es {
			es[i].name = strings.TrimPrefix(es[i].name, dp)
		}
	}
	return st, es, nil
}

// names lists the entries' names for a message, the first ten of them.
func names(es []entry) string {
	var ns []string
	for _, e := range es[:min(len(es), 10)] {
		ns = append(ns, fmt.Sprintf("%q", e.name))
	}
	if len(es) > 10 {
		ns = append(ns, fmt.Sprintf("and %d more", len(es)-10))
	}
	return strings.Join(ns, ", ")
}

// quoteAll writes words quoted, joined with commas and a final conj: "a", "b" or "c".
func quoteAll(words []string, conj string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// describe names what a pickled value is, for messages, without looking inside it (the
// value may be cyclic).
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "a bool"
	case int, *big.Int:
		return "an int"
	case float64:
		return "a float"
	case string:
		return "a string"
	case []byte, *types.ByteArray:
		return "bytes"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case *types.Dict, *types.OrderedDict:
		return "a dict"
	case *types.Set, *types.FrozenSet:
		return "a set"
	case *pytorch.Tensor:
		return "a tensor"
	case *storageClass:
		return v.name
	case *opaqueClass:
		return fmt.Sprintf("the class %s.%s", v.module, v.name)
	case *opaqueObject:
		if v.module {
			return fmt.Sprintf("a whole pickled torch.nn.Module (%s.%s), as torch.save(model) writes", v.class.module, v.class.name)
		}
		return fmt.Sprintf("an object of class %s.%s", v.class.module, v.class.name)
	}
	return fmt.Sprintf("a %T", v)
}

// pickleArgs are the bytes of argument each pickle opcode takes after it, by protocol 5's
// table (Python's pickletools): a fixed count, or lenN for N bytes of little-endian length
// followed by that many bytes, or line (a newline-terminated text argument; lines2 for two).
// Opcodes of no argument are 0; unknown ones are absent.
const (
	line   = -1
	lines2 = -2
	len1   = -11
	len4   = -14
	len8   = -18
)

var pickleArgs = func() map[byte]int {
	m := map[byte]int{}
	for _, op := range []byte("(.012NQRabdeltosu}])\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98") {
		m[op] = 0
	}
	for op, n := range map[rune]int{
		'F': line, 'I': line, 'L': line, 'P': line, 'S': line, 'V': line, 'g': line, 'p': line,
		'c': lines2, 'i': lines2,
		'K': 1, 'h': 1, 'q': 1, '\x80': 1, '\x82': 1,
		'M': 2, '\x83': 2,
		'J': 4, 'j': 4, 'r': 4, '\x84': 4,
		'G': 8, '\x95': 8, // BINFLOAT; FRAME's length, followed by the frame's opcodes
		'U': len1, 'C': len1, '\x8a': len1, '\x8c': len1,
		'T': len4, 'X': len4, 'B': len4, '\x8b': len4,
		'\x8d': len8, '\x8e': len8, '\x96': len8,
	} {
		m[byte(op)] = n
	}
	return m
}()

// checkPickle walks the opcodes of a pickle up to its STOP and fails if an argument runs
// past the end, a length-prefixed one included: gopickle allocates the length it reads
// before reading, so a forged length would otherwise ask for terabytes. It builds nothing;
// gopickle does the unpickling.
func checkPickle(b []byte) error {
	for i := 0; i < len(b); {
		op := b[i]
		n, ok := pickleArgs[op]
		if !ok {
			return fmt.Errorf("unknown opcode 0x%02x at byte %d", op, i)
		}
		i++
		if op == '.' {
			return nil
		}
		rest := len(b) - i
		switch n {
		case line, lines2:
			for range -n {
				j := slices.Index(b[i:], '\n')
				if j < 0 {
					return fmt.Errorf("opcode 0x%02x at byte %d: its argument has no end of line", op, i-1)
				}
				i += j + 1
			}
			continue
		case len1, len4, len8:
			w := map[int]int{len1: 1, len4: 4, len8: 8}[n]
			if rest < w {
				return fmt.Errorf("opcode 0x%02x at byte %d: truncated", op, i-1)
			}
			var size uint64
			switch w {
			case 1:
				size = uint64(b[i])
			case 4:
				size = uint64(binary.LittleEndian.Uint32(b[i:]))
			case 8:
				size = binary.LittleEndian.Uint64(b[i:])
			}
			if size > uint64(rest-w) {
				return fmt.Errorf("opcode 0x%02x at byte %d: an argument of %d bytes, but %d remain", op, i-1, size, rest-w)
			}
			i += w + int(size)
			continue
		}
		if op == '\x95' && rest >= 8 && binary.LittleEndian.Uint64(b[i:]) > uint64(rest-8) {
			return fmt.Errorf("a frame of %d bytes at byte %d, but %d remain", binary.LittleEndian.Uint64(b[i:]), i-1, rest-8)
		}
		if rest < n {
			return fmt.Errorf("opcode 0x%02x at byte %d: truncated", op, i-1)
		}
		i += n
	}
	return errors.New("it ends without STOP: truncated")
}

package dag

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestCycles(t *testing.T) {
	tests := []struct {
		name  string
		edges []edge
		want  []Cycle
	}{
		{name: "empty graph", want: nil},
		{name: "acyclic", edges: diamond, want: nil},
		{
			name:  "self-loop",
			edges: []edge{{"a", "a"}, {"b", "a"}},
			want:  []Cycle{{Path: []string{"a"}, Members: []string{"a"}}},
		},
		{
			name:  "two-cycle",
			edges: []edge{{"a", "b"}, {"b", "a"}},
			want:  []Cycle{{Path: []string{"a", "b"}, Members: []string{"a", "b"}}},
		},
		{
			name: "two disjoint cycles, sorted by first vertex",
			edges: []edge{
				{"z", "y"}, {"y", "x"}, {"x", "z"}, // x → z → y → x
				{"b", "c"}, {"c", "b"},
				{"x", "b"}, // cross edge between the components
			},
			want: []Cycle{
				{Path: []string{"b", "c"}, Members: []string{"b", "c"}},
				{Path: []string{"x", "z", "y"}, Members: []string{"x", "y", "z"}},
			},
		},
		{
			name: "SCC with two cycles reports the shortest",
			// a → b → c → a and the chord a → c → a.
			edges: []edge{{"a", "b"}, {"b", "c"}, {"c", "a"}, {"a", "c"}},
			want:  []Cycle{{Path: []string{"a", "c"}, Members: []string{"a", "b", "c"}}},
		},
		{
			name: "SCC with two equally short cycles picks the sorted one",
			// a → c → a and a → b → a; d hangs off b inside the component.
			edges: []edge{{"a", "c"}, {"c", "a"}, {"a", "b"}, {"b", "a"}, {"b", "d"}, {"d", "b"}},
			want:  []Cycle{{Path: []string{"a", "b"}, Members: []string{"a", "b", "c", "d"}}},
		},
		{
			name:  "self-loop inside a larger component wins",
			edges: []edge{{"a", "b"}, {"b", "a"}, {"a", "a"}},
			want:  []Cycle{{Path: []string{"a"}, Members: []string{"a", "b"}}},
		},
		{
			name:  "vertices behind a cycle are not members",
			edges: []edge{{"p", "q"}, {"q", "p"}, {"after", "p"}, {"q", "before"}},
			want:  []Cycle{{Path: []string{"p", "q"}, Members: []string{"p", "q"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(nil, tt.edges).Cycles()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Cycles() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCycleString(t *testing.T) {
	tests := []struct {
		c    Cycle
		want string
	}{
		{Cycle{}, ""},
		{Cycle{Path: []string{"a"}}, "a -> a"},
		{Cycle{Path: []string{"a", "b", "c"}}, "a -> b -> c -> a"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestCycleErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *CycleError
		want string
	}{
		{
			name: "one",
			err:  &CycleError{Cycles: []Cycle{{Path: []string{"a", "b"}, Members: []string{"a", "b"}}}},
			want: "dependency cycle: a -> b -> a",
		},
		{
			name: "several, with extra members",
			err: &CycleError{Cycles: []Cycle{
				{Path: []string{"a", "c"}, Members: []string{"a", "b", "c"}},
				{Path: []string{"x"}, Members: []string{"x"}},
			}},
			want: "2 dependency cycles: a -> c -> a (mutually dependent: a, b, c); x -> x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCyclesDeterministic inserts the same vertices and edges in 50
// different orders and checks that every textual output is identical, since
// Go's map iteration order would expose any accidental dependence on it.
func TestCyclesDeterministic(t *testing.T) {
	edges := []edge{
		{"n3", "n1"}, {"n1", "n2"}, {"n2", "n3"}, {"n2", "n1"}, // SCC {n1,n2,n3}
		{"m", "m"},                                                 // self-loop
		{"q", "r"}, {"r", "s"}, {"s", "t"}, {"t", "q"}, {"s", "q"}, // SCC {q,r,s,t}
		{"top", "n1"}, {"top", "q"}, {"leaf", "top"}, {"m", "leaf"},
	}
	vertices := []string{"iso1", "iso2", "n1", "q", "zzz"}
	const want = "3 dependency cycles: m -> m; " +
		"n1 -> n2 -> n1 (mutually dependent: n1, n2, n3); " +
		"q -> r -> s -> q (mutually dependent: q, r, s, t)"

	var firstGraph string
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 2026))
		es := append([]edge(nil), edges...)
		vs := append([]string(nil), vertices...)
		rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		rng.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		g := build(vs, es)

		got := (&CycleError{Cycles: g.Cycles()}).Error()
		if got != want {
			t.Fatalf("seed %d: cycles = %q, want %q", seed, got, want)
		}
		_, err := g.TopoOrder()
		if err == nil || err.Error() != want {
			t.Fatalf("seed %d: TopoOrder error = %v, want %q", seed, err, want)
		}
		if seed == 0 {
			firstGraph = g.String()
		} else if s := g.String(); s != firstGraph {
			t.Fatalf("seed %d: String() =\n%s\nwant (seed 0)\n%s", seed, s, firstGraph)
		}
	}
}

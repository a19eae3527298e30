package dag

import (
	"slices"
	"testing"
)

// edge is a dependency from → to, used to build test graphs compactly.
type edge struct{ from, to string }

// build returns a graph with the given isolated vertices and edges.
func build(vertices []string, edges []edge) *Graph {
	g := New()
	for _, v := range vertices {
		g.Add(v)
	}
	for _, e := range edges {
		g.Connect(e.from, e.to)
	}
	return g
}

// diamond is top → {left, right} → base, plus an unrelated vertex.
var diamond = []edge{
	{"top", "left"}, {"top", "right"},
	{"left", "base"}, {"right", "base"},
}

func TestGraphBasics(t *testing.T) {
	tests := []struct {
		name     string
		vertices []string
		edges    []edge
		wantLen  int
		wantStr  string
	}{
		{name: "empty", wantLen: 0, wantStr: ""},
		{
			name:     "isolated vertices are sorted",
			vertices: []string{"b", "a", "c", "a"},
			wantLen:  3,
			wantStr:  "a\nb\nc\n",
		},
		{
			name:    "diamond",
			edges:   diamond,
			wantLen: 4,
			wantStr: "base\nleft -> base\nright -> base\ntop -> left, right\n",
		},
		{
			name:    "duplicate edges are ignored",
			edges:   []edge{{"a", "b"}, {"a", "b"}, {"a", "c"}},
			wantLen: 3,
			wantStr: "a -> b, c\nb\nc\n",
		},
		{
			name:    "self-edge is kept",
			edges:   []edge{{"a", "a"}},
			wantLen: 1,
			wantStr: "a -> a\n",
		},
		{
			name:    "HCL-style addresses",
			edges:   []edge{{`train.net["b"]`, `data.x`}, {`train.net["a"]`, `data.x`}},
			wantLen: 3,
			wantStr: "data.x\ntrain.net[\"a\"] -> data.x\ntrain.net[\"b\"] -> data.x\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(tt.vertices, tt.edges)
			if got := g.Len(); got != tt.wantLen {
				t.Errorf("Len() = %d, want %d", got, tt.wantLen)
			}
			if got := g.String(); got != tt.wantStr {
				t.Errorf("String() =\n%s\nwant\n%s", got, tt.wantStr)
			}
			if got := g.Vertices(); !slices.IsSorted(got) || len(got) != tt.wantLen {
				t.Errorf("Vertices() = %q, want %d sorted names", got, tt.wantLen)
			}
		})
	}
}

func TestZeroGraphIsUsable(t *testing.T) {
	var g Graph
	if g.Has("a") || g.Len() != 0 || g.Vertices() != nil || g.String() != "" {
		t.Fatalf("zero Graph is not empty: %q", g.String())
	}
	g.Connect("a", "b")
	if got, want := g.String(), "a -> b\nb\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestDirectNeighbours(t *testing.T) {
	g := build([]string{"lonely"}, diamond)
	tests := []struct {
		v              string
		wantHas        bool
		wantDeps       []string
		wantDependents []string
	}{
		{v: "top", wantHas: true, wantDeps: []string{"left", "right"}},
		{v: "left", wantHas: true, wantDeps: []string{"base"}, wantDependents: []string{"top"}},
		{v: "base", wantHas: true, wantDependents: []string{"left", "right"}},
		{v: "lonely", wantHas: true},
		{v: "missing", wantHas: false},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			if got := g.Has(tt.v); got != tt.wantHas {
				t.Errorf("Has(%q) = %v, want %v", tt.v, got, tt.wantHas)
			}
			if got := g.DependenciesOf(tt.v); !slices.Equal(got, tt.wantDeps) {
				t.Errorf("DependenciesOf(%q) = %q, want %q", tt.v, got, tt.wantDeps)
			}
			if got := g.DependentsOf(tt.v); !slices.Equal(got, tt.wantDependents) {
				t.Errorf("DependentsOf(%q) = %q, want %q", tt.v, got, tt.wantDependents)
			}
		})
	}
}

func TestAncestorsDescendants(t *testing.T) {
	// chain: c → b → a; diamond beside it; x stands alone; loop is a cycle.
	edges := append([]edge{{"c", "b"}, {"b", "a"}, {"loop1", "loop2"}, {"loop2", "loop1"}}, diamond...)
	g := build([]string{"x"}, edges)
	tests := []struct {
		name            string
		vs              []string
		wantAncestors   []string
		wantDescendants []string
	}{
		{name: "none", vs: nil, wantAncestors: []string{}, wantDescendants: []string{}},
		{name: "chain top", vs: []string{"c"}, wantAncestors: []string{"a", "b", "c"}, wantDescendants: []string{"c"}},
		{name: "chain bottom", vs: []string{"a"}, wantAncestors: []string{"a"}, wantDescendants: []string{"a", "b", "c"}},
		{name: "chain middle", vs: []string{"b"}, wantAncestors: []string{"a", "b"}, wantDescendants: []string{"b", "c"}},
		{name: "diamond top", vs: []string{"top"}, wantAncestors: []string{"base", "left", "right", "top"}, wantDescendants: []string{"top"}},
		{name: "diamond side", vs: []string{"left"}, wantAncestors: []string{"base", "left"}, wantDescendants: []string{"left", "top"}},
		{name: "several, overlapping", vs: []string{"left", "right", "b"}, wantAncestors: []string{"a", "b", "base", "left", "right"}, wantDescendants: []string{"b", "c", "left", "right", "top"}},
		{name: "isolated", vs: []string{"x"}, wantAncestors: []string{"x"}, wantDescendants: []string{"x"}},
		{name: "cycle terminates", vs: []string{"loop1"}, wantAncestors: []string{"loop1", "loop2"}, wantDescendants: []string{"loop1", "loop2"}},
		{name: "unknown ignored", vs: []string{"nope", "a"}, wantAncestors: []string{"a"}, wantDescendants: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := g.Ancestors(tt.vs...); !equalNilEmpty(got, tt.wantAncestors) {
				t.Errorf("Ancestors(%q) = %q, want %q", tt.vs, got, tt.wantAncestors)
			}
			if got := g.Descendants(tt.vs...); !equalNilEmpty(got, tt.wantDescendants) {
				t.Errorf("Descendants(%q) = %q, want %q", tt.vs, got, tt.wantDescendants)
			}
		})
	}
}

func TestSubgraph(t *testing.T) {
	g := build([]string{"x"}, diamond)
	tests := []struct {
		name string
		keep []string
		want string
	}{
		{name: "nothing", keep: nil, want: ""},
		{name: "all", keep: g.Vertices(), want: g.String()},
		{name: "drops edges to removed vertices", keep: []string{"top", "left", "x"}, want: "left\ntop -> left\nx\n"},
		{name: "ancestors of left", keep: g.Ancestors("left"), want: "base\nleft -> base\n"},
		{name: "unknown ignored", keep: []string{"base", "ghost"}, want: "base\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := g.Subgraph(tt.keep)
			if got := sub.String(); got != tt.want {
				t.Errorf("Subgraph(%q) =\n%s\nwant\n%s", tt.keep, got, tt.want)
			}
			// The subgraph must be independent of its parent.
			sub.Connect("new", "edge")
			if g.Has("new") {
				t.Errorf("mutating Subgraph(%q) changed the parent graph", tt.keep)
			}
		})
	}
}

// equalNilEmpty compares string slices treating nil and empty as equal.
func equalNilEmpty(a, b []string) bool {
	return len(a) == 0 && len(b) == 0 || slices.Equal(a, b)
}

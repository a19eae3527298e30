package dag

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestTopoOrder(t *testing.T) {
	tests := []struct {
		name     string
		vertices []string
		edges    []edge
		want     []string
		wantErr  string
	}{
		{name: "empty", want: []string{}},
		{name: "isolated by name", vertices: []string{"c", "a", "b"}, want: []string{"a", "b", "c"}},
		{name: "chain", edges: []edge{{"a", "b"}, {"b", "c"}}, want: []string{"c", "b", "a"}},
		{name: "diamond", edges: diamond, want: []string{"base", "left", "right", "top"}},
		{
			// z is ready from the start but a (ready at the same time) wins on
			// name; after a, b becomes ready and beats z.
			name:  "ties broken by name among ready vertices",
			edges: []edge{{"b", "a"}, {"y", "z"}},
			want:  []string{"a", "b", "z", "y"},
		},
		{
			name:    "cycle",
			edges:   []edge{{"a", "b"}, {"b", "a"}, {"c", "a"}},
			wantErr: "dependency cycle: a -> b -> a",
		},
		{name: "self-loop", edges: []edge{{"a", "a"}}, wantErr: "dependency cycle: a -> a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(tt.vertices, tt.edges)
			got, err := g.TopoOrder()
			if tt.wantErr != "" {
				var ce *CycleError
				if !errors.As(err, &ce) || err.Error() != tt.wantErr {
					t.Fatalf("TopoOrder() error = %v, want *CycleError %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("TopoOrder() order = %q, want nil with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("TopoOrder() error = %v", err)
			}
			if !equalNilEmpty(got, tt.want) {
				t.Errorf("TopoOrder() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTopoOrderDeterministic checks that a random DAG yields one valid order
// whatever the insertion order.
func TestTopoOrderDeterministic(t *testing.T) {
	var edges []edge
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		for range rng.IntN(4) {
			if i > 0 {
				edges = append(edges, edge{fmt.Sprintf("v%03d", i), fmt.Sprintf("v%03d", rng.IntN(i))})
			}
		}
	}
	var first []string
	for seed := range uint64(50) {
		es := append([]edge(nil), edges...)
		r := rand.New(rand.NewPCG(seed, 7))
		r.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		g := build(nil, es)
		order, err := g.TopoOrder()
		if err != nil {
			t.Fatalf("seed %d: TopoOrder() error = %v", seed, err)
		}
		checkTopo(t, g, order)
		if seed == 0 {
			first = order
		} else if !reflect.DeepEqual(order, first) {
			t.Fatalf("seed %d: TopoOrder() = %q, want (seed 0) %q", seed, order, first)
		}
	}
}

// checkTopo fails t unless order lists every vertex of g exactly once, with
// each dependency before its dependents.
func checkTopo(t *testing.T, g *Graph, order []string) {
	t.Helper()
	pos := make(map[string]int, len(order))
	for i, v := range order {
		pos[v] = i
	}
	if len(pos) != g.Len() || len(order) != g.Len() {
		t.Fatalf("order has %d entries (%d distinct), want %d vertices", len(order), len(pos), g.Len())
	}
	for _, v := range order {
		for _, d := range g.DependenciesOf(v) {
			if pos[d] > pos[v] {
				t.Fatalf("order puts %q before its dependency %q", v, d)
			}
		}
	}
}

// layered builds a DAG of layers×width vertices in which each vertex depends
// on up to three vertices of the previous layer, a shape typical of sweeps
// and ensembles.
func layered(layers, width int) *Graph {
	g := New()
	name := func(l, i int) string { return fmt.Sprintf("l%03d.v%04d", l, i) }
	for l := range layers {
		for i := range width {
			g.Add(name(l, i))
			if l == 0 {
				continue
			}
			for _, k := range []int{i, (i + 1) % width, (i * 7) % width} {
				g.Connect(name(l, i), name(l-1, k))
			}
		}
	}
	return g
}

func TestLayered(t *testing.T) {
	g := layered(10, 20)
	order, err := g.TopoOrder()
	if err != nil {
		t.Fatalf("TopoOrder() error = %v", err)
	}
	checkTopo(t, g, order)
	if got, want := order[:3], []string{"l000.v0000", "l000.v0001", "l000.v0002"}; !slices.Equal(got, want) {
		t.Errorf("TopoOrder()[:3] = %q, want %q", got, want)
	}
}

func BenchmarkTopoOrder10000(b *testing.B) {
	g := layered(100, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.TopoOrder(); err != nil {
			b.Fatal(err)
		}
	}
}

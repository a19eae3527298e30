// Package dag is the generic dependency graph behind modulo's pipeline runs.
//
// It knows nothing about HCL, machine learning or storage: vertices are plain
// strings (in practice node addresses such as `train.net["a"]`) and an edge
// records that one vertex depends on another. On top of that small core the
// package offers the few algorithms the runner needs: reachability
// (Ancestors, Descendants, Subgraph), cycle detection with readable
// diagnostics (Cycles), a deterministic topological order (TopoOrder) and a
// parallel, budgeted, failure-aware execution (Walk).
//
// Everything that produces a list or text is deterministic: the same graph
// yields the same output on every run regardless of the order in which
// vertices and edges were inserted. That property is what makes golden tests,
// cache keys and user-facing error messages stable.
package dag

import (
	"maps"
	"slices"
	"strings"
)

// Graph is a directed graph in which an edge from a to b means "a depends on
// b": b must be complete before a can start.
//
// The zero value is an empty graph ready to use; New exists for readability
// at call sites. A Graph is not safe for concurrent mutation, but once it is
// built every read-only method (including Walk, TopoOrder and Cycles) may be
// called from many goroutines at once, because none of them writes to the
// graph or caches anything inside it.
type Graph struct {
	// deps maps every vertex to the set of vertices it depends on. A vertex
	// without edges is present with a nil set, so the key set of deps is the
	// vertex set.
	deps map[string]map[string]struct{}
	// dependents is the reverse adjacency of deps, kept in step by Connect so
	// that downward traversals do not need to scan every vertex.
	dependents map[string]map[string]struct{}
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{}
}

// Add inserts v as a vertex. Adding a vertex that already exists is a no-op,
// which lets callers add vertices while discovering them without first
// checking Has.
func (g *Graph) Add(v string) {
	if g.deps == nil {
		g.deps = make(map[string]map[string]struct{})
		g.dependents = make(map[string]map[string]struct{})
	}
	if _, ok := g.deps[v]; !ok {
		g.deps[v] = nil
		g.dependents[v] = nil
	}
}

// Connect records that from depends on to, adding either vertex if it is
// missing. Repeating an edge is a no-op. A self-edge (from == to) is kept
// rather than rejected: it is a cycle, and reporting it through Cycles gives
// the user a better message than a panic at construction time would.
func (g *Graph) Connect(from, to string) {
	g.Add(from)
	g.Add(to)
	if g.deps[from] == nil {
		g.deps[from] = make(map[string]struct{})
	}
	g.deps[from][to] = struct{}{}
	if g.dependents[to] == nil {
		g.dependents[to] = make(map[string]struct{})
	}
	g.dependents[to][from] = struct{}{}
}

// Has reports whether v is a vertex of g.
func (g *Graph) Has(v string) bool {
	_, ok := g.deps[v]
	return ok
}

// Len returns the number of vertices.
func (g *Graph) Len() int {
	return len(g.deps)
}

// Vertices returns every vertex, sorted by name.
func (g *Graph) Vertices() []string {
	return slices.Sorted(maps.Keys(g.deps))
}

// DependenciesOf returns the vertices v depends on directly, sorted. It
// returns nil if v has no dependencies or is not in the graph.
func (g *Graph) DependenciesOf(v string) []string {
	return sortedSet(g.deps[v])
}

// DependentsOf returns the vertices that depend on v directly, sorted. It
// returns nil if nothing depends on v or v is not in the graph.
func (g *Graph) DependentsOf(v string) []string {
	return sortedSet(g.dependents[v])
}

// Ancestors returns the given vertices together with everything they depend
// on, directly or transitively, sorted. This is the set that must run before
// (or together with) vs, e.g. for `modulo run train.net`. Vertices that are
// not in the graph are ignored rather than echoed back, so a typo cannot
// masquerade as a valid, dependency-free target.
func (g *Graph) Ancestors(vs ...string) []string {
	return g.reach(vs, g.deps)
}

// Descendants returns the given vertices together with everything that
// depends on them, directly or transitively, sorted. This is the set a change
// to vs invalidates. Vertices not in the graph are ignored, as in Ancestors.
func (g *Graph) Descendants(vs ...string) []string {
	return g.reach(vs, g.dependents)
}

// reach returns the vertices reachable from vs along adj, including vs
// themselves, sorted. It is iterative so that long dependency chains cannot
// exhaust the stack.
func (g *Graph) reach(vs []string, adj map[string]map[string]struct{}) []string {
	seen := make(map[string]struct{}, len(vs))
	var stack []string
	for _, v := range vs {
		if _, ok := seen[v]; !ok && g.Has(v) {
			seen[v] = struct{}{}
			stack = append(stack, v)
		}
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for w := range adj[v] {
			if _, ok := seen[w]; !ok {
				seen[w] = struct{}{}
				stack = append(stack, w)
			}
		}
	}
	return sortedSet(seen)
}

// Subgraph returns the subgraph of g induced by keep: the vertices of keep
// that are in g, and every edge of g between two of them. Names in keep that
// are not vertices of g are ignored. The result shares no state with g, so
// either may be modified afterwards without affecting the other.
func (g *Graph) Subgraph(keep []string) *Graph {
	in := make(map[string]struct{}, len(keep))
	for _, v := range keep {
		if g.Has(v) {
			in[v] = struct{}{}
		}
	}
	sub := New()
	for v := range in {
		sub.Add(v)
		for d := range g.deps[v] {
			if _, ok := in[d]; ok {
				sub.Connect(v, d)
			}
		}
	}
	return sub
}

// String renders the graph one vertex per line, in sorted order, as
// "v -> dep1, dep2" with the dependencies sorted; a vertex with no
// dependencies is rendered as just "v". Every line, including the last, ends
// in a newline, and an empty graph renders as "". The output depends only on
// the graph's contents, never on insertion order, so it is suitable for
// golden tests.
func (g *Graph) String() string {
	var b strings.Builder
	for _, v := range g.Vertices() {
		b.WriteString(v)
		if deps := g.DependenciesOf(v); len(deps) > 0 {
			b.WriteString(" -> ")
			b.WriteString(strings.Join(deps, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// sortedSet returns the members of s in sorted order, or nil if s is empty.
func sortedSet(s map[string]struct{}) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(s))
}

package dag

import "slices"

// TopoOrder returns every vertex with dependencies before their dependents.
//
// It uses Kahn's algorithm with a min-heap as the ready set: whenever several
// vertices have all their dependencies placed, the one with the smallest name
// goes next. The order is therefore a pure function of the graph, which keeps
// plans, logs and golden tests stable across runs and insertion orders.
//
// If the graph has a cycle there is no topological order; TopoOrder then
// returns a nil slice and a *CycleError listing every cycle (see Cycles).
func (g *Graph) TopoOrder() ([]string, error) {
	ix := g.index()
	order, ok := ix.topo()
	if !ok {
		return nil, &CycleError{Cycles: ix.cycles()}
	}
	names := make([]string, len(order))
	for i, v := range order {
		names[i] = ix.names[v]
	}
	return names, nil
}

// indexed is a read-only snapshot of a Graph in which vertices are numbered
// by their rank in sorted-name order. The algorithms in this package work on
// it rather than on the maps in Graph because integer slices are much cheaper
// to traverse, and because with this numbering "smallest index" means
// "smallest name", which is exactly the tie-break determinism requires.
//
// A snapshot is built per call rather than cached in the Graph, since caching
// would turn read-only methods into writers and break concurrent reads.
type indexed struct {
	names []string       // vertex names, sorted; the index of a name is its number
	deps  [][]int        // deps[v]: what v depends on, ascending
	rdeps [][]int        // rdeps[v]: what depends on v, ascending
	pos   map[string]int // name -> number
}

// index builds the numbered snapshot of g.
func (g *Graph) index() *indexed {
	names := g.Vertices()
	ix := &indexed{
		names: names,
		deps:  make([][]int, len(names)),
		rdeps: make([][]int, len(names)),
		pos:   make(map[string]int, len(names)),
	}
	for i, v := range names {
		ix.pos[v] = i
	}
	for i, v := range names {
		ix.deps[i] = ix.numbers(g.deps[v])
	}
	// Deriving the reverse adjacency from deps, rather than from
	// g.dependents, avoids a second round of map lookups and sorting: visiting
	// vertices in ascending order appends dependents in ascending order.
	// All reverse lists share one backing array, sized by a counting pass.
	count := make([]int, len(names))
	edges := 0
	for _, ds := range ix.deps {
		for _, d := range ds {
			count[d]++
		}
		edges += len(ds)
	}
	flat := make([]int, 0, edges)
	for d, c := range count {
		ix.rdeps[d] = flat[len(flat) : len(flat) : len(flat)+c]
		flat = flat[:len(flat)+c]
	}
	for i, ds := range ix.deps {
		for _, d := range ds {
			ix.rdeps[d] = append(ix.rdeps[d], i)
		}
	}
	return ix
}

// numbers converts a set of names into their ascending vertex numbers.
func (ix *indexed) numbers(set map[string]struct{}) []int {
	if len(set) == 0 {
		return nil
	}
	out := make([]int, 0, len(set))
	for v := range set {
		out = append(out, ix.pos[v])
	}
	slices.Sort(out)
	return out
}

// topo runs Kahn's algorithm and returns the vertex numbers in topological
// order, ties broken by smallest number (that is, smallest name). It reports
// false if some vertices could not be placed because they lie on or behind a
// cycle; the partial order is returned in that case but callers discard it.
func (ix *indexed) topo() ([]int, bool) {
	n := len(ix.names)
	remaining := make([]int, n)
	var ready minHeap
	for v := range n {
		remaining[v] = len(ix.deps[v])
		if remaining[v] == 0 {
			ready.push(v)
		}
	}
	order := make([]int, 0, n)
	for ready.Len() > 0 {
		v := ready.pop()
		order = append(order, v)
		for _, d := range ix.rdeps[v] {
			remaining[d]--
			if remaining[d] == 0 {
				ready.push(d)
			}
		}
	}
	return order, len(order) == n
}

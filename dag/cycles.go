package dag

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Cycle describes one strongly connected component of a graph that prevents
// a topological order.
//
// A component can contain many overlapping cycles and listing all of them
// can take exponential time and overwhelm the reader, so Cycle reports a
// single representative Path plus the full list of Members; fixing the
// pipeline means breaking every cycle among the members, and the path shows
// where to start.
type Cycle struct {
	// Path is an elementary cycle through the component's smallest vertex,
	// starting at that vertex and not repeating it at the end. It is the
	// shortest such cycle; among equally short ones, the one found by a
	// breadth-first search that visits successors in sorted order. A
	// self-edge yields a one-element Path.
	Path []string
	// Members lists every vertex of the component, sorted. It may be longer
	// than Path when the component contains several cycles.
	Members []string
}

// String renders the cycle as "a -> b -> c -> a", closing the loop so that
// the reader sees every edge, including the one back to the start. A
// self-edge renders as "a -> a". The text is the same on every run.
func (c Cycle) String() string {
	if len(c.Path) == 0 {
		return ""
	}
	return strings.Join(c.Path, " -> ") + " -> " + c.Path[0]
}

// CycleError is returned by TopoOrder, and recorded in a WalkReport, when the
// graph has at least one cycle and therefore no valid execution order.
type CycleError struct {
	Cycles []Cycle
}

// Error lists every cycle on one line, separated by "; ". When a component
// has more members than its representative path shows, the members are
// listed too so the user knows every vertex that participates.
func (e *CycleError) Error() string {
	var b strings.Builder
	if len(e.Cycles) == 1 {
		b.WriteString("dependency cycle: ")
	} else {
		fmt.Fprintf(&b, "%d dependency cycles: ", len(e.Cycles))
	}
	for i, c := range e.Cycles {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.String())
		if len(c.Members) > len(c.Path) {
			fmt.Fprintf(&b, " (mutually dependent: %s)", strings.Join(c.Members, ", "))
		}
	}
	return b.String()
}

// Cycles returns one Cycle for every strongly connected component that has
// more than one vertex, or a single vertex with a self-edge, found with
// Tarjan's algorithm. The result is sorted by Path[0], which is also each
// component's smallest member, and is empty (nil) for an acyclic graph.
func (g *Graph) Cycles() []Cycle {
	return g.index().cycles()
}

// cycles implements Cycles on the numbered snapshot.
func (ix *indexed) cycles() []Cycle {
	var out []Cycle
	for _, scc := range ix.sccs() {
		// Components come out of Tarjan in ascending order of their members
		// (see sccs), so scc[0] is the smallest vertex.
		s := scc[0]
		if len(scc) == 1 && !ix.hasEdge(s, s) {
			continue
		}
		members := make([]string, len(scc))
		for i, v := range scc {
			members[i] = ix.names[v]
		}
		out = append(out, Cycle{Path: ix.shortestCycle(s, scc), Members: members})
	}
	// Components are disjoint, so their smallest members are distinct, and
	// sccs already returns them ordered by smallest member.
	return out
}

// hasEdge reports whether v depends on w.
func (ix *indexed) hasEdge(v, w int) bool {
	for _, d := range ix.deps[v] {
		if d == w {
			return true
		}
	}
	return false
}

// sccs returns the strongly connected components of the snapshot using
// Tarjan's algorithm, each with its members in ascending order, and the list
// ordered by each component's smallest member.
//
// The recursion depth can reach the number of vertices; that is acceptable in
// Go, whose goroutine stacks grow on demand, and keeps the algorithm in its
// familiar textbook form.
func (ix *indexed) sccs() [][]int {
	n := len(ix.names)
	const unvisited = -1
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = unvisited
	}
	var (
		stack []int
		next  int
		out   [][]int
	)
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range ix.deps[v] {
			if index[w] == unvisited {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var scc []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			scc = append(scc, w)
			if w == v {
				break
			}
		}
		out = append(out, scc)
	}
	for v := range n {
		if index[v] == unvisited {
			visit(v)
		}
	}
	// Sort members, then components by smallest member. Both are cheap:
	// components are usually tiny and cyclic graphs are the error path.
	for _, scc := range out {
		slices.Sort(scc)
	}
	slices.SortFunc(out, func(a, b []int) int { return cmp.Compare(a[0], b[0]) })
	return out
}

// shortestCycle returns the shortest cycle through s that stays inside the
// component scc, as names starting at s. Breadth-first search from s, with
// successors visited in ascending (that is, name) order, finds the nearest
// vertex with an edge back to s; following parent links from there yields
// the path. The search never leaves the component, because any cycle through
// s lies entirely inside it.
func (ix *indexed) shortestCycle(s int, scc []int) []string {
	in := make(map[int]bool, len(scc))
	for _, v := range scc {
		in[v] = true
	}
	parent := map[int]int{s: -1}
	queue := []int{s}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, w := range ix.deps[u] {
			if w == s {
				var rev []string
				for v := u; v != -1; v = parent[v] {
					rev = append(rev, ix.names[v])
				}
				path := make([]string, len(rev))
				for i, name := range rev {
					path[len(rev)-1-i] = name
				}
				return path
			}
			if _, seen := parent[w]; !seen && in[w] {
				parent[w] = u
				queue = append(queue, w)
			}
		}
	}
	// Unreachable for a genuine cycle component; return the vertex alone
	// rather than panicking so a diagnostic is still produced.
	return []string{ix.names[s]}
}

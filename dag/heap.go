package dag

import (
	"cmp"
	"slices"
)

// This file holds the priority queues used by TopoOrder and Walk.

// minHeap is a binary min-heap of ints. It is hand-rolled rather than built
// on container/heap because the interface-based version boxes every element,
// which shows up in the 10,000-vertex benchmarks.
type minHeap []int

// Len returns the number of elements in the heap.
func (h minHeap) Len() int { return len(h) }

// peek returns the smallest element without removing it. The heap must not be
// empty.
func (h minHeap) peek() int { return h[0] }

// push inserts x.
func (h *minHeap) push(x int) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

// pop removes and returns the smallest element. The heap must not be empty.
func (h *minHeap) pop() int {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l] < s[m] {
			m = l
		}
		if r < len(s) && s[r] < s[m] {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// readyQueue holds the ranks of vertices that are ready to run, bucketed by
// cost. Walk needs two queries: "the best ready vertex overall" and "the
// best ready vertex that fits in the free slots" (for backfill). A single
// heap answers the second only by popping until something fits; with one
// heap per distinct cost both are answered by comparing bucket heads, and
// real graphs have only a handful of distinct costs.
type readyQueue struct {
	buckets []bucket    // ascending by cost; only costs that occur in the graph
	byCost  map[int]int // cost -> index in buckets
}

// bucket is the min-heap of ready ranks that share one cost.
type bucket struct {
	cost  int
	ranks minHeap
}

// init creates one bucket for every distinct value in costs.
func (q *readyQueue) init(costs []int) {
	q.byCost = make(map[int]int)
	for _, c := range costs {
		if _, ok := q.byCost[c]; !ok {
			q.byCost[c] = -1
			q.buckets = append(q.buckets, bucket{cost: c})
		}
	}
	slices.SortFunc(q.buckets, func(a, b bucket) int { return cmp.Compare(a.cost, b.cost) })
	for i, b := range q.buckets {
		q.byCost[b.cost] = i
	}
}

// push adds the vertex of the given rank and cost.
func (q *readyQueue) push(rank, cost int) {
	q.buckets[q.byCost[cost]].ranks.push(rank)
}

// best returns the smallest ready rank whose cost is at most maxCost, and
// that cost; ok is false if there is none. It does not remove the rank.
func (q *readyQueue) best(maxCost int) (rank, cost int, ok bool) {
	for i := range q.buckets {
		b := &q.buckets[i]
		if b.cost > maxCost {
			break
		}
		if b.ranks.Len() > 0 && (!ok || b.ranks.peek() < rank) {
			rank, cost, ok = b.ranks.peek(), b.cost, true
		}
	}
	return rank, cost, ok
}

// pop removes the smallest rank of the given cost, as returned by best.
func (q *readyQueue) pop(cost int) {
	q.buckets[q.byCost[cost]].ranks.pop()
}

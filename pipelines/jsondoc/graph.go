package jsondoc

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/pipelines"
)

// Graph is the document of modulo graph -json: the DAG of the pipeline.
type Graph struct {
	FormatVersion string `json:"format_version"`
	// Nodes are every node of the pipeline, dependencies first (ties broken by address).
	Nodes []GraphNode `json:"nodes"`
	// Edges point the way results flow: from a node to each node that reads it.
	Edges []Edge `json:"edges"`
	Problems
}

// GraphNode is one node of the graph.
type GraphNode struct {
	Address    string  `json:"address"`
	Kind       string  `json:"kind"`
	Name       string  `json:"name"`
	ForEachKey *string `json:"for_each_key,omitempty"`
	// Dependencies are the addresses of the nodes this one reads, sorted.
	Dependencies []string `json:"dependencies"`
	// Status is the node's plan status, with graph -plan only.
	Status string `json:"status,omitempty"`
}

// Edge is one edge of the graph: To reads From's results.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// NewGraph is the document of g (nil when the pipeline could not be loaded), with the
// status of each node when plan is not nil.
func NewGraph(g *pipelines.Graph, plan *pipelines.Plan, diags hcl.Diagnostics) *Graph {
	doc := &Graph{FormatVersion: FormatVersion, Nodes: []GraphNode{}, Edges: []Edge{}}
	if g != nil {
		for _, addr := range g.Order {
			inst := g.Instances[addr]
			deps := nonNil(g.DAG.DependenciesOf(addr))
			n := GraphNode{Address: addr, Kind: inst.Block.Kind.Name, Name: inst.Block.Name, ForEachKey: forEachKey(inst), Dependencies: deps}
			if plan != nil {
				if pn := plan.Nodes[addr]; pn != nil {
					n.Status = PlanStatus(pn)
				}
			}
			doc.Nodes = append(doc.Nodes, n)
			for _, d := range deps {
				doc.Edges = append(doc.Edges, Edge{From: d, To: addr})
			}
		}
	}
	doc.Add(diags, nodeOfDiag(plan))
	return doc
}

// CacheInfo is the document of modulo cache info -json.
type CacheInfo struct {
	FormatVersion string `json:"format_version"`
	// Dir is the cache directory.
	Dir string `json:"dir"`
	// Entries are the action entries (results), EntryBytes their size on disk.
	Entries    int   `json:"entries"`
	EntryBytes int64 `json:"entry_bytes"`
	// Blobs are the stored artifacts and files, BlobBytes their compressed size on disk.
	Blobs     int   `json:"blobs"`
	BlobBytes int64 `json:"blob_bytes"`
	// Oldest and Newest are when an entry was least and most recently used; absent when
	// there are no entries.
	Oldest *time.Time `json:"oldest,omitempty"`
	Newest *time.Time `json:"newest,omitempty"`
	Problems
}

// NewCacheInfo is the document of the cache in dir holding info.
func NewCacheInfo(dir string, info artifacts.Info, diags hcl.Diagnostics) *CacheInfo {
	doc := &CacheInfo{FormatVersion: FormatVersion, Dir: dir, Entries: info.Entries, EntryBytes: info.EntryBytes, Blobs: info.Blobs, BlobBytes: info.BlobBytes}
	if !info.Oldest.IsZero() {
		o, n := info.Oldest, info.Newest
		doc.Oldest, doc.Newest = &o, &n
	}
	doc.Add(diags, nil)
	return doc
}

package pipelines

import (
	"fmt"
	"io"
	"strings"
)

// WriteDOT writes the graph in Graphviz DOT: one node per instance, labelled with its
// address and, when a plan is given, its status; edges point from a node to what it needs.
func WriteDOT(w io.Writer, g *Graph, p *Plan) error {
	var sb strings.Builder
	sb.WriteString("digraph modulo {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n")
	for _, addr := range g.Order {
		label := addr
		style := ""
		if n := planNode(p, addr); n != nil {
			label += "\n" + n.Status.String()
			switch n.Status {
			case Cached:
				style = `, style=filled, fillcolor="#d8f0d8"`
			case Run:
				style = `, style=filled, fillcolor="#f8e0c0"`
			}
		}
		fmt.Fprintf(&sb, "  %s [label=%s%s];\n", dotQuote(addr), dotQuote(label), style)
	}
	for _, addr := range g.Order {
		for _, dep := range g.Instances[addr].deps {
			fmt.Fprintf(&sb, "  %s -> %s;\n", dotQuote(addr), dotQuote(dep))
		}
	}
	sb.WriteString("}\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

// WriteMermaid writes the graph as a Mermaid flowchart, dependencies on the left.
func WriteMermaid(w io.Writer, g *Graph, p *Plan) error {
	var sb strings.Builder
	sb.WriteString("flowchart LR\n")
	ids := map[string]string{}
	for i, addr := range g.Order {
		ids[addr] = fmt.Sprintf("n%d", i)
		label := addr
		if n := planNode(p, addr); n != nil {
			label += "<br/>" + n.Status.String()
		}
		fmt.Fprintf(&sb, "  %s[\"%s\"]\n", ids[addr], strings.ReplaceAll(label, `"`, "#quot;"))
	}
	for _, addr := range g.Order {
		for _, dep := range g.Instances[addr].deps {
			fmt.Fprintf(&sb, "  %s --> %s\n", ids[dep], ids[addr])
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func planNode(p *Plan, addr string) *PlanNode {
	if p == nil {
		return nil
	}
	return p.Nodes[addr]
}

func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

package jsondoc

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

// Show is the document of modulo show -json: a node's outputs and provenance.
type Show struct {
	FormatVersion string `json:"format_version"`
	Address       string `json:"address"`
	// Kind, Version (the stage kind's, part of the node's key) and Status (the node's plan
	// status; only a cached node has outputs to show) are absent when there is no such node.
	Kind    string `json:"kind,omitempty"`
	Version int    `json:"version,omitempty"`
	Status  string `json:"status,omitempty"`
	// Reasons say why a node that is not cached would run, as plan does.
	Reasons []string `json:"reasons"`
	Action  string   `json:"action,omitempty"`
	// Created is when the result was stored, and DurationSeconds how long its stage ran.
	Created         *time.Time `json:"created,omitempty"`
	DurationSeconds *float64   `json:"duration_s,omitempty"`
	// Outputs are the node's outputs by name (none unless cached).
	Outputs map[string]ShowOutput `json:"outputs"`
	// Files are the files outside the cache its run read, by name, kept with the result.
	Files map[string]Blob `json:"files"`
	// Provenance is the description of the node's key, one labelled line each, in order:
	// what the result was computed from.
	Provenance []KeyLine `json:"provenance"`
	Problems
}

// ShowOutput is one output: exactly one of its members is present. Value is a value
// output as JSON (a table as an array of objects); Artifact a single artifact; Artifacts a
// sequence of them (checkpoints, levels), possibly empty.
type ShowOutput struct {
	Value     json.RawMessage `json:"value,omitempty"`
	Artifact  *Artifact       `json:"artifact,omitempty"`
	Artifacts *[]Artifact     `json:"artifacts,omitempty"`
}

// Blob is a stored file: its digest, size, and compressed size in the cache.
type Blob struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Stored int64  `json:"stored"`
}

// KeyLine is one line of a key's description, such as attr.epochs = 10.
type KeyLine struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// NewShow is the document of node n, whose blobs (its key description) c holds when it is
// cached. diags are those of planning it.
func NewShow(n *pipelines.PlanNode, c *artifacts.Cache, diags hcl.Diagnostics) *Show {
	k := n.Inst.Block.Kind
	doc := &Show{
		FormatVersion: FormatVersion,
		Address:       n.Inst.Addr,
		Kind:          k.Name,
		Version:       k.Version,
		Status:        PlanStatus(n),
		Reasons:       nonNil(n.Reasons),
		Outputs:       map[string]ShowOutput{},
		Files:         map[string]Blob{},
		Provenance:    []KeyLine{},
	}
	if n.Key != nil {
		doc.Action = n.Action.String()
	}
	e := n.Entry
	if n.Status != pipelines.Cached || e == nil {
		doc.Add(diags, nil)
		return doc
	}
	created, d := e.Created, seconds(e.Duration)
	doc.Created, doc.DurationSeconds = &created, &d
	for _, spec := range k.Outputs {
		doc.Outputs[spec.Name] = showOutput(spec, e.Outputs[spec.Name])
	}
	for name, it := range e.Files {
		doc.Files[name] = Blob{SHA256: it.ID.String(), Size: it.Size, Stored: it.Stored}
	}
	desc, err := c.Get(e.Key)
	if err == nil {
		var lines []artifacts.KeyLine
		if lines, err = artifacts.ParseDescription(desc); err == nil {
			for _, l := range lines {
				doc.Provenance = append(doc.Provenance, KeyLine{Label: l.Label, Value: l.Value})
			}
		}
	}
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Provenance unavailable",
			Detail:   fmt.Sprintf("The description of %s's key could not be read from the cache: %v.", n.Inst.Addr, err),
		})
	}
	doc.Add(diags, nil)
	return doc
}

func showOutput(spec stages.OutputSpec, out artifacts.Output) ShowOutput {
	if out.Value != nil {
		return ShowOutput{Value: StoredValue(spec, out.Value)}
	}
	elem, seq, _ := stages.ArtifactShape(spec.Type)
	typ, _, _ := stages.IsArtifactType(elem)
	arts := []Artifact{}
	for _, it := range out.Items {
		stored := it.Stored
		arts = append(arts, Artifact{Type: typ, Media: out.Media, SHA256: it.ID.String(), Size: it.Size, Stored: &stored, Meta: it.Meta})
	}
	if seq || len(arts) != 1 {
		return ShowOutput{Artifacts: &arts}
	}
	return ShowOutput{Artifact: &arts[0]}
}

package stages

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
)

// Kind is one stage kind, such as train or match. Its zero Cost means one worker slot.
//
// Version must be bumped by any change that alters the outputs for the same inputs: the version
// enters every action key, so a bump invalidates exactly this kind's cached results (or, for
// a change to one family of models' kernels, the revision Numerics names).
type Kind struct {
	Name    string
	Version int
	Doc     string
	Schema  Schema
	Outputs []OutputSpec

	// Config is a zero value of the kind's typed configuration: a struct with a `cty:"name"`
	// tag for every attribute and nested block of Schema (pointers for optional attributes
	// without a default, *Ref for artifacts, cty.Value for dynamic ones). Run reads its
	// configuration with Input.Decode into that struct, never by attribute name; the engine
	// decodes every wholly known configuration the same way before it computes the action
	// key, so what is keyed is exactly what runs. Register checks the struct against Schema.
	Config any

	// Validate, if set, checks a configuration beyond what each attribute's type and
	// Constraint can say (mutually exclusive attributes, a checkpoint beyond the run, two
	// networks of different architectures). It runs at validate and plan time on a
	// configuration that may hold unknown values, so it must skip what it cannot see; p says
	// what is expected of the artifacts not computed yet. It should report every problem it
	// finds, joined with errors.Join; errors built with cty.Path.NewErrorf are reported at the
	// offending attribute.
	Validate func(p *Planned) error

	// Expect, if set, says what the configuration tells of the artifact outputs before the
	// node runs (see Expected), by output name. It is called at plan time with the same
	// Planned as Validate, when Validate found nothing wrong.
	Expect func(p *Planned) map[string]Expected

	// Cost, if set, returns the number of worker slots (threads) a run of cfg occupies, so
	// that the executor never oversubscribes the machine. It is called at plan time, when cfg
	// may hold unknown values; it must return a best guess then.
	Cost func(cfg cty.Value) int

	// Self, if set, names the kind's only output, and a reference to a block of this kind
	// stands for that output itself: data = dataset.mnist rather than dataset.mnist.data.
	Self string

	// Summary, if set, names an output of text (a Markdown table) that `modulo show`
	// prints after the list of outputs: what a person looks at first.
	Summary string

	// Files, if set, lists the files outside the cache that a run of cfg reads, with their
	// digests, so that the action key changes when their content does (like the file lines
	// of Go's build keys). dir is the directory of the pipeline file holding the block, which
	// relative paths the kind names are relative to. It runs at plan time on a wholly known
	// cfg and is called concurrently; it should memoise hashing. An error (a missing file) is
	// reported at the block, so its message should say how to get the file.
	Files func(cfg cty.Value, dir string) ([]File, error)

	// PortableFiles marks a kind whose Run reads its Files only through Input.ReadFile,
	// never at their paths: a node of it may run on a machine that lacks them (a cluster
	// node without the pipeline's directory), the driver sending their content through the
	// remote cache. Without it, a node that reads files runs where the plan found them.
	PortableFiles bool

	// Log, if set, names an artifact output of text holding what the run printed: `modulo
	// show` prints its last lines.
	Log string

	// Declares, if set, names a nested block of the schema (a Multi block with one label)
	// whose blocks declare each block's own outputs, as a command stage's output "net" {
	// type = "network" … } does: the kind's Outputs (those every block has, such as a log)
	// are then followed by those of the configuration (ForConfig), and DeclaredOutput makes
	// each from its block's label and attributes.
	// The attributes DeclaredOutput reads must be literals: a block's outputs, and so what
	// references to it mean, are known before anything is evaluated.
	Declares       string
	DeclaredOutput func(name string, decl cty.Value) (OutputSpec, error)

	// Numerics, if set, names the revision of the numerical kernels a run of cfg (wholly
	// known) computes with, when they are not those of every configuration: a change that
	// alters the rounding of one family of models (the convolution kernels) bumps that
	// revision instead of Version, so that it invalidates the cached results of those models
	// only, not the hours of training of the others. An empty name adds nothing to the key.
	Numerics func(cfg cty.Value) string

	// Run computes the outputs. It must be deterministic in cfg and the bytes of its inputs,
	// honour ctx cancellation, and return every output named in Outputs.
	Run func(ctx context.Context, in *Input) (*Result, error)
}

// Revision is the numerics revision a run of cfg computes with (see Numerics), or "" for
// none; the action key and the golden digests both name it.
func (k *Kind) Revision(cfg cty.Value) string {
	if k.Numerics == nil {
		return ""
	}
	return k.Numerics(cfg)
}

// WithOutputs returns a copy of k whose outputs are k's own followed by specs: the kind of
// one block of a kind that Declares its outputs.
func (k *Kind) WithOutputs(specs []OutputSpec) (*Kind, error) {
	seen := map[string]bool{}
	for _, o := range k.Outputs {
		seen[o.Name] = true
	}
	for _, o := range specs {
		switch {
		case reservedOutputs[o.Name]:
			return nil, fmt.Errorf("output name %q is reserved", o.Name)
		case seen[o.Name] && k.hasOutput(o.Name):
			return nil, fmt.Errorf("output name %q is taken: every %s block has an output %q", o.Name, k.Name, o.Name)
		case seen[o.Name]:
			return nil, fmt.Errorf("output %q is declared twice", o.Name)
		}
		seen[o.Name] = true
	}
	c := *k
	c.Outputs = append(slices.Clip(k.Outputs), specs...)
	return &c, nil
}

func (k *Kind) hasOutput(name string) bool {
	_, ok := k.Output(name)
	return ok
}

// ForConfig returns the kind of a block with configuration cfg: k itself, or for a kind
// that Declares its outputs, a copy with the outputs cfg declares.
func (k *Kind) ForConfig(cfg cty.Value) (*Kind, error) {
	if k.Declares == "" {
		return k, nil
	}
	decls := cfg.GetAttr(k.Declares)
	if !decls.IsWhollyKnown() || decls.IsNull() {
		return nil, fmt.Errorf("the %s blocks are not known", k.Declares)
	}
	var specs []OutputSpec
	for it := decls.ElementIterator(); it.Next(); {
		_, d := it.Element()
		name := d.GetAttr(k.declaredLabel()).AsString()
		o, err := k.DeclaredOutput(name, d)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", k.Declares, name, err)
		}
		specs = append(specs, o)
	}
	return k.WithOutputs(specs)
}

// declaredLabel is the label of the block that declares outputs.
func (k *Kind) declaredLabel() string {
	for _, b := range k.Schema.Blocks {
		if b.Name == k.Declares && len(b.Labels) == 1 {
			return b.Labels[0]
		}
	}
	return ""
}

// Output returns the spec of the named output.
func (k *Kind) Output(name string) (OutputSpec, bool) {
	for _, o := range k.Outputs {
		if o.Name == name {
			return o, true
		}
	}
	return OutputSpec{}, false
}

// OutputNames returns the names of k's outputs in declaration order.
func (k *Kind) OutputNames() []string {
	names := make([]string, len(k.Outputs))
	for i, o := range k.Outputs {
		names[i] = o.Name
	}
	return names
}

// File is one file a run reads from outside the cache, named for the key description.
type File struct {
	Name   string // e.g. "train-images"; must be unique within the kind's files
	Path   string
	SHA256 string
}

// OutputSpec declares one output. Type is either an artifact type (see ArtifactType), a list
// of one artifact type (a sequence, such as the checkpoints of a run), or any other cty type
// for a value output (a scalar, an object of scalars).
type OutputSpec struct {
	Name string
	Type cty.Type
	Doc  string
}

// Input is what a run receives.
type Input struct {
	// Address names the node, e.g. train.net["a"]; for messages and logs only.
	Address string
	// Config is the block's evaluated configuration, wholly known.
	Config cty.Value
	// Threads is the number of worker slots granted (see Kind.Cost).
	Threads int
	// Read returns the bytes of an input artifact; the engine verifies their digest.
	Read func(*Ref) ([]byte, error)
	// Progress reports how far the run has got; it may be nil-safe called often.
	Progress func(Progress)
	// Files are the files outside the cache that the key holds (Kind.Files), with the
	// digests the plan took; ReadFile returns the content of one of them, checked against
	// its digest: from its path when it still holds that content, else from the cache
	// (here or in the remote), where the driver put it for a run on another machine.
	Files    []File
	ReadFile func(File) ([]byte, error)
	// Materialize returns a directory holding the files named (base name → SHA-256) that
	// an upstream run read from outside the cache and recorded (a dataset's source files),
	// copied out of the cache, from the remote if need be: for a machine that does not
	// have them at their original paths, such as a cluster node. nil: not available.
	Materialize func(files map[string]string) (string, error)
}

// Report sends p to the progress display, if there is one.
func (in *Input) Report(p Progress) {
	if in.Progress != nil {
		in.Progress(p)
	}
}

// Progress is one progress report of a running stage.
type Progress struct {
	Done, Total float64 // in Unit; Total 0 means unknown
	Unit        string  // "step", "epoch", "pair"
	Message     string  // short status, e.g. "loss 0.213"
}

// Result holds a run's outputs by name.
type Result struct {
	Outputs map[string]Output
}

// Output is one produced output: Value for value outputs, Artifacts for artifact outputs
// (exactly one for an artifact type, any number for a list of artifacts).
type Output struct {
	Value     cty.Value
	Artifacts []Artifact
}

// Artifact is the bytes of one produced artifact and the codec to store them with.
type Artifact struct {
	Data  []byte
	Codec artifacts.Codec
	// Meta is a short description derived from Data (a network's architecture), kept in
	// the cache's manifest so that downstream kinds can check compatibility at plan time.
	Meta string
}

// Registry maps stage-kind names to kinds. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]*Kind
}

// Default is the registry the modulo command uses; stage files register into it from init.
var Default = &Registry{}

// Register adds k. It panics if the name is taken or the kind is malformed: both are
// programmer errors, found by the first test that loads the package.
func (r *Registry) Register(k *Kind) {
	if k.Name == "" || k.Run == nil {
		panic(fmt.Sprintf("stages: kind %q needs a name and a Run function", k.Name))
	}
	if k.Self != "" && (len(k.Outputs) != 1 || k.Outputs[0].Name != k.Self) {
		panic(fmt.Sprintf("stages: kind %q: Self %q must name its only output", k.Name, k.Self))
	}
	checkConfigType(k)
	if k.Declares != "" && (k.declaredLabel() == "" || k.DeclaredOutput == nil || k.Self != "") {
		panic(fmt.Sprintf("stages: kind %q declares its outputs with %q blocks: that needs a Multi block of one label in its schema, DeclaredOutput, and no Self", k.Name, k.Declares))
	}
	if k.Log != "" {
		if o, ok := k.Output(k.Log); !ok || o.Type.IsListType() {
			panic(fmt.Sprintf("stages: kind %q: Log %q must name one of its artifact outputs", k.Name, k.Log))
		}
	}
	if reserved[k.Name] {
		panic(fmt.Sprintf("stages: %q is a reserved block type", k.Name))
	}
	for _, o := range k.Outputs {
		if reservedOutputs[o.Name] {
			panic(fmt.Sprintf("stages: kind %q: output name %q is reserved", k.Name, o.Name))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kinds == nil {
		r.kinds = map[string]*Kind{}
	}
	if _, dup := r.kinds[k.Name]; dup {
		panic(fmt.Sprintf("stages: kind %q registered twice", k.Name))
	}
	r.kinds[k.Name] = k
}

// Lookup returns the kind named name.
func (r *Registry) Lookup(name string) (*Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[name]
	return k, ok
}

// Names returns the registered kind names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// reserved block types belong to the language itself.
var reserved = map[string]bool{"variable": true, "locals": true, "output": true, "cache": true, "executor": true, "var": true, "local": true, "each": true, "module": true, "terraform": true}

// reservedOutputs would collide with meta-arguments in references.
var reservedOutputs = map[string]bool{"for_each": true, "depends_on": true}

package pipelines

import (
	"fmt"
	"reflect"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/reference"
)

// The language's own blocks (variable, locals, output, cache, executor) and what every
// stage block takes besides its kind's schema (for_each, depends_on, resources), written
// as stage schemas: the loader's hcl.BodySchemas are made from these (langSchema), and the
// language reference (Language, modulo doc) renders them, so a setting the loader reads is
// one the reference describes. Their values are read by hand (decodeCache, loadExecutor,
// …), not by the engine's decoder; types, defaults and constraints here document what that
// code does, and the constraints it checks are the ones shared with it (cpusCheck, …).

// languageBlocks are the block types of the language itself, in the order the reference
// presents them; loadFile reads each.
var languageBlocks = []stages.BlockSchema{variableDoc, localsDoc, outputDoc, cacheDoc, executorDoc}

// typeExprType and referenceType stand, in the reference, for what is not a value: a type
// expression (a variable's type) and a reference to a stage block (depends_on).
var (
	typeExprType  = cty.Capsule("type", reflect.TypeOf(cty.Type{}))
	referenceType = cty.Capsule("reference", reflect.TypeOf(""))
)

// The constraints of the executor's and the resources blocks' settings, checked by
// literals and documented by the tables below.
var (
	cpusCheck    = stages.Int(1, 4096)
	maxJobsCheck = stages.Int(1, 100000)
	retriesCheck = stages.Int(0, 100)
	memCheck     = stages.Func(`a size as sbatch --mem takes it: "512M", "8G", "1T", or megabytes ("4096")`, func(v cty.Value) error {
		_, err := ParseMem(v.AsString())
		return err
	})
	timeCheck = stages.Func(`a duration ("90m", "2h") or a time as sbatch --time takes it ("1-12:00:00", "04:00:00")`, func(v cty.Value) error {
		_, err := ParseTime(v.AsString())
		return err
	})
	gpusCheck = stages.Func(`a count (1) or a type and a count ("a100:2"), as sbatch --gpus takes it`, func(v cty.Value) error {
		if !gpusRE().MatchString(v.AsString()) {
			return fmt.Errorf("is not a GPU request; write a count (1) or a type and a count (\"a100:2\"), as sbatch --gpus takes it")
		}
		return nil
	})
)

// resourcesDoc is the schema of a resources block: a stage block's own, and the executor
// block's per stage kind.
var resourcesDoc = stages.Schema{Attributes: []stages.Attribute{
	{Name: "cpus", Type: cty.Number, Doc: "cores of each job (sbatch --cpus-per-task); by default, the threads the stage would use", Check: cpusCheck},
	{Name: "mem", Type: cty.String, Doc: "memory of each job (sbatch --mem)", Check: memCheck},
	{Name: "time", Type: cty.String, Doc: "time limit of each job (sbatch --time)", Check: timeCheck},
	{Name: "gpus", Type: cty.String, Doc: "GPUs of each job (sbatch --gpus); the local executor has none to hand out and ignores it", Check: gpusCheck},
	{Name: "partition", Type: cty.String, Doc: "the partition of these jobs rather than the executor's, such as the GPU partition for the nodes that train"},
}}

// stageMeta is what every stage block takes besides its kind's schema.
var stageMeta = stages.Schema{
	Attributes: []stages.Attribute{
		{Name: "for_each", Type: cty.DynamicPseudoType, Doc: "a map, or a set of strings, known before anything runs (from variables, locals and literals): the block makes one node per element, KIND.NAME[KEY], in which each.key and each.value are the element's key and value"},
		{Name: "depends_on", Type: cty.List(referenceType), Doc: `stage blocks or instances this one runs after besides those its expressions refer to, such as [train.net, match.x["a"]]`},
	},
	Blocks: []stages.BlockSchema{{
		Name: "resources", Schema: resourcesDoc,
		Doc: "what this block's jobs ask a cluster for (modulo run -executor slurm), over its kind's and the executor's; its values are literals, inert on a local run, and never in the cache key: they change where a node runs, not what it computes",
	}},
}

var variableDoc = stages.BlockSchema{
	Name: "variable", Labels: []string{"name"}, Multi: true,
	Doc: "An input of the pipeline, read as var.NAME. Its value comes from its default, the environment variable MODULO_VAR_NAME, -var-file FILE and -var NAME=VALUE, a later one winning; a variable without a default must be given a value.",
	Schema: stages.Schema{
		Attributes: []stages.Attribute{
			{Name: "type", Type: typeExprType, Doc: "the type values are converted to, written as in Terraform: string, number, bool, list(number), map(string), object({width = number, seed = optional(number, 1)}); any when absent"},
			{Name: "default", Type: cty.DynamicPseudoType, Doc: "the value when none is given; a literal"},
			{Name: "description", Type: cty.String, Doc: "what the variable is for"},
		},
		Blocks: []stages.BlockSchema{{
			Name: "validation", Multi: true, Doc: "a rule the value must follow, checked before anything runs",
			Schema: stages.Schema{Attributes: []stages.Attribute{
				{Name: "condition", Type: cty.Bool, Required: true, Doc: "true when the value is valid; it may refer to this variable only"},
				{Name: "error_message", Type: cty.String, Required: true, Doc: "what to tell the user when it is false"},
			}},
		}},
	},
}

var localsDoc = stages.BlockSchema{
	Name: "locals", Multi: true,
	Doc: "Named values, one NAME = expression each, read as local.NAME: computed from variables, literals and one another (not from stages) before anything runs, so for_each can use them.",
}

var outputDoc = stages.BlockSchema{
	Name: "output", Labels: []string{"name"}, Multi: true,
	Doc: "A value computed from the pipeline's results, as in Terraform: modulo run prints it when it finishes, and modulo plan once it is known.",
	Schema: stages.Schema{Attributes: []stages.Attribute{
		{Name: "value", Type: cty.DynamicPseudoType, Required: true, Doc: "an expression of stages' outputs, variables and locals"},
		{Name: "description", Type: cty.String, Doc: "what the value is"},
	}},
}

var cacheDoc = stages.BlockSchema{
	Name: "cache",
	Doc:  "Where teammates share results: a remote cache, read on a local miss and written on success. Its values are literals, read before anything is evaluated; the command line and the environment override each of them.",
	Schema: stages.Schema{Attributes: []stages.Attribute{
		{Name: "remote", Type: cty.String, Doc: "a shared directory (relative to the pipeline file), an S3 bucket (s3://bucket/prefix?endpoint=…&region=…), or the URL of an HTTP cache speaking Bazel's /ac/ and /cas/ protocol; overridden by -remote or " + EnvRemote + ` ("none" turns it off)`},
		{Name: "read_only", Type: cty.Bool, Default: cty.False, Doc: "fetch from the remote without uploading; overridden by -remote-read-only or " + EnvRemoteReadOnly},
		{Name: "signing_key", Type: cty.String, Doc: "the key file that signs what this pipeline uploads (modulo cache keygen makes one), relative to the pipeline file; overridden by -signing-key or " + EnvSigningKey + ` ("none" uploads unsigned)`},
		{Name: "trusted_keys", Type: cty.List(cty.String), Doc: `public keys ("ed25519:…"): only entries signed by one of them are used; overridden by ` + EnvTrustedKeys},
	}},
}

var executorDoc = stages.BlockSchema{
	Name: "executor", Labels: []string{"type"},
	Doc: `Where the nodes that miss the cache run when modulo run -executor slurm (or MODULO_EXECUTOR=slurm) asks for a cluster; TYPE is "slurm" (the local executor, the default, has no settings). Its values are literals, and the block is inert on a local run: one pipeline file runs on a laptop and on the cluster.`,
	Schema: stages.Schema{
		Attributes: []stages.Attribute{
			{Name: "partition", Type: cty.String, Doc: "the partition of the jobs (sbatch --partition)"},
			{Name: "account", Type: cty.String, Doc: "the account the jobs are charged to (sbatch --account)"},
			{Name: "qos", Type: cty.String, Doc: "the quality of service of the jobs (sbatch --qos)"},
			pick(resourcesDoc, "cpus"),
			pick(resourcesDoc, "mem"),
			pick(resourcesDoc, "time"),
			pick(resourcesDoc, "gpus"),
			{Name: "max_jobs", Type: cty.Number, Default: cty.NumberIntVal(100), Doc: "jobs in flight at once", Check: maxJobsCheck},
			{Name: "retries", Type: cty.Number, Default: cty.NumberIntVal(2), Doc: "tries again after TIMEOUT or OUT_OF_MEMORY, with twice the time or memory (PREEMPTED and NODE_FAIL jobs are submitted again without counting)", Check: retriesCheck},
			{Name: "extra_args", Type: cty.List(cty.String), Doc: `more arguments of sbatch, one each, such as ["--constraint=avx512"]`},
			{Name: "modulo", Type: cty.String, Doc: "the modulo binary the jobs run; by default this one, which every node must see at the same path"},
			{Name: "dir", Type: cty.String, Doc: "where job scripts, their logs and the record of jobs in flight go, on a file system the nodes share, relative to the pipeline file; by default .modulo/slurm beside it"},
		},
		Blocks: []stages.BlockSchema{{
			Name: "resources", Labels: []string{"kind"}, Multi: true, Schema: resourcesDoc,
			Doc: "the resources of the jobs of one stage kind, over the executor's defaults",
		}},
	},
}

// pick returns the attribute of s named name; it panics if there is none (a mistake in
// the tables above, found by the first test that loads the package).
func pick(s stages.Schema, name string) stages.Attribute {
	a, ok := s.Attribute(name)
	if !ok {
		panic("pipelines: no attribute " + name)
	}
	return a
}

// langSchema is the hcl schema the loader reads a language block's body with.
func langSchema(s stages.Schema) *hcl.BodySchema { return bodySchema(s, false) }

// Language returns the language's part of the reference: its own blocks, what every stage
// block takes, what expressions refer to, and the functions, from the tables the loader
// and the evaluator use.
func Language() *reference.Language {
	return &reference.Language{
		Intro: "A pipeline is a .hcl file, or a directory of them, in HCL's native syntax, as Terraform's configurations are. " +
			"Its stage blocks are the nodes of a DAG whose edges are the references between them; modulo runs the nodes whose inputs changed and keeps every result in a content-addressed cache. " +
			"Every mistake is reported with its file, line and column before anything runs (modulo validate).",
		Blocks: languageBlocks,
		Meta:   stageMeta,
		References: []reference.Item{
			{Syntax: "var.NAME", Doc: "the value of variable NAME"},
			{Syntax: "local.NAME", Doc: "the value of local NAME"},
			{Syntax: "each.key, each.value", Doc: "in a block with for_each: the key and the value of the element this node is for"},
			{Syntax: "KIND.NAME.OUTPUT", Doc: "an output of a stage block; KIND.NAME[KEY].OUTPUT for one node of a block with for_each. It is known once the node has run or is cached: plan shows such values as known after run"},
			{Syntax: "KIND.NAME", Doc: "every output of a stage block, as an object (with for_each, a map of them by key); for a kind with a single output, such as dataset, that output itself"},
		},
		Functions:   functionTable,
		Unavailable: unavailableFunctions,
	}
}

package pipelines

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Terraform's functions that pipelines do not have, each with what to do instead. A call
// of one is reported as such (explainFunctions) rather than as a function never heard of,
// and the language reference lists them.
var (
	readsFiles = "Expressions read no files: what a file holds would not be in the cache key. " +
		"A command stage reads files (its files attribute keys their content); values come in with -var-file."
	changesEveryRun = "A pipeline's values must be the same on every run, or nothing would be cached; " +
		"pass the value in as a variable (-var)."
	paths = "Paths in stage blocks are relative to the pipeline file; there is no path.module to build them from."
	none  = ""
)

var unavailableFunctions = map[string]string{
	"abspath":          paths,
	"base64decode":     none,
	"base64encode":     none,
	"base64gzip":       none,
	"base64sha256":     none,
	"base64sha512":     none,
	"basename":         paths,
	"bcrypt":           changesEveryRun,
	"cidrhost":         none,
	"cidrnetmask":      none,
	"cidrsubnet":       none,
	"cidrsubnets":      none,
	"dirname":          paths,
	"ephemeralasnull":  "Pipelines have no ephemeral values.",
	"file":             readsFiles,
	"filebase64":       readsFiles,
	"filebase64sha256": readsFiles,
	"filebase64sha512": readsFiles,
	"fileexists":       readsFiles,
	"filemd5":          readsFiles,
	"fileset":          readsFiles,
	"filesha1":         readsFiles,
	"filesha256":       readsFiles,
	"filesha512":       readsFiles,
	"issensitive":      "Pipelines have no sensitive values.",
	"matchkeys":        `Write a for expression: [for i, k in keys : values[i] if contains(wanted, k)].`,
	"md5":              none,
	"nonsensitive":     "Pipelines have no sensitive values.",
	"pathexpand":       paths,
	"plantimestamp":    changesEveryRun,
	"sensitive":        "Pipelines have no sensitive values.",
	"sha1":             none,
	"sha256":           none,
	"sha512":           none,
	"templatefile":     readsFiles + ` Build strings with templates ("w${var.width}") or format.`,
	"textdecodebase64": none,
	"textencodebase64": none,
	"timecmp":          none,
	"timestamp":        changesEveryRun,
	"transpose":        `Write a for expression: {for v in distinct(flatten(values(m))) : v => [for k, vs in m : k if contains(vs, v)]}.`,
	"type":             "It exists only in terraform console.",
	"urlencode":        none,
	"uuid":             changesEveryRun + " For randomness, stages take a seed.",
	"uuidv5":           none,
	"yamldecode":       "Use jsondecode: JSON is YAML too.",
	"yamlencode":       "Use jsonencode.",
}

// explainFunction rewrites HCL's diagnostic for a call of an unknown function: a function
// of Terraform's that pipelines lack is said to be so, with what to do instead; any other
// points at the list of functions. Other diagnostics are returned as they are. It returns
// a copy rather than change d, which may be shared, and the copy has no Extra, so that a
// second pass leaves it alone.
func explainFunction(d *hcl.Diagnostic) *hcl.Diagnostic {
	extra, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallUnknownDiagExtra](d)
	if !ok || extra.CalledFunctionNamespace() != "" {
		return d
	}
	name := extra.CalledFunctionName()
	c := *d
	c.Extra = nil
	if hint, ok := unavailableFunctions[name]; ok {
		c.Summary = "Function not available"
		c.Detail = fmt.Sprintf("Terraform's function %s is not available in modulo's pipelines.", name)
		if hint != "" {
			c.Detail += " " + hint
		}
	}
	c.Detail += " 'modulo doc functions' lists the functions there are."
	return &c
}

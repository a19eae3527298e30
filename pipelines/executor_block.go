package pipelines

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/modulo-ml/modulo/stages"
)

// ExecutorDecl is the pipeline's executor block: where the nodes that miss the cache run
// when `modulo run -executor slurm` asks for a cluster.
//
//	executor "slurm" {
//	  partition  = "cpu"
//	  account    = "lab"
//	  cpus       = 2         # per job, unless a resources block says otherwise
//	  mem        = "8G"
//	  time       = "2h"
//	  max_jobs   = 50        # in flight at once
//	  retries    = 2         # after TIMEOUT or OUT_OF_MEMORY, with twice the time or memory
//	  extra_args = ["--constraint=avx512"]
//	  resources "train" {    # per stage kind
//	    cpus = 4
//	    time = "6h"
//	  }
//	}
//
// Like the cache block, its values are literals: they are read before anything is
// evaluated. The block is inert on a local run: one pipeline file runs on a laptop and on
// the cluster.
type ExecutorDecl struct {
	Type      string // "slurm"
	Partition string
	Account   string
	QOS       string
	Resources Resources            // the defaults of every job
	ByKind    map[string]Resources // per stage kind, over the defaults
	MaxJobs   int                  // 0: the executor's default
	Retries   int                  // -1: the executor's default
	ExtraArgs []string
	// Modulo is the modulo binary the jobs run ("": this one, which the nodes must see at
	// the same path).
	Modulo string
	// Dir holds the job scripts, logs and the record of jobs in flight; it must be on a
	// file system the nodes share with the driver. Relative to the file of the block.
	Dir       string
	DeclRange hcl.Range
}

// Resources are what a job asks Slurm for; zero values leave the choice to the next level
// (kind, then executor defaults, then Slurm's).
type Resources struct {
	CPUs  int
	MemMB int64
	Time  time.Duration
	// GPUs is what sbatch --gpus takes: a count, or a type and a count ("a100:2"). The
	// local executor has no GPUs to hand out and ignores it.
	GPUs string
	// Partition, if set, is the partition of these jobs rather than the executor's: the
	// GPU partition for the nodes that train.
	Partition string
}

// Over returns r with the unset fields taken from base.
func (r Resources) Over(base Resources) Resources {
	if r.CPUs == 0 {
		r.CPUs = base.CPUs
	}
	if r.MemMB == 0 {
		r.MemMB = base.MemMB
	}
	if r.Time == 0 {
		r.Time = base.Time
	}
	if r.GPUs == "" {
		r.GPUs = base.GPUs
	}
	if r.Partition == "" {
		r.Partition = base.Partition
	}
	return r
}

// ExecutorTypes are the executors a pipeline can name; "local" is the default and has no
// settings.
var ExecutorTypes = []string{"local", "slurm"}

// executorSchema and resourcesSchema are the blocks', documented in executorDoc and
// resourcesDoc (language.go).
var (
	executorSchema  = langSchema(executorDoc.Schema)
	resourcesSchema = langSchema(resourcesDoc)
)

func (c *Config) loadExecutor(b *hcl.Block) hcl.Diagnostics {
	if len(b.Labels) != 1 {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid executor block", Detail: `An executor block has one label, the executor: executor "slurm" { … }.`, Subject: b.DefRange.Ptr()}}
	}
	if b.Labels[0] != "slurm" {
		detail := fmt.Sprintf("There is no executor %q; the executors are %s.", b.Labels[0], strings.Join(ExecutorTypes, " and "))
		if b.Labels[0] == "local" {
			detail = "The local executor has no settings; it is the default (modulo run), so leave this block out."
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown executor", Detail: detail, Subject: b.LabelRanges[0].Ptr()}}
	}
	if c.Executor != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Duplicate executor block",
			Detail: fmt.Sprintf("A pipeline has at most one executor block; the first is at %s.", c.Executor.DeclRange), Subject: b.DefRange.Ptr()}}
	}
	content, diags := b.Body.Content(executorSchema)
	d := &ExecutorDecl{Type: b.Labels[0], Retries: -1, ByKind: map[string]Resources{}, DeclRange: b.DefRange}
	lit := literals{what: "executor", diags: &diags}
	d.Partition = lit.str(content.Attributes["partition"])
	d.Account = lit.str(content.Attributes["account"])
	d.QOS = lit.str(content.Attributes["qos"])
	d.Modulo = lit.str(content.Attributes["modulo"])
	if dir := lit.str(content.Attributes["dir"]); dir != "" {
		d.Dir = dir
		if !filepath.IsAbs(dir) {
			d.Dir = filepath.Join(filepath.Dir(b.DefRange.Filename), dir)
		}
	}
	d.Resources = lit.resources(content.Attributes)
	d.Resources.Partition = "" // the executor's partition is d.Partition
	d.MaxJobs = lit.count(content.Attributes["max_jobs"], maxJobsCheck, 0)
	d.Retries = lit.count(content.Attributes["retries"], retriesCheck, -1)
	if a := content.Attributes["extra_args"]; a != nil {
		if v, ok := lit.value(a, cty.List(cty.String), "a list of strings, each one sbatch argument (\"--constraint=avx512\")"); ok {
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				d.ExtraArgs = append(d.ExtraArgs, e.AsString())
			}
		}
	}
	seen := map[string]hcl.Range{}
	for _, rb := range content.Blocks {
		kind := rb.Labels[0]
		if _, ok := c.registry.Lookup(kind); !ok {
			names := c.registry.Names()
			sort.Strings(names)
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown stage kind",
				Detail:  fmt.Sprintf("A resources block is labelled with a stage kind; %q is none of %s.", kind, strings.Join(names, ", ")),
				Subject: rb.LabelRanges[0].Ptr()})
			continue
		}
		if prev, ok := seen[kind]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate resources block",
				Detail: fmt.Sprintf("The resources of %s are already set at %s.", kind, prev), Subject: rb.DefRange.Ptr()})
			continue
		}
		seen[kind] = rb.DefRange
		rc, ds := rb.Body.Content(resourcesSchema)
		diags = append(diags, ds...)
		d.ByKind[kind] = lit.resources(rc.Attributes)
	}
	c.Executor = d
	return diags
}

// literals reads the literal values of a settings block, appending a diagnostic for each
// that is not.
type literals struct {
	what  string
	diags *hcl.Diagnostics
}

func (l literals) value(a *hcl.Attribute, t cty.Type, want string) (cty.Value, bool) {
	v, ds := a.Expr.Value(nil)
	if ds.HasErrors() {
		*l.diags = append(*l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Executor settings must be literals",
			Detail:  fmt.Sprintf("The %s block's %s is read before anything else is evaluated, so it cannot refer to variables, each or stages; write the value itself.", l.what, a.Name),
			Subject: a.Expr.Range().Ptr()})
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, t)
	if err != nil || cv.IsNull() || !cv.IsWhollyKnown() {
		*l.diags = append(*l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid executor setting",
			Detail: fmt.Sprintf("%s must be %s.", a.Name, want), Subject: a.Expr.Range().Ptr()})
		return cty.NilVal, false
	}
	return cv, true
}

func (l literals) str(a *hcl.Attribute) string {
	if a == nil {
		return ""
	}
	if v, ok := l.value(a, cty.String, "a string"); ok {
		return v.AsString()
	}
	return ""
}

// count reads a whole number that c allows (a stages.Int); unset is def.
func (l literals) count(a *hcl.Attribute, c stages.Constraint, def int) int {
	if a == nil {
		return def
	}
	v, ok := l.value(a, cty.Number, c.Doc())
	if !ok {
		return def
	}
	if err := c.Check(v); err != nil {
		l.bad(a, fmt.Sprintf("%s %v.", a.Name, err))
		return def
	}
	n, _ := v.AsBigFloat().Int64()
	return int(n)
}

func (l literals) bad(a *hcl.Attribute, detail string) {
	*l.diags = append(*l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid executor setting", Detail: detail, Subject: a.Expr.Range().Ptr()})
}

func (l literals) resources(attrs hcl.Attributes) Resources {
	var r Resources
	r.CPUs = l.count(attrs["cpus"], cpusCheck, 0)
	if a := attrs["mem"]; a != nil {
		if s := l.str(a); s != "" {
			mb, err := ParseMem(s)
			if err != nil {
				l.bad(a, err.Error())
			}
			r.MemMB = mb
		}
	}
	if a := attrs["time"]; a != nil {
		if s := l.str(a); s != "" {
			d, err := ParseTime(s)
			if err != nil {
				l.bad(a, err.Error())
			}
			r.Time = d
		}
	}
	if a := attrs["partition"]; a != nil {
		r.Partition = l.str(a)
	}
	if a := attrs["gpus"]; a != nil {
		if s := l.str(a); s != "" {
			if !gpusRE().MatchString(s) {
				l.bad(a, fmt.Sprintf("gpus = %q is not a GPU request; write a count (1) or a type and a count (\"a100:2\"), as sbatch --gpus takes it.", s))
			}
			r.GPUs = s
		}
	}
	return r
}

// gpusRE and memRE read an executor's gpus and memory. Like every regular expression of
// modulo's, they are compiled when first used, not at process start, which every command
// (a no-op rerun of milliseconds too) pays for.
var gpusRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9_.-]+:)?[1-9][0-9]{0,3}$`) })

var memRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)\s*([KMGT]?)I?B?$`) })

// ParseMem reads a memory size as sbatch --mem takes it, "4G", "512M", "4096" (MB), or
// with B/iB ("4GiB"), in megabytes. Units are binary, as Slurm's are.
func ParseMem(s string) (int64, error) {
	m := memRE().FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("mem = %q is not a memory size; write it as sbatch does, such as \"512M\", \"8G\" or \"1T\"", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("mem = %q must be a positive size, such as \"8G\"", s)
	}
	switch m[2] {
	case "K":
		n = (n + 1023) / 1024
	case "G":
		n *= 1024
	case "T":
		n *= 1024 * 1024
	}
	if n > 1<<40 {
		return 0, fmt.Errorf("mem = %q is more than any node has", s)
	}
	return n, nil
}

// ParseTime reads a time limit as a Go duration ("90m", "2h30m") or as sbatch --time
// writes one: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM" or "D-HH:MM:SS".
func ParseTime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("time = %q is not a time limit; write it as a duration (\"90m\", \"2h\") or as sbatch does (\"1-12:00:00\", \"04:00:00\")", s)
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return 0, fmt.Errorf("time = %q must be positive", s)
		}
		return d, nil
	}
	days := 0
	if i := strings.IndexByte(s, '-'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, bad
		}
		days, s = n, s[i+1:]
	}
	parts := strings.Split(s, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(parts) > 3 {
			return 0, bad
		}
		nums[i] = n
	}
	var h, m, sec int
	switch {
	case days > 0 && len(nums) == 1:
		h = nums[0]
	case days > 0 && len(nums) == 2:
		h, m = nums[0], nums[1]
	case len(nums) == 1:
		m = nums[0]
	case len(nums) == 2:
		m, sec = nums[0], nums[1]
	default:
		h, m, sec = nums[0], nums[1], nums[2]
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if d <= 0 {
		return 0, fmt.Errorf("time = %q must be positive", s)
	}
	return d, nil
}

// blockResources reads a stage block's resources meta-block, if it has one: the cpus, mem
// and time its jobs ask an executor for, as literals like the executor block's.
func blockResources(body hcl.Body) (Resources, hcl.Diagnostics) {
	content, _, diags := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "resources"}}})
	var r Resources
	for i, b := range content.Blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate resources block",
				Detail: fmt.Sprintf("A stage block has at most one resources block; the first is at %s.", content.Blocks[0].DefRange), Subject: b.DefRange.Ptr()})
			continue
		}
		rc, ds := b.Body.Content(resourcesSchema)
		diags = append(diags, ds...)
		r = literals{what: "resources", diags: &diags}.resources(rc.Attributes)
	}
	return r, diags
}

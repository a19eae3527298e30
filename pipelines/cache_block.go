package pipelines

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// CacheDecl is the pipeline's cache block: where teammates share results.
//
//	cache {
//	  remote       = "s3://team-bucket/modulo?endpoint=http://10.0.0.5:7070"
//	  read_only    = false
//	  signing_key  = "~/.config/modulo/signing.key"   # sign what this pipeline uploads
//	  trusted_keys = ["ed25519:…"]                     # use only entries signed by these
//	}
//
// Its values are literals: the cache must be known before anything is evaluated. They are
// kept as written, with their ranges; ResolveRemote combines them with the command line and
// the environment, which take precedence, and resolves relative paths against Dir. Loading
// checks the URL and the trusted keys already, so that validate reports them.
type CacheDecl struct {
	Remote      CacheSetting // Value "" when the block has none
	ReadOnly    bool
	SigningKey  CacheSetting
	TrustedKeys []CacheSetting
	// Dir is the directory of the file that holds the block: a relative remote directory
	// or signing_key is relative to it, not to where modulo runs.
	Dir       string
	DeclRange hcl.Range
}

// CacheSetting is a string of the cache block and the range of its value, where a
// diagnostic about it points.
type CacheSetting struct {
	Value string
	Range hcl.Range
}

// cacheOverrides says, for each setting of the block, what overrides it (ResolveRemote).
var cacheOverrides = map[string]string{
	"remote":       "-remote or " + EnvRemote,
	"read_only":    "-remote-read-only or " + EnvRemoteReadOnly,
	"signing_key":  "-signing-key or " + EnvSigningKey,
	"trusted_keys": EnvTrustedKeys,
}

// cacheSchema is the block's, documented in cacheDoc (language.go).
var cacheSchema = langSchema(cacheDoc.Schema)

func (c *Config) loadCache(b *hcl.Block) hcl.Diagnostics {
	if c.Cache != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Duplicate cache block",
			Detail:   fmt.Sprintf("A pipeline has at most one cache block; the first is at %s.", c.Cache.DeclRange),
			Subject:  b.DefRange.Ptr(),
		}}
	}
	if len(b.Labels) != 0 {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid cache block", Detail: "A cache block has no labels: cache { remote = \"…\" }.", Subject: b.DefRange.Ptr()}}
	}
	d, diags := decodeCache(b)
	c.Cache = d
	return append(diags, d.check()...)
}

// decodeCache reads the block's literals, with their ranges; it checks their types only.
func decodeCache(b *hcl.Block) (*CacheDecl, hcl.Diagnostics) {
	content, diags := b.Body.Content(cacheSchema)
	d := &CacheDecl{DeclRange: b.DefRange, Dir: filepath.Dir(b.DefRange.Filename)}
	// value evaluates expr, the value of attribute name (or one of its elements, what),
	// as a literal of type t.
	value := func(name, what string, expr hcl.Expression, t cty.Type) (cty.Value, bool) {
		v, ds := expr.Value(nil)
		if ds.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cache settings must be literals",
				Detail:   fmt.Sprintf("The cache block's %s is read before anything else is evaluated, so it cannot refer to variables or stages; write the value itself, or set it with %s.", name, cacheOverrides[name]),
				Subject:  expr.Range().Ptr(),
			})
			return cty.NilVal, false
		}
		cv, err := convert.Convert(v, t)
		if err != nil || cv.IsNull() || !cv.IsWhollyKnown() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid cache setting", Detail: fmt.Sprintf("%s must be a %s.", what, t.FriendlyName()), Subject: expr.Range().Ptr()})
			return cty.NilVal, false
		}
		return cv, true
	}
	str := func(name string) CacheSetting {
		a := content.Attributes[name]
		if a == nil {
			return CacheSetting{}
		}
		if v, ok := value(name, name, a.Expr, cty.String); ok {
			return CacheSetting{Value: v.AsString(), Range: a.Expr.Range()}
		}
		return CacheSetting{}
	}
	d.Remote = str("remote")
	d.SigningKey = str("signing_key")
	if a := content.Attributes["read_only"]; a != nil {
		if v, ok := value("read_only", "read_only", a.Expr, cty.Bool); ok {
			d.ReadOnly = v.True()
		}
	}
	if a := content.Attributes["trusted_keys"]; a != nil {
		// A list written out keeps each key's own range, so that a bad key is pointed at;
		// any other expression is converted whole.
		if elems, ds := hcl.ExprList(a.Expr); !ds.HasErrors() {
			for _, e := range elems {
				if v, ok := value("trusted_keys", "Each of trusted_keys", e, cty.String); ok {
					d.TrustedKeys = append(d.TrustedKeys, CacheSetting{Value: v.AsString(), Range: e.Range()})
				}
			}
		} else if v, ok := value("trusted_keys", "trusted_keys", a.Expr, cty.List(cty.String)); ok {
			for it := v.ElementIterator(); it.Next(); {
				_, k := it.Element()
				d.TrustedKeys = append(d.TrustedKeys, CacheSetting{Value: k.AsString(), Range: a.Expr.Range()})
			}
		}
	}
	return d, diags
}

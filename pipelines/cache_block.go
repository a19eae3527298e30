package pipelines

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/modulo-ml/modulo/artifacts"
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
// Its values are literals: the cache must be known before anything is evaluated. The
// command line (-remote) and MODULO_REMOTE override remote.
type CacheDecl struct {
	Remote      string
	ReadOnly    bool
	SigningKey  string // a path, relative to the pipeline's directory
	TrustedKeys []string
	DeclRange   hcl.Range
}

var cacheSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "remote"}, {Name: "read_only"}, {Name: "signing_key"}, {Name: "trusted_keys"},
}}

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
	content, diags := b.Body.Content(cacheSchema)
	d := &CacheDecl{DeclRange: b.DefRange}
	value := func(name string, t cty.Type) (cty.Value, bool) {
		a := content.Attributes[name]
		if a == nil {
			return cty.NilVal, false
		}
		v, ds := a.Expr.Value(nil)
		if ds.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cache settings must be literals",
				Detail:   fmt.Sprintf("The cache block's %s is read before anything else is evaluated, so it cannot refer to variables or stages; write the value itself, or pass -remote / MODULO_REMOTE.", name),
				Subject:  a.Expr.Range().Ptr(),
			})
			return cty.NilVal, false
		}
		cv, err := convert.Convert(v, t)
		if err != nil || cv.IsNull() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid cache setting", Detail: fmt.Sprintf("%s must be a %s.", name, t.FriendlyName()), Subject: a.Expr.Range().Ptr()})
			return cty.NilVal, false
		}
		return cv, true
	}
	if v, ok := value("remote", cty.String); ok {
		d.Remote = v.AsString()
	}
	if v, ok := value("read_only", cty.Bool); ok {
		d.ReadOnly = v.True()
	}
	if v, ok := value("signing_key", cty.String); ok {
		d.SigningKey = v.AsString()
		if !filepath.IsAbs(d.SigningKey) && d.SigningKey != "" && d.SigningKey[0] != '~' {
			d.SigningKey = filepath.Join(filepath.Dir(b.DefRange.Filename), d.SigningKey)
		}
	}
	if v, ok := value("trusted_keys", cty.List(cty.String)); ok {
		a := content.Attributes["trusted_keys"]
		for it := v.ElementIterator(); it.Next(); {
			_, k := it.Element()
			if _, err := artifacts.ParsePublicKey(k.AsString()); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid trusted key", Detail: capitalize(err.Error()) + "; modulo cache keygen prints one.", Subject: a.Expr.Range().Ptr()})
				continue
			}
			d.TrustedKeys = append(d.TrustedKeys, k.AsString())
		}
	}
	c.Cache = d
	return diags
}

package pipelines

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/artifacts/remote"
)

// The environment variables ResolveRemote reads. Each overrides the cache block's setting
// and is overridden by the command line's.
const (
	EnvRemote         = "MODULO_REMOTE"           // a URL, a directory, or "none"
	EnvRemoteReadOnly = "MODULO_REMOTE_READ_ONLY" // 1/true or 0/false
	EnvSigningKey     = "MODULO_SIGNING_KEY"      // a key file, or "none"
	EnvTrustedKeys    = "MODULO_TRUSTED_KEYS"     // public keys, separated by commas
)

// noRemote turns the remote off, and noKey signing, from any source.
const noRemote, noKey = "none", "none"

// RemoteFlags are the command line's remote cache settings. The zero value overrides
// nothing. There is no flag for trusted keys: they come from MODULO_TRUSTED_KEYS or the
// cache block, since a list of keys is unwieldy on a command line.
type RemoteFlags struct {
	// Remote is -remote: a URL, a directory, or "none"; "" leaves it to the environment
	// and the cache block.
	Remote string
	// ReadOnly is -remote-read-only, nil when it was not given, so that
	// -remote-read-only=false overrides the environment and the block.
	ReadOnly *bool
	// SigningKey is -signing-key: a key file, or "none" to upload unsigned.
	SigningKey string
}

// RemoteConfig is the remote cache a command attaches, resolved by ResolveRemote.
type RemoteConfig struct {
	// Location is where the remote is; nil when none is set or it is turned off.
	Location *remote.Location
	// From names the setting Location came from, for messages: "-remote",
	// "MODULO_REMOTE" or "the cache block's remote".
	From string
	// ReadOnly fetches but never uploads.
	ReadOnly bool
	// Key signs what this cache uploads; nil uploads unsigned.
	Key ed25519.PrivateKey
	// Spec is the remote as another modulo process is told it (-remote): the URL as
	// written, or the directory's absolute path. KeyFile is the signing key's file, "" for
	// none. A driver passes both to its workers.
	Spec, KeyFile string
	// Trusted, if not empty, are the keys whose signatures make a fetched entry usable.
	Trusted []ed25519.PublicKey
}

// ResolveRemote decides the remote cache from the command line, the environment and the
// pipeline's cache block (decl, nil when there is none), in that order of precedence for
// each setting separately:
//
//   - remote: -remote > MODULO_REMOTE > remote. "none" from any of them turns the remote
//     off, whatever the others say.
//   - read-only: -remote-read-only > MODULO_REMOTE_READ_ONLY > read_only.
//   - signing key: -signing-key > MODULO_SIGNING_KEY > signing_key; "none" uploads
//     unsigned. A read-only remote never uploads, so its key is not read at all: a
//     teammate who only fetches needs no key file.
//   - trusted keys: MODULO_TRUSTED_KEYS (separated by commas) > trusted_keys; there is
//     no flag.
//
// A relative directory remote or signing_key in the cache block is relative to the
// directory of the file holding the block (decl.Dir), so a pipeline finds its cache and
// key wherever modulo is run from; the same values from the command line or the
// environment are relative to the working directory, as a shell user expects. A leading
// "~/" is the home directory (getenv("HOME")) whatever the source, since a quoted value or
// a block has no shell to expand it.
//
// getenv reads the environment (os.Getenv; a map's lookup in tests). ResolveRemote makes
// no network request: it parses the URL with remote.Parse and reads the signing key file.
// Every mistake is a diagnostic that says where the setting came from; one from the cache
// block points at its value. When the remote is off, nothing else is resolved or checked.
func ResolveRemote(decl *CacheDecl, flags RemoteFlags, getenv func(string) string) (*RemoteConfig, hcl.Diagnostics) {
	if decl == nil {
		decl = &CacheDecl{}
	}
	r := resolver{decl: decl, getenv: getenv}
	rc := &RemoteConfig{}
	var diags hcl.Diagnostics

	raw, from := r.pick(flags.Remote, "-remote", EnvRemote, decl.Remote, "remote")
	if raw == "" || raw == noRemote {
		return rc, nil
	}
	// A bad URL does not stop the other settings' checks: every mistake is reported at once.
	loc, d := r.location(raw, from)
	if d != nil {
		diags = append(diags, d)
	}
	rc.Location, rc.From, rc.Spec = loc, from.name, raw
	if loc != nil && loc.Dir != "" {
		if abs, err := filepath.Abs(loc.Dir); err == nil {
			rc.Spec = abs
		}
	}

	rc.ReadOnly = decl.ReadOnly
	if env := getenv(EnvRemoteReadOnly); env != "" {
		b, err := strconv.ParseBool(env)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid " + EnvRemoteReadOnly,
				Detail:   fmt.Sprintf("%s is %q: set it to 1 (or true) to fetch from the remote cache without uploading, to 0 (or false) to upload, or unset it to follow the cache block.", EnvRemoteReadOnly, env),
			})
		}
		rc.ReadOnly = b
	}
	if flags.ReadOnly != nil {
		rc.ReadOnly = *flags.ReadOnly
	}

	if !rc.ReadOnly {
		path, from := r.pick(flags.SigningKey, "-signing-key", EnvSigningKey, decl.SigningKey, "signing_key")
		if path != "" && path != noKey {
			k, file, d := r.signingKey(path, from)
			if d != nil {
				diags = append(diags, d)
			}
			rc.Key, rc.KeyFile = k, file
		}
	}

	trusted, tfrom := decl.TrustedKeys, origin{name: "the cache block's trusted_keys"}
	if env := getenv(EnvTrustedKeys); env != "" {
		trusted, tfrom = nil, origin{name: EnvTrustedKeys}
		for _, s := range strings.Split(env, ",") {
			if s = strings.TrimSpace(s); s != "" {
				trusted = append(trusted, CacheSetting{Value: s})
			}
		}
	}
	for _, s := range trusted {
		o := tfrom
		if o.name != EnvTrustedKeys {
			o.subject = s.Range.Ptr()
		}
		k, d := trustedKey(s.Value, o)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		rc.Trusted = append(rc.Trusted, k)
	}
	return rc, diags
}

// check finds the mistakes in the cache block that need nothing but the block: a URL that
// does not parse and trusted keys that are not keys. Loading calls it, so that validate
// reports them; ResolveRemote checks the same again with the same functions.
func (d *CacheDecl) check() hcl.Diagnostics {
	var diags hcl.Diagnostics
	if v := d.Remote.Value; v != "" && v != noRemote {
		if _, err := remote.Parse(v); err != nil {
			diags = append(diags, urlDiag(err, origin{name: "the cache block's remote", subject: d.Remote.Range.Ptr()}))
		}
	}
	for _, s := range d.TrustedKeys {
		if _, diag := trustedKey(s.Value, origin{name: "the cache block's trusted_keys", subject: s.Range.Ptr()}); diag != nil {
			diags = append(diags, diag)
		}
	}
	return diags
}

// origin is where a setting came from.
type origin struct {
	// name is "-remote", "MODULO_REMOTE", "the cache block's remote", ...
	name string
	// subject is the value in the cache block; nil for the command line and the
	// environment, which have no source range.
	subject *hcl.Range
	// dir is what a relative path is relative to: the block's file's directory, or "" for
	// the working directory.
	dir string
}

// resolver holds what ResolveRemote's steps share.
type resolver struct {
	decl   *CacheDecl
	getenv func(string) string
}

// pick returns the first set of the flag's value, the environment variable's and the
// block's, and where it came from.
func (r *resolver) pick(flag, flagName, env string, block CacheSetting, attr string) (string, origin) {
	if flag != "" {
		return flag, origin{name: flagName}
	}
	if v := r.getenv(env); v != "" {
		return v, origin{name: env}
	}
	return block.Value, origin{name: "the cache block's " + attr, subject: block.Range.Ptr(), dir: r.decl.Dir}
}

// path expands a leading "~/" and makes a relative path relative to o.dir.
func (r *resolver) path(p string, o origin) (string, *hcl.Diagnostic) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home := r.getenv("HOME")
		if home == "" {
			return "", &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot expand ~",
				Detail:   fmt.Sprintf("%s is %q, but HOME is not set, so ~ means nothing; write the full path, or set HOME.", capitalize(o.name), p),
				Subject:  o.subject,
			}
		}
		return filepath.Join(home, p[1:]), nil
	}
	if o.dir != "" && !filepath.IsAbs(p) {
		return filepath.Join(o.dir, p), nil
	}
	return p, nil
}

// location parses the remote URL raw and resolves a directory's path.
func (r *resolver) location(raw string, o origin) (*remote.Location, *hcl.Diagnostic) {
	loc, err := remote.Parse(raw)
	if err != nil {
		return nil, urlDiag(err, o)
	}
	if loc.Dir != "" {
		p, d := r.path(loc.Dir, o)
		if d != nil {
			return nil, d
		}
		loc.Dir = p
	}
	return loc, nil
}

// urlDiag is the diagnostic for a remote URL that remote.Parse rejected.
func urlDiag(err error, o origin) *hcl.Diagnostic {
	summary, detail := "Invalid remote cache URL", err.Error()
	var ue *remote.URLError
	if errors.As(err, &ue) {
		detail = fmt.Sprintf("%s is %q: %s.", capitalize(o.name), ue.URL, ue.Problem)
	}
	switch {
	case o.subject != nil:
	case strings.HasPrefix(o.name, "-"):
		summary += " in " + o.name
		detail += fmt.Sprintf(" Fix the %s flag, or leave it out to use %s or the pipeline's cache block.", o.name, EnvRemote)
	default:
		summary += " in " + o.name
		detail += fmt.Sprintf(" Fix %s, or unset it to use the pipeline's cache block.", o.name)
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: o.subject}
}

// signingKey reads the private key file at p, and returns it with the file's absolute path.
func (r *resolver) signingKey(p string, o origin) (ed25519.PrivateKey, string, *hcl.Diagnostic) {
	p, d := r.path(p, o)
	if d != nil {
		return nil, "", d
	}
	k, err := artifacts.ReadPrivateKey(p)
	if err == nil {
		abs, _ := filepath.Abs(p)
		return k, abs, nil
	}
	remedy := fmt.Sprintf("Make a key with `modulo cache keygen -o %s` (teammates add the public key it prints to their trusted_keys), point %s at an existing key, set %s=none to upload unsigned, or fetch only with -remote-read-only.", p, o.name, EnvSigningKey)
	d = &hcl.Diagnostic{Severity: hcl.DiagError, Subject: o.subject}
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.Summary = "Signing key not found"
		d.Detail = fmt.Sprintf("The signing key file %s, named by %s, does not exist. %s", p, o.name, remedy)
	case errors.As(err, &pe):
		d.Summary = "Cannot read the signing key"
		d.Detail = fmt.Sprintf("The signing key file %s, named by %s, cannot be read: %v. Make it readable, or: %s", p, o.name, pe.Err, remedy)
	default:
		d.Summary = "Invalid signing key"
		d.Detail = fmt.Sprintf("The file %s, named by %s, is not a modulo signing key (%v). %s", p, o.name, err, remedy)
	}
	return nil, "", d
}

// trustedKey parses one trusted public key.
func trustedKey(s string, o origin) (ed25519.PublicKey, *hcl.Diagnostic) {
	k, err := artifacts.ParsePublicKey(s)
	if err == nil {
		return k, nil
	}
	summary := "Invalid trusted key"
	if o.subject == nil {
		summary += " in " + o.name
	}
	return nil, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail: fmt.Sprintf("%s: %s. A trusted key is the line `modulo cache keygen -o KEYFILE` prints: \"ed25519:\" and a 32-byte public key in base64, 44 characters in all; ask the teammate whose uploads you trust for the line their keygen printed.",
			capitalize(o.name), err),
		Subject: o.subject,
	}
}

// Attach opens the store at rc.Location, behind remote.Reliable (retries, and a store that
// fails is marked down for the rest of the process), and returns it as the artifacts
// package's Remote, or nil when there is no remote. Every problem with the remote goes to
// warn, which must be safe for concurrent use. Attach makes no network request.
func (rc *RemoteConfig) Attach(ctx context.Context, warn func(msg string)) (*artifacts.Remote, error) {
	if rc.Location == nil {
		return nil, nil
	}
	store, err := rc.Location.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%v (from %s)", err, rc.From)
	}
	return &artifacts.Remote{
		Store: remote.Reliable(store, remote.Options{Warn: func(err error) {
			warn(fmt.Sprintf("%v; going on with the local cache only", err))
		}}),
		ReadOnly: rc.ReadOnly,
		Key:      rc.Key,
		Trusted:  rc.Trusted,
		Warn:     warn,
	}, nil
}

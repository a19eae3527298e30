package pipelines

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/modulo-ml/modulo/artifacts"
)

// remoteFixture is a pipeline directory with three signing keys: keys/block.key (named
// relatively by the cache block), and env.key and flag.key elsewhere (named absolutely by
// the environment and the command line).
type remoteFixture struct {
	dir  string // the pipeline file's directory
	keys map[string]ed25519.PrivateKey
	path map[string]string // key name → file
}

func newRemoteFixture(t *testing.T) *remoteFixture {
	t.Helper()
	root := t.TempDir()
	f := &remoteFixture{
		dir:  filepath.Join(root, "p"),
		keys: map[string]ed25519.PrivateKey{},
		path: map[string]string{
			"block": filepath.Join(root, "p", "keys", "block.key"),
			"env":   filepath.Join(root, "env.key"),
			"flag":  filepath.Join(root, "flag.key"),
		},
	}
	if err := os.MkdirAll(filepath.Join(f.dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, p := range f.path {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := artifacts.WritePrivateKey(p, k); err != nil {
			t.Fatal(err)
		}
		f.keys[name] = k
	}
	return f
}

func (f *remoteFixture) pub(name string) string {
	return artifacts.FormatPublicKey(f.keys[name].Public().(ed25519.PublicKey))
}

// decl decodes src, a pipeline file in f.dir holding a cache block, without the checks
// loading makes: ResolveRemote must find every mistake itself. An empty src is no block.
func (f *remoteFixture) decl(t *testing.T, src string) *CacheDecl {
	t.Helper()
	if src == "" {
		return nil
	}
	file, diags := hclsyntax.ParseConfig([]byte(src), filepath.Join(f.dir, "pipeline.hcl"), hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	content, _ := file.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "cache"}}})
	if len(content.Blocks) != 1 {
		t.Fatalf("want one cache block in\n%s", src)
	}
	d, diags := decodeCache(content.Blocks[0])
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return d
}

// getenvOf is a fake environment for ResolveRemote.
func getenvOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// sources are one source's settings in TestResolveRemotePrecedence: "" is unset. key and
// trusted name a fixture key ("block", "env", "flag").
type sources struct {
	remote, readOnly, key, trusted string
}

func TestResolveRemotePrecedence(t *testing.T) {
	f := newRemoteFixture(t)
	block := func(s sources) string {
		var b strings.Builder
		b.WriteString("cache {\n")
		if s.remote != "" {
			fmt.Fprintf(&b, "  remote = %q\n", s.remote)
		}
		if s.readOnly != "" {
			fmt.Fprintf(&b, "  read_only = %s\n", s.readOnly)
		}
		if s.key != "" {
			b.WriteString("  signing_key = \"keys/block.key\"\n") // relative to the pipeline file
		}
		if s.trusted != "" {
			fmt.Fprintf(&b, "  trusted_keys = [%q]\n", f.pub(s.trusted))
		}
		b.WriteString("}\n")
		return b.String()
	}
	var no sources
	for _, tc := range []struct {
		name              string
		block, env, flags sources
		// wantRemote is the location's String(), "" for none; $P is the pipeline's directory.
		wantRemote, wantFrom string
		wantReadOnly         bool
		wantKey, wantTrusted string // fixture key names, "" for none
	}{
		{name: "nothing", wantRemote: ""},
		{name: "block", block: sources{"shared", "", "block", "block"},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote", wantKey: "block", wantTrusted: "block"},
		{name: "env", env: sources{"/env/cache", "", "env", "env"},
			wantRemote: "/env/cache", wantFrom: "MODULO_REMOTE", wantKey: "env", wantTrusted: "env"},
		{name: "flag", flags: sources{"/flag/cache", "", "flag", ""},
			wantRemote: "/flag/cache", wantFrom: "-remote", wantKey: "flag"},
		{name: "env over block", block: sources{"shared", "", "block", "block"}, env: sources{"/env/cache", "", "env", "env"},
			wantRemote: "/env/cache", wantFrom: "MODULO_REMOTE", wantKey: "env", wantTrusted: "env"},
		{name: "flag over block", block: sources{"shared", "", "block", "block"}, flags: sources{"/flag/cache", "", "flag", ""},
			wantRemote: "/flag/cache", wantFrom: "-remote", wantKey: "flag", wantTrusted: "block"},
		{name: "flag over env", env: sources{"/env/cache", "", "env", "env"}, flags: sources{"/flag/cache", "", "flag", ""},
			wantRemote: "/flag/cache", wantFrom: "-remote", wantKey: "flag", wantTrusted: "env"},
		{name: "flag over env over block", block: sources{"shared", "", "block", "block"}, env: sources{"/env/cache", "", "env", "env"}, flags: sources{"/flag/cache", "", "flag", ""},
			wantRemote: "/flag/cache", wantFrom: "-remote", wantKey: "flag", wantTrusted: "env"},
		{name: "each setting from its own source", block: sources{"shared", "", "", "block"}, env: sources{"", "", "env", ""}, flags: sources{"", "", "", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote", wantKey: "env", wantTrusted: "block"},

		{name: "-remote none", block: sources{"shared", "", "block", ""}, env: sources{"/env/cache", "", "", ""}, flags: sources{"none", "", "", ""}, wantRemote: ""},
		{name: "MODULO_REMOTE=none", block: sources{"shared", "", "block", ""}, env: sources{"none", "", "", ""}, wantRemote: ""},
		{name: "-remote over MODULO_REMOTE=none", env: sources{"none", "", "", ""}, flags: sources{"/flag/cache", "", "", ""},
			wantRemote: "/flag/cache", wantFrom: "-remote"},
		{name: "block none", block: sources{"none", "", "block", ""}, wantRemote: ""},
		{name: "signing key none", block: sources{"shared", "", "block", ""}, env: sources{"", "", "none", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote"},

		{name: "read_only in block", block: sources{"shared", "true", "", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote", wantReadOnly: true},
		{name: "read-only from env", block: sources{"shared", "", "", ""}, env: sources{"", "1", "", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote", wantReadOnly: true},
		{name: "read-only from flag", block: sources{"shared", "", "", ""}, flags: sources{"", "true", "", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote", wantReadOnly: true},
		{name: "env false over block true", block: sources{"shared", "true", "block", ""}, env: sources{"", "0", "", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote", wantKey: "block"},
		{name: "flag false over block true", block: sources{"shared", "true", "", ""}, flags: sources{"", "false", "", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote"},
		{name: "flag false over env true", block: sources{"shared", "", "", ""}, env: sources{"", "true", "", ""}, flags: sources{"", "false", "", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote"},
		{name: "flag true over env false", block: sources{"shared", "", "", ""}, env: sources{"", "0", "", ""}, flags: sources{"", "true", "", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote", wantReadOnly: true},
		{name: "read-only reads no key", block: sources{"shared", "true", "block", ""}, env: sources{"", "", "/no/such.key", ""},
			wantRemote: "$P/shared", wantFrom: "the cache block's remote", wantReadOnly: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var src string
			if tc.block != no {
				src = block(tc.block)
			}
			e := map[string]string{EnvRemote: tc.env.remote, EnvRemoteReadOnly: tc.env.readOnly}
			if tc.env.key != "" {
				e[EnvSigningKey] = tc.env.key
				if p, ok := f.path[tc.env.key]; ok {
					e[EnvSigningKey] = p
				}
			}
			if tc.env.trusted != "" {
				// A list with spaces and an empty item, as people write them.
				e[EnvTrustedKeys] = " " + f.pub(tc.env.trusted) + ", ,"
			}
			flags := RemoteFlags{Remote: tc.flags.remote, SigningKey: f.path[tc.flags.key]}
			if tc.flags.readOnly != "" {
				b := tc.flags.readOnly == "true"
				flags.ReadOnly = &b
			}

			rc, diags := ResolveRemote(f.decl(t, src), flags, getenvOf(e))
			if len(diags) > 0 {
				t.Fatalf("diagnostics:\n%s", formatDiags(diags))
			}
			want := strings.ReplaceAll(tc.wantRemote, "$P", f.dir)
			if got := locString(rc); got != want || (want != "" && rc.From != tc.wantFrom) {
				t.Errorf("remote %q from %q, want %q from %q", got, rc.From, want, tc.wantFrom)
			}
			if rc.ReadOnly != tc.wantReadOnly {
				t.Errorf("ReadOnly = %v, want %v", rc.ReadOnly, tc.wantReadOnly)
			}
			if got := f.keyName(rc.Key); got != tc.wantKey {
				t.Errorf("signing key %q, want %q", got, tc.wantKey)
			}
			var gotTrusted []string
			for _, k := range rc.Trusted {
				gotTrusted = append(gotTrusted, f.keyName(privateFor(f, k)))
			}
			if got := strings.Join(gotTrusted, ","); got != tc.wantTrusted {
				t.Errorf("trusted keys %q, want %q", got, tc.wantTrusted)
			}
		})
	}
}

func locString(rc *RemoteConfig) string {
	if rc.Location == nil {
		return ""
	}
	return rc.Location.String()
}

// keyName names a fixture key, "" for nil.
func (f *remoteFixture) keyName(k ed25519.PrivateKey) string {
	if k == nil {
		return ""
	}
	for name, fk := range f.keys {
		if fk.Equal(k) {
			return name
		}
	}
	return "an unknown key"
}

// privateFor returns the fixture's private key of public key k.
func privateFor(f *remoteFixture, k ed25519.PublicKey) ed25519.PrivateKey {
	for _, fk := range f.keys {
		if k.Equal(fk.Public()) {
			return fk
		}
	}
	return ed25519.PrivateKey{}
}

// TestResolveRemoteRelativePaths: a relative remote directory and signing_key in the cache
// block are relative to the pipeline file's directory, wherever modulo runs; the same from
// the command line or the environment stay relative to the working directory; "~/" is
// HOME in all of them.
func TestResolveRemoteRelativePaths(t *testing.T) {
	f := newRemoteFixture(t)
	decl := f.decl(t, `cache {
  remote      = "../shared/cache"
  signing_key = "keys/block.key"
}
`)
	rc, diags := ResolveRemote(decl, RemoteFlags{}, getenvOf(nil))
	if len(diags) > 0 {
		t.Fatalf("diagnostics:\n%s", formatDiags(diags))
	}
	if got, want := rc.Location.Dir, filepath.Join(filepath.Dir(f.dir), "shared", "cache"); got != want {
		t.Errorf("remote directory %q, want %q (relative to the pipeline file)", got, want)
	}
	if f.keyName(rc.Key) != "block" {
		t.Errorf("signing key %q, want the block's, keys/block.key beside the pipeline file", f.keyName(rc.Key))
	}

	rc, diags = ResolveRemote(decl, RemoteFlags{Remote: "rel/cache"}, getenvOf(map[string]string{EnvSigningKey: f.path["env"]}))
	if len(diags) > 0 {
		t.Fatalf("diagnostics:\n%s", formatDiags(diags))
	}
	if got := rc.Location.Dir; got != "rel/cache" {
		t.Errorf("-remote rel/cache resolved to %q, want it left relative to the working directory", got)
	}

	home := filepath.Dir(f.dir)
	rc, diags = ResolveRemote(f.decl(t, `cache {
  remote      = "~/team-cache"
  signing_key = "~/p/keys/block.key"
}
`), RemoteFlags{}, getenvOf(map[string]string{"HOME": home}))
	if len(diags) > 0 {
		t.Fatalf("diagnostics:\n%s", formatDiags(diags))
	}
	if got, want := rc.Location.Dir, filepath.Join(home, "team-cache"); got != want {
		t.Errorf("~/team-cache resolved to %q, want %q", got, want)
	}
	if f.keyName(rc.Key) != "block" {
		t.Errorf("signing key %q from ~/p/keys/block.key, want the block's", f.keyName(rc.Key))
	}
	rc, _ = ResolveRemote(nil, RemoteFlags{Remote: "~/flag-cache"}, getenvOf(map[string]string{"HOME": home}))
	if got, want := rc.Location.Dir, filepath.Join(home, "flag-cache"); got != want {
		t.Errorf("-remote ~/flag-cache resolved to %q, want %q", got, want)
	}
}

// TestResolveRemoteDiagnostics: each mistake is one error diagnostic with its summary, a
// detail that names the source and says what to do, and the line:column of the value in
// the cache block, or no subject for the command line and the environment.
func TestResolveRemoteDiagnostics(t *testing.T) {
	f := newRemoteFixture(t)
	if err := os.WriteFile(filepath.Join(f.dir, "keys", "junk.key"), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := f.pub("block")
	for _, tc := range []struct {
		name  string
		block string // the cache block's body
		env   map[string]string
		flags RemoteFlags
		// want: the summary, the subject as "line:column" ("" for none), and phrases of the detail.
		summary, at string
		detail      []string
	}{
		{name: "unknown scheme", block: `remote = "ftp://host/x"`,
			summary: "Invalid remote cache URL", at: "2:12",
			detail: []string{`The cache block's remote is "ftp://host/x"`, `unsupported scheme "ftp"`, "supported: a directory path"}},
		{name: "s3 without bucket", block: `remote = "s3:///prefix"`,
			summary: "Invalid remote cache URL", at: "2:12",
			detail: []string{"no bucket", "s3://bucket/prefix"}},
		{name: "malformed query", block: `remote = "s3://b/p?endpoint=http://h:1&region=%zz"`,
			summary: "Invalid remote cache URL", at: "2:12",
			detail: []string{"malformed query", "name=value"}},
		{name: "endpoint not a URL", block: `remote = "s3://b/p?endpoint=10.0.0.5:7070"`,
			summary: "Invalid remote cache URL", at: "2:12",
			detail: []string{`endpoint "10.0.0.5:7070" is not an http:// or https:// URL`, "endpoint=http://host:port"}},
		{name: "unknown s3 parameter", block: `remote = "s3://b/p?regoin=eu-west-1"`,
			summary: "Invalid remote cache URL", at: "2:12",
			detail: []string{`unknown parameter "regoin"`, "region"}},
		{name: "http without host", block: `remote = "http:///cache"`,
			summary: "Invalid remote cache URL", at: "2:12",
			detail: []string{"no host", "http://host[:port]/prefix"}},
		{name: "password not shown", block: `remote = "https://alice:s3cret@[::1/x"`,
			summary: "Invalid remote cache URL", at: "2:12",
			detail: []string{"not a URL"}},
		{name: "bad URL from the environment", env: map[string]string{EnvRemote: "s3://"},
			summary: "Invalid remote cache URL in MODULO_REMOTE", at: "",
			detail: []string{`MODULO_REMOTE is "s3://"`, "no bucket", "unset it"}},
		{name: "bad URL from the flag", block: `remote = "/shared"`, flags: RemoteFlags{Remote: "gs://bucket"},
			summary: "Invalid remote cache URL in -remote", at: "",
			detail: []string{`-remote is "gs://bucket"`, `unsupported scheme "gs"`, "Fix the -remote flag"}},

		{name: "bad trusted key", block: "remote = \"/shared\"\n  trusted_keys = [\n    \"" + good + "\",\n    \"ed25519:c2hvcnQ=\",\n  ]",
			summary: "Invalid trusted key", at: "5:5",
			detail: []string{"The cache block's trusted_keys", `"ed25519:c2hvcnQ=" is not a base64 ed25519 public key of 32 bytes`, "modulo cache keygen -o KEYFILE", "44 characters"}},
		{name: "trusted key without prefix", block: "remote = \"/shared\"\n  trusted_keys = [\"AAAA\"]",
			summary: "Invalid trusted key", at: "3:19",
			detail: []string{"looks like ed25519:<base64>", "modulo cache keygen -o KEYFILE"}},
		{name: "bad trusted key from the environment", block: `remote = "/shared"`, env: map[string]string{EnvTrustedKeys: good + ",rsa:AAAA"},
			summary: "Invalid trusted key in MODULO_TRUSTED_KEYS", at: "",
			detail: []string{"MODULO_TRUSTED_KEYS", `not "rsa:AAAA"`}},

		{name: "missing signing key", block: "remote = \"/shared\"\n  signing_key = \"keys/me.key\"",
			summary: "Signing key not found", at: "3:17",
			detail: []string{"The signing key file " + filepath.Join(f.dir, "keys", "me.key") + ", named by the cache block's signing_key, does not exist",
				"modulo cache keygen -o " + filepath.Join(f.dir, "keys", "me.key"), "MODULO_SIGNING_KEY=none", "-remote-read-only"}},
		{name: "missing signing key from the environment", block: `remote = "/shared"`, env: map[string]string{EnvSigningKey: "nokey"},
			summary: "Signing key not found", at: "",
			detail: []string{"The signing key file nokey, named by MODULO_SIGNING_KEY, does not exist"}},
		{name: "missing signing key from the flag", block: `remote = "/shared"`, flags: RemoteFlags{SigningKey: "/no/such.key"},
			summary: "Signing key not found", at: "",
			detail: []string{"/no/such.key, named by -signing-key"}},
		{name: "signing key is a directory", block: "remote = \"/shared\"\n  signing_key = \"keys\"",
			summary: "Cannot read the signing key", at: "3:17",
			detail: []string{filepath.Join(f.dir, "keys") + ", named by the cache block's signing_key, cannot be read", "is a directory"}},
		{name: "signing key file is not a key", block: "remote = \"/shared\"\n  signing_key = \"keys/junk.key\"",
			summary: "Invalid signing key", at: "3:17",
			detail: []string{filepath.Join(f.dir, "keys", "junk.key") + ", named by the cache block's signing_key, is not a modulo signing key", "modulo cache keygen -o"}},
		{name: "~ without HOME", block: "remote = \"~/cache\"",
			summary: "Cannot expand ~", at: "2:12",
			detail: []string{`The cache block's remote is "~/cache", but HOME is not set`}},

		{name: "bad MODULO_REMOTE_READ_ONLY", block: `remote = "/shared"`, env: map[string]string{EnvRemoteReadOnly: "yes please"},
			summary: "Invalid MODULO_REMOTE_READ_ONLY", at: "",
			detail: []string{`MODULO_REMOTE_READ_ONLY is "yes please"`, "set it to 1 (or true)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var decl *CacheDecl
			if tc.block != "" {
				decl = f.decl(t, "cache {\n  "+tc.block+"\n}\n")
			}
			rc, diags := ResolveRemote(decl, tc.flags, getenvOf(tc.env))
			if len(diags) != 1 || diags[0].Severity != hcl.DiagError {
				t.Fatalf("want one error, got:\n%s", formatDiags(diags))
			}
			d := diags[0]
			if d.Summary != tc.summary {
				t.Errorf("summary %q, want %q", d.Summary, tc.summary)
			}
			at := ""
			if d.Subject != nil {
				at = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
				if d.Subject.Filename != filepath.Join(f.dir, "pipeline.hcl") {
					t.Errorf("subject in %s, want the pipeline file", d.Subject.Filename)
				}
			}
			if at != tc.at {
				t.Errorf("subject at %q, want %q", at, tc.at)
			}
			for _, w := range tc.detail {
				if !strings.Contains(d.Detail, w) {
					t.Errorf("detail does not say %q:\n%s", w, d.Detail)
				}
			}
			if strings.Contains(d.Detail, "s3cret") {
				t.Errorf("detail shows the password:\n%s", d.Detail)
			}
			if rc == nil {
				t.Error("nil RemoteConfig with diagnostics; want a usable zero one")
			}
		})
	}
}

// TestLoadChecksCacheBlock: loading (what validate does) already reports a bad URL and a
// bad trusted key in the cache block, at the value, with the same diagnostic as
// ResolveRemote, and reads no signing key.
func TestLoadChecksCacheBlock(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.hcl")
	src := `cache {
  remote       = "s3://"
  signing_key  = "no/such.key"
  trusted_keys = ["ed25519:AAAA"]
}
`
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(p, testRegistry())
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Subject.Start.Line, d.Subject.Start.Column, d.Summary))
	}
	want := []string{"2:18 Invalid remote cache URL", "4:19 Invalid trusted key"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Load diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestResolveRemoteReportsEveryMistake: a bad URL does not hide a bad key.
func TestResolveRemoteReportsEveryMistake(t *testing.T) {
	f := newRemoteFixture(t)
	decl := f.decl(t, `cache {
  remote       = "s3://"
  signing_key  = "keys/none.key"
  trusted_keys = ["ed25519:AAAA"]
}
`)
	_, diags := ResolveRemote(decl, RemoteFlags{}, getenvOf(nil))
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Subject.Start.Line, d.Subject.Start.Column, d.Summary))
	}
	want := []string{"2:18 Invalid remote cache URL", "3:18 Signing key not found", "4:19 Invalid trusted key"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/bytesize"
	"github.com/modulo-ml/modulo/pipelines"
)

// remoteFlags choose the remote cache; they override the environment and the pipeline's
// cache block (pipelines.ResolveRemote says how).
type remoteFlags struct {
	pipelines.RemoteFlags
	// resolved is what attach resolved, for a driver to pass on to its workers.
	resolved *pipelines.RemoteConfig
}

func (r *remoteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.Remote, "remote", "", "remote cache shared with teammates: a directory, s3://bucket/prefix?endpoint=…, http(s)://host/path, or none (default $MODULO_REMOTE, else the pipeline's cache block)")
	fs.BoolFunc("remote-read-only", "fetch from the remote cache but never upload (default $MODULO_REMOTE_READ_ONLY, else the cache block's read_only)", func(s string) error {
		b, err := strconv.ParseBool(s)
		r.ReadOnly = &b
		return err
	})
	fs.StringVar(&r.SigningKey, "signing-key", "", "sign uploads with this key file (from modulo cache keygen), or none (default $MODULO_SIGNING_KEY, else the cache block's signing_key)")
}

// attach connects c to the remote cache the flags, the environment and the pipeline's cache
// block name, if any. Diagnostics, and warnings about the remote (each once), go to stderr.
func (r *remoteFlags) attach(c *artifacts.Cache, cfg *pipelines.Config, stderr io.Writer) bool {
	diags, err := r.connect(c, cfg, stderr)
	printDiags(stderr, cfg, diags)
	if err != nil {
		fmt.Fprintf(stderr, "modulo: %v\n", err)
	}
	return !diags.HasErrors() && err == nil
}

// connect is attach returning what is wrong instead of printing it: diagnostics of the
// settings, or else the error of connecting. Warnings about the remote still go to stderr,
// when they happen.
func (r *remoteFlags) connect(c *artifacts.Cache, cfg *pipelines.Config, stderr io.Writer) (hcl.Diagnostics, error) {
	var decl *pipelines.CacheDecl
	if cfg != nil {
		decl = cfg.Cache
	}
	rc, diags := pipelines.ResolveRemote(decl, r.RemoteFlags, os.Getenv)
	if diags.HasErrors() {
		return diags, nil
	}
	r.resolved = rc
	var mu sync.Mutex
	rm, err := rc.Attach(context.Background(), func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "Warning: %s\n", msg)
	})
	if err != nil {
		return diags, err
	}
	if rm != nil {
		c.SetRemote(rm)
	}
	return diags, nil
}

// cacheKeygen makes a signing key pair: the private key to a file, the public key, for
// teammates' trusted_keys, to stdout.
func cacheKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cache keygen", flag.ContinueOnError)
	out := fs.String("o", "", "file to write the private key to (it must not exist)")
	if _, ok := parseFlags(fs, args, stderr); !ok {
		return 1
	}
	if *out == "" {
		fmt.Fprintln(stderr, "usage: modulo cache keygen -o KEYFILE")
		return 1
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return exitOn(stderr, err)
	}
	if err := artifacts.WritePrivateKey(*out, priv); err != nil {
		return exitOn(stderr, err)
	}
	fmt.Fprintf(stdout, "%s\n", artifacts.FormatPublicKey(pub))
	fmt.Fprintf(stderr, "wrote the private key to %s (keep it secret); the line above is the public key for trusted_keys\n", *out)
	return 0
}

// cachePushPull uploads (push) or fetches (pull) the results of a pipeline's nodes, or of
// the named ones, between the local cache and the remote.
func cachePushPull(push bool, args []string, stdout, stderr io.Writer) int {
	name := "pull"
	if push {
		name = "push"
	}
	fs := flag.NewFlagSet("cache "+name, flag.ContinueOnError)
	var pf planFlags
	pf.register(fs)
	path := fs.String("p", ".", "the pipeline")
	addrs, ok := parseFlags(fs, args, stderr)
	if !ok {
		return 1
	}
	pf.targets = addrs
	plan, _, c, ok := pf.plan(*path, stderr)
	if !ok {
		return 1
	}
	if c.Remote() == nil {
		fmt.Fprintf(stderr, "modulo cache %s: no remote cache; give -remote URL, set MODULO_REMOTE, or add a cache block\n", name)
		return 1
	}
	if push && c.Remote().ReadOnly {
		fmt.Fprintf(stderr, "modulo cache push: the remote cache is read-only\n")
		return 1
	}
	var moved, skipped int
	var bytes int64
	c.Remote().Transfer = func(_ string, n int64) { bytes += n }
	ctx := context.Background()
	for _, addr := range plan.Order {
		n := plan.Nodes[addr]
		if n.Status != pipelines.Cached {
			skipped++
			continue
		}
		var err error
		switch {
		case push && !n.Entry.FromRemote():
			err = c.Push(ctx, n.Action, n.Entry)
		case !push && n.Entry.FromRemote():
			err = c.Pull(ctx, n.Action, n.Entry)
		default:
			continue // already there
		}
		if err != nil {
			fmt.Fprintf(stderr, "modulo cache %s: %s: %v\n", name, addr, err)
			return 1
		}
		moved++
		fmt.Fprintf(stderr, "%s %s (%s so far)\n", verbOf(push), addr, bytesize.Format(bytes))
	}
	fmt.Fprintf(stdout, "%s %d nodes (%s); %d not cached\n", verbOf(push), moved, bytesize.Format(bytes), skipped)
	return 0
}

func verbOf(push bool) string {
	if push {
		return "uploaded"
	}
	return "downloaded"
}

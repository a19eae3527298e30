package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/artifacts/remote"
	"github.com/modulo-ml/modulo/pipelines"
)

// remoteFlags choose the remote cache; they override the pipeline's cache block.
type remoteFlags struct {
	url      string
	readOnly bool
}

func (r *remoteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.url, "remote", "", "remote cache shared with teammates: a directory, s3://bucket/prefix?endpoint=…, or http(s)://host/path (default $MODULO_REMOTE, else the pipeline's cache block)")
	fs.BoolVar(&r.readOnly, "remote-read-only", false, "fetch from the remote cache but never upload")
}

// attach connects c to the remote cache the flags, the environment and the pipeline's cache
// block name, if any. Warnings about the remote go to stderr, each once.
func (r *remoteFlags) attach(c *artifacts.Cache, cfg *pipelines.Config, stderr io.Writer) bool {
	var decl pipelines.CacheDecl
	if cfg != nil && cfg.Cache != nil {
		decl = *cfg.Cache
	}
	url := decl.Remote
	if env := os.Getenv("MODULO_REMOTE"); env != "" {
		url = env
	}
	if r.url != "" {
		url = r.url
	}
	if url == "" || url == "none" {
		return true
	}
	store, err := remote.Open(context.Background(), url)
	if err != nil {
		fmt.Fprintf(stderr, "modulo: remote cache: %v\n", err)
		return false
	}
	var mu sync.Mutex
	warn := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "Warning: %s\n", msg)
	}
	rm := &artifacts.Remote{
		Store: remote.Reliable(store, remote.Options{Warn: func(err error) {
			warn(fmt.Sprintf("%v; going on with the local cache only", err))
		}}),
		ReadOnly: decl.ReadOnly || r.readOnly || os.Getenv("MODULO_REMOTE_READ_ONLY") == "1",
		Warn:     warn,
	}
	keyPath := decl.SigningKey
	if env := os.Getenv("MODULO_SIGNING_KEY"); env != "" {
		keyPath = env
	}
	if keyPath != "" {
		if rest, ok := strings.CutPrefix(keyPath, "~/"); ok {
			if home, err := os.UserHomeDir(); err == nil {
				keyPath = filepath.Join(home, rest)
			}
		}
		k, err := artifacts.ReadPrivateKey(keyPath)
		if err != nil {
			fmt.Fprintf(stderr, "modulo: signing key: %v\n", err)
			return false
		}
		rm.Key = k
	}
	trusted := decl.TrustedKeys
	if env := os.Getenv("MODULO_TRUSTED_KEYS"); env != "" {
		trusted = strings.Split(env, ",")
	}
	for _, s := range trusted {
		k, err := artifacts.ParsePublicKey(s)
		if err != nil {
			fmt.Fprintf(stderr, "modulo: trusted key: %v\n", err)
			return false
		}
		rm.Trusted = append(rm.Trusted, k)
	}
	c.SetRemote(rm)
	return true
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
		fmt.Fprintf(stderr, "%s %s (%s so far)\n", verbOf(push), addr, humanBytes(bytes))
	}
	fmt.Fprintf(stdout, "%s %d nodes (%s); %d not cached\n", verbOf(push), moved, humanBytes(bytes), skipped)
	return 0
}

func verbOf(push bool) string {
	if push {
		return "uploaded"
	}
	return "downloaded"
}

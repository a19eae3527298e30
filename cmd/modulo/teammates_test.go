package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/artifacts/remote/remotetest"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// teammatesPipeline is testdata/script/teammates.txtar's: b depends on the variable, c and d
// on b, a on nothing.
const teammatesPipeline = `
variable "word" {
  type    = string
  default = "hello"
}

text "a" {
  value = "modulo"
}

text "b" {
  value = var.word
}

concat "c" {
  parts = [text.a.out, text.b.out]
}

concat "d" {
  parts = [concat.c.out, text.b.out]
}
`

// TestTeammates plays the teammates scenario (testdata/script/teammates.txtar) through the
// modulo command against each kind of remote: a shared directory, nginx as an HTTP cache
// speaking Bazel's protocol, and versitygw as an S3 server. The servers run on 127.0.0.1
// for the subtest's duration; without one, its subtest skips (fails on CI, see
// remotetest.Required).
//
// A runs the pipeline and uploads it; B, with a fresh cache, downloads every node and runs
// none, and its cache verifies clean; B changes one variable and only that subgraph runs;
// A pulls B's results and its plan has nothing to run and nothing to download.
//
// The subtests run one after another: they set the environment (t.Setenv).
func TestTeammates(t *testing.T) {
	for _, tc := range []struct {
		name string
		// start returns the remote's URL and the directory where its objects land.
		start func(t *testing.T) (url, objects string)
	}{
		{"dir", func(t *testing.T) (string, string) {
			dir := filepath.Join(t.TempDir(), "shared")
			return dir, dir
		}},
		{"http", func(t *testing.T) (string, string) {
			url, root := remotetest.StartNginx(t)
			return url + "/team/cache", filepath.Join(root, "team", "cache")
		}},
		{"s3", func(t *testing.T) (string, string) {
			// StartVersitygw sets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (t.Setenv)
			// to its account, and keeps the developer's AWS configuration out.
			endpoint, root := remotetest.StartVersitygw(t, "modulo")
			return "s3://modulo/team/cache?region=us-east-1&endpoint=" + endpoint,
				filepath.Join(root, "modulo", "team", "cache")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, objects := tc.start(t)
			playTeammates(t, url, objects)
		})
	}
}

func playTeammates(t *testing.T, url, objects string) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(p, []byte(teammatesPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing of the developer's environment changes what the remote does.
	for _, k := range []string{"MODULO_REMOTE_READ_ONLY", "MODULO_SIGNING_KEY", "MODULO_TRUSTED_KEYS"} {
		t.Setenv(k, "")
	}
	runLog := filepath.Join(dir, "runs.log")
	t.Setenv(stagetest.LogEnv, runLog)
	cacheA, cacheB := filepath.Join(dir, "A"), filepath.Join(dir, "B")

	// run runs modulo with the cache and the remote, and wants exit 0, stdout containing
	// want, and no warning: a remote that fails costs only a warning, the commands would
	// still succeed, computing locally.
	run := func(cache, want string, args ...string) string {
		t.Helper()
		code, out, errs := modulo(t, cache, url, args...)
		if code != 0 || !strings.Contains(out, want) || strings.Contains(errs, "Warning") {
			t.Fatalf("modulo %s (cache %s): exit %d, want 0 and %q on stdout and no warning\nstdout:\n%s\nstderr:\n%s",
				strings.Join(args, " "), filepath.Base(cache), code, want, out, errs)
		}
		return out
	}
	// ran wants the nodes that ran since the last call, in any order.
	ran := func(want ...string) {
		t.Helper()
		b, err := os.ReadFile(runLog)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		os.Remove(runLog)
		got := strings.Fields(string(b))
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("ran %q, want %q", got, want)
		}
	}

	// A runs the pipeline and uploads every node.
	run(cacheA, "4 ran, 0 cached, 0 failed", "run", "-progress", "plain", p)
	ran("text.a", "text.b", "concat.c", "concat.d")
	if n := countFiles(t, objects); n == 0 {
		t.Fatalf("A's run put nothing into the remote (%s)", objects)
	}

	// B, with a fresh cache: everything comes from the remote.
	run(cacheB, "Nothing to do: 4 cached (4 to download).", "plan", p)
	run(cacheB, "0 ran, 4 cached (4 downloaded), 0 failed", "run", "-progress", "plain", p)
	ran()
	run(cacheB, "0 corrupt, 0 incomplete", "cache", "verify")

	// B changes text.b: b, c and d run and are uploaded; a stays cached.
	run(cacheB, "3 ran, 1 cached, 0 failed", "run", "-progress", "plain", "-var", "word=there", p)
	ran("text.b", "concat.c", "concat.d")

	// A pulls B's results; its plan has nothing to run and nothing to download.
	run(cacheA, "downloaded 3 nodes", "cache", "pull", "-var", "word=there", "-p", p)
	out := run(cacheA, "Nothing to do: 4 cached.", "plan", "-var", "word=there", p)
	if strings.Contains(out, "to download") {
		t.Fatalf("A's plan after the pull still downloads:\n%s", out)
	}
	run(cacheA, "0 ran, 4 cached, 0 failed", "run", "-progress", "plain", "-var", "word=there", p)
	ran()
}

// countFiles counts the regular files under dir, none if it does not exist.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return n
}

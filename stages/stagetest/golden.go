package stagetest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/stages"
)

// UpdateEnv names the environment variable that, set to 1, records new golden digests.
const UpdateEnv = "MODULO_UPDATE_GOLDEN"

// Digest runs k on cfg, reading input artifacts from inputs (by OutputID), and returns one
// SHA-256 over all its outputs: artifact OutputIDs and the JSON of values, by output name.
func Digest(ctx context.Context, k *stages.Kind, cfg cty.Value, inputs map[artifacts.OutputID][]byte) (string, error) {
	return digest(ctx, k, cfg, inputs, nil)
}

// digest is Digest with the files outside the cache that the run may read (Kind.Files).
func digest(ctx context.Context, k *stages.Kind, cfg cty.Value, inputs map[artifacts.OutputID][]byte, files []stages.File) (string, error) {
	in := &stages.Input{
		Address: k.Name + ".golden",
		Config:  cfg,
		Threads: 1,
		Read: func(r *stages.Ref) ([]byte, error) {
			b, ok := inputs[r.ID]
			if !ok {
				return nil, fmt.Errorf("golden: no input %s", r)
			}
			return b, nil
		},
		Files:    files,
		ReadFile: readFile,
	}
	res, err := k.Run(ctx, in)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	names := make([]string, 0, len(res.Outputs))
	for n := range res.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out := res.Outputs[n]
		fmt.Fprintf(h, "output %s\n", n)
		for _, a := range out.Artifacts {
			fmt.Fprintf(h, "artifact %s\n", artifacts.NewOutputID(a.Data))
		}
		if out.Value != cty.NilVal {
			b, err := ctyjson.Marshal(out.Value, out.Value.Type())
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "value %s\n", b)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Golden checks that running k on cfg gives the digest recorded for k's current version in
// testdata/golden/<kind>.txt (lines "version case digest"). It fails when the outputs changed
// but the version did not: any change to a kind's outputs must bump its Version, or caches
// everywhere would serve stale results. Run the tests with MODULO_UPDATE_GOLDEN=1 to record
// digests for a new version.
func Golden(t *testing.T, k *stages.Kind, name string, cfg cty.Value, inputs map[artifacts.OutputID][]byte) {
	t.Helper()
	golden(t, k, name, cfg, inputs, nil)
}

// GoldenFiles is Golden for a kind that reads files outside the cache: k.Files lists them
// for cfg, relative to dir, and the run reads them from their paths, checked against the
// digests listed (as the engine's Input.ReadFile does).
func GoldenFiles(t *testing.T, k *stages.Kind, name string, cfg cty.Value, inputs map[artifacts.OutputID][]byte, dir string) {
	t.Helper()
	files, err := k.Files(cfg, dir)
	if err != nil {
		t.Fatalf("%s %s: files: %v", k.Name, name, err)
	}
	golden(t, k, name, cfg, inputs, files)
}

// readFile reads f from its path, checked against its digest.
func readFile(f stages.File) ([]byte, error) {
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, fmt.Errorf("golden: %s changed since it was hashed", f.Path)
	}
	return b, nil
}

func golden(t *testing.T, k *stages.Kind, name string, cfg cty.Value, inputs map[artifacts.OutputID][]byte, files []stages.File) {
	t.Helper()
	got, err := digest(context.Background(), k, cfg, inputs, files)
	if err != nil {
		t.Fatalf("%s %s: %v", k.Name, name, err)
	}
	path := filepath.Join("testdata", "golden", k.Name+".txt")
	recorded := readGolden(t, path)
	version := strconv.Itoa(k.Version)
	if n := k.Revision(cfg); n != "" {
		version += "/" + n // the revision enters the key as the version does
	}
	key := version + " " + name
	want, ok := recorded[key]
	switch {
	case os.Getenv(UpdateEnv) == "1":
		recorded[key] = got
		writeGolden(t, path, recorded)
	case !ok:
		t.Fatalf("%s: no golden digest for version %s case %q in %s; run the tests with MODULO_UPDATE_GOLDEN=1 to record %s", k.Name, version, name, path, got)
	case want != got:
		t.Fatalf("%s version %s case %q: outputs changed (digest %s, recorded %s) but the version did not. Bump %s's Version (or the numerics revision its configuration names), then record the new digest with MODULO_UPDATE_GOLDEN=1.", k.Name, version, name, got, want, k.Name)
	}
}

func readGolden(t *testing.T, path string) map[string]string {
	m := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 {
			m[fields[0]+" "+fields[1]] = fields[2]
		}
	}
	return m
}

func writeGolden(t *testing.T, path string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s %s\n", k, m[k])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

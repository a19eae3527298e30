package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// TestMain lets the test binary act as the modulo command inside scripts, with the engine's
// test stage kinds registered, and as stop-when (see stopWhen).
func TestMain(m *testing.M) {
	stagetest.Register(stages.Default)
	testscript.Main(m, map[string]func(){
		"modulo":    func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
		"stop-when": func() { os.Exit(stopWhen(os.Args[1:], os.Stdout, os.Stderr)) },
		"write-net": func() { os.Exit(writeNet(os.Args[1:], os.Stderr)) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: each is a txtar archive of
// pipeline files and a script of modulo commands with assertions.
func TestScripts(t *testing.T) {
	// Files PyTorch wrote (scripts/make_torch_fixtures.py), for the network stage's scripts.
	torchFixtures, err := filepath.Abs(filepath.Join("..", "..", "nn", "torchsave", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("TORCH_FIXTURES", torchFixtures)
			e.Setenv("MODULO_CACHE", filepath.Join(e.WorkDir, "cache"))
			e.Setenv(stagetest.LogEnv, filepath.Join(e.WorkDir, "runs.log"))
			e.Setenv("TERM", "dumb")
			return nil
		},
		Condition: scriptCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"ran":            cmdRan,
			"waitlog":        cmdWaitLog,
			"exits":          cmdExits,
			"corrupt-output": cmdCorruptOutput,
		},
	})
}

// scriptCondition adds [root] to testscript's conditions: root writes through any mode
// bits, so scripts that make the cache read-only with chmod skip those steps as root
// (as the tests run in CI) and cover the same errors another way.
func scriptCondition(cond string) (bool, error) {
	if cond == "root" {
		return os.Geteuid() == 0, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// cmdRan asserts which nodes ran since the last check, in any order, and clears the log:
// `ran` alone asserts that nothing ran.
func cmdRan(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! ran")
	}
	log := ts.Getenv(stagetest.LogEnv)
	b, err := os.ReadFile(log)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		ts.Fatalf("%v", err)
	}
	os.Remove(log)
	got := strings.Fields(string(b))
	want := append([]string{}, args...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		ts.Fatalf("ran %q, want %q", got, want)
	}
}

// cmdWaitLog waits until at least N runs have started, for killing a run mid-flight.
func cmdWaitLog(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitlog N")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(ts.Getenv(stagetest.LogEnv))
		if len(strings.Fields(string(b))) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("fewer than %d runs started within 20s", n)
}

// cmdExits runs a command and asserts its exit status: `exits 2 modulo plan p.hcl`.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdCorruptOutput flips one byte of the stored blob of a node's output, as a failing disk
// or a careless user might: `corrupt-output p.hcl text.a out`.
func cmdCorruptOutput(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: corrupt-output PIPELINE ADDR OUTPUT")
	}
	path := ts.MkAbs(args[0])
	g, _, diags := pipelines.Open(path, stages.Default, pipelines.VarSource{})
	if diags.HasErrors() {
		ts.Fatalf("%s", diags.Error())
	}
	c, err := artifacts.Open(ts.Getenv("MODULO_CACHE"))
	if err != nil {
		ts.Fatalf("%v", err)
	}
	plan, diags := (&pipelines.Planner{Graph: g, Cache: c}).Plan(nil)
	if diags.HasErrors() {
		ts.Fatalf("%s", diags.Error())
	}
	n := plan.Nodes[args[1]]
	if n == nil || n.Entry == nil {
		ts.Fatalf("%s is not cached", args[1])
	}
	out, ok := n.Entry.Outputs[args[2]]
	if !ok || len(out.Items) == 0 {
		ts.Fatalf("%s has no artifact output %s", args[1], args[2])
	}
	p := c.BlobPath(out.Items[0].ID)
	b, err := os.ReadFile(p)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		ts.Fatalf("%v", err)
	}
	fmt.Fprintf(ts.Stdout(), "corrupted %s\n", bytes.TrimSpace([]byte(p)))
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/stages/stagetest"
)

// TestNoopRerun checks the record of a no-op run (pipelines.Noop): a rerun with nothing
// changed tells what the planned rerun told without loading the pipeline, and every kind of
// change it depends on makes the next run plan again and see the change.
func TestNoopRerun(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("MODULO_CACHE", filepath.Join(dir, "cache"))
	t.Setenv(stagetest.LogEnv, filepath.Join(dir, "runs.log"))
	t.Setenv("MODULO_VAR_extra", "")
	const pipeline = `
variable "word" {
  default = "hello"
}
variable "extra" {
  type    = string
  default = ""
}
text "a" {
  value = "modulo"
}
text "b" {
  value = "${var.word}${var.extra}"
}
file "notes" {
  path = "notes.txt"
}
concat "c" {
  parts = [text.a.out, text.b.out, file.notes]
}
output "length" {
  value = text.b.length
}
`
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("p.hcl", pipeline)
	write("notes.txt", "first notes\n")
	write("v.hcl", "word = \"hello\"\n")

	// run runs the pipeline and returns what it printed on stdout, without the run's
	// duration; the nodes' lines on stderr, sorted, without their times; and whether it
	// loaded the pipeline.
	run := func(args ...string) (string, []string, bool) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		before := loads.Load()
		args = append([]string{"run", "-progress", "plain", "-var-file", "v.hcl"}, args...)
		if code := Main(append(args, "p.hcl"), &stdout, &stderr); code != 0 {
			t.Fatalf("modulo %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		out := regexp.MustCompile(` in [0-9.]+[µm]?s\.`).ReplaceAllString(stdout.String(), " in T.")
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			_, l, _ = strings.Cut(l, " ")
			lines = append(lines, l)
		}
		slices.Sort(lines)
		return out, lines, loads.Load() != before
	}
	// settle runs until a run is answered by the record (the third at the latest: one that
	// runs what changed, a no-op one that plans and records, one answered), checking that
	// the first plans and that the answered run tells what the planned no-op run told;
	// want is what the outputs must say.
	settle := func(why, want string, args ...string) {
		t.Helper()
		out1, lines1, planned := run(args...)
		if !planned {
			t.Fatalf("%s: the run did not plan", why)
		}
		for range 2 {
			out2, lines2, planned := run(args...)
			if planned {
				out1, lines1 = out2, lines2
				continue
			}
			if out1 != out2 || !slices.Equal(lines1, lines2) {
				t.Errorf("%s: the answered rerun told\n%s%s\nthe planned one\n%s%s", why, out2, strings.Join(lines2, "\n"), out1, strings.Join(lines1, "\n"))
			}
			if !strings.Contains(out2, "0 ran, 4 cached") || !strings.Contains(out2, want) {
				t.Errorf("%s: the rerun told\n%s\nwant 0 ran, 4 cached and %q", why, out2, want)
			}
			return
		}
		t.Fatalf("%s: three runs planned; want the third answered by the record of the no-op run before it", why)
	}

	run()
	settle("nothing changed", "length = 5")

	// plan answers from the record as run does, and tells what it tells when it plans.
	plan := func() (string, bool) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		before := loads.Load()
		if code := Main([]string{"plan", "-var-file", "v.hcl", "p.hcl"}, &stdout, &stderr); code != 0 {
			t.Fatalf("modulo plan: exit %d\n%s%s", code, stdout.String(), stderr.String())
		}
		return stdout.String(), loads.Load() != before
	}
	answered, planned := plan()
	if planned || !strings.Contains(answered, "Nothing to do: 4 cached.") || !strings.Contains(answered, "length = 5") {
		t.Errorf("plan after a no-op run (planned %v) told\n%s\nwant it answered by the record: nothing to do, length = 5", planned, answered)
	}
	records, _ := filepath.Glob(filepath.Join(dir, "cache", "state", "*.noop"))
	if len(records) != 1 {
		t.Fatalf("no-op records %v, want one", records)
	}
	if err := os.Remove(records[0]); err != nil {
		t.Fatal(err)
	}
	if out, planned := plan(); !planned || out != answered {
		t.Errorf("plan without the record (planned %v) told\n%s\nwith it\n%s", planned, out, answered)
	}
	if _, planned := plan(); planned {
		t.Error("a no-op plan left no record for the next")
	}

	write("p.hcl", strings.Replace(pipeline, `"modulo"`, `"modulo!"`, 1))
	settle("pipeline edited", "length = 5")
	settle("variable", "length = 2", "-var", "word=hi")
	write("v.hcl", "word = \"greetings\"\n")
	settle("variable file", "length = 9")
	t.Setenv("MODULO_VAR_extra", "!!")
	settle("environment", "length = 11")

	write("notes.txt", "second notes\n")
	settle("input file edited", "length = 11")
	if err := os.Chtimes("notes.txt", time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, planned := run(); planned {
		t.Errorf("input file touched, content unchanged: the rerun planned")
	}

	// A forced run stores a result again: the state the record was made from is gone.
	if _, _, planned := run("-force", "text.a"); !planned {
		t.Fatal("forced run did not plan")
	}
	settle("forced run", "length = 11")

	var stdout, stderr bytes.Buffer
	if code := Main([]string{"cache", "gc", "-max-size", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("cache gc: exit %d\n%s", code, stderr.String())
	}
	out, _, planned := run()
	if !planned || !strings.Contains(out, "4 ran, 0 cached") {
		t.Errorf("after gc removed every result, the run told\n%s\nplanned %v; want 4 ran", out, planned)
	}
}

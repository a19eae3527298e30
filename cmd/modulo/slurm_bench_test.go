package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/slurm/slurmtest"
)

// The Slurm executor's overhead, on the real single-node test cluster (make bench-slurm):
//
//   - BenchmarkSlurmFanout: one node, then 200 that depend on it, then one that joins them.
//     It reports how long the driver takes from the root's job ending to each dependant
//     submitted (median and last), and the submission rate.
//   - BenchmarkSlurmWidth: examples/width.hcl as it is (7 widths × 3 seeds, 5 epochs) on
//     the cluster. The driver's overhead is the time when none of the run's jobs was in
//     Slurm's hands: from the start until the first submission, every gap between the end
//     of the last job running and the next submission, and from the last job's end to the
//     driver's exit. That is planning, uploads, noticing that a job ended and submitting
//     its dependants; Slurm's own scheduling latency counts as the cluster's.
//
// A job's end is its log's modification time: the worker's last line is written as it
// exits.

// event is one line of -progress json.
type event struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"`
	Node    string    `json:"node"`
	Message string    `json:"message"`
}

// benchRun runs modulo with -progress json on the cluster and returns its events, the
// wall time, and each node's job id.
func benchRun(b *testing.B, e *slurmEnv, args ...string) (evs []event, wall time.Duration, jobs map[string]string) {
	b.Helper()
	c := e.cmd("driver", append([]string{"run", "-executor", "slurm", "-progress", "json"}, args...)...)
	var stderr lockedBuf
	c.Stderr = &stderr
	out, err := c.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	jobs = map[string]string{}
	re := regexp.MustCompile(`Slurm job (\d+)`)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		evs = append(evs, ev)
		if m := re.FindStringSubmatch(ev.Message); ev.Event == "started" && m != nil {
			jobs[ev.Node] = m[1]
		}
	}
	if err := c.Wait(); err != nil {
		b.Fatalf("modulo run: %v\n%s", err, stderr.String())
	}
	return evs, time.Since(start), jobs
}

// jobEnds returns the end of each job: its log's modification time.
func jobEnds(b *testing.B, e *slurmEnv, jobs map[string]string) map[string]time.Time {
	ends := map[string]time.Time{}
	for node, id := range jobs {
		m, _ := filepath.Glob(filepath.Join(e.dir, ".modulo", "slurm", "logs", "*-"+id+".log"))
		if len(m) != 1 {
			b.Fatalf("no log of job %s (%s)", id, node)
		}
		fi, err := os.Stat(m[0])
		if err != nil {
			b.Fatal(err)
		}
		ends[node] = fi.ModTime()
	}
	return ends
}

func BenchmarkSlurmFanout(b *testing.B) {
	const n = 200
	cluster := slurmtest.Start(b)
	var src strings.Builder
	// Every dependant in flight at once, so that the submissions are timed, not the
	// cluster's two cores working through 200 jobs.
	fmt.Fprintf(&src, "executor \"slurm\" {\n  max_jobs = %d\n}\n", n+2)
	fmt.Fprintf(&src, "text \"root\" {\n  value = \"r\"\n}\n")
	fmt.Fprintf(&src, "text \"leaf\" {\n  for_each = toset([for i in range(%d) : tostring(i)])\n  value = \"${text.root.length}-${each.key}\"\n}\n", n)
	fmt.Fprintf(&src, "concat \"join\" {\n  parts = [for k, v in text.leaf : v.out]\n}\n")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newSlurmEnv(b, cluster)
		e.write("p.hcl", src.String())
		b.StartTimer()
		evs, wall, jobs := benchRun(b, e, "p.hcl")
		ends := jobEnds(b, e, jobs)
		var rootDone time.Time
		var subs []time.Time
		for _, ev := range evs {
			if ev.Node == "text.root" && ev.Event == "finished" {
				rootDone = ev.Time
			}
			if strings.HasPrefix(ev.Node, "text.leaf[") && ev.Event == "started" {
				subs = append(subs, ev.Time)
			}
		}
		if len(subs) != n || rootDone.IsZero() {
			b.Fatalf("%d leaves submitted, root done %v", len(subs), rootDone)
		}
		sort.Slice(subs, func(i, j int) bool { return subs[i].Before(subs[j]) })
		rootEnd := ends["text.root"]
		b.ReportMetric(rootDone.Sub(rootEnd).Seconds()*1e3, "ms-end-to-noticed")
		b.ReportMetric(subs[n/2].Sub(rootEnd).Seconds()*1e3, "ms-end-to-median-dependant-submitted")
		b.ReportMetric(subs[n-1].Sub(rootEnd).Seconds()*1e3, "ms-end-to-last-dependant-submitted")
		b.ReportMetric(float64(n-1)/subs[n-1].Sub(subs[0]).Seconds(), "jobs/s")
		b.ReportMetric(wall.Seconds(), "s-wall")
	}
}

func BenchmarkSlurmWidth(b *testing.B) {
	cluster := slurmtest.Start(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newSlurmEnv(b, cluster)
		src, err := os.ReadFile("../../examples/width.hcl")
		if err != nil {
			b.Fatal(err)
		}
		e.write("width.hcl", string(src))
		b.StartTimer()
		start := time.Now()
		evs, wall, jobs := benchRun(b, e, "width.hcl")
		ends := jobEnds(b, e, jobs)
		type span struct{ from, to time.Time }
		var spans []span
		for _, ev := range evs {
			if id := jobs[ev.Node]; id != "" && ev.Event == "started" {
				spans = append(spans, span{ev.Time, ends[ev.Node]})
			}
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
		idle, cursor := time.Duration(0), start
		for _, s := range spans {
			if s.from.After(cursor) {
				idle += s.from.Sub(cursor)
			}
			if s.to.After(cursor) {
				cursor = s.to
			}
		}
		end := start.Add(wall)
		if end.After(cursor) {
			idle += end.Sub(cursor)
		}
		b.ReportMetric(float64(len(jobs)), "jobs")
		b.ReportMetric(wall.Seconds(), "s-wall")
		b.ReportMetric(idle.Seconds(), "s-driver-only")
		b.ReportMetric(100*idle.Seconds()/wall.Seconds(), "%-driver-overhead")
	}
}

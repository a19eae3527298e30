package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

var progressT0 = time.Date(2025, 3, 14, 15, 4, 5, 123456789, time.UTC)

func TestJSONDisplay(t *testing.T) {
	const ts = "2025-03-14T15:04:05.123456789Z"
	tests := []struct {
		name string
		e    pipelines.Event
		want map[string]any
	}{
		{"started", pipelines.Event{Time: progressT0, Type: pipelines.EventStart, Addr: `train.net["w64-s1"]`, Kind: "train"},
			map[string]any{"time": ts, "event": "started", "node": `train.net["w64-s1"]`, "kind": "train"}},
		{"progress", pipelines.Event{Time: progressT0, Type: pipelines.EventProgress, Addr: "text.a", Kind: "train",
			Progress: &stages.Progress{Done: 3, Total: 10, Unit: "epoch", Message: "loss 0.21"}},
			map[string]any{"time": ts, "event": "progress", "node": "text.a", "kind": "train",
				"done": 3.0, "total": 10.0, "unit": "epoch", "message": "loss 0.21"}},
		{"progress zero of unknown", pipelines.Event{Time: progressT0, Type: pipelines.EventProgress, Addr: "text.a",
			Progress: &stages.Progress{}},
			map[string]any{"time": ts, "event": "progress", "node": "text.a", "done": 0.0}},
		{"finished", pipelines.Event{Time: progressT0, Type: pipelines.EventDone, Addr: "text.a", Duration: 1500 * time.Millisecond},
			map[string]any{"time": ts, "event": "finished", "node": "text.a", "duration_s": 1.5}},
		{"cached", pipelines.Event{Time: progressT0, Type: pipelines.EventCached, Addr: "text.a"},
			map[string]any{"time": ts, "event": "cached", "node": "text.a"}},
		{"failed", pipelines.Event{Time: progressT0, Type: pipelines.EventFailed, Addr: "text.a", Err: errors.New("boom\ndetails")},
			map[string]any{"time": ts, "event": "failed", "node": "text.a", "error": "boom\ndetails"}},
		{"skipped", pipelines.Event{Time: progressT0, Type: pipelines.EventSkipped, Addr: "text.b", Message: "upstream failed"},
			map[string]any{"time": ts, "event": "skipped", "node": "text.b", "message": "upstream failed"}},
		{"waiting", pipelines.Event{Time: progressT0, Type: pipelines.EventWaiting, Addr: "text.b", Message: "another process"},
			map[string]any{"time": ts, "event": "waiting", "node": "text.b", "message": "another process"}},
		{"warning without node", pipelines.Event{Time: progressT0, Type: pipelines.EventWarning, Message: "no state"},
			map[string]any{"time": ts, "event": "warning", "node": "", "message": "no state"}},
	}
	var buf bytes.Buffer
	d := &jsonDisplay{w: &buf}
	for _, tt := range tests {
		d.Observe(tt.e)
	}
	d.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(tests) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tests), buf.String())
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
				t.Fatalf("line %q: %v", lines[i], err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestPlainDisplay(t *testing.T) {
	prog := func(done, total float64, unit, msg string) *stages.Progress {
		return &stages.Progress{Done: done, Total: total, Unit: unit, Message: msg}
	}
	tests := []struct {
		name string
		e    pipelines.Event
		want string
	}{
		{"started", pipelines.Event{Type: pipelines.EventStart, Addr: "text.a"}, "15:04:05 text.a started\n"},
		{"finished", pipelines.Event{Type: pipelines.EventDone, Addr: "text.a", Duration: 1234 * time.Millisecond}, "15:04:05 text.a finished in 1.2s\n"},
		{"finished fast", pipelines.Event{Type: pipelines.EventDone, Addr: "text.a", Duration: 1234 * time.Microsecond}, "15:04:05 text.a finished in 1ms\n"},
		{"cached", pipelines.Event{Type: pipelines.EventCached, Addr: `train.net["w64-s1"]`}, "15:04:05 train.net[\"w64-s1\"] cached\n"},
		{"failed", pipelines.Event{Type: pipelines.EventFailed, Addr: "text.a", Err: errors.New("boom\n  at line 3")}, "15:04:05 text.a failed: boom\n"},
		{"skipped", pipelines.Event{Type: pipelines.EventSkipped, Addr: "text.b", Message: "upstream failed: [text.a]"}, "15:04:05 text.b skipped: upstream failed: [text.a]\n"},
		{"waiting", pipelines.Event{Type: pipelines.EventWaiting, Addr: "text.b", Message: "another process"}, "15:04:05 text.b waiting: another process\n"},
		{"warning", pipelines.Event{Type: pipelines.EventWarning, Addr: "text.b", Message: "corrupt cache"}, "15:04:05 warning: text.b: corrupt cache\n"},
		{"warning without node", pipelines.Event{Type: pipelines.EventWarning, Message: "no state"}, "15:04:05 warning: no state\n"},
		{"stopping", pipelines.Event{Type: pipelines.EventStopping, Message: "SIGTERM received"}, "15:04:05 interrupted: SIGTERM received; stopping the running nodes (a second signal exits at once)\n"},
		{"progress", pipelines.Event{Type: pipelines.EventProgress, Addr: "text.a", Progress: prog(3, 10, "epoch", "loss 0.21")}, "15:04:05 text.a 3/10 epoch (30%) loss 0.21\n"},
		{"progress fractional", pipelines.Event{Type: pipelines.EventProgress, Addr: "text.a", Progress: prog(1.0/3, 1, "", "")}, "15:04:05 text.a 0.333/1 (33%)\n"},
		{"progress unknown total", pipelines.Event{Type: pipelines.EventProgress, Addr: "text.a", Progress: prog(42, 0, "pair", "")}, "15:04:05 text.a 42 pair\n"},
		{"progress message alone", pipelines.Event{Type: pipelines.EventProgress, Addr: "text.a", Progress: prog(0, 0, "", "weight matching 1, sweep 3")}, "15:04:05 text.a weight matching 1, sweep 3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			d := newPlainDisplay(&buf)
			d.now = func() time.Time { return progressT0 }
			tt.e.Time = progressT0
			d.Observe(tt.e)
			d.Close()
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPlainDisplayFlushes checks when the plain display writes: the lines of cached nodes
// wait in its buffer (a run of 10,000 cached nodes is one write, not 10,000), every other line
// is written at once with those before it, and after Close every line is.
func TestPlainDisplayFlushes(t *testing.T) {
	var buf bytes.Buffer
	d := newPlainDisplay(&buf)
	d.now = func() time.Time { return progressT0 }
	observe := func(typ pipelines.EventType, addr string) {
		d.Observe(pipelines.Event{Time: progressT0, Type: typ, Addr: addr})
	}
	observe(pipelines.EventCached, "text.a")
	observe(pipelines.EventCached, "text.b")
	if buf.Len() != 0 {
		t.Fatalf("cached lines written before another event or Close: %q", buf.String())
	}
	observe(pipelines.EventStart, "text.c")
	want := "15:04:05 text.a cached\n15:04:05 text.b cached\n15:04:05 text.c started\n"
	if got := buf.String(); got != want {
		t.Fatalf("after a start: got %q, want %q", got, want)
	}
	observe(pipelines.EventCached, "text.d")
	d.Close()
	want += "15:04:05 text.d cached\n"
	if got := buf.String(); got != want {
		t.Fatalf("after Close: got %q, want %q", got, want)
	}
	observe(pipelines.EventCached, "text.e")
	if want += "15:04:05 text.e cached\n"; buf.String() != want {
		t.Fatalf("a line after Close stays in the buffer: got %q, want %q", buf.String(), want)
	}
}

func TestPlainDisplayThrottle(t *testing.T) {
	var buf bytes.Buffer
	d := newPlainDisplay(&buf)
	now := progressT0
	d.now = func() time.Time { return now }
	steps := []struct {
		after time.Duration // clock advance before the event
		addr  string
		done  float64
	}{
		{0, "a", 1},               // first: printed
		{time.Second, "a", 2},     // throttled
		{0, "b", 1},               // another node's first: printed
		{4 * time.Second, "a", 3}, // 5s after a's first: printed
		{4 * time.Second, "a", 4}, // throttled
		{time.Second, "a", 5},     // printed
	}
	for _, s := range steps {
		now = now.Add(s.after)
		d.Observe(pipelines.Event{Time: now, Type: pipelines.EventProgress, Addr: s.addr, Progress: &stages.Progress{Done: s.done, Total: 10}})
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{"15:04:05 a 1/10 (10%)", "15:04:06 b 1/10 (10%)", "15:04:10 a 3/10 (30%)", "15:04:15 a 5/10 (50%)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTTYDisplay(t *testing.T) {
	tests := []struct {
		name     string
		nodes    int
		contains []string
		excludes []string
	}{
		{"no events", 0, []string{"0/0 nodes"}, nil},
		{"four nodes", 4, []string{"4/4 nodes", "n1 failed: boom", "warning: n2: careful", "n3 waiting: busy"}, []string{"second line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			d := newTTYDisplay(&buf, tt.nodes, mpb.WithWidth(100), mpb.WithRefreshRate(time.Millisecond))
			var wg sync.WaitGroup
			for i := range tt.nodes {
				wg.Go(func() {
					addr := fmt.Sprintf("n%d", i)
					d.Observe(pipelines.Event{Type: pipelines.EventStart, Addr: addr})
					for j := range 5 {
						d.Observe(pipelines.Event{Type: pipelines.EventProgress, Addr: addr,
							Progress: &stages.Progress{Done: float64(j), Total: 5, Unit: "step", Message: "ok"}})
						time.Sleep(time.Millisecond)
					}
					switch i {
					case 1:
						d.Observe(pipelines.Event{Type: pipelines.EventFailed, Addr: addr, Err: errors.New("boom\nsecond line")})
					case 2:
						d.Observe(pipelines.Event{Type: pipelines.EventWarning, Addr: addr, Message: "careful"})
						d.Observe(pipelines.Event{Type: pipelines.EventDone, Addr: addr})
					case 3:
						d.Observe(pipelines.Event{Type: pipelines.EventWaiting, Addr: addr, Message: "busy"})
						d.Observe(pipelines.Event{Type: pipelines.EventCached, Addr: addr})
					default:
						d.Observe(pipelines.Event{Type: pipelines.EventDone, Addr: addr})
					}
					// A late report after the end must not bring the bar back.
					d.Observe(pipelines.Event{Type: pipelines.EventProgress, Addr: addr, Progress: &stages.Progress{Done: 5, Total: 5}})
				})
			}
			wg.Wait()
			closed := make(chan struct{})
			go func() {
				d.Close()
				close(closed)
			}()
			select {
			case <-closed:
			case <-time.After(time.Second):
				t.Fatal("Close did not return within a second")
			}
			d.Observe(pipelines.Event{Type: pipelines.EventStart, Addr: "late"}) // ignored after Close
			got := buf.String()
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("output lacks %q:\n%s", s, got)
				}
			}
			for _, s := range tt.excludes {
				if strings.Contains(got, s) {
					t.Errorf("output has %q:\n%s", s, got)
				}
			}
		})
	}
}

func TestNewDisplay(t *testing.T) {
	tests := []struct {
		mode    string
		want    string // the display's type, or "" for an error
		wantErr string
	}{
		{"json", "*main.jsonDisplay", ""},
		{"plain", "*main.plainDisplay", ""},
		{"tty", "*main.ttyDisplay", ""},
		{"auto", "*main.plainDisplay", ""}, // a buffer is no terminal
		{"bogus", "", "valid: auto, tty, plain, json"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			d, err := newDisplay(tt.mode, &bytes.Buffer{}, 3)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if got := fmt.Sprintf("%T", d); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/modulo-ml/modulo/pipelines"
	"github.com/modulo-ml/modulo/stages"
)

// display shows run progress. Observe is the run's pipelines.Observer, called concurrently;
// Close, called once after the last event, flushes and stops live rendering so that the
// summary printed next is not overdrawn.
type display interface {
	Observe(e pipelines.Event)
	Close()
}

// plainThrottle spaces one node's progress lines in plain mode: a chatty stage must not flood a log.
const plainThrottle = 5 * time.Second

// newDisplay picks the display for mode. "auto" draws live bars only on a real terminal,
// because cursor movement garbles logs and pipes, and one of known size: on a 0-row pty
// mpb would draw nothing at all. total is the number of nodes in the run.
func newDisplay(mode string, w io.Writer, total int) (display, error) {
	switch mode {
	case "json":
		return &jsonDisplay{w: w}, nil
	case "tty":
		return newTTYDisplay(w, total), nil
	case "auto":
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" {
			if _, rows, err := term.GetSize(int(f.Fd())); err == nil && rows > 0 {
				return newTTYDisplay(w, total), nil
			}
		}
		fallthrough
	case "plain":
		return newPlainDisplay(w), nil
	}
	return nil, fmt.Errorf("unknown progress mode %q (valid: auto, tty, plain, json)", mode)
}

// jsonDisplay writes one JSON object per event. Nothing is throttled: the reader is a
// program, which may want every progress report.
type jsonDisplay struct {
	mu sync.Mutex
	w  io.Writer
}

// jsonEvent is the wire form of an event. Done is a pointer so that a first report of zero
// is still written; Total is left out when unknown.
type jsonEvent struct {
	Time     string   `json:"time"`
	Event    string   `json:"event"`
	Node     string   `json:"node"`
	Kind     string   `json:"kind,omitempty"`
	Done     *float64 `json:"done,omitempty"`
	Total    float64  `json:"total,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	Message  string   `json:"message,omitempty"`
	Error    string   `json:"error,omitempty"`
	Duration float64  `json:"duration_s,omitempty"`
}

func (d *jsonDisplay) Observe(e pipelines.Event) {
	je := jsonEvent{
		Time: e.Time.Format(time.RFC3339Nano), Event: string(e.Type), Node: e.Addr, Kind: e.Kind,
		Message: e.Message, Duration: e.Duration.Seconds(),
	}
	if p := e.Progress; p != nil { // marshalled before Observe returns, so &p.Done may be kept
		je.Done, je.Total, je.Unit, je.Message = &p.Done, p.Total, p.Unit, cmp.Or(p.Message, e.Message)
	}
	if e.Err != nil {
		je.Error = e.Err.Error()
	}
	b, err := json.Marshal(je)
	if err != nil { // only a NaN or infinite amount; keep the line rather than lose the event
		je.Done, je.Total = nil, 0
		b, _ = json.Marshal(je)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w.Write(append(b, '\n')) // one Write per line, so that lines never interleave
}

func (d *jsonDisplay) Close() {}

// plainDisplay writes timestamped lines for logs and CI. now is the clock used for
// throttling, a field so that tests can move time.
//
// Lines of cached nodes are buffered: they come in a burst at the start of a run (10,000 of
// them for a pipeline of that size, a write each cost more than planning it), and nothing
// waits on them. Any other line flushes them and itself at once, so that a log shows a node's
// start, progress or failure when it happens; Close flushes what is left.
type plainDisplay struct {
	mu     sync.Mutex
	w      *bufio.Writer
	now    func() time.Time
	last   map[string]time.Time // when each running node last printed progress
	closed bool                 // after Close every line is flushed
}

func newPlainDisplay(w io.Writer) *plainDisplay {
	return &plainDisplay{w: bufio.NewWriterSize(w, 64<<10), now: time.Now, last: map[string]time.Time{}}
}

func (d *plainDisplay) Observe(e pipelines.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if e.Type == pipelines.EventProgress {
		if last, ok := d.last[e.Addr]; ok && now.Sub(last) < plainThrottle {
			return
		}
		d.last[e.Addr] = now
	} else if endEvents[e.Type] {
		delete(d.last, e.Addr)
	}
	fmt.Fprintf(d.w, "%s %s\n", cmp.Or(e.Time, now).Format("15:04:05"), eventText(e))
	if e.Type != pipelines.EventCached || d.closed {
		d.w.Flush()
	}
}

func (d *plainDisplay) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.w.Flush()
}

// endEvents are a node's last events, the ones that count it as done.
var endEvents = map[pipelines.EventType]bool{
	pipelines.EventDone: true, pipelines.EventCached: true,
	pipelines.EventFailed: true, pipelines.EventSkipped: true,
}

// eventText describes an event in one line, without time. Errors are cut to their first
// line: the summary prints them whole, and a display line must stay one line (and so holds no
// control character).
func eventText(e pipelines.Event) string {
	msg := e.Message
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if msg, _, _ = strings.Cut(msg, "\n"); msg != "" {
		msg = ": " + pipelines.Printable(msg) // a message may quote what the user wrote
	}
	switch e.Type {
	case pipelines.EventDone: // milliseconds below a second, tenths above
		d := e.Duration.Round(100 * time.Millisecond)
		if e.Duration < time.Second {
			d = e.Duration.Round(time.Millisecond)
		}
		return e.Addr + " finished in " + d.String()
	case pipelines.EventWarning:
		if e.Addr == "" {
			return "warning" + msg
		}
		return "warning: " + e.Addr + msg
	case pipelines.EventProgress:
		return strings.TrimSpace(e.Addr + " " + progressText(e.Progress, ""))
	case pipelines.EventStatus: // "train.a running on node3, Slurm job 12"
		return e.Addr + " " + pipelines.Printable(e.Message)
	case pipelines.EventStopping: // the cause is a signal: see interruptible
		return "interrupted" + msg + "; stopping the running nodes (a second signal exits at once)"
	}
	return e.Addr + " " + string(e.Type) + msg
}

// progressText renders a report as "3/10 epoch (30%) <eta> loss 0.21", leaving out unknowns:
// a report of a message alone is the message.
func progressText(p *stages.Progress, eta string) string {
	if p == nil {
		return ""
	}
	if p.Done == 0 && p.Total == 0 && p.Unit == "" { // a status message alone
		return p.Message
	}
	s, pct := formatAmount(p.Done), ""
	if p.Total > 0 {
		s += "/" + formatAmount(p.Total)
		pct = fmt.Sprintf("(%d%%)", int(math.Floor(100*fraction(p))))
	}
	for _, part := range []string{p.Unit, pct, eta, p.Message} {
		if part != "" {
			s += " " + part
		}
	}
	return s
}

// formatAmount prints whole counts without decimals and others to three places.
func formatAmount(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// fraction is how much of a known total is done, clamped so that an overshoot stays 100%.
func fraction(p *stages.Progress) float64 { return min(max(p.Done/p.Total, 0), 1) }

// ttyDisplay draws live bars with mpb: one per running node and an overall one at the bottom.
// Every mpb call goes through channels served by mpb's goroutines, and the decorators those
// goroutines run read only atomics, never mu, so holding mu across mpb calls cannot deadlock.
type ttyDisplay struct {
	mu      sync.Mutex
	p       *mpb.Progress
	overall *mpb.Bar
	bars    map[string]*nodeBar
	ended   map[string]bool // nodes counted as done, whose late progress reports are ignored
	closed  bool
}

// nodeBar is one running node; prog holds the last report for the bar's decorator.
type nodeBar struct {
	bar   *mpb.Bar
	start time.Time
	prog  atomic.Pointer[stages.Progress]
}

// newTTYDisplay draws on w as on a terminal even if it is not one, so that "tty" works through
// tee (80 columns then). mpb's ForceTTY does not imply refreshing, hence both options.
func newTTYDisplay(w io.Writer, total int, opts ...mpb.ContainerOption) *ttyDisplay {
	opts = append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.ForceTTY(), mpb.WithAutoRefresh()}, opts...)
	p := mpb.New(opts...)
	d := &ttyDisplay{p: p, bars: map[string]*nodeBar{}, ended: map[string]bool{}}
	// Bars are created with an unknown total so that increments never complete them: only
	// Observe and Close end bars. SetTotal then only sets what the filler draws.
	d.overall = p.New(0, mpb.BarStyle(),
		mpb.BarPriority(math.MaxInt32), // the highest number is drawn last: at the bottom
		mpb.PrependDecorators(decor.Any(func(s decor.Statistics) string {
			return fmt.Sprintf("%d/%d nodes", s.Current, total)
		}, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncWidthR)))
	d.overall.SetTotal(int64(total), false)
	return d
}

func (d *ttyDisplay) Observe(e pipelines.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	switch e.Type {
	case pipelines.EventStart:
		d.bar(e.Addr)
	case pipelines.EventStatus:
		if nb := d.bar(e.Addr); nb != nil {
			nb.prog.Store(&stages.Progress{Message: e.Message})
		}
	case pipelines.EventProgress:
		if nb := d.bar(e.Addr); nb != nil && e.Progress != nil {
			p := *e.Progress
			nb.prog.Store(&p)
			if p.Total > 0 {
				nb.bar.SetTotal(1000, false) // mpb counts in integers, so per mille
				nb.bar.SetCurrent(int64(1000 * fraction(&p)))
			}
		}
	case pipelines.EventWarning, pipelines.EventWaiting, pipelines.EventFailed, pipelines.EventStopping:
		d.p.Write([]byte(eventText(e) + "\n")) // printed above the bars at the next refresh
	}
	if !endEvents[e.Type] {
		return
	}
	if nb := d.bars[e.Addr]; nb != nil {
		nb.bar.Abort(true) // drop: a finished node leaves no bar behind
		delete(d.bars, e.Addr)
	}
	if !d.ended[e.Addr] {
		d.ended[e.Addr] = true
		d.overall.Increment()
	}
}

// bar returns addr's bar, creating it if the node has not ended; nil otherwise.
func (d *ttyDisplay) bar(addr string) *nodeBar {
	if nb := d.bars[addr]; nb != nil || d.ended[addr] {
		return nb
	}
	nb := &nodeBar{start: time.Now()}
	name := decor.Name(addr, decor.WCSyncSpaceR)
	info := decor.Any(func(decor.Statistics) string { return nb.info() }, decor.WCSyncWidthR)
	bar, err := d.p.Add(0, mpb.BarStyle().Build(), mpb.PrependDecorators(name), mpb.AppendDecorators(info))
	if err != nil { // only once mpb has stopped
		return nil
	}
	nb.bar, d.bars[addr] = bar, nb
	return nb
}

// info renders the last report with an ETA extrapolated from the average rate so far.
func (nb *nodeBar) info() string {
	p := nb.prog.Load()
	if p == nil || p.Total <= 0 || p.Done <= 0 || p.Done >= p.Total {
		return progressText(p, "")
	}
	eta := time.Duration(float64(time.Since(nb.start)) * (p.Total - p.Done) / p.Done)
	return progressText(p, "ETA "+eta.Round(time.Second).String())
}

// Close ends every bar, so that mpb's Wait, which waits for all bars, returns after one last
// render. The overall bar is aborted, not completed, to keep its count truthful.
func (d *ttyDisplay) Close() {
	d.mu.Lock()
	d.closed = true
	for _, nb := range d.bars {
		nb.bar.Abort(true)
	}
	d.overall.Abort(false)
	d.mu.Unlock()
	d.p.Wait()
}

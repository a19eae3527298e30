package kinds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/lastlines"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/stages"
)

// manifest is the JSON file $MODULO_MANIFEST names: everything the command is given, for a
// script that prefers one file to many variables. FormatVersion changes when a field
// changes meaning.
type manifest struct {
	FormatVersion int                       `json:"format_version"`
	Address       string                    `json:"address"`
	Threads       int                       `json:"threads"`
	Inputs        map[string]manifestInput  `json:"inputs"`
	Outputs       map[string]manifestOutput `json:"outputs"`
}

type manifestInput struct {
	Type   string   `json:"type"`             // an artifact type (network, dataset, …), "networks" for a sequence, or "value"/"table"
	Path   string   `json:"path"`             // the file or directory
	Items  []string `json:"items,omitempty"`  // a sequence's files, in order
	SHA256 string   `json:"sha256,omitempty"` // an artifact's digest
	Meta   string   `json:"meta,omitempty"`   // a network's architecture, a dataset's shape
	CSV    string   `json:"csv,omitempty"`    // a table's CSV (Path is its JSON)
}

type manifestOutput struct {
	Type  string   `json:"type"`
	Path  string   `json:"path"`           // where the command writes it (a glob for networks)
	Arch  *nn.Arch `json:"arch,omitempty"` // what a network must be
	Names []string `json:"tensors,omitempty"`
}

// stopGrace is how long a stopped command has between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

func runCommand(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var c commandConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "modulo-command-")
	if err != nil {
		return nil, fmt.Errorf("making the working directory: %w", err)
	}
	defer os.RemoveAll(work)
	if err := placeFiles(in, work); err != nil {
		return nil, err
	}
	man := manifest{FormatVersion: 1, Address: in.Address, Threads: in.Threads,
		Inputs: map[string]manifestInput{}, Outputs: map[string]manifestOutput{}}
	if err := writeInputs(ctx, in, c.Inputs, filepath.Join(work, "inputs"), man.Inputs); err != nil {
		return nil, err
	}
	archs := map[string]nn.Arch{}
	for _, o := range c.Output {
		mo := manifestOutput{Type: o.Type, Path: filepath.Join(work, filepath.FromSlash(o.Path))}
		if o.Type == "network" || o.Type == "networks" {
			a, err := outputArch(ctx, in, o)
			if err != nil {
				return nil, err
			}
			archs[o.Name], mo.Arch = a, &a
			for _, p := range a.Spec().Params {
				mo.Names = append(mo.Names, p.Name)
			}
		}
		if o.Type != "networks" {
			if err := os.MkdirAll(filepath.Dir(mo.Path), 0o755); err != nil {
				return nil, err
			}
		}
		man.Outputs[o.Name] = mo
	}
	mb, _ := json.MarshalIndent(man, "", "  ")
	manPath := filepath.Join(work, "modulo-manifest.json")
	if err := os.WriteFile(manPath, append(mb, '\n'), 0o644); err != nil {
		return nil, err
	}
	env := []string{"OMP_NUM_THREADS=" + strconv.Itoa(in.Threads), "MKL_NUM_THREADS=" + strconv.Itoa(in.Threads)}
	env = append(env, os.Environ()...)
	env = append(env, "MODULO_MANIFEST="+manPath, "MODULO_THREADS="+strconv.Itoa(in.Threads), "MODULO_ADDRESS="+in.Address)
	for _, name := range slices.Sorted(maps.Keys(man.Inputs)) {
		env = append(env, "MODULO_INPUT_"+envName(name)+"="+man.Inputs[name].Path)
		if csv := man.Inputs[name].CSV; csv != "" {
			env = append(env, "MODULO_INPUT_"+envName(name)+"_CSV="+csv)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(man.Outputs)) {
		env = append(env, "MODULO_OUTPUT_"+envName(name)+"="+man.Outputs[name].Path)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		env = append(env, k+"="+c.Env[k])
	}
	log := newLogBuffer(in)
	if err := execute(ctx, c, work, env, log); err != nil {
		return nil, err
	}
	res := &stages.Result{Outputs: map[string]stages.Output{
		"log": {Artifacts: []stages.Artifact{{Data: log.Bytes(), Codec: artifacts.Raw}}},
	}}
	for _, o := range c.Output {
		out, err := readOutput(work, o, archs[o.Name])
		if err != nil {
			return nil, fmt.Errorf("output %q (%s %s): %w", o.Name, o.Type, o.Path, err)
		}
		res.Outputs[o.Name] = out
	}
	return res, nil
}

// placeFiles copies the files of the key into the working directory at their relative
// paths, with the content the plan hashed.
func placeFiles(in *stages.Input, work string) error {
	for _, f := range in.Files {
		var b []byte
		var err error
		if in.ReadFile != nil {
			b, err = in.ReadFile(f)
		} else {
			b, err = os.ReadFile(f.Path)
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(work, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		// Executable, so that run = ["./train.sh"] works: the file's mode is not keyed.
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// outputArch is the architecture a network output declares, for its dataset's shape.
func outputArch(ctx context.Context, in *stages.Input, o commandOutput) (nn.Arch, error) {
	if o.Data.IsNull() || o.Model.IsNull() {
		return nn.Arch{}, fmt.Errorf("output %q: a %s output needs data and model", o.Name, o.Type)
	}
	shape, err := shapeOf(ctx, in, stages.RefOf(o.Data))
	if err != nil {
		return nn.Arch{}, fmt.Errorf("output %q: its data: %w", o.Name, err)
	}
	a, err := modelArch(o.Model, shape)
	if err != nil {
		return a, fmt.Errorf("output %q: model: %w", o.Name, err)
	}
	return a, nil
}

// execute runs the command in work and waits for it: to its end, to the timeout, or to
// ctx's cancellation, which stop its whole process group (SIGTERM, then SIGKILL after
// stopGrace). What it prints goes to log.
func execute(ctx context.Context, c commandConfig, work string, env []string, log *logBuffer) error {
	cmd := exec.Command(c.Run[0], c.Run[1:]...)
	cmd.Dir = work
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	// A process the command left running in the background and that holds its output open
	// must not keep the node waiting forever.
	cmd.WaitDelay = 2 * time.Second
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return fmt.Errorf("cannot start %s: %v; install it or give its path in run", c.Run[0], ee.Err)
		}
		return fmt.Errorf("cannot start %s: %w", c.Run[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var expire <-chan time.Time
	var limit time.Duration
	if c.Timeout != nil {
		limit, _ = time.ParseDuration(*c.Timeout) // checked by the schema
		t := time.NewTimer(limit)
		defer t.Stop()
		expire = t.C
	}
	// kill ends whatever of the group is left and waits for it to be gone.
	kill := func() {
		signalGroup(cmd, sigKill)
		groupGone(cmd, stopGrace)
	}
	stop := func() error {
		signalGroup(cmd, sigTerm)
		t := time.NewTimer(stopGrace)
		defer t.Stop()
		defer kill()
		select {
		case err := <-done:
			return err
		case <-t.C:
			signalGroup(cmd, sigKill)
			return <-done
		}
	}
	var err error
	select {
	case err = <-done:
		kill() // whatever it left running
	case <-ctx.Done():
		stop()
		return ctx.Err()
	case <-expire:
		stop()
		return fmt.Errorf("%s ran longer than its timeout of %s and was stopped; raise timeout if it needs longer. The last lines it printed:\n%s", c.Run[0], limit, log.Tail(20))
	}
	if err == nil || errors.Is(err, exec.ErrWaitDelay) {
		return nil
	}
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		how := fmt.Sprintf("exited with status %d", xe.ExitCode())
		if xe.ExitCode() < 0 {
			how = "was killed: " + xe.String()
		}
		return fmt.Errorf("%s %s. The last lines it printed:\n%s", c.Run[0], how, log.Tail(20))
	}
	return fmt.Errorf("running %s: %w", c.Run[0], err)
}

// readOutput reads one declared output from the working directory.
func readOutput(work string, o commandOutput, arch nn.Arch) (stages.Output, error) {
	p := filepath.Join(work, filepath.FromSlash(o.Path))
	if o.Type == "networks" {
		matches, err := filepath.Glob(p)
		if err != nil {
			return stages.Output{}, err
		}
		if len(matches) == 0 {
			return stages.Output{}, fmt.Errorf("the command wrote no file matching %s", o.Path)
		}
		slices.SortFunc(matches, naturalCompare)
		var out stages.Output
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				return out, err
			}
			rel, _ := filepath.Rel(work, m)
			a, err := networkArtifact(b, arch)
			if err != nil {
				return out, fmt.Errorf("%s: %w", filepath.ToSlash(rel), err)
			}
			out.Artifacts = append(out.Artifacts, a)
		}
		return out, nil
	}
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return stages.Output{}, fmt.Errorf("the command did not write it (it exited successfully); check the path, or write to $MODULO_OUTPUT_%s", envName(o.Name))
	case err != nil:
		return stages.Output{}, err
	case !st.Mode().IsRegular():
		return stages.Output{}, fmt.Errorf("it is not a regular file")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return stages.Output{}, err
	}
	switch o.Type {
	case "network":
		a, err := networkArtifact(b, arch)
		return stages.Output{Artifacts: []stages.Artifact{a}}, err
	case "table":
		format, err := tableFormat(o.Format, o.Path)
		if err != nil {
			return stages.Output{}, err
		}
		v, err := parseTable(b, format)
		return stages.Output{Value: v}, err
	}
	return stages.Output{Artifacts: []stages.Artifact{{Data: b, Codec: artifacts.Raw, Meta: filepath.Base(p)}}}, nil
}

// networkArtifact checks a network file against arch and stores it as modulo writes
// networks: the same parameters give the same artifact whatever else the file held (its
// metadata, its tensors' order).
func networkArtifact(b []byte, arch nn.Arch) (stages.Artifact, error) {
	n, err := nn.DecodeNetworkAs(b, arch)
	if err != nil {
		return stages.Artifact{}, err
	}
	return encodeNetwork(n)
}

// naturalCompare orders paths with runs of digits compared as numbers, so that
// ckpt_ep10 comes after ckpt_ep9.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// logBuffer keeps what the command prints, up to logHead bytes from the start and logTail
// from the end (a chatty run's middle is left out, and said to be), and reports each
// line to the progress display, at most every logEvery.
type logBuffer struct {
	mu      sync.Mutex
	in      *stages.Input
	head    []byte
	tail    []byte
	dropped int64
	partial []byte
	last    time.Time
}

const (
	logHead  = 256 << 10
	logTail  = 4 << 20
	logEvery = 100 * time.Millisecond
)

func newLogBuffer(in *stages.Input) *logBuffer { return &logBuffer{in: in} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rest := p
	if room := logHead - len(l.head); room > 0 {
		k := min(room, len(rest))
		l.head = append(l.head, rest[:k]...)
		rest = rest[k:]
	}
	l.tail = append(l.tail, rest...)
	if over := len(l.tail) - logTail; over > 0 {
		// Drop down to three quarters, so that a long run copies rarely.
		cut := over + logTail/4
		l.dropped += int64(cut)
		l.tail = append(l.tail[:0], l.tail[cut:]...)
	}
	l.partial = append(l.partial, p...)
	if i := bytes.LastIndexByte(l.partial, '\n'); i >= 0 {
		lines := l.partial[:i]
		if j := bytes.LastIndexByte(lines, '\n'); j >= 0 {
			lines = lines[j+1:]
		}
		line := strings.TrimSpace(string(lines))
		l.partial = append(l.partial[:0], l.partial[i+1:]...)
		if line != "" && time.Since(l.last) >= logEvery {
			l.last = time.Now()
			if len(line) > 200 {
				line = line[:200] + "…"
			}
			l.in.Report(stages.Progress{Message: line})
		}
	}
	if len(l.partial) > 64<<10 { // a line that never ends
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

// Bytes returns the log kept.
func (l *logBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.head)
	if l.dropped > 0 {
		out = append(out, fmt.Sprintf("\n[… %d bytes left out …]\n", l.dropped)...)
	}
	return append(out, l.tail...)
}

// Tail returns the last n lines of the log, indented for an error message.
func (l *logBuffer) Tail(n int) string {
	return indentTail(l.Bytes(), n)
}

// indentTail returns the last n lines of b, each indented, or a note that there were none.
func indentTail(b []byte, n int) string {
	lines, _ := lastlines.Of(string(b), n)
	if lines == nil {
		return "  (nothing)"
	}
	return "  " + strings.Join(lines, "\n  ")
}

// tableFormat is a table output's format: format, else the path's extension.
func tableFormat(format *string, path string) (string, error) {
	if format != nil {
		return *format, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv", nil
	case ".json":
		return "json", nil
	}
	return "", fmt.Errorf("%s has neither a .csv nor a .json extension; say which it is with format = \"csv\" or \"json\"", path)
}

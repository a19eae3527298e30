package slurm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Statuses returns the status of each job id asked for: from squeue for jobs still known
// to the controller, and for finished ones from sacct, falling back to `sacct -c`
// (jobcomp/filetxt) when accounting storage is off, then to `scontrol show job`. A job
// Slurm no longer knows at all is absent from the map (the caller decides).
//
// The controller forgets a finished job MinJobAge seconds (300 by default) after it ends;
// only then are the slower sources asked, and only about the ids squeue did not list, so
// a poll of running jobs costs one squeue. An error of squeue (the controller does not
// answer) is returned: absent jobs would then mean nothing. When sacct fails for another
// reason than accounting being off and a job is then found nowhere, Statuses returns what
// it found together with that error, so that a caller does not take a database outage for
// lost jobs.
func (c *Client) Statuses(ctx context.Context, ids []string) (map[string]Status, error) {
	found := make(map[string]Status, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	list := strings.Join(ids, ",")
	out, err := c.run(ctx, nil, nil, "squeue", "--noheader", "--states=all", "--jobs="+list,
		"--Format="+squeueFormat)
	if err != nil && !isInvalidJobID(err) {
		return nil, err
	}
	if err == nil {
		sts, err := parseSqueue(string(out))
		if err != nil {
			return nil, fmt.Errorf("squeue: %w", err)
		}
		merge(found, ids, sts)
	}
	var errs []error
	for _, src := range []struct {
		name string
		args []string
	}{
		{"sacct", nil},
		{"sacct", []string{"--completion"}},
	} {
		missing := absent(found, ids)
		if len(missing) == 0 {
			return found, nil
		}
		args := append(src.args, "--noheader", "--parsable2", "--allocations",
			"--jobs="+strings.Join(missing, ","), "--format="+sacctFormat)
		out, err := c.run(ctx, nil, nil, "sacct", args...)
		if err != nil {
			if !accountingOff(err) {
				errs = append(errs, err)
			}
			continue
		}
		sts, err := parseSacct(string(out))
		if err != nil {
			return nil, fmt.Errorf("sacct: %w", err)
		}
		merge(found, ids, sts)
	}
	if missing := absent(found, ids); len(missing) > 0 {
		out, err := c.run(ctx, nil, nil, "scontrol", "--oneliner", "show", "job")
		if err != nil {
			return found, err
		}
		sts, err := parseScontrol(string(out))
		if err != nil {
			return nil, fmt.Errorf("scontrol: %w", err)
		}
		merge(found, ids, sts)
	}
	if len(absent(found, ids)) > 0 && len(errs) > 0 {
		return found, errors.Join(errs...)
	}
	return found, nil
}

// The fields asked of squeue and sacct, in the order the parsers read them. squeue's
// exit_code is the raw wait status; ":|" ends each field with "|" and pads nothing.
const (
	squeueFormat = "JobID:|,State:|,Reason:|,NodeList:|,exit_code:|"
	sacctFormat  = "JobID,State,ExitCode,NodeList"
)

// merge adds to found the statuses of the ids asked for; a later status of the same id
// (a job printed twice, as a requeued one is) replaces an earlier one.
func merge(found map[string]Status, ids []string, sts []Status) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	for _, st := range sts {
		if want[st.ID] {
			found[st.ID] = st
		}
	}
}

// absent returns the ids that found has no status for.
func absent(found map[string]Status, ids []string) []string {
	var out []string
	for _, id := range ids {
		if _, ok := found[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// isInvalidJobID reports whether err is squeue refusing a list of ids none of which the
// controller knows, which means nothing more than that they are absent.
func isInvalidJobID(err error) bool {
	var ce *CmdError
	return errors.As(err, &ce) && strings.Contains(ce.Stderr, "Invalid job id specified")
}

// accountingOff reports whether err is sacct saying that there is no accounting storage
// (AccountingStorageType=accounting_storage/none) or, with --completion, no job completion
// log to read: sources that are not configured, not failures.
func accountingOff(err error) bool {
	var ce *CmdError
	if !errors.As(err, &ce) {
		return false
	}
	s := strings.ToLower(ce.Stderr)
	return strings.Contains(s, "accounting storage is disabled") ||
		strings.Contains(s, "jobcomp/none") || strings.Contains(s, "no job completion")
}

// parseSqueue parses `squeue --noheader --Format=` + squeueFormat:
//
//	1|FAILED|NonZeroExitCode|vm|768|
func parseSqueue(out string) ([]Status, error) {
	var sts []Status
	for _, line := range lines(out) {
		f := strings.Split(line, "|")
		if len(f) < 5 {
			return nil, fmt.Errorf("line %q: want 5 fields separated by |", line)
		}
		st := Status{ID: f[0], State: parseState(f[1]), Reason: f[2], Node: null(f[3])}
		st.ExitCode, st.Signal = -1, 0
		if st.State.Done() {
			w, err := strconv.Atoi(strings.TrimSpace(f[4]))
			if err != nil {
				return nil, fmt.Errorf("line %q: exit code %q: %w", line, f[4], err)
			}
			st.ExitCode, st.Signal = waitStatus(w)
		}
		sts = append(sts, normalize(st))
	}
	return sts, nil
}

// waitStatus splits a raw wait(2) status, as squeue prints exit_code, into an exit code
// and a signal: the same two numbers sacct and scontrol print as "code:signal".
func waitStatus(w int) (code, signal int) {
	if w&0x7f != 0 {
		return 0, w & 0x7f
	}
	return (w >> 8) & 0xff, 0
}

// parseSacct parses `sacct --noheader --parsable2 --format=` + sacctFormat, from
// accounting or (with --completion) from the jobcomp/filetxt log:
//
//	1|FAILED|3:0|vm
//	3|CANCELLED by 0|0:15|vm
func parseSacct(out string) ([]Status, error) {
	var sts []Status
	for _, line := range lines(out) {
		f := strings.Split(line, "|")
		if len(f) < 4 {
			return nil, fmt.Errorf("line %q: want 4 fields separated by |", line)
		}
		if strings.Contains(f[0], ".") {
			continue // a step (1.batch), should --allocations be ignored
		}
		st := Status{ID: f[0], State: parseState(f[1]), Node: null(f[3])}
		st.ExitCode, st.Signal = exitCode(f[2], st.State)
		sts = append(sts, normalize(st))
	}
	return sts, nil
}

// parseScontrol parses `scontrol --oneliner show job`: one line of Key=Value pairs per
// job, or "No jobs in the system".
func parseScontrol(out string) ([]Status, error) {
	var sts []Status
	for _, line := range lines(out) {
		if strings.HasPrefix(line, "No jobs") {
			continue
		}
		kv := keyValues(line)
		id, ok := kv["JobId"]
		if !ok {
			return nil, fmt.Errorf("line %q: no JobId", line)
		}
		st := Status{ID: id, State: parseState(kv["JobState"]), Reason: kv["Reason"], Node: null(kv["NodeList"])}
		st.ExitCode, st.Signal = exitCode(kv["ExitCode"], st.State)
		sts = append(sts, normalize(st))
	}
	return sts, nil
}

// keyValues splits a line of scontrol's Key=Value pairs. A word without "=" (or whose key
// could not be one) continues the previous value, so that a job name or a path with
// spaces stays whole.
func keyValues(line string) map[string]string {
	kv := map[string]string{}
	last := ""
	for _, w := range strings.Fields(line) {
		k, v, ok := strings.Cut(w, "=")
		if ok && isKey(k) {
			kv[k], last = v, k
			continue
		}
		if last != "" {
			kv[last] += " " + w
		}
	}
	return kv
}

// isKey reports whether k can be one of scontrol's keys: letters first, then letters,
// digits and the "_", ":" and "/" of MCS_label, AllocNode:Sid or CPUs/Task.
func isKey(k string) bool {
	if k == "" || !(k[0] >= 'A' && k[0] <= 'Z' || k[0] >= 'a' && k[0] <= 'z') {
		return false
	}
	for _, r := range k {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == ':' || r == '/') {
			return false
		}
	}
	return true
}

// exitCode parses "code:signal" for a job in state s; both are unknown (-1, 0) until
// the job is done.
func exitCode(s string, state State) (code, signal int) {
	if !state.Done() {
		return -1, 0
	}
	c, sig, ok := strings.Cut(strings.TrimSpace(s), ":")
	code, err1 := strconv.Atoi(c)
	signal, err2 := strconv.Atoi(sig)
	if !ok || err1 != nil || err2 != nil {
		return -1, 0
	}
	return code, signal
}

// normalize applies the rules every source shares: Reason only for a pending job, and
// "None" is no reason.
func normalize(st Status) Status {
	if st.State != Pending || st.Reason == "None" || st.Reason == "(null)" {
		st.Reason = ""
	}
	return st
}

// null maps Slurm's spellings of nothing ("(null)", "None assigned") to "".
func null(s string) string {
	s = strings.TrimSpace(s)
	if s == "(null)" || s == "None assigned" || s == "None" {
		return ""
	}
	return s
}

// lines returns the non-empty lines of out, trimmed.
func lines(out string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

package slurm

import (
	"reflect"
	"testing"
)

// The outputs below were captured from Debian 12's Slurm 22.05 (the sacct accounting
// lines are in the same --parsable2 format, from the man page's fields).

func TestParseSqueue(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []Status
	}{
		{"empty", "", nil},
		{"states", `2|COMPLETED|None|vm|0|
1|FAILED|NonZeroExitCode|vm|768|
5|FAILED|BadConstraints||1|
4|PENDING|Resources||0|
6|PENDING|Priority||0|
3|RUNNING|None|vm|0|
7|CANCELLED|None|vm|15|
8|CANCELLED|DependencyNeverSatisfied||0|
9|PENDING|JobHeldUser||0|
`, []Status{
			{ID: "2", State: Completed, Node: "vm", ExitCode: 0},
			{ID: "1", State: Failed, Node: "vm", ExitCode: 3},
			{ID: "5", State: Failed, ExitCode: 0, Signal: 1},
			{ID: "4", State: Pending, Reason: "Resources", ExitCode: -1},
			{ID: "6", State: Pending, Reason: "Priority", ExitCode: -1},
			{ID: "3", State: Running, Node: "vm", ExitCode: -1},
			{ID: "7", State: Cancelled, Node: "vm", ExitCode: 0, Signal: 15},
			{ID: "8", State: Cancelled, ExitCode: 0},
			{ID: "9", State: Pending, Reason: "JobHeldUser", ExitCode: -1},
		}},
		{"node list", "12|RUNNING|None|node[01-02]|0|\n", []Status{
			{ID: "12", State: Running, Node: "node[01-02]", ExitCode: -1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSqueue(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseSqueueErrors(t *testing.T) {
	for _, out := range []string{"1|RUNNING|None\n", "1|FAILED|None|vm|x|\n"} {
		if got, err := parseSqueue(out); err == nil {
			t.Errorf("parseSqueue(%q) = %+v, want an error", out, got)
		}
	}
}

func TestParseSacct(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []Status
	}{
		{"completion log", `2|COMPLETED|0:0|vm
1|FAILED|3:0|vm
5|FAILED|0:1|(null)
3|TIMEOUT|0:15|vm
`, []Status{
			{ID: "2", State: Completed, Node: "vm", ExitCode: 0},
			{ID: "1", State: Failed, Node: "vm", ExitCode: 3},
			{ID: "5", State: Failed, ExitCode: 0, Signal: 1},
			{ID: "3", State: Timeout, Node: "vm", ExitCode: 0, Signal: 15},
		}},
		{"accounting with steps", `41|CANCELLED by 0|0:15|c1
41.batch|CANCELLED|0:15|c1
42|OUT_OF_MEMORY|0:125|c2
42.batch|OUT_OF_MEMORY|0:125|c2
43|PENDING|0:0|None assigned
44|NODE_FAIL|1:0|c3
`, []Status{
			{ID: "41", State: Cancelled, Node: "c1", ExitCode: 0, Signal: 15},
			{ID: "42", State: OutOfMemory, Node: "c2", ExitCode: 0, Signal: 125},
			{ID: "43", State: Pending, ExitCode: -1},
			{ID: "44", State: NodeFail, Node: "c3", ExitCode: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSacct(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

const scontrolOut = `JobId=3 JobName=sl UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901757 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:01:07 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-12-05T11:33:49 EligibleTime=2026-12-05T11:33:49 AccrueTime=2026-12-05T11:33:49 StartTime=2026-12-05T11:33:51 EndTime=2026-12-05T11:34:58 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-05T11:33:51 Scheduler=Main Partition=debug AllocNode:Sid=localhost:5502 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/sl StdErr=/tmp/sl/out/s.out StdIn=/dev/null StdOut=/tmp/sl/out/s.out Power= 
JobId=1 JobName=fail three UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:00 TimeLimit=UNLIMITED NodeList=vm BatchHost=vm
JobId=4 JobName=sl2 UserId=root(0) GroupId=root(0) JobState=PENDING Reason=Resources Dependency=(null) ExitCode=0:0 NodeList=(null) SchedNodeList=vm
`

func TestParseScontrol(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []Status
	}{
		{"none", "No jobs in the system\n", nil},
		{"jobs", scontrolOut, []Status{
			{ID: "3", State: Cancelled, Node: "vm", ExitCode: 0, Signal: 15},
			{ID: "1", State: Failed, Node: "vm", ExitCode: 3},
			{ID: "4", State: Pending, Reason: "Resources", ExitCode: -1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseScontrol(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestKeyValues(t *testing.T) {
	kv := keyValues("JobId=1 JobName=fail three x=y AllocNode:Sid=h:1 CPUs/Task=1 WorkDir=/a b Power= ")
	for k, want := range map[string]string{
		"JobId": "1", "JobName": "fail three", "x": "y", "AllocNode:Sid": "h:1",
		"CPUs/Task": "1", "WorkDir": "/a b", "Power": "",
	} {
		if got, ok := kv[k]; !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, want)
		}
	}
}

func TestParseSubmit(t *testing.T) {
	for _, tc := range []struct {
		out, want string
		ok        bool
	}{
		{"17\n", "17", true},
		{"17;modulotest\n", "17", true},
		{"sbatch: warning: something\n18\n", "18", true},
		{"123_4\n", "123_4", true},
		{"", "", false},
		{"Submitted batch job 17\n", "", false},
	} {
		got, err := parseSubmit(tc.out)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSubmit(%q) = %q, %v; want %q, ok %v", tc.out, got, err, tc.want, tc.ok)
		}
	}
}

func TestState(t *testing.T) {
	for _, tc := range []struct {
		s             State
		done, requeue bool
	}{
		{Pending, false, false},
		{Running, false, false},
		{Completing, false, false},
		{Requeued, false, false},
		{Suspended, false, false},
		{"CONFIGURING", false, false},
		{Completed, true, false},
		{Failed, true, false},
		{Timeout, true, false},
		{OutOfMemory, true, false},
		{Cancelled, true, false},
		{Deadline, true, false},
		{Preempted, true, true},
		{NodeFail, true, true},
		{BootFail, true, true},
	} {
		if got := tc.s.Done(); got != tc.done {
			t.Errorf("%s.Done() = %v, want %v", tc.s, got, tc.done)
		}
		if got := tc.s.Requeue(); got != tc.requeue {
			t.Errorf("%s.Requeue() = %v, want %v", tc.s, got, tc.requeue)
		}
	}
}

func TestParseState(t *testing.T) {
	for in, want := range map[string]State{
		"CANCELLED by 0": Cancelled, " RUNNING ": Running, "CANCELLED+": Cancelled, "FAILED": Failed,
	} {
		if got := parseState(in); got != want {
			t.Errorf("parseState(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWaitStatus(t *testing.T) {
	for _, tc := range []struct{ w, code, sig int }{
		{0, 0, 0}, {768, 3, 0}, {256, 1, 0}, {15, 0, 15}, {9, 0, 9}, {255 << 8, 255, 0},
	} {
		if code, sig := waitStatus(tc.w); code != tc.code || sig != tc.sig {
			t.Errorf("waitStatus(%d) = %d, %d; want %d, %d", tc.w, code, sig, tc.code, tc.sig)
		}
	}
}

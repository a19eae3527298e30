// Package slurmtest starts a real single-node Slurm cluster for a test, the way
// artifacts/remote/remotetest starts nginx and versitygw: Debian's slurmctld, slurmd and
// munged as children of the test, every file they write (configuration, state, spool,
// logs, munge key and socket, job completion log) in the test's temporary directory, their
// ports free ones of 127.0.0.1 and bound there only, and everything stopped when the test
// ends.
//
// Its node has two fake GPUs (GPUs, of gres/gpu) on a machine that may have none. A job
// may ask for them (sbatch --gpus=1, Job.GPUs), and two one-GPU jobs may run at once
// (CPUs permitting): Slurm allocates them like real ones, sets the job's SLURM_GPUS,
// SLURM_JOB_GPUS and CUDA_VISIBLE_DEVICES (0 or 1), and ShowJob shows the request
// (TresPerJob=gres:gpu:1). There is no GPU behind them: their devices are /dev/null and
// /dev/zero.
//
// Without Slurm or munge it skips the test with a hint on how to install them (`make
// servers` does), except where Required says the test must fail instead: on CI.
//
// It is meant for tests only: it imports package testing.
package slurmtest

import (
	"bytes"
	"context"
	"fmt"
	"net"

	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modulo-ml/modulo/slurm"
)

// installSlurm says how to install what Start needs.
const installSlurm = "sudo apt-get install slurm-wlm munge (or: make servers)"

// ClusterName is the name of every cluster Start starts.
const ClusterName = "modulotest"

// Cluster is a running single-node Slurm cluster, stopped at the end of the test that
// started it.
type Cluster struct {
	dir, conf, node string
	scontrol        string // path of scontrol
	client          *slurm.Client
}

// Client returns a client of the cluster: its Env points Slurm's commands at the
// cluster's configuration (SLURM_CONF), which jobs inherit too (sbatch --export=ALL).
func (c *Cluster) Client() *slurm.Client {
	cl := *c.client
	cl.Env = append([]string(nil), c.client.Env...)
	return &cl
}

// Dir returns the cluster's directory, where its files are; jobs may write under it.
func (c *Cluster) Dir() string { return c.dir }

// Conf returns the path of the cluster's slurm.conf.
func (c *Cluster) Conf() string { return c.conf }

// Node returns the name of the cluster's one node (the host's short name, as slurmd -C
// gives it), which a job's Status.Node names.
func (c *Cluster) Node() string { return c.node }

// ShowJob returns what `scontrol show job <id>` prints about a job, run with the cluster's
// configuration, failing the test if scontrol fails (as it does for a job the controller
// does not know, or no longer: MinJobAge keeps finished jobs for five minutes). It holds
// what squeue and sacct do not say, such as a job's GPU request ("TresPerJob=gres:gpu:1"
// for --gpus=1, "TresPerNode=gres:gpu:2" for --gres=gpu:2).
func (c *Cluster) ShowJob(t testing.TB, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.scontrol, "show", "job", id)
	cmd.Env = append(os.Environ(), c.client.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scontrol show job %s: %v: %s", id, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return string(out)
}

// Required reports whether a missing Slurm must fail the test rather than skip it: when
// MODULO_REQUIRE_SERVERS=1, or on CI (CI set to anything but "", "0" or "false"). It is
// remotetest.Required, not imported so as not to link the AWS SDK into Slurm's tests.
func Required() bool {
	if os.Getenv("MODULO_REQUIRE_SERVERS") == "1" {
		return true
	}
	ci := strings.ToLower(os.Getenv("CI"))
	return ci != "" && ci != "0" && ci != "false"
}

// missing skips the test, or fails it where servers are required.
func missing(t testing.TB, name string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is not installed, and CI or MODULO_REQUIRE_SERVERS=1 requires it; install it with: %s", name, installSlurm)
	}
	t.Skipf("%s is not installed; install it with: %s", name, installSlurm)
}

// findBinary looks for name on PATH, then in the given directories.
func findBinary(name string, dirs ...string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// Start starts a single-node cluster with one partition, debug, and GPUs fake GPUs, and
// returns once its node is idle (about 1.2 s). A job submitted to it starts within a
// second or two: slurmctld schedules what was submitted on its background loop's next
// one-second tick. Without Slurm's daemons, its commands or munged it skips the test, or
// fails it where Required.
//
// At cleanup it cancels every job, stops slurmd, slurmctld and munged, and kills whatever
// is left of them and of the jobs: slurmd starts each job's slurmstepd in a session of
// its own, which outlives slurmd, so those are found by a variable that every process of
// the cluster inherits (see kill).
func Start(t testing.TB) *Cluster {
	t.Helper()
	sbin := []string{"/usr/sbin", "/usr/local/sbin"}
	bins := map[string]string{}
	for _, name := range []string{"slurmctld", "slurmd", "munged", "sbatch", "squeue", "sacct", "scancel", "scontrol", "sinfo"} {
		if bins[name] = findBinary(name, sbin...); bins[name] == "" {
			missing(t, name)
		}
	}
	dir := t.TempDir()
	c := &Cluster{dir: dir, conf: filepath.Join(dir, "slurm.conf"), scontrol: bins["scontrol"]}
	// marker is in the environment of every process of this cluster: the daemons, the
	// slurmstepd they start, and the jobs (sbatch passes the client's environment on).
	marker := "MODULO_SLURMTEST=" + dir
	env := append(os.Environ(), "SLURM_CONF="+c.conf, marker)
	c.client = &slurm.Client{Env: []string{"SLURM_CONF=" + c.conf, marker}, Bin: filepath.Dir(bins["sbatch"])}

	var daemons []*daemon
	t.Cleanup(func() { c.stop(t, daemons, bins["scancel"], env, marker) })

	socket := startMunge(t, dir, bins["munged"], env, &daemons)

	nodeLine, node := probeNode(t, bins["slurmd"])
	c.node = node
	ctldPort, slurmdPort := freePort(t), freePort(t)
	for _, d := range []string{"state", "spool"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	slurmUser := "root"
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		slurmUser = u.Username
	}
	conf := fmt.Sprintf(config, ClusterName, node, ctldPort, slurmdPort, slurmUser, socket, dir, nodeLine, GPUs)
	if err := os.WriteFile(c.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// slurmd reads gres.conf from the directory of slurm.conf.
	if err := os.WriteFile(filepath.Join(dir, "gres.conf"), []byte(gresConfig(node)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctld := start(t, dir, "slurmctld", env, &daemons, bins["slurmctld"], "-D", "-i", "-f", c.conf)
	slurmd := start(t, dir, "slurmd", env, &daemons, bins["slurmd"], "-D", "-f", c.conf, "-N", node)
	c.waitIdle(t, bins["sinfo"], env, ctld, slurmd)
	return c
}

// config is the cluster's slurm.conf; its verbs are ClusterName, the node's name, the
// controller's and slurmd's ports, SlurmUser, munged's socket, the cluster's directory,
// the node's line from slurmd -C and GPUs. Why each setting:
//
//   - AuthInfo=socket= points slurmctld, slurmd and every command (they all read this
//     file) at the test's munged; cred/munge, which signs job credentials, reads the same
//     AuthInfo, so no other setting names the socket.
//   - CommunicationParameters binds slurmctld and slurmd to their 127.0.0.1 addresses
//     (SlurmctldHost's and NodeAddr) instead of every interface.
//   - select/cons_tres with CR_Core: cores are the consumable resource, not memory, or a
//     job without --mem would take the whole node.
//   - batch_sched_delay=0 schedules a submitted batch job at once.
//   - MinJobAge=300 keeps finished jobs visible to squeue and scontrol for five minutes.
//   - KillWait=2 and OverTimeLimit=0 cut a job at its time limit plus 2 s, not 30 s, and
//     keep the TIMEOUT test near a minute; keep OverTimeLimit=0.
//   - There is no slurmdbd: AccountingStorageType=accounting_storage/none, and finished
//     jobs go to jobcomp/filetxt's log, which `sacct --completion` reads.
//   - ProctrackType=proctrack/linuxproc and TaskPlugin=task/none need no cgroups or
//     systemd; MailProg=/bin/true quiets the missing mail program.
//   - GresTypes=gpu and the node's Gres=gpu:N declare the fake GPUs, which gres.conf
//     backs with devices (see gresConfig).
const config = `ClusterName=%[1]s
SlurmctldHost=%[2]s(127.0.0.1)
SlurmctldPort=%[3]d
SlurmdPort=%[4]d
SlurmUser=%[5]s
SlurmdUser=%[5]s
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%[6]s
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
StateSaveLocation=%[7]s/state
SlurmdSpoolDir=%[7]s/spool
SlurmctldPidFile=%[7]s/slurmctld.pid
SlurmdPidFile=%[7]s/slurmd.pid
SlurmctldLogFile=%[7]s/slurmctld.log
SlurmdLogFile=%[7]s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
ReturnToService=2
MinJobAge=300
KillWait=2
OverTimeLimit=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=%[7]s/jobcomp.txt
GresTypes=gpu
%[8]s Gres=gpu:%[9]d NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`

// GPUs is how many fake GPUs the cluster's node advertises.
const GPUs = len(gpuFiles)

// gpuFiles are the devices that stand for the fake GPUs in gres.conf, one each. Slurm
// 22.05's slurmd drops a GPU declared with a Count but no File ("Removing file-less GPU"
// in its log, and slurmctld then drains the node: "gres/gpu count reported lower than
// configured"); with a regular file it logs "is not a valid character or block device"
// and sets no CUDA_VISIBLE_DEVICES in the job. Character devices that every machine has
// pass both checks; with TaskPlugin=task/none nothing restricts a job's devices to them.
var gpuFiles = [...]string{"/dev/null", "/dev/zero"}

// gresConfig returns the cluster's gres.conf for the node: no autodetection (of NVML and
// the like), and one line per fake GPU.
func gresConfig(node string) string {
	var b strings.Builder
	b.WriteString("AutoDetect=off\n")
	for _, f := range gpuFiles {
		fmt.Fprintf(&b, "NodeName=%s Name=gpu File=%s\n", node, f)
	}
	return b.String()
}

// probeNode runs slurmd -C and returns its NodeName line (the node's real CPUs, sockets,
// cores and memory: with less than declared, slurmd would drain the node, and sbatch
// refuses --mem beyond RealMemory) and the node's name.
func probeNode(t testing.TB, slurmd string) (line, name string) {
	t.Helper()
	out, err := exec.Command(slurmd, "-C").Output()
	if err != nil {
		t.Fatalf("slurmd -C: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "NodeName=") {
			name, _, _ = strings.Cut(strings.TrimPrefix(l, "NodeName="), " ")
			return strings.TrimSpace(l), name
		}
	}
	t.Fatalf("slurmd -C printed no NodeName line:\n%s", out)
	return "", ""
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitIdle waits until sinfo shows the node idle, failing the test with the daemons'
// logs if one of them exits or 30 s pass.
func (c *Cluster) waitIdle(t testing.TB, sinfo string, env []string, ds ...*daemon) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for {
		cmd := exec.Command(sinfo, "--noheader", "--Node", "--format=%t")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		last = strings.TrimSpace(string(out))
		if err == nil && last == "idle" {
			return
		}
		for _, d := range ds {
			if d.exited() {
				t.Fatalf("%s exited while starting:\n%s", d.name, c.explain(ds))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not idle after 30 s (sinfo: %s):\n%s", c.node, last, c.explain(ds))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// explain returns the daemons' output and logs, to say why the cluster did not start.
func (c *Cluster) explain(ds []*daemon) string {
	var b strings.Builder
	for _, d := range ds {
		for _, f := range []string{d.out, filepath.Join(c.dir, d.name+".log")} {
			if data, err := os.ReadFile(f); err == nil {
				fmt.Fprintf(&b, "%s:\n%s\n", f, tail(data, 40))
			}
		}
	}
	return b.String()
}

// tail returns the last n lines of data.
func tail(data []byte, n int) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, nil)
}

// stop cancels every job, stops the daemons in the reverse of their start, then kills
// whatever process of the cluster is left.
func (c *Cluster) stop(t testing.TB, ds []*daemon, scancel string, env []string, marker string) {
	if len(ds) == 3 { // all started: there may be jobs
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, scancel, "--full", "--user="+currentUser())
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("slurmtest: scancel at cleanup: %v: %s", err, out)
		}
		cancel()
		// Not waiting for the jobs to end: kill ends whatever is left of them below.
	}
	for i := len(ds) - 1; i >= 0; i-- {
		ds[i].stop()
	}
	kill(marker)
}

// currentUser returns the name of the user running the test, whose jobs these are.
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return fmt.Sprint(os.Getuid())
}

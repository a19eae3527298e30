// Package slurm submits batch jobs to a Slurm cluster, follows their states and cancels
// them, by running Slurm's own commands (sbatch, squeue, sacct, scontrol, scancel). It
// knows Slurm and nothing of modulo's pipelines: the Slurm executor turns a ready node
// into a Job running `modulo worker ACTION`, and reads back a State.
//
// # Why the commands and not the REST API
//
// slurmrestd needs its own daemon, JWT (or a local socket) authentication and a
// configured key, none of which Debian 12's packages set up by default; a site running
// Slurm always has the commands on its login nodes, and they authenticate through munge
// as the user who runs them, which is exactly the identity jobs must run as. The parts of
// their output read here are stable across versions: `sbatch --parsable` prints "id" or
// "id;cluster", squeue's --Format fields and sacct's --parsable2 have not changed meaning
// in years. Every failure is a *CmdError carrying the command and Slurm's own message.
//
// # Finding finished jobs without accounting
//
// squeue (with --states=all) sees a job from submission until MinJobAge seconds after it
// ends, 300 by default. After that only a record written somewhere else knows it:
//
//   - sacct, when the cluster runs slurmdbd (AccountingStorageType=accounting_storage/slurmdbd);
//   - `sacct --completion`, which reads the job completion log of
//     JobCompType=jobcomp/filetxt (JobCompLoc), a plain file needing no daemon: this is
//     what small clusters without a database, and the tests' cluster, use;
//   - `scontrol show job`, the controller's own view, as a last resort.
//
// Statuses asks them in that order, each about the ids the previous ones did not know. A
// job none of them knows is absent from its result: the caller decides whether that means
// lost. Job ids are unique only within one controller's life: a cluster started afresh
// (new StateSaveLocation) numbers from 1 again, and its completion log may still hold the
// old jobs of the same numbers.
package slurm

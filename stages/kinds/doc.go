// Package kinds holds modulo's stage kinds, one file each: dataset, train, prune, match,
// interpolate, merge_three, report and command (which runs a user's program; running it
// and its file formats are in command_run.go and command_io.go). Each registers itself in
// stages.Default from init, so a program offers them by importing this package (the modulo command does; the engine's
// own tests do not, and use the numerics-free kinds of stages/stagetest instead).
//
// A kind turns its configuration into calls of package nn and nn's results into artifacts;
// it knows nothing of HCL or the cache (see package stages).
package kinds

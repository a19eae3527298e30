package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHelpListsEveryCommand compares the help with the dispatch table: every command and
// cache subcommand that runs is listed by `modulo help`, `modulo cache` lists the cache ones,
// each name listed runs (and is not "unknown"), and the README's usage names each one, so
// that a new subcommand cannot be left out of any of them.
func TestHelpListsEveryCommand(t *testing.T) {
	var help, stderr bytes.Buffer
	if code := Main([]string{"help"}, &help, &stderr); code != 0 {
		t.Fatalf("modulo help: exit %d, stderr %s", code, &stderr)
	}
	listed := listedNames(help.String())
	var want, hidden []string
	for _, c := range commands() {
		if c.hidden { // plumbing: not listed, but it must run
			hidden = append(hidden, c.name)
			continue
		}
		want = append(want, c.name)
		for _, s := range c.subs {
			want = append(want, c.name+" "+s.name)
		}
	}
	if got := strings.Join(listed, ","); got != strings.Join(want, ",") {
		t.Errorf("modulo help lists\n  %s\nwant (the dispatch table)\n  %s", got, strings.Join(want, ","))
	}

	// Every listed name dispatches, and so does each hidden one: its -h prints its own usage.
	for _, name := range append(listed, hidden...) {
		args := append(strings.Fields(name), "-h")
		var out, errOut bytes.Buffer
		Main(args, &out, &errOut)
		all := out.String() + errOut.String()
		usage := "Usage: modulo " + name
		if name == "help" {
			usage = "Usage: modulo COMMAND" // help -h is the help
		}
		if strings.Contains(all, "unknown") || !strings.Contains(all, usage) {
			t.Errorf("modulo %s: want its usage, got:\n%s", strings.Join(args, " "), all)
		}
	}

	// modulo cache alone and modulo cache -h print the same list.
	var bare, dashH bytes.Buffer
	if code := Main([]string{"cache"}, &bare, &stderr); code != 2 {
		t.Errorf("modulo cache: exit %d, want 2", code)
	}
	if code := Main([]string{"cache", "-h"}, &dashH, &stderr); code != 0 {
		t.Errorf("modulo cache -h: exit %d, want 0", code)
	}
	if bare.String() != dashH.String() {
		t.Errorf("modulo cache printed\n%s\nbut modulo cache -h\n%s", &bare, &dashH)
	}
	for _, c := range commands() {
		for _, s := range c.subs {
			if !regexp.MustCompile(`(?m)^  ` + s.name + ` `).MatchString(bare.String()) {
				t.Errorf("modulo %s does not list %s:\n%s", c.name, s.name, &bare)
			}
		}
	}

	// The README's "Using it" names each command and cache subcommand.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if c.name == "help" || c.name == "version" || c.hidden {
			continue
		}
		if !regexp.MustCompile(`(?m)^modulo +` + c.name + `\b`).Match(readme) {
			t.Errorf("README.md has no usage line for modulo %s", c.name)
		}
		for _, s := range c.subs {
			if !regexp.MustCompile(`(?m)^modulo +` + c.name + `\b.*\b` + s.name + `\b`).Match(readme) {
				t.Errorf("README.md has no usage line for modulo %s %s", c.name, s.name)
			}
		}
	}
}

// listedNames returns the command names of the help's Commands section, "cache gc" for a
// subcommand.
func listedNames(help string) []string {
	_, list, _ := strings.Cut(help, "Commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	var names []string
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) > 1 && f[0] == "cache" && !strings.HasPrefix(f[1], "SUBCOMMAND") {
			names = append(names, f[0]+" "+f[1])
			continue
		}
		names = append(names, f[0])
	}
	return names
}

func TestVersionWritesToStdout(t *testing.T) {
	var out, stderr bytes.Buffer
	if code := Main([]string{"version"}, &out, &stderr); code != 0 || out.String() != "modulo "+version+"\n" {
		t.Errorf("modulo version: exit %d, stdout %q, want 0 and %q", code, &out, "modulo "+version+"\n")
	}
}

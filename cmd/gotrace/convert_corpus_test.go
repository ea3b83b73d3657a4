package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// TestConvertCorpus runs decode, pprof, export and split on every trace in the Go
// tree's trace test corpus, valid and invalid: each command either succeeds
// or fails with one line on stderr and a non-zero status, and never panics.
// On the traces the corpus expects to be valid, every command succeeds.
func TestConvertCorpus(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(goroot)), "src", "internal", "trace", "testdata", "tests", "*.test"))
	if err != nil || len(files) == 0 {
		t.Skipf("no trace test corpus in GOROOT: %v", err)
	}
	dir := t.TempDir()
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var expect, text []byte
		for _, f := range ar.Files {
			switch f.Name {
			case "expect":
				expect = f.Data
			case "trace":
				text = f.Data
			}
		}
		data, err := format.Assemble(text)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		name := filepath.Join(dir, strings.TrimSuffix(filepath.Base(file), ".test")+".trace")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		valid := bytes.HasPrefix(bytes.TrimSpace(expect), []byte("SUCCESS"))
		for _, args := range [][]string{
			{"decode", name, "--gen", "1-"},
			{"decode", "--json", name, "--type", "GoCreate"},
			{"pprof", "--type", "sched", name, "-o", name + ".sched.pb.gz"},
			{"pprof", "--type", "region", name, "-o", name + ".region.pb.gz"},
			{"export", "--format", "perfetto", name, "-o", name + ".perfetto-trace"},
			{"export", "--format", "chrome", "--time", "1us-", name, "-o", name + ".json"},
			{"split", name, "-o", name + ".part"},
		} {
			io, _, errOut := fakeStreams(false)
			code := run(args, io)
			if valid && code != exitOK {
				// N.B. a valid trace may hold no user region, or nothing
				// after the first microsecond: those say so and fail.
				if !strings.Contains(errOut.String(), "nothing matches") && !strings.Contains(errOut.String(), "nothing to export") {
					t.Errorf("%s: %v: exit %d: %s", filepath.Base(file), args[:3], code, errOut)
				}
				continue
			}
			if code != exitOK && strings.Count(errOut.String(), "\n") != 1 {
				t.Errorf("%s: %v: exit %d with stderr %q, want one line", filepath.Base(file), args[:3], code, errOut)
			}
		}
	}
}

// TestOldFormat: pprof and export read Go 1.11–1.21 traces, split cannot
// (they have no generations) and says so, and a cut old trace is an error
// that says it ends early, not one about its format.
func TestOldFormat(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	file := filepath.Join(strings.TrimSpace(string(goroot)), "src", "internal", "trace", "internal", "tracev1", "testdata", "http_1_21_good")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Skipf("no Go 1.21 trace in GOROOT: %v", err)
	}
	dir := t.TempDir()
	whole, cut := filepath.Join(dir, "old.trace"), filepath.Join(dir, "cut.trace")
	if err := os.WriteFile(whole, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, data[:4000], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"pprof", "--type", "sched", whole, "-o", whole + ".pb.gz"}, exitOK, ""},
		{[]string{"export", whole, "-o", whole + ".perfetto-trace"}, exitOK, ""},
		{[]string{"split", whole, "-o", whole}, exitError, "old.trace: byte 0x0: go1.21: trace format of Go 1.11–1.21; "},
		// N.B. The old format names no byte: every command says the same.
		{[]string{"pprof", "--type", "sched", cut, "-o", cut + ".pb.gz"}, exitError, "cut.trace: failed to read trace: EOF (the trace ends early)\n"},
		{[]string{"export", cut, "-o", cut + ".perfetto-trace"}, exitError, "cut.trace: failed to read trace: EOF (the trace ends early)\n"},
		{[]string{"stats", cut}, exitError, "cut.trace: failed to read trace: EOF (the trace ends early)\n"},
		{[]string{"goroutines", cut}, exitError, "cut.trace: failed to read trace: EOF (the trace ends early)\n"},
		{[]string{"tasks", cut}, exitError, "cut.trace: failed to read trace: EOF (the trace ends early)\n"},
		{[]string{"view", "--print", cut}, exitError, "cut.trace: failed to read trace: EOF (the trace ends early)\n"},
	} {
		io, _, errOut := fakeStreams(false)
		if code := run(c.args, io); code != c.code || !strings.Contains(errOut.String(), c.err) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d, %q", c.args[:2], code, errOut, c.code, c.err)
		}
	}
}

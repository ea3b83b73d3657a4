package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestEmptyFileSaysWhere: every command that reads a trace says, for an
// empty file, the file and byte 0x0, in one line, with exit status 1.
func TestEmptyFileSaysWhere(t *testing.T) {
	dir, file := writeTrace(t, nil)
	for _, args := range [][]string{
		{"decode", "--summary", file},
		{"stats", file},
		{"check", file, "--assert", "gc.stw.max < 5ms"},
		{"split", file, "-o", filepath.Join(dir, "part")},
		{"pprof", "--type", "cpu", file, "-o", filepath.Join(dir, "cpu.pb.gz")},
		{"export", file, "-o", filepath.Join(dir, "trace.json")},
	} {
		io, _, errOut := fakeStreams(false)
		code := run(args, io)
		want := "gotrace: " + file + ": byte 0x0: empty input, want a trace header\n"
		if code != exitError || errOut.String() != want {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", args[0], code, errOut, exitError, want)
		}
	}
}

// TestOutputIsNotTheInput: an output path that names the trace being read,
// itself or through a link, is refused before anything is written: the
// trace is left as it was.
func TestOutputIsNotTheInput(t *testing.T) {
	data, err := os.ReadFile(workersTrace)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "w.trace")
	link := filepath.Join(dir, "link.trace")
	part := filepath.Join(dir, "w.001.trace") // split -o w's first part
	for _, p := range []string{file, part} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		out  string
	}{
		{[]string{"export", file, "-o", file}, file},
		{[]string{"export", "--format", "chrome", link, "-o", file}, file},
		{[]string{"export", file, "-o", link}, link},
		{[]string{"pprof", "--type", "sched", file, "-o", link}, link},
		{[]string{"split", part, "-o", filepath.Join(dir, "w")}, part},
	} {
		io, _, errOut := fakeStreams(false)
		code := run(c.args, io)
		want := "gotrace: " + c.out + ": is the trace being read: write the output elsewhere\n"
		if code != exitError || errOut.String() != want {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, exitError, want)
		}
		for _, p := range []string{file, part} {
			if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%v: %s changed (%v)", c.args, p, err)
			}
		}
	}
}

// TestShortFileSaysWhat: a file shorter than a trace's header is either
// not a trace or a trace cut in its header, and every command that reads
// a trace says which in the same line, with exit status 1.
func TestShortFileSaysWhat(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"hello", `byte 0x0: not a Go execution trace (want header "go 1.NN trace\x00\x00\x00")`},
		{"go 1.26 tr", "byte 0xa: want a 16-byte header, input ends after 10: unexpected EOF"},
	} {
		dir, file := writeTrace(t, []byte(c.data))
		for _, args := range [][]string{
			{"decode", "--summary", file},
			{"stats", file},
			{"check", file, "--assert", "gc.stw.max < 5ms"},
			{"diff", workersTrace, file},
			{"split", file, "-o", filepath.Join(dir, "part")},
			{"pprof", "--type", "cpu", file, "-o", filepath.Join(dir, "cpu.pb.gz")},
			{"export", file, "-o", filepath.Join(dir, "trace.json")},
			{"goroutines", file},
			{"tasks", file},
			{"view", "--print", file},
		} {
			io, _, errOut := fakeStreams(false)
			code := run(args, io)
			want := "gotrace: " + file + ": " + c.want + "\n"
			if code != exitError || errOut.String() != want {
				t.Errorf("%q, %s: exit %d, stderr %q; want %d and %q", c.data, args[0], code, errOut, exitError, want)
			}
		}
	}
}

// fullWriter fails every write as a full disk does.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestFullStdout: a command whose standard output cannot be written says
// so and exits 1, also when what it prints there is a list beside files
// it wrote.
func TestFullStdout(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"decode", "--summary", annotatedTrace},
		{"stats", annotatedTrace},
		{"goroutines", annotatedTrace},
		{"tasks", annotatedTrace},
		{"view", "--print", annotatedTrace},
		{"split", annotatedTrace, "-o", filepath.Join(dir, "part")},
		{"export", "--format", "parquet", "-o", filepath.Join(dir, "tables"), annotatedTrace},
	} {
		io, _, errOut := fakeStreams(false)
		io.Out = fullWriter{}
		if code := run(args, io); code != exitError || !strings.Contains(errOut.String(), "no space left on device") || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 1 and one line saying the disk is full", args, code, errOut)
		}
	}
}

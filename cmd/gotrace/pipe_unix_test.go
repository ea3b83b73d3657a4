//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNamedPipe: a trace named by the path of a pipe (a FIFO, or
// /dev/stdin on a pipe) cannot be read at offsets. The commands that
// stream read it as they read a file (the same output), the others say in
// one line that it is not a regular file and why they need one.
func TestNamedPipe(t *testing.T) {
	data, err := os.ReadFile(workersTrace)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// pipe runs gotrace with args, PIPE in them standing for a FIFO the
	// trace is written into.
	pipe := func(args ...string) (int, string, string) {
		t.Helper()
		fifo := filepath.Join(dir, "trace.fifo")
		os.Remove(fifo)
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip(err)
		}
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			w.Write(data) // N.B. a command that refuses the pipe closes it early
			w.Close()
		}()
		var a []string
		for _, s := range args {
			a = append(a, strings.ReplaceAll(s, "PIPE", fifo))
		}
		io, out, errOut := fakeStreams(false)
		code := run(a, io)
		// A command that never opened the pipe leaves the writer waiting
		// for a reader: one that comes and goes ends its wait, and its
		// writing fails.
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			r.Close()
		}
		<-wrote
		return code, out.String(), strings.ReplaceAll(errOut.String(), fifo, "PIPE")
	}
	file := func(args ...string) (int, string) {
		t.Helper()
		var a []string
		for _, s := range args {
			a = append(a, strings.ReplaceAll(s, "PIPE", workersTrace))
		}
		io, out, _ := fakeStreams(false)
		return run(a, io), out.String()
	}

	for _, c := range []struct {
		args []string
		why  string
	}{
		{[]string{"stats", "PIPE"}, "give a file, or - to read standard input"},
		{[]string{"check", "PIPE", "--assert", "gc.stw.max < 5ms"}, "give a file, or - to read standard input"},
		{[]string{"pprof", "--type", "sched", "PIPE", "-o", filepath.Join(dir, "p.pb.gz")}, "pprof reads the trace twice, from a file"},
		{[]string{"split", "PIPE", "-o", filepath.Join(dir, "part")}, "split copies generations by their offsets, from a file"},
		{[]string{"export", "--gen", "1", "PIPE", "-o", filepath.Join(dir, "g.json")}, "--gen copies generations by their offsets, from a file"},
		{[]string{"tasks", "PIPE"}, "this command reads the parts of a trace it needs, from a file"},
	} {
		code, _, errOut := pipe(c.args...)
		want := "gotrace: PIPE: not a regular file: " + c.why + "\n"
		if code != exitError || errOut != want {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.args[0], code, errOut, exitError, want)
		}
	}
	for _, args := range [][]string{
		{"goroutines", "--json", "--top", "0", "PIPE"},
		{"export", "--format", "chrome", "PIPE"},
		{"decode", "--summary", "PIPE"},
	} {
		code, out, errOut := pipe(args...)
		wantCode, want := file(args...)
		// N.B. Named by its path, which export and decode show.
		out = strings.ReplaceAll(out, filepath.Join(dir, "trace.fifo"), workersTrace)
		out = strings.ReplaceAll(out, "trace.fifo", filepath.Base(workersTrace))
		if args[0] == "decode" {
			// N.B. The first line names the file, and a file's size.
			_, out, _ = strings.Cut(out, "\n")
			_, want, _ = strings.Cut(want, "\n")
		}
		if code != wantCode || code != exitOK || !bytes.Equal([]byte(out), []byte(want)) {
			t.Errorf("%s: exit %d (%q), %d bytes of output; from the file, exit %d, %d bytes", args[0], code, errOut, len(out), wantCode, len(want))
		}
	}
}

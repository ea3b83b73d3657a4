package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestRecordArgs checks how the command line splits into packages, the
// program's arguments and flags.
func TestRecordArgs(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		packages []string
		progArgs []string
		usage    bool
	}{
		{args: nil},
		{args: []string{"./cmd/server"}, packages: []string{"./cmd/server"}},
		{args: []string{"./cmd/server", "--", "-addr", ":8080"}, packages: []string{"./cmd/server"}, progArgs: []string{"-addr", ":8080"}},
		{args: []string{"./cmd/server", "-addr", ":8080"}, packages: []string{"./cmd/server"}, progArgs: []string{"-addr", ":8080"}},
		{args: []string{"--cpu", ".", "--", "--", "x"}, packages: []string{"."}, progArgs: []string{"--", "x"}},
		{args: []string{"--", "-v"}, progArgs: []string{"-v"}},
		{args: []string{"main.go", "util.go", "x.go"}, packages: []string{"main.go", "util.go", "x.go"}},
		{args: []string{"main.go", "--", "x.go"}, packages: []string{"main.go"}, progArgs: []string{"x.go"}},
		{args: []string{"main.go", "arg", "x.go"}, packages: []string{"main.go"}, progArgs: []string{"arg", "x.go"}},
		{args: []string{".", "x.go"}, packages: []string{"."}, progArgs: []string{"x.go"}},
		{args: []string{"--test", "./a", "./b", "--", "-run", "X"}, packages: []string{"./a", "./b"}, progArgs: []string{"-run", "X"}},
		{args: []string{"--test", "./a"}, packages: []string{"./a"}},
		{args: []string{"--url", "http://h:1"}, usage: true},
		{args: []string{"--url", "http://h:1", "--duration", "1s", "."}, usage: true},
		{args: []string{"--url", "http://h:1", "--duration", "1s", "--cpu"}, usage: true},
		{args: []string{"--url", "http://h:1", "--duration", "1s"}},
		{args: []string{"--flight", "1s", "--duration", "1s"}, usage: true},
		{args: []string{"--duration", "-1s"}, usage: true},
	} {
		var got *recordOptions
		io := &Streams{Out: new(bytes.Buffer), ErrOut: new(bytes.Buffer)}
		cmd := newRecordCmd(io, func(o *recordOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(io.Out)
		cmd.SetErr(io.ErrOut)
		err := cmd.Execute()
		var ue usageError
		if isUsage := err != nil && errors.As(err, &ue); isUsage != tc.usage {
			t.Errorf("%q: error %v, want usage error %v", tc.args, err, tc.usage)
			continue
		}
		if tc.usage {
			continue
		}
		if got == nil {
			t.Errorf("%q: not run (%v)", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(got.Packages, tc.packages) || !reflect.DeepEqual(got.Args, tc.progArgs) {
			t.Errorf("%q: packages %q, args %q; want %q, %q", tc.args, got.Packages, got.Args, tc.packages, tc.progArgs)
		}
	}
}

// TestRecordProgress runs a recording with fake streams: on a terminal a
// live line is drawn and cleared; otherwise stderr gets the summary only.
func TestRecordProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	for _, tty := range []bool{true, false} {
		// N.B. Not bytes.Buffers: os/exec copies the program's output
		// into them from its own goroutine, and a Buffer's ReadFrom would
		// race with gotrace's own lines.
		var out, errOut lockedBuffer
		trace := filepath.Join(t.TempDir(), "tick.trace")
		opts := &recordOptions{
			IO:       &Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, ErrTTY: tty},
			Packages: []string{"../../testdata/progs/exits"},
			Args:     []string{"tick", "800ms"},
			Output:   trace,
		}
		if err := runRecord(opts); err != nil {
			t.Fatalf("tty=%v: %v\n%s", tty, err, errOut.String())
		}
		if out.String() != "done\n" {
			t.Errorf("tty=%v: program output %q", tty, out.String())
		}
		stderr := errOut.String()
		drawn := strings.Contains(stderr, "\r\x1b[Krecording exits: ")
		if drawn != tty {
			t.Errorf("tty=%v: progress drawn %v:\n%q", tty, drawn, stderr)
		}
		last := stderr[strings.LastIndex(stderr, "\x1b[K")+len("\x1b[K"):]
		if !tty {
			last = stderr
		}
		if !strings.HasPrefix(last, "gotrace: wrote "+trace+": ") || strings.Count(last, "\n") != 1 {
			t.Errorf("tty=%v: want one summary line after the progress, got %q", tty, last)
		}
	}
}

// lockedBuffer is a buffer safe for concurrent writes, with no ReadFrom.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

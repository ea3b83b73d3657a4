package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"golang.org/x/exp/trace"
)

const annotatedTrace = "../../testdata/traces/annotated.trace"

// fakeStreams returns streams over buffers that claim to be a terminal or not.
func fakeStreams(tty bool) (*Streams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := new(bytes.Buffer), new(bytes.Buffer)
	return &Streams{In: strings.NewReader(""), Out: out, ErrOut: errOut, OutTTY: tty, ErrTTY: tty, Getenv: func(string) string { return "" }}, out, errOut
}

// TestBinaryRefusesTerminal: profiles and Perfetto traces never go to a
// terminal; with -o they go to the file, and JSON may go to a terminal.
func TestBinaryRefusesTerminal(t *testing.T) {
	for _, args := range [][]string{
		{"pprof", "--type", "cpu", annotatedTrace},
		{"export", "--format", "perfetto", annotatedTrace},
		{"export", annotatedTrace}, // perfetto is the default
	} {
		io, out, errOut := fakeStreams(true)
		if code := run(args, io); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
		if out.Len() != 0 {
			t.Errorf("%v: %d bytes written to the terminal", args, out.Len())
		}
		if want := "gotrace: refusing to write binary output to a terminal: use -o FILE or redirect stdout\n"; errOut.String() != want {
			t.Errorf("%v: stderr %q, want %q", args, errOut, want)
		}
	}

	dir := t.TempDir()
	io, out, errOut := fakeStreams(true)
	io.ErrTTY = false // no progress line
	file := filepath.Join(dir, "cpu.pb.gz")
	if code := run([]string{"pprof", "--type", "cpu", annotatedTrace, "-o", file}, io); code != exitOK {
		t.Fatalf("pprof -o: exit %d: %s", code, errOut)
	}
	if out.Len() != 0 || errOut.Len() != 0 {
		t.Errorf("pprof -o: stdout %q, stderr %q", out, errOut)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	if len(p.Sample) == 0 || p.SampleType[0].Type != "samples" {
		t.Errorf("cpu profile: %d samples of %v", len(p.Sample), p.SampleType)
	}

	io, out, errOut = fakeStreams(true)
	if code := run([]string{"export", "--format", "chrome", annotatedTrace}, io); code != exitOK {
		t.Fatalf("export chrome to a terminal: exit %d: %s", code, errOut)
	}
	var doc struct {
		TraceEvents []json.RawMessage `json:"traceEvents"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.TraceEvents) == 0 {
		t.Errorf("chrome JSON on the terminal: %d events, %v", len(doc.TraceEvents), err)
	}
	// No progress line is drawn over the timeline on the same terminal.
	if errOut.Len() != 0 {
		t.Errorf("export chrome to a terminal: stderr %q, want nothing", errOut)
	}
}

func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"pprof", "--type", "cpu", "nosuch.trace", "-o", "x"}, exitError},
		{[]string{"pprof", "--type", "heap", annotatedTrace}, exitUsage},
		{[]string{"pprof", annotatedTrace, annotatedTrace}, exitUsage},
		{[]string{"export", "--format", "svg", annotatedTrace}, exitUsage},
		{[]string{"export", "--format", "chrome", "--time", "x", annotatedTrace}, exitUsage},
		{[]string{"split", annotatedTrace}, exitUsage},
		{[]string{"split", "nosuch.trace", "-o", "x"}, exitError},
	} {
		io, _, errOut := fakeStreams(false)
		if code := run(c.args, io); code != c.code {
			t.Errorf("%v: exit %d, want %d (%s)", c.args, code, c.code, errOut)
		}
		if lines := strings.Count(errOut.String(), "\n"); lines != 1 {
			t.Errorf("%v: %d lines on stderr, want 1: %q", c.args, lines, errOut)
		}
	}
}

// TestSplitFiles splits into real files: each part is named PREFIX.NNN.trace,
// read whole by x/exp/trace, and no temporary file is left behind.
func TestSplitFiles(t *testing.T) {
	dir := t.TempDir()
	io, out, errOut := fakeStreams(false)
	prefix := filepath.Join(dir, "part")
	if code := run([]string{"split", annotatedTrace, "-o", prefix}, io); code != exitOK {
		t.Fatalf("split: exit %d: %s", code, errOut)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(entries) != len(lines) || len(entries) < 2 {
		t.Fatalf("%d files, %d lines of output:\n%s", len(entries), len(lines), out)
	}
	for i, e := range entries {
		if want := partName("part", i+1); e.Name() != want {
			t.Errorf("file %d is %q, want %q", i, e.Name(), want)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		r, err := trace.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		for {
			if _, err := r.ReadEvent(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: x/exp/trace: %v", e.Name(), err)
				}
				break
			}
		}
	}
}

func TestParseFlags(t *testing.T) {
	for in, want := range map[string]window{"100ms-2s": {From: 1e8, To: 2e9}, "1s-": {From: 1e9}, "-500ms": {To: 5e8}} {
		if got, err := parseWindow(in); err != nil || got != want {
			t.Errorf("parseWindow(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1s", "2s-1s", "x-1s", "1s-x", "-"} {
		if _, err := parseWindow(in); err == nil {
			t.Errorf("parseWindow(%q): no error", in)
		}
	}
	for in, want := range map[string]genRange{"3": {3, 3}, "2-5": {2, 5}, "4-": {4, 0}, "-2": {0, 2}} {
		if got, err := parseGenRange(in); err != nil || got != want {
			t.Errorf("parseGenRange(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", "0", "5-2", "a-b", "1-2-3"} {
		if _, err := parseGenRange(in); err == nil {
			t.Errorf("parseGenRange(%q): no error", in)
		}
	}
	for in, want := range map[string]int64{"100MB": 100e6, "512KiB": 512 << 10, "1e6": 1e6, "2 GB": 2e9, "10b": 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1MB", "10XB", "MB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

// TestProgress: on a terminal, stderr shows the share of the file read on
// one line, cleared at the end; piped, nothing.
func TestProgress(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"export", "--format", "chrome", annotatedTrace, "-o", filepath.Join(dir, "a.json")},
		{"export", "--gen", "2", annotatedTrace, "-o", filepath.Join(dir, "a.pf")},
		{"pprof", "--type", "sched", annotatedTrace, "-o", filepath.Join(dir, "a.pb.gz")},
	} {
		io, _, errOut := fakeStreams(true)
		if code := run(args, io); code != exitOK {
			t.Fatalf("%v: exit %d: %q", args, code, errOut)
		}
		got := errOut.String()
		if !strings.HasPrefix(got, "\r\x1b[Kgotrace: ") || !strings.Contains(got, "%") || !strings.HasSuffix(got, "100%\r\x1b[K") {
			t.Errorf("%v: stderr on a terminal %q, want a progress line cleared at 100%%", args, got)
		}
	}
}

// TestInterrupt: pprof, export and split stopped by a signal exit 130 and
// leave no file behind but the whole parts split had finished.
func TestInterrupt(t *testing.T) {
	defer func(f func() (context.Context, context.CancelFunc)) { onInterrupt = f }(onInterrupt)
	onInterrupt = func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // N.B. as if the signal came before the first read
		return ctx, cancel
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"pprof", "--type", "sched", annotatedTrace, "-o", "out.pb.gz"}, "gotrace: interrupted; nothing written\n"},
		{[]string{"export", annotatedTrace, "-o", "out.perfetto-trace"}, "gotrace: interrupted; nothing written\n"},
		{[]string{"export", "--gen", "2", annotatedTrace, "-o", "out.perfetto-trace"}, "gotrace: interrupted; nothing written\n"},
		{[]string{"split", annotatedTrace, "-o", "part"}, "gotrace: interrupted; the 0 parts above hold whole generations\n"},
	} {
		dir := t.TempDir()
		args := slices.Clone(c.args)
		args[len(args)-1] = filepath.Join(dir, args[len(args)-1])
		io, _, errOut := fakeStreams(false)
		if code := run(args, io); code != exitInterrupt || errOut.String() != c.err {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", c.args[:2], code, errOut, exitInterrupt, c.err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%v: left %v behind", c.args[:2], entries)
		}
	}
}

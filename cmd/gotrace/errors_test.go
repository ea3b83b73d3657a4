package main

import (
	"path/filepath"
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

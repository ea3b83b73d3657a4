package main

import (
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
)

// TestSampleOfUnknownStack: an 88-byte trace whose CPU sample names a stack
// its generation's table lacks made golang.org/x/exp/trace panic inside
// stats, check, pprof and export. Every command now says where the damage
// is, in one line, with exit status 1, as decode does.
func TestSampleOfUnknownStack(t *testing.T) {
	data, err := hex.DecodeString("676f20312e32362074726163650000000101ffffffffffffffffff01d589b1da34978080808080808080003208a8d6b907333bfe87c598ad1adbd99ed80698dbb2330101ffffffffffffffffff0100070607640100010534")
	if err != nil {
		t.Fatal(err)
	}
	dir, file := writeTrace(t, data)
	for _, args := range [][]string{
		{"stats", file},
		{"stats", "--json", file},
		{"check", file, "--assert", "goroutines.leaked == 0"},
		{"pprof", "--type", "cpu", file, "-o", filepath.Join(dir, "cpu.pb.gz")},
		{"export", file, "-o", filepath.Join(dir, "trace.pftrace")},
		{"goroutines", file},
		{"tasks", file},
		{"why", "--task", "1", file},
		{"decode", "--summary", file},
	} {
		io, _, errOut := fakeStreams(false)
		code := run(args, io)
		msg := errOut.String()
		if code != exitError || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "byte 0x51 (gen 1, batch 1): CPUSample: stack 5 is not in the stack table") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and one line naming the sample's stack at byte 0x51", args, code, msg)
		}
	}
}

package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
)

// The gotrace binary is built with profile-guided optimization from
// default.pgo, a CPU profile of its heaviest work. make pgo writes it
// again (see the Makefile): this test, given -pgo-out, runs that work on
// the stress trace make bench generates.
var (
	pgoOut   = flag.String("pgo-out", "", "write the CPU profile of gotrace's heaviest work to `file`")
	pgoTrace = flag.String("pgo-trace", filepath.Join("..", "..", "testdata", "bench", "stress.trace"), "the trace that work reads")
)

func TestWriteProfile(t *testing.T) {
	if *pgoOut == "" {
		t.Skip("writes default.pgo only when asked: -args -pgo-out=FILE")
	}
	if _, err := os.Stat(*pgoTrace); err != nil {
		t.Fatalf("%v (make bench generates the stress trace)", err)
	}
	f, err := os.Create(*pgoOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	defer pprof.StopCPUProfile()
	for _, args := range [][]string{
		{"stats", "--json", *pgoTrace},
		{"stats", *pgoTrace},
		{"decode", *pgoTrace},
		{"decode", "--json", *pgoTrace},
		{"decode", "--summary", *pgoTrace},
		{"pprof", "--type", "sched", "-o", filepath.Join(t.TempDir(), "sched.pb.gz"), *pgoTrace},
		{"export", "-o", filepath.Join(t.TempDir(), "trace.pftrace"), *pgoTrace},
	} {
		var errOut strings.Builder
		io := &Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut, Getenv: func(string) string { return "" }}
		if code := run(args, io); code != exitOK {
			t.Fatalf("gotrace %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
	}
}

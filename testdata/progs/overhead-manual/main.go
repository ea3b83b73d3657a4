// Command overhead-manual is testdata/progs/overhead with runtime/trace
// started and stopped by hand in main: the baseline gotrace record's
// overhead is measured against. It prints how long the workload took.
//
//	go run ./testdata/progs/overhead-manual -o overhead.trace -jobs 500000
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/trace"

	"github.com/gotrace-cli/gotrace/testdata/progs/overhead/work"
)

func main() {
	jobs := flag.Int("jobs", 500000, "jobs to run")
	out := flag.String("o", "overhead.trace", "write the trace to `file`")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "overhead-manual:", err)
		os.Exit(1)
	}
	if err := trace.Start(f); err != nil {
		fmt.Fprintln(os.Stderr, "overhead-manual:", err)
		os.Exit(1)
	}
	d, check := work.Run(*jobs)
	trace.Stop()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "overhead-manual:", err)
		os.Exit(1)
	}
	fmt.Printf("elapsed_ns=%d check=%d\n", d.Nanoseconds(), check)
}

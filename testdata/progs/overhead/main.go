// Command overhead runs the record overhead benchmark's workload with no
// tracing code of its own: gotrace record adds the tracer. It prints how
// long the workload took, which the harness compares with
// testdata/progs/overhead-manual.
//
//	gotrace record -o overhead.trace ./testdata/progs/overhead -- -jobs 500000
package main

import (
	"flag"
	"fmt"

	"github.com/gotrace-cli/gotrace/testdata/progs/overhead/work"
)

func main() {
	jobs := flag.Int("jobs", 500000, "jobs to run")
	flag.Parse()
	d, check := work.Run(*jobs)
	fmt.Printf("elapsed_ns=%d check=%d\n", d.Nanoseconds(), check)
}

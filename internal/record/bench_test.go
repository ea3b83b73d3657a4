//go:build unix

package record

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkRecordOverhead measures what recording with gotrace costs, on
// testdata/progs/workload (CPU work handed between goroutines over
// unbuffered channels). Each iteration runs the program three ways, one
// after the other and in turn, so that drift in the machine's load hits all
// three alike:
//
//	plain    not traced
//	manual   runtime/trace.Start and Stop written into its main (-trace)
//	gotrace  recorded by gotrace: the shim, the pipe, the file
//
// It reports each one's mean wall time, and overhead-%: the median over
// the iterations of gotrace/manual - 1, the cost of gotrace over tracing by
// hand (a median, so that one iteration slowed by other work on the machine
// does not decide it); the target is under 2%. Run it with
//
//	go test ./internal/record -run '^$' -bench RecordOverhead -benchtime 10x
func BenchmarkRecordOverhead(b *testing.B) {
	dir := b.TempDir()
	plainBin := filepath.Join(dir, "workload")
	build := exec.Command("go", "build", "-o", plainBin, "./testdata/progs/workload")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var stderr bytes.Buffer
	bld, err := NewBuilder(BuildOptions{Dir: repoRoot, Stderr: &stderr})
	if err != nil {
		b.Fatal(err)
	}
	defer bld.Close()
	bins, err := bld.Build(b.Context(), "./testdata/progs/workload")
	if err != nil {
		b.Fatalf("%v\n%s", err, stderr.Bytes())
	}
	shimmed := bins[0]

	run := func(args ...string) time.Duration {
		cmd := exec.Command(plainBin, args...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("workload %v: %v\n%s", args, err, out)
		}
		return time.Since(start)
	}
	manualTrace := filepath.Join(dir, "manual.trace")
	gotraceTrace := filepath.Join(dir, "gotrace.trace")
	var plain, manual, recorded, m, g time.Duration
	ways := []func(){
		func() { plain += run() },
		func() { m = run("-trace", manualTrace); manual += m },
		func() {
			start := time.Now()
			res, err := shimmed.Run(RunOptions{Output: gotraceTrace})
			g = time.Since(start)
			recorded += g
			if err != nil || res.ExitCode != 0 || len(res.Traces) != 1 {
				b.Fatalf("recording: %v %+v", err, res)
			}
		},
	}
	ratios := make([]float64, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		// N.B. The order turns every iteration, so none of the three
		// always runs right after another.
		for j := range ways {
			ways[(i+j)%len(ways)]()
		}
		ratios = append(ratios, float64(g)/float64(m))
	}
	b.StopTimer()
	for _, f := range []string{manualTrace, gotraceTrace} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			b.Fatalf("%s: %v", f, err)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(plain.Milliseconds())/n, "plain-ms/op")
	b.ReportMetric(float64(manual.Milliseconds())/n, "manual-ms/op")
	b.ReportMetric(float64(recorded.Milliseconds())/n, "gotrace-ms/op")
	slices.Sort(ratios)
	median := ratios[len(ratios)/2]
	if len(ratios)%2 == 0 {
		median = (ratios[len(ratios)/2-1] + median) / 2
	}
	b.ReportMetric((median-1)*100, "overhead-%")
}

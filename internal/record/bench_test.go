//go:build unix

package record

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
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
//	gotrace  recorded by gotrace: the shim, the pipes, the file it hands over
//
// It reports each one's mean wall time and CPU time (user and system, of
// the program and, for gotrace, of its side in this process too),
// and overhead-% and cpu-overhead-%: the medians over the iterations of
// gotrace/manual - 1, the cost of gotrace over tracing by hand (medians, so
// that one iteration slowed by other work on the machine does not decide
// it); the target is under 2%. Run it with
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

	manualTrace := filepath.Join(dir, "manual.trace")
	gotraceTrace := filepath.Join(dir, "gotrace.trace")
	ways := []*way{
		{name: "plain", run: func() error { return exec.Command(plainBin).Run() }},
		{name: "manual", run: func() error { return exec.Command(plainBin, "-trace", manualTrace).Run() }},
		{name: "gotrace", run: func() error {
			res, err := shimmed.Run(RunOptions{Output: gotraceTrace})
			if err == nil && (res.ExitCode != 0 || len(res.Traces) != 1) {
				err = fmt.Errorf("%+v", res)
			}
			return err
		}},
	}
	plain, manual, recorded := ways[0], ways[1], ways[2]
	var wallRatios, cpuRatios []float64
	b.ResetTimer()
	for i := range b.N {
		// N.B. The order turns every iteration, so none of the three
		// always runs right after another.
		for j := range ways {
			if err := ways[(i+j)%len(ways)].measure(); err != nil {
				b.Fatalf("%s: %v", ways[(i+j)%len(ways)].name, err)
			}
		}
		wallRatios = append(wallRatios, float64(recorded.wall)/float64(manual.wall))
		cpuRatios = append(cpuRatios, float64(recorded.cpu)/float64(manual.cpu))
	}
	b.StopTimer()
	for _, f := range []string{manualTrace, gotraceTrace} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			b.Fatalf("%s: %v", f, err)
		}
	}
	n := float64(b.N)
	for _, w := range []*way{plain, manual, recorded} {
		b.ReportMetric(float64(w.wallSum.Milliseconds())/n, w.name+"-ms/op")
		b.ReportMetric(float64(w.cpuSum.Milliseconds())/n, w.name+"-cpu-ms/op")
	}
	b.ReportMetric((median(wallRatios)-1)*100, "overhead-%")
	b.ReportMetric((median(cpuRatios)-1)*100, "cpu-overhead-%")
}

// way is one way of running the workload, with its last and total times.
type way struct {
	name            string
	run             func() error
	wall, cpu       time.Duration
	wallSum, cpuSum time.Duration
}

// measure runs it once. CPU time is what this process and the children it
// waited for used meanwhile: the program, and gotrace's side.
func (w *way) measure() error {
	cpu0 := cpuTime()
	start := time.Now()
	err := w.run()
	w.wall = time.Since(start)
	w.cpu = cpuTime() - cpu0
	w.wallSum += w.wall
	w.cpuSum += w.cpu
	return err
}

func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		syscall.Getrusage(who, &ru)
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	return m
}

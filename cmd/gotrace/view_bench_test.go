package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkViewStress opens the stress trace of make bench (295 MB,
// generated, git-ignored) with gotrace view, each run in a process of its
// own, and reports the time to the first screen and the process's peak
// RSS, and the CPU time that took (on a busy machine the wall time is
// mostly waiting for a core): the whole trace from the summaries, then zoomed in to a few
// milliseconds of one generation, read in full.
//
//	go test ./cmd/gotrace -run '^$' -bench ViewStress -benchtime 3x
func BenchmarkViewStress(b *testing.B) {
	trace := filepath.Join("..", "..", "testdata", "bench", "stress.trace")
	if _, err := os.Stat(trace); err != nil {
		b.Skip("no stress trace: make bench generates it")
	}
	gotrace, err := exec.LookPath("gotrace") // testscript.Main put it on PATH
	if err != nil {
		b.Skip(err)
	}
	for _, c := range []struct{ name, keys string }{
		{"first-screen", ""},
		{"zoomed-in", "+ + + + + + + + + + + +"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var peak int64
			var wall, cpu time.Duration
			for b.Loop() {
				cmd := exec.Command(gotrace, "view", "--print", "--size", "120x40", "--keys", c.keys, trace)
				start := time.Now()
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				wall += time.Since(start)
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					peak = max(peak, ru.Maxrss*1024)
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "ms/screen")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/screen")
			b.ReportMetric(float64(peak)/1e6, "peak-RSS-MB")
		})
	}
}

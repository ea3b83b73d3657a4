package drill

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// stressTrace is the generated benchmark trace (make bench writes it).
const stressTrace = "../../testdata/bench/stress.trace"

func openStress(b *testing.B) (*os.File, int64) {
	f, err := os.Open(stressTrace)
	if err != nil {
		b.Skipf("no benchmark trace: %v", err)
	}
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f, fi.Size()
}

func BenchmarkIndexFrames(b *testing.B) {
	f, size := openStress(b)
	for b.Loop() {
		ix, err := BuildIndex(f, size, IndexOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(ix.Gens)), "gens")
	}
}

func BenchmarkIndexActors(b *testing.B) {
	f, size := openStress(b)
	for b.Loop() {
		ix, err := BuildIndex(f, size, IndexOptions{Actors: true})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(ix.NumGoroutineIDs()), "goids")
	}
}

// cpuTime is the CPU time (user and system) the process has used: on a
// shared machine it says more than the wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start (cpuTime's).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric((cpuTime(b)-start).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkAtMiddle is gotrace at in the middle of the stress trace: the
// index, then the generation read, and the one before it with lookback
// (on a goroutine of its own).
func BenchmarkAtMiddle(b *testing.B) {
	f, size := openStress(b)
	for _, lookback := range []int{0, 1} {
		b.Run(fmt.Sprintf("lookback=%d", lookback), func(b *testing.B) {
			defer reportCPU(b, cpuTime(b))
			for b.Loop() {
				ix, err := BuildIndex(f, size, IndexOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := At(context.Background(), f, ix, ix.Duration()/2, lookback); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

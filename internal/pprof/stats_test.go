package pprof

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/stats"
)

// TestAgreesWithStats compares each state profile's total with the total
// gotrace stats reports for the same intervals, on every committed trace.
func TestAgreesWithStats(t *testing.T) {
	for _, file := range traces(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			m, err := stats.ComputeFile(context.Background(), file, stats.Options{Top: 10})
			if err != nil {
				t.Fatal(err)
			}
			for typ, want := range map[Type]int64{
				Sched:   int64(m.Sched.Latency.Total),
				Block:   int64(m.Blocking.Sync),
				Net:     int64(m.Blocking.Net),
				Syscall: int64(m.Syscalls.Dist.Total),
				CPU:     m.CPU.Samples * int64(CPUSamplePeriod),
			} {
				got := total(build(t, file, typ, Filter{}), 1)
				if diff := max(got-want, want-got); float64(diff) > 0.001*float64(want) {
					t.Errorf("%s: %v, gotrace stats says %v", typ, time.Duration(got), time.Duration(want))
				}
			}
		})
	}
}

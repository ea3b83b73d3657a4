package pprof

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/stats"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
)

// TestAgreesWithStats compares each state profile's total with the total
// gotrace stats reports for the same intervals, on every committed trace:
// they are equal, to the nanosecond.
func TestAgreesWithStats(t *testing.T) {
	for _, file := range traces(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			m, err := stats.ComputeFile(context.Background(), file, stats.Options{Top: 10})
			if err != nil {
				t.Fatal(err)
			}
			for typ, want := range statsTotals(m) {
				got := total(build(t, file, typ, Filter{}), 1)
				if got != want {
					t.Errorf("%s: %v, gotrace stats says %v", typ, time.Duration(got), time.Duration(want))
				}
			}
		})
	}
}

// TestAgreesWithStatsOnGorootCorpus: on every trace test of the Go tree,
// the valid ones give the same totals in both, to the nanosecond, and the
// invalid ones an error in both.
func TestAgreesWithStatsOnGorootCorpus(t *testing.T) {
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) == 0 {
		t.Skip("no trace tests in GOROOT")
	}
	for _, c := range corpus {
		t.Run(c.Name, func(t *testing.T) {
			m, serr := stats.Compute(context.Background(), c.Name, bytes.NewReader(c.Data), int64(len(c.Data)), stats.Options{})
			totals := statsTotals(m)
			delete(totals, CPU)
			for typ, want := range totals {
				p, perr := Build(context.Background(), bytes.NewReader(c.Data), typ, Filter{})
				if (perr == nil) != (serr == nil) {
					t.Fatalf("%s: pprof says %v, stats %v", typ, perr, serr)
				}
				if !c.Valid() && perr == nil {
					t.Fatalf("%s: an invalid trace (%s) read without error", typ, bytes.TrimSpace(c.Expect))
				}
				if p == nil {
					continue
				}
				if got := total(p, 1); got != want {
					t.Errorf("%s: %v, gotrace stats says %v", typ, time.Duration(got), time.Duration(want))
				}
			}
		})
	}
}

// TestPartsAgreeWithOrdered: the profiles Build counts a generation at a
// time equal, stack for stack, those it counts in one ordered pass (which
// TestAgreesWithGoToolTrace holds to go tool trace's), on every committed
// trace.
func TestPartsAgreeWithOrdered(t *testing.T) {
	files := traces(t)
	if testing.Short() {
		// Under the race detector: a trace whose generations overlap.
		files = []string{"../../testdata/traces/flight.trace"}
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// N.B. Block, Net and Syscall charge intervals as Sched does.
		for _, typ := range []Type{CPU, Sched, Region, Task} {
			parts, err := Build(context.Background(), bytes.NewReader(data), typ, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			// N.B. A reader that cannot ReadAt is read in order.
			ordered, err := Build(context.Background(), struct{ io.ReadSeeker }{bytes.NewReader(data)}, typ, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := byStack(parts), byStack(ordered); !maps.Equal(got, want) {
				t.Errorf("%s, %s: in parts %v, in order %v", filepath.Base(file), typ, got, want)
			}
			if parts.DurationNanos != ordered.DurationNanos {
				t.Errorf("%s, %s: in parts %v long, in order %v", filepath.Base(file), typ, parts.DurationNanos, ordered.DurationNanos)
			}
		}
	}
}

// TestAgreesWithStatsTruncated: on a trace cut inside its last
// generation, both report the damage and count the complete generations
// before it alike, to the nanosecond.
func TestAgreesWithStatsTruncated(t *testing.T) {
	for _, name := range []string{"annotated.trace", "demo.trace", "flight.trace", "hotlock.trace", "overlap.trace"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "traces", name))
			if err != nil {
				t.Fatal(err)
			}
			full, err := stats.Compute(context.Background(), name, bytes.NewReader(data), int64(len(data)), stats.Options{})
			if err != nil {
				t.Fatal(err)
			}
			last := full.Overview.PerGeneration[len(full.Overview.PerGeneration)-1]
			cut := data[:last.Offset+last.Bytes/2]
			m, serr := stats.Compute(context.Background(), name, bytes.NewReader(cut), int64(len(cut)), stats.Options{})
			if !errors.Is(serr, timeline.ErrDamaged) {
				t.Fatalf("stats: %v, want damage", serr)
			}
			for typ, want := range statsTotals(m) {
				p, perr := Build(context.Background(), bytes.NewReader(cut), typ, Filter{})
				if !errors.Is(perr, timeline.ErrDamaged) {
					t.Fatalf("%s: %v, want damage", typ, perr)
				}
				if got := total(p, 1); got != want {
					t.Errorf("%s: %v, gotrace stats says %v", typ, time.Duration(got), time.Duration(want))
				}
			}
		})
	}
}

// statsTotals is what gotrace stats says each profile's total is.
func statsTotals(m *stats.Model) map[Type]int64 {
	return map[Type]int64{
		Sched:   int64(m.Sched.Latency.Total),
		Block:   int64(m.Blocking.Sync),
		Net:     int64(m.Blocking.Net),
		Syscall: int64(m.Syscalls.Dist.Total),
		CPU:     m.CPU.Samples * int64(CPUSamplePeriod),
	}
}

package stats

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// manyTasks builds a one-generation Go 1.22 trace in which goroutine 1
// begins and ends n tasks one after the other, each of a type of its own
// ("t1", "t2", ...), each lasting 2ns. The events span several of the
// ordered pass's chunks. Task noTaskAt has the ID golang.org/x/exp/trace
// reserves for no task, which it reads all the same.
const (
	noTaskAt = 100
	noTask   = ^uint64(0)
)

func manyTasks(t *testing.T, n int) []byte {
	t.Helper()
	const perBatch = 1000
	e := format.NewEncoder(format.Go122)
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("t%d", i+1)
	}
	for first := 0; first < n; first += perBatch {
		// N.B. A batch starts well after the one before ends, and each
		// stays far below the largest batch golang.org/x/exp/trace takes.
		e.Batch(1, 0, uint64(first)*20, func(b *format.Encoder) {
			if first == 0 {
				b.Event(format.EvProcStatus, []uint64{1, 0, 1}, nil)
				b.Event(format.EvGoStatus, []uint64{1, 1, 0, 2}, nil)
			}
			for i := first; i < min(first+perBatch, n); i++ {
				id, name := uint64(i+1), uint64(i+1)
				if i == noTaskAt {
					id = noTask
				}
				b.Event(format.EvUserTaskBegin, []uint64{10, id, 0, name, 0}, nil)
				b.Event(format.EvUserTaskEnd, []uint64{2, id, 0}, nil)
			}
		})
	}
	return finishTrace(t, e, 1e9, names...)
}

// TestOrderedPassTasks reads a trace with many task types in the ordered
// pass, whose reader goroutine goes on reading while the analysis handles
// the events before. golang.org/x/exp/trace records the type of each
// ending task in a table it grows as it reads; under the race detector
// this test fails if the analysis reads that table while the reader
// grows it.
func TestOrderedPassTasks(t *testing.T) {
	const n = 5000
	data := manyTasks(t, n)
	for _, ordered := range []bool{true, false} {
		m, err := Compute(context.Background(), "tasks.trace", bytes.NewReader(data), int64(len(data)), Options{Workers: 1, ordered: ordered})
		if err != nil {
			t.Fatalf("ordered %v: %v", ordered, err)
		}
		tasks := m.Annotations.Tasks
		if len(tasks) != n {
			t.Fatalf("ordered %v: %d task types, want %d", ordered, len(tasks), n)
		}
		seen := make(map[string]bool, n)
		for _, tk := range tasks {
			seen[tk.Name] = true
			if tk.Dist.Count != 1 || tk.Dist.Total != 2 {
				t.Errorf("ordered %v: %s: %d tasks, %v in all; want 1 task of 2ns", ordered, tk.Name, tk.Dist.Count, tk.Dist.Total)
			}
		}
		for _, name := range []string{"t1", fmt.Sprintf("t%d", n)} {
			if !seen[name] {
				t.Errorf("ordered %v: no task of type %q", ordered, name)
			}
		}
	}
}

package stats

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"golang.org/x/exp/trace"
)

// TestGoroutineTotalsMatchGoToolTracePages: per start function, the
// running, runnable, blocked and syscall totals equal the sums of go tool
// trace's goroutine pages for the same bytes, to the nanosecond, plus
// the time after a goroutine blocks forever, which gotrace counts.
func TestGoroutineTotalsMatchGoToolTracePages(t *testing.T) {
	compared := 0
	for _, path := range committedTraces(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readTrace(t, filepath.Base(path))
			src, err := timeline.NewSource(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			pages, _, err := reftest.GoroutinePages(src)
			if err != nil {
				t.Fatal(err)
			}
			want := make(map[string]*reftest.Page)
			for _, g := range pages {
				name := g.Name
				if name == "" {
					name = unknownFunc
				}
				w := want[name]
				if w == nil {
					w = &reftest.Page{}
					want[name] = w
				}
				w.Running += g.Running
				w.Runnable += g.Runnable
				w.Blocked += g.Blocked + g.Forever
				w.Syscall += g.Syscall
			}
			m, err := Compute(context.Background(), path, bytes.NewReader(data), int64(len(data)), Options{Top: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Goroutines.Groups) != len(want) {
				t.Errorf("%d groups, the pages have %d start functions", len(m.Goroutines.Groups), len(want))
			}
			for _, g := range m.Goroutines.Groups {
				w := want[g.Func]
				if w == nil {
					t.Errorf("group %s: not on the pages", g.Func)
					continue
				}
				if int64(g.Running) != int64(w.Running) || int64(g.Runnable) != int64(w.Runnable) ||
					int64(g.Blocked) != int64(w.Blocked) || int64(g.Syscall) != int64(w.Syscall) {
					t.Errorf("%s: running/runnable/blocked/syscall %d/%d/%d/%d ns, pages %d/%d/%d/%d",
						g.Func, g.Running, g.Runnable, g.Blocked, g.Syscall, w.Running, w.Runnable, w.Blocked, w.Syscall)
				}
			}
			compared++
		})
	}
	if compared == 0 {
		t.Error("no trace compared")
	}
}

// TestPeakAliveCountsExistingGoroutines: goroutines.peak_alive is the
// most lifetimes that overlap, a goroutine that existed before the trace
// living from its start; computed here by sweeping over every lifetime.
func TestPeakAliveCountsExistingGoroutines(t *testing.T) {
	for _, path := range committedTraces(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readTrace(t, filepath.Base(path))
			src, err := timeline.NewSource(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := trace.NewReader(src)
			if err != nil {
				t.Fatal(err)
			}
			type edge struct {
				t trace.Time
				d int // +1 a life begins, -1 one ends
			}
			var edges []edge
			alive := make(map[trace.GoID]bool)
			var start trace.Time
			for n := 0; ; n++ {
				ev, err := tr.ReadEvent()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					start = ev.Time()
				}
				if ev.Kind() != trace.EventStateTransition {
					continue
				}
				st := ev.StateTransition()
				if st.Resource.Kind != trace.ResourceGoroutine {
					continue
				}
				id := st.Resource.Goroutine()
				from, to := st.Goroutine()
				switch {
				case from == trace.GoUndetermined && !alive[id]:
					alive[id] = true
					edges = append(edges, edge{start, +1})
				case from == trace.GoNotExist && to != trace.GoNotExist:
					alive[id] = true
					edges = append(edges, edge{ev.Time(), +1})
				case to == trace.GoNotExist && from != trace.GoNotExist:
					delete(alive, id)
					edges = append(edges, edge{ev.Time(), -1})
				}
			}
			// Ends before beginnings at the same time, as the events come.
			slices.SortStableFunc(edges, func(a, b edge) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.d, b.d)) })
			var cur, peak int64
			for _, e := range edges {
				cur += int64(e.d)
				peak = max(peak, cur)
			}
			m, err := Compute(context.Background(), path, bytes.NewReader(data), int64(len(data)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Goroutines.PeakAlive != peak {
				t.Errorf("peak_alive %d, the lifetimes overlap %d at most", m.Goroutines.PeakAlive, peak)
			}
		})
	}
}

// TestMovedAndRestamped: overview.restamped_batches counts, from the wire,
// the batches with no thread whose last event is at or after the next
// generation's first timestamp, and overview.moved_events the events that
// golang.org/x/exp/trace, reading the restamped bytes, sets to a
// nanosecond after the one before.
func TestMovedAndRestamped(t *testing.T) {
	for _, name := range []string{"overlap.trace", "annotated.trace", "demo.trace"} {
		t.Run(name, func(t *testing.T) {
			data := readTrace(t, name)
			late, err := reftest.LateBatches(data)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if _, err := timeline.Copy(&out, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			_, moved, err := reftest.MovedEvents(&out)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Compute(context.Background(), name, bytes.NewReader(data), int64(len(data)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Overview.Restamped != late || m.Overview.MovedEvents != int64(moved) {
				t.Errorf("restamped %d, moved %d; the wire says %d late, x/exp/trace moves %d", m.Overview.Restamped, m.Overview.MovedEvents, late, moved)
			}
			if name == "overlap.trace" && late == 0 {
				t.Error("no late batch in the overlapping trace")
			}
		})
	}
}

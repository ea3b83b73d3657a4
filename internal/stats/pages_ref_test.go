package stats

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// pageTotals is one goroutine's times as go tool trace's goroutine pages
// (/goroutine?name=) show them.
type pageTotals struct {
	name                               string
	running, runnable, blocked, syscal trace.Time
	// forever is the time after the goroutine blocked forever (select{}
	// or a nil channel), which go tool trace stops counting and gotrace
	// counts as blocked.
	forever trace.Time
	// open bookkeeping: when the current state began, 0 when untracked.
	since trace.Time
	state trace.GoState
	ended bool
}

// goroutinePages computes what go tool trace's goroutine pages show for
// each goroutine of the trace in r, by their rules, written here from
// their description: a goroutine first seen through its status has been
// in that state since the last sync (the generation's start); a goroutine
// is named by the root frame of the first stack seen on a transition; a
// wait with reason "forever" ends the goroutine's accounting; what is open
// at the end of the trace is closed at its last event. It reports false
// when a goroutine ID is used twice: the pages key goroutines by ID.
func goroutinePages(t *testing.T, r io.Reader) (map[trace.GoID]*pageTotals, bool) {
	t.Helper()
	tr, err := trace.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	gs := make(map[trace.GoID]*pageTotals)
	var syncTs, last trace.Time
	first := true
	add := func(g *pageTotals, st trace.GoState, d trace.Time) {
		switch st {
		case trace.GoRunning:
			g.running += d
		case trace.GoRunnable:
			g.runnable += d
		case trace.GoWaiting:
			g.blocked += d
		case trace.GoSyscall:
			g.syscal += d
		}
	}
	closeOpen := func(g *pageTotals, at trace.Time) {
		if g.since != 0 || g.state != trace.GoUndetermined {
			add(g, g.state, at-g.since)
		}
		g.state, g.since = trace.GoUndetermined, 0
	}
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if first {
			syncTs, first = ev.Time(), false
		}
		last = ev.Time()
		switch ev.Kind() {
		case trace.EventSync:
			syncTs = ev.Time()
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			from, to := st.Goroutine()
			if from == to {
				continue
			}
			id := st.Resource.Goroutine()
			g := gs[id]
			switch {
			case from == trace.GoUndetermined:
				g = &pageTotals{}
				gs[id] = g
				add(g, to, ev.Time()-syncTs)
			case from == trace.GoNotExist:
				if g != nil {
					return nil, false
				}
				g = &pageTotals{}
				gs[id] = g
			case g.ended:
				// After blocking forever: gotrace's share.
				if g.since != 0 {
					g.forever += ev.Time() - g.since
					g.since = ev.Time()
				}
			default:
				closeOpen(g, ev.Time())
			}
			if g.name == "" {
				for f := range st.Stack.Frames() {
					g.name = f.Func // the last frame is the root
				}
			}
			if g.ended {
				continue
			}
			switch {
			case to == trace.GoNotExist:
				g.ended, g.since = true, 0
			case to == trace.GoWaiting && st.Reason == "forever":
				g.ended, g.since = true, ev.Time()
			default:
				g.state, g.since = to, ev.Time()
			}
		}
	}
	for _, g := range gs {
		if g.ended {
			if g.since != 0 {
				g.forever += last - g.since
			}
			continue
		}
		closeOpen(g, last)
	}
	return gs, true
}

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
			pages, ok := goroutinePages(t, src)
			if !ok {
				t.Skip("goroutine IDs are reused: the pages key goroutines by ID")
			}
			want := make(map[string]*pageTotals)
			for _, g := range pages {
				name := g.name
				if name == "" {
					name = unknownFunc
				}
				w := want[name]
				if w == nil {
					w = &pageTotals{}
					want[name] = w
				}
				w.running += g.running
				w.runnable += g.runnable
				w.blocked += g.blocked + g.forever
				w.syscal += g.syscal
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
				if int64(g.Running) != int64(w.running) || int64(g.Runnable) != int64(w.runnable) ||
					int64(g.Blocked) != int64(w.blocked) || int64(g.Syscall) != int64(w.syscal) {
					t.Errorf("%s: running/runnable/blocked/syscall %d/%d/%d/%d ns, pages %d/%d/%d/%d",
						g.Func, g.Running, g.Runnable, g.Blocked, g.Syscall, w.running, w.runnable, w.blocked, w.syscal)
				}
			}
			compared++
		})
	}
	if compared == 0 {
		t.Error("no trace compared")
	}
}

// Package reftest holds computations of reference numbers for tests,
// written from the description of what other tools show, independently of
// gotrace's own model, so that tests compare against something other than
// the code under test.
package reftest

import (
	"io"

	"golang.org/x/exp/trace"
)

// Page is one goroutine's times as go tool trace's goroutine pages
// (/goroutine?name=) show them.
type Page struct {
	ID                                  trace.GoID
	Name                                string
	Running, Runnable, Blocked, Syscall trace.Time
	// forever is the time after the goroutine blocked forever (select{}
	// or a nil channel), which go tool trace stops counting and gotrace
	// counts as blocked.
	Forever trace.Time
	// open bookkeeping: when the current state began, 0 when untracked.
	since trace.Time
	state trace.GoState
	ended bool
}

// GoroutinePages computes what go tool trace's goroutine pages show for
// each goroutine of the trace in r, by their rules, written here from
// their description: a goroutine first seen through its status has been
// in that state since the last sync (the generation's start); a goroutine
// is named by the root frame of the first stack seen on a transition; a
// wait with reason "forever" ends the goroutine's accounting; what is open
// at the end of the trace is closed at its last event. A goroutine ID used
// again after its goroutine ended makes a page of its own here, where the
// pages, keyed by ID, would merge them; unique reports whether none was.
func GoroutinePages(r io.Reader) (pages []*Page, unique bool, err error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, false, err
	}
	gs := make(map[trace.GoID]*Page)
	unique = true
	var syncTs, last trace.Time
	first := true
	add := func(g *Page, st trace.GoState, d trace.Time) {
		switch st {
		case trace.GoRunning:
			g.Running += d
		case trace.GoRunnable:
			g.Runnable += d
		case trace.GoWaiting:
			g.Blocked += d
		case trace.GoSyscall:
			g.Syscall += d
		}
	}
	closeOpen := func(g *Page, at trace.Time) {
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
			return nil, false, err
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
				g = &Page{ID: id}
				gs[id] = g
				add(g, to, ev.Time()-syncTs)
			case from == trace.GoNotExist:
				if g != nil {
					pages = append(pages, g)
					unique = false
				}
				g = &Page{ID: id}
				gs[id] = g
			case g.ended:
				// After blocking forever: gotrace's share.
				if g.since != 0 {
					g.Forever += ev.Time() - g.since
					g.since = ev.Time()
				}
			default:
				closeOpen(g, ev.Time())
			}
			if g.Name == "" {
				for f := range st.Stack.Frames() {
					g.Name = f.Func // the last frame is the root
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
				g.Forever += last - g.since
			}
			continue
		}
		closeOpen(g, last)
	}
	for _, g := range gs {
		pages = append(pages, g)
	}
	return pages, unique, nil
}

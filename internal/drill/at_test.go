package drill

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

const mutexWait = "../../testdata/drill/mutexwait.trace"

// xexpEvents is the trace in data as every command reads it (late statuses
// moved back), its events read with golang.org/x/exp/trace alone.
func xexpEvents(t *testing.T, data []byte) []trace.Event {
	t.Helper()
	var restamped bytes.Buffer
	if _, err := timeline.Copy(&restamped, bytes.NewReader(data)); err != nil {
		t.Skipf("copying: %v", err)
	}
	r, err := trace.NewReader(&restamped)
	if err != nil {
		t.Skipf("x/exp/trace: %v", err)
	}
	var evs []trace.Event
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			t.Skipf("x/exp/trace: %v", err)
		}
		evs = append(evs, ev)
	}
}

func readTrace(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func atOf(t *testing.T, data []byte, ix *Index, at time.Duration) *World {
	t.Helper()
	return atBack(t, data, ix, at, 1)
}

// atBack is atOf looking back lookback generations.
func atBack(t *testing.T, data []byte, ix *Index, at time.Duration, lookback int) *World {
	t.Helper()
	w, err := At(context.Background(), bytes.NewReader(data), ix, at, lookback)
	if err != nil {
		t.Fatalf("at %v: %v", at, err)
	}
	return w
}

func findGo(w *World, id trace.GoID) (GoAt, bool) {
	for _, l := range [][]GoAt{w.Running, w.Runnable, w.Blocked, w.Syscall} {
		for _, g := range l {
			if g.ID == int64(id) {
				return g, true
			}
		}
	}
	return GoAt{}, false
}

// TestAtMutexWait: midway through each hold of the lock in the mutexwait
// program (its "hold" regions, found in the events), the worker holding
// it is asleep, every other worker still looping is blocked on the mutex,
// main waits on the WaitGroup, and no worker runs: what the program does,
// by its design.
func TestAtMutexWait(t *testing.T) {
	data := readTrace(t, mutexWait)
	evs := xexpEvents(t, data)
	type hold struct {
		g          trace.GoID
		begin, end trace.Time
	}
	var holds []hold
	var main trace.GoID
	start := evs[0].Time()
	for _, ev := range evs {
		switch ev.Kind() {
		case trace.EventRegionBegin:
			if ev.Region().Type == "hold" {
				holds = append(holds, hold{g: ev.Goroutine(), begin: ev.Time()})
			}
		case trace.EventRegionEnd:
			if ev.Region().Type == "hold" {
				for i := range holds {
					if holds[i].g == ev.Goroutine() && holds[i].end == 0 {
						holds[i].end = ev.Time()
					}
				}
			}
		case trace.EventTaskBegin:
			main = ev.Goroutine()
		}
	}
	var workers []trace.GoID
	for _, h := range holds {
		if !slices.Contains(workers, h.g) {
			workers = append(workers, h.g)
		}
	}
	if len(workers) != 4 || len(holds) != 12 {
		t.Fatalf("%d workers, %d holds: the program has 4 workers holding the lock 3 times each", len(workers), len(holds))
	}
	ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range holds {
		mid := (h.begin + h.end) / 2
		w := atOf(t, data, ix, time.Duration(mid-start))
		g, ok := findGo(w, h.g)
		if !ok || g.State != "blocked" || g.Category != "sleep" || !strings.Contains(stackText(g.Stack), "main.worker.func1") {
			t.Errorf("hold %d: holder %d is %+v, want asleep in main.worker.func1", i, h.g, g)
		}
		for _, wk := range workers {
			if wk == h.g {
				continue
			}
			done := 0
			for _, o := range holds {
				if o.g == wk && o.end != 0 && o.end < mid {
					done++
				}
			}
			g, ok := findGo(w, wk)
			switch {
			case done == 3:
				if ok {
					t.Errorf("hold %d: worker %d held the lock 3 times and ended, but is %s", i, wk, g.State)
				}
			case !ok || g.State != "blocked" || g.Category != "mutex" || len(g.Stack) == 0 || g.Stack[0].Func != "sync.(*Mutex).Lock":
				t.Errorf("hold %d: worker %d is %+v, want blocked in sync.(*Mutex).Lock", i, wk, g)
			}
		}
		if g, ok := findGo(w, main); !ok || g.State != "blocked" || g.Category != "waitgroup" {
			t.Errorf("hold %d: main %d is %+v, want waiting on the WaitGroup", i, main, g)
		}
		for _, g := range append(w.Running, w.Runnable...) {
			if slices.Contains(workers, trace.GoID(g.ID)) {
				t.Errorf("hold %d: worker %d is %s", i, g.ID, g.State)
			}
		}
		for _, p := range w.Procs {
			if slices.Contains(workers, trace.GoID(p.Goroutine)) {
				t.Errorf("hold %d: P %d runs worker %d", i, p.ID, p.Goroutine)
			}
		}
	}
}

func stackText(fr []Frame) string {
	var b strings.Builder
	for _, f := range fr {
		b.WriteString(f.Func + "\n")
	}
	return b.String()
}

// refState is a goroutine's state at an instant by golang.org/x/exp/trace's
// events alone: the last transition at or before it says the state it went
// to; with none, the first after it says the state it left (a status
// states the state it was in since the generation began).
type refState struct {
	state  trace.GoState
	since  trace.Time // the last change at or before the instant; 0 for a status
	reason string
	p      trace.ProcID
}

func refStates(evs []trace.Event, at trace.Time) map[trace.GoID]refState {
	out := make(map[trace.GoID]refState)
	settled := make(map[trace.GoID]bool)
	for _, ev := range evs {
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		if ev.Time() <= at {
			rs := out[id]
			if from != to || rs.state != to {
				rs = refState{state: to, since: ev.Time(), reason: st.Reason, p: ev.Proc()}
				if from == trace.GoUndetermined {
					rs.since = 0
				}
			} else if to == trace.GoRunning && rs.p == trace.NoProc {
				rs.p = ev.Proc()
			}
			out[id] = rs
			settled[id] = true
			continue
		}
		if settled[id] {
			continue
		}
		settled[id] = true
		switch from {
		case trace.GoNotExist:
		case trace.GoUndetermined:
			out[id] = refState{state: to, p: trace.NoProc}
		default:
			out[id] = refState{state: from, p: trace.NoProc}
		}
	}
	for id, rs := range out {
		if rs.state == trace.GoNotExist || rs.state == trace.GoUndetermined {
			delete(out, id)
		}
	}
	return out
}

// TestAtMatchesXExp: at instants across each trace, every goroutine is in
// the state, since the time and for the reason golang.org/x/exp/trace's
// events say, and each P runs the goroutine they put on it; a GC mark
// phase or a stop-the-world pause is on exactly when their ranges are.
func TestAtMatchesXExp(t *testing.T) {
	inputs := indexInputs(t)
	running, placed := 0, 0
	for name, data := range inputs {
		if len(data) > 600<<10 {
			continue // a short test
		}
		t.Run(name, func(t *testing.T) {
			evs := xexpEvents(t, data)
			ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{})
			if err != nil {
				t.Fatal(err)
			}
			start, end := evs[0].Time(), evs[len(evs)-1].Time()
			var instants []trace.Time
			for i := range 8 {
				instants = append(instants, start+(end-start)*trace.Time(2*i+1)/16)
			}
			// Around each generation's start, and within the pauses.
			for i, g := range ix.Gens {
				if i > 0 {
					instants = append(instants, g.From-1, g.From, g.From+1)
				}
			}
			type span struct {
				name       string
				begin, end trace.Time
			}
			var ranges []span
			open := make(map[string]int)
			for _, ev := range evs {
				switch ev.Kind() {
				case trace.EventRangeBegin, trace.EventRangeActive:
					r := ev.Range()
					if strings.HasPrefix(r.Name, "stop-the-world") || strings.HasPrefix(r.Name, "GC concurrent mark phase") {
						open[r.Name+r.Scope.String()] = len(ranges)
						ranges = append(ranges, span{r.Name, ev.Time(), end + 1})
					}
				case trace.EventRangeEnd:
					r := ev.Range()
					if i, ok := open[r.Name+r.Scope.String()]; ok {
						ranges[i].end = ev.Time()
						delete(open, r.Name+r.Scope.String())
					}
				}
			}
			for i, r := range ranges {
				if i < 6 {
					instants = append(instants, (r.begin+min(r.end, end))/2)
				}
			}
			for n, at := range instants {
				if at < start || at > ix.End() {
					continue
				}
				// N.B. Looking back one generation (read beside the
				// instant's), two or three (read after it).
				w := atBack(t, data, ix, time.Duration(at-start), 1+n%3)
				want := refStates(evs, at)
				got := make(map[trace.GoID]GoAt)
				for _, l := range [][]GoAt{w.Running, w.Runnable, w.Blocked, w.Syscall} {
					for _, g := range l {
						got[trace.GoID(g.ID)] = g
					}
				}
				for id, rs := range want {
					g, ok := got[trace.GoID(id)]
					if !ok {
						t.Errorf("at %d: goroutine %d missing, x/exp/trace has it %v", at, id, rs.state)
						continue
					}
					if g.State != stateWord(rs.state) {
						t.Errorf("at %d: goroutine %d %s, x/exp/trace %v", at, id, g.State, rs.state)
					}
					since := start + trace.Time(g.Since)
					switch {
					case g.SinceAtLeast:
						// N.B. Some of the Go tree's tests have runs of
						// equal times, which x/exp/trace moves a
						// nanosecond apart.
						if rs.since > since+100 {
							t.Errorf("at %d: goroutine %d since at least %d, x/exp/trace since %d", at, id, since, rs.since)
						}
					case since != rs.since:
						t.Errorf("at %d: goroutine %d since %d, x/exp/trace since %d", at, id, since, rs.since)
					case rs.state == trace.GoWaiting && g.Reason != rs.reason:
						t.Errorf("at %d: goroutine %d waits for %q, x/exp/trace %q", at, id, g.Reason, rs.reason)
					}
					// A goroutine that was running when the generation
					// began and shows no event of its own in it may not
					// say its P.
					if rs.state == trace.GoRunning {
						running++
						if g.P >= 0 {
							placed++
						}
					}
					if rs.state == trace.GoRunning && rs.p != trace.NoProc && g.P >= 0 && g.P != int64(rs.p) {
						t.Errorf("at %d: goroutine %d runs on P %d, x/exp/trace P %d", at, id, g.P, rs.p)
					}
				}
				for id, g := range got {
					if _, ok := want[id]; !ok {
						t.Errorf("at %d: goroutine %d %s, x/exp/trace has none", at, id, g.State)
					}
				}
				for _, p := range w.Procs {
					if p.Goroutine >= 0 && got[trace.GoID(p.Goroutine)].P != p.ID {
						t.Errorf("at %d: P %d runs goroutine %d, which is not running on it", at, p.ID, p.Goroutine)
					}
				}
				var gc, stw string
				for _, r := range ranges {
					if r.begin <= at && at < r.end {
						if strings.HasPrefix(r.name, "stop") {
							stw = r.name
						} else {
							gc = r.name
						}
					}
				}
				if name := rangeName(w.GC); name != gc {
					t.Errorf("at %d: GC %q, x/exp/trace %q", at, name, gc)
				}
				if name := rangeName(w.STW); name != stw {
					t.Errorf("at %d: stop-the-world %q, x/exp/trace %q", at, name, stw)
				}
			}
		})
	}
	checkPlaced(t, running, placed)
}

// checkPlaced fails unless most running goroutines had their P.
func checkPlaced(t *testing.T, running, placed int) {
	t.Helper()
	if running == 0 || placed*10 < running*9 {
		t.Errorf("%d of %d running goroutines placed on a P", placed, running)
	}
}

func rangeName(r *RangeAt) string {
	if r == nil {
		return ""
	}
	return r.Name
}

// TestAtOutside: an instant past the end is an error.
func TestAtOutside(t *testing.T) {
	data := readTrace(t, mutexWait)
	ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{-time.Nanosecond, ix.Duration() + 1} {
		if _, err := At(context.Background(), bytes.NewReader(data), ix, at, 1); err == nil || !errors.Is(err, ErrOutside) {
			t.Errorf("at %v: %v, want outside the trace", at, err)
		}
	}
	if _, err := At(context.Background(), bytes.NewReader(data), ix, ix.Duration(), 1); err != nil {
		t.Errorf("at the end: %v", err)
	}
}

package timeline

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"golang.org/x/exp/trace"
)

// lifeTrace is reftest.LifeTrace, whose comment tells its story.
func lifeTrace(t *testing.T) []byte {
	t.Helper()
	data, err := reftest.LifeTrace()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func track(t *testing.T, data []byte) ([]Interval, []*Goroutine) {
	t.Helper()
	var ivs []Interval
	var gs []*Goroutine
	tk := NewTracker()
	tk.Emit = func(iv *Interval) { ivs = append(ivs, *iv) }
	tk.End = func(g *Goroutine) { gs = append(gs, g) }
	if _, err := Read(bytes.NewReader(data), func(ev *trace.Event) bool { tk.Event(ev); return true }); err != nil {
		t.Fatal(err)
	}
	tk.Finish()
	return ivs, gs
}

func TestTrackerLife(t *testing.T) {
	ivs, gs := track(t, lifeTrace(t))
	var g1, g2 []Interval
	for _, iv := range ivs {
		switch iv.G.ID {
		case 1:
			g1 = append(g1, iv)
		case 2:
			g2 = append(g2, iv)
		}
	}
	type want struct {
		state      trace.GoState
		start, end trace.Time
		profiled   bool
	}
	check := func(name string, got []Interval, base trace.Time, ws []want) {
		t.Helper()
		if len(got) != len(ws) {
			t.Fatalf("%s: %d intervals, want %d: %+v", name, len(got), len(ws), got)
		}
		for i, w := range ws {
			g := got[i]
			if g.State != w.state || g.Start-base != w.start || g.End-base != w.end || g.Profiled != w.profiled {
				t.Errorf("%s interval %d: %v [%d, %d) profiled %v, want %v [%d, %d) %v",
					name, i, g.State, g.Start-base, g.End-base, g.Profiled, w.state, w.start, w.end, w.profiled)
			}
		}
	}
	// The trace starts at its opening sync, a tick before the first
	// status; g1 runs from there.
	base := g1[0].Start
	if g1[0].Seen-base != 2 {
		t.Errorf("g1's status seen at +%d, want +2", g1[0].Seen-base)
	}
	check("g1", g1, base-1, []want{
		{trace.GoRunning, 1, 20, true},
		{trace.GoWaiting, 20, 100, true},
		{trace.GoRunnable, 100, 300, true},
		{trace.GoRunning, 300, 400, true},
		{trace.GoRunnable, 400, 450, true},
		{trace.GoRunning, 450, 500, true},
		{trace.GoWaiting, 500, 1001, true},
	})
	check("g2", g2, base-1, []want{
		{trace.GoRunnable, 10, 50, false}, // before its first run
		{trace.GoRunning, 50, 200, true},
	})
	if w := g1[1]; w.Unblocker != 2 || w.Category != Channel || w.Reason != "chan receive" {
		t.Errorf("g1's first wait: unblocked by %d, category %v, reason %q; want g2, channel, chan receive", w.Unblocker, w.Category, w.Reason)
	}
	if !g1[6].Open || g1[5].Open {
		t.Error("only the interval the trace ends in is open")
	}
	for _, g := range gs {
		switch g.ID {
		case 1:
			if !g.Existed || g.Ended != 0 || g.Totals[Running] != 19+100+50 || g.Totals[Blocked] != 80+501 {
				t.Errorf("g1: existed %v, ended %d, running %v, blocked %v", g.Existed, g.Ended, g.Totals[Running], g.Totals[Blocked])
			}
		case 2:
			if g.Existed || g.Creator != 1 || g.Created-base+1 != 10 || g.FirstRun-base+1 != 50 || g.Ended-base+1 != 200 {
				t.Errorf("g2: creator %d, created +%d, first run +%d, ended +%d", g.Creator, g.Created-base+1, g.FirstRun-base+1, g.Ended-base+1)
			}
		}
	}
}

func TestTrackerTotalsMatchGoToolTracePages(t *testing.T) {
	names, _ := filepath.Glob("../../testdata/traces/*.trace")
	for _, path := range names {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readFile(t, "traces/"+filepath.Base(path))
			src, err := NewSource(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			pages, _, err := reftest.GoroutinePages(src)
			if err != nil {
				t.Fatal(err)
			}
			want := make(map[string][NumStates]time.Duration)
			for _, p := range pages {
				w := want[p.Name]
				w[Running] += time.Duration(p.Running)
				w[Runnable] += time.Duration(p.Runnable)
				w[Blocked] += time.Duration(p.Blocked + p.Forever)
				w[Syscall] += time.Duration(p.Syscall)
				want[p.Name] = w
			}
			_, gs := track(t, data)
			got := make(map[string][NumStates]time.Duration)
			for _, g := range gs {
				w := got[g.Name]
				for i := range w {
					w[i] += g.Totals[i]
				}
				got[g.Name] = w
			}
			if len(got) != len(want) {
				t.Errorf("%d start functions, the pages have %d", len(got), len(want))
			}
			for name, w := range want {
				if got[name] != w {
					t.Errorf("%s: %v, pages %v", name, got[name], w)
				}
			}
		})
	}
}

func TestKinds(t *testing.T) {
	for fn, want := range map[string]Kind{
		"main.worker":                     User,
		"net/http.(*conn).serve":          User,
		"github.com/x/y.(*S).run.func1":   User,
		"runtime.bgsweep":                 RuntimeKind,
		"runtime.gcBgMarkWorker":          RuntimeKind,
		"internal/poll.runtime_pollWait":  RuntimeKind,
		"runtime/pprof.profileWriter":     Tooling,
		"runtime.traceStartReadCPU.func1": Tooling,
		"main.(*_gotraceRec).finish":      Tooling,
		"":                                User,
	} {
		if got := KindOf(fn); got != want {
			t.Errorf("KindOf(%q) = %v, want %v", fn, got, want)
		}
	}
	for fn, want := range map[string]bool{
		"main.handler": true, "github.com/a/b.F": true, "net/http.(*conn).serve": false,
		"runtime.gopark": false, "main._gotraceStart": false, "golang.org/x/sync/errgroup.(*Group).Go.func1": true,
	} {
		if got := IsUserFrame(fn); got != want {
			t.Errorf("IsUserFrame(%q) = %v", fn, got)
		}
	}
}

func TestSyncCategory(t *testing.T) {
	for _, c := range []struct {
		funcs []string
		want  Category
	}{
		{[]string{"sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait", "main.main"}, WaitGroup},
		{[]string{"internal/sync.runtime_SemacquireMutex", "internal/sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).Lock", "sync.(*Mutex).Lock", "main.handler"}, Mutex},
		{[]string{"runtime.semacquire1", "runtime.semacquire", "runtime.gcMarkDone", "runtime.gcBgMarkWorker"}, Runtime},
		{[]string{"runtime.semacquire1", "runtime.semacquire", "runtime.traceAdvance", "runtime.(*traceAdvancerState).start.func1"}, Runtime},
		{[]string{"sync.(*Cond).Wait", "main.consumer"}, Cond},
		{nil, Mutex},
	} {
		if got := SyncCategory(slices.Values(c.funcs)); got != c.want {
			t.Errorf("%v: %v, want %v", c.funcs, got, c.want)
		}
	}
	if got := ReasonCategory("system goroutine wait"); got != Runtime {
		t.Errorf("system goroutine wait: %v", got)
	}
}

// TestGoTable checks the live goroutines and the counts of incarnations
// against a map, over small IDs, IDs past the pages and pages emptied and
// filled again.
func TestGoTable(t *testing.T) {
	var tab goTable
	live := make(map[trace.GoID]*Goroutine)
	seqs := make(map[trace.GoID]int)
	ids := []trace.GoID{0, 1, 2, pageSize - 1, pageSize, 3*pageSize + 7, maxDense - 1, maxDense, maxDense + 5}
	for round := range 3 {
		for i, id := range ids {
			if (i+round)%2 == 0 {
				g := &Goroutine{ID: id, Seq: tab.seq(id)}
				tab.put(id, g)
				tab.addSeq(id)
				live[id] = g
				seqs[id]++
			} else {
				tab.put(id, nil)
				delete(live, id)
			}
		}
		for _, id := range ids {
			if got, want := tab.get(id), live[id]; got != want {
				t.Errorf("round %d: get(%d) = %v, want %v", round, id, got, want)
			}
			if got, want := tab.seq(id), seqs[id]; got != want {
				t.Errorf("round %d: seq(%d) = %d, want %d", round, id, got, want)
			}
		}
		var want []*Goroutine
		for _, id := range slices.Sorted(maps.Keys(live)) {
			want = append(want, live[id])
		}
		if got := tab.all(); !slices.Equal(got, want) {
			t.Errorf("round %d: all() = %v, want %v", round, got, want)
		}
	}
	for _, id := range ids {
		tab.put(id, nil)
	}
	for i, p := range tab.pages {
		if p != nil {
			t.Errorf("page %d kept with no goroutine alive", i)
		}
	}
}

// TestTrackerBlockedByCategory: a goroutine's blocked time by category is
// the sum of its blocked intervals of each category, the categories it
// was blocked in are those of its blocked intervals, and the categories'
// times add up to its blocked total.
func TestTrackerBlockedByCategory(t *testing.T) {
	names, _ := filepath.Glob("../../testdata/traces/*.trace")
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		ivs, gs := track(t, data)
		type sums struct {
			d  [NumCategories]time.Duration
			in uint16
		}
		want := make(map[*Goroutine]*sums)
		for _, iv := range ivs {
			if iv.State != trace.GoWaiting {
				continue
			}
			s := want[iv.G]
			if s == nil {
				s = &sums{}
				want[iv.G] = s
			}
			c := min(iv.Category, Other)
			s.d[c] += time.Duration(iv.End - iv.Start)
			s.in |= 1 << c
		}
		blocked := 0
		for _, g := range gs {
			w := want[g]
			if w == nil {
				w = &sums{}
			}
			if g.Blocked != w.d || g.BlockedIn != w.in {
				t.Errorf("%s: g%d#%d blocked %v in %b, its intervals %v in %b", filepath.Base(name), g.ID, g.Seq, g.Blocked, g.BlockedIn, w.d, w.in)
			}
			var sum time.Duration
			for _, d := range g.Blocked {
				sum += d
			}
			if i := StateIndex(trace.GoWaiting); sum != g.Totals[i] {
				t.Errorf("%s: g%d#%d blocked %v by category, %v in all", filepath.Base(name), g.ID, g.Seq, sum, g.Totals[i])
			}
			if g.BlockedIn != 0 {
				blocked++
			}
		}
		if blocked == 0 {
			t.Errorf("%s: no goroutine blocked", filepath.Base(name))
		}
	}
}

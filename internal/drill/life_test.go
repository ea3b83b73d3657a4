package drill

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"golang.org/x/exp/trace"
)

// lifeInputs are the traces the lives are checked on: small ones, a
// program's own of several generations, one whose goroutine IDs are
// reused, and the Go tree's tests of several generations.
func lifeInputs(t *testing.T) map[string][]byte {
	in := make(map[string][]byte)
	for name, data := range indexInputs(t) {
		if len(data) <= 400<<10 {
			in[name] = data
		}
	}
	return in
}

// TestLivesMatchGoroutines: each goroutine's life, read from only the
// generations its ID appears in, has the row gotrace goroutines gives it
// reading the whole trace, its intervals add up to the row's totals, and
// those are the times go tool trace's goroutine pages show, computed from
// golang.org/x/exp/trace's events in reftest.
func TestLivesMatchGoroutines(t *testing.T) {
	for name, data := range lifeInputs(t) {
		t.Run(name, func(t *testing.T) {
			rows, err := Goroutines(context.Background(), bytes.NewReader(data), Filter{})
			if err != nil {
				t.Skipf("goroutines: %v", err)
			}
			src, err := timeline.NewSource(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			pages, unique, err := reftest.GoroutinePages(src)
			if err != nil {
				t.Fatal(err)
			}
			byID := make(map[trace.GoID]*reftest.Page)
			for _, p := range pages {
				byID[p.ID] = p
			}
			ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{Actors: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range sample(rows) {
				lives, err := Lives(context.Background(), bytes.NewReader(data), ix, trace.GoID(row.ID), row.Incarnation)
				if err != nil {
					t.Fatalf("goroutine %s: %v", row.Label(), err)
				}
				l := lives[0]
				if !reflect.DeepEqual(l.Goroutine, row) {
					t.Errorf("goroutine %s: life\n%+v\nrow\n%+v", row.Label(), l.Goroutine, row)
				}
				var sums [4]time.Duration
				for _, sp := range l.Intervals {
					switch sp.State {
					case "running":
						sums[0] += sp.Duration
					case "runnable":
						sums[1] += sp.Duration
					case "blocked":
						sums[2] += sp.Duration
					case "syscall":
						sums[3] += sp.Duration
					}
				}
				if want := [4]time.Duration{row.Running, row.Runnable, row.Blocked, row.Syscall}; sums != want {
					t.Errorf("goroutine %s: intervals add up to %v, totals %v", row.Label(), sums, want)
				}
				if p := byID[trace.GoID(row.ID)]; unique && p != nil {
					want := [4]time.Duration{time.Duration(p.Running), time.Duration(p.Runnable), time.Duration(p.Blocked + p.Forever), time.Duration(p.Syscall)}
					if sums != want {
						t.Errorf("goroutine %s: %v, go tool trace's page %v", row.Label(), sums, want)
					}
				}
			}
		})
	}
}

// sample is at most 20 of xs, spread evenly: each life read costs a
// read of the generations its goroutine lived in, and the traces with
// thousands of goroutines would make a long test.
func sample[T any](xs []T) []T {
	const most = 20
	if len(xs) <= most {
		return xs
	}
	out := make([]T, 0, most)
	for i := range most {
		out = append(out, xs[i*len(xs)/most])
	}
	return out
}

func funcs(fr []Frame) []string {
	out := []string{}
	for _, f := range fr {
		out = append(out, f.Func)
	}
	return out
}

func stackFuncs(s trace.Stack) []string {
	out := []string{}
	for f := range s.Frames() {
		if !timeline.IsShimFrame(f.Func) {
			out = append(out, f.Func)
		}
	}
	return out
}

// TestLivesMatchXExp: who created each goroutine and where, who made it
// runnable after each wait and where, the goroutines it created, the logs
// it wrote and the regions it began are those golang.org/x/exp/trace's
// events say: a transition from NotExist names the creator as the event's
// goroutine, one out of a wait names the waker the same way.
func TestLivesMatchXExp(t *testing.T) {
	for name, data := range lifeInputs(t) {
		t.Run(name, func(t *testing.T) {
			evs := xexpEvents(t, data)
			type want struct {
				creator      int64
				creatorStack []string
				wakers       []int64
				wakerStacks  [][]string
				wakes        []trace.Time
				children     []int64
				logs         []string
				regions      []string
				lives        int
			}
			ws := make(map[trace.GoID]*want)
			get := func(id trace.GoID) *want {
				w := ws[id]
				if w == nil {
					w = &want{creator: -1, creatorStack: []string{}}
					ws[id] = w
				}
				return w
			}
			for _, ev := range evs {
				switch ev.Kind() {
				case trace.EventStateTransition:
					st := ev.StateTransition()
					if st.Resource.Kind != trace.ResourceGoroutine {
						continue
					}
					id := st.Resource.Goroutine()
					from, to := st.Goroutine()
					w := get(id)
					switch {
					case from == trace.GoNotExist:
						w.lives++
						if by := ev.Goroutine(); by != trace.NoGoroutine {
							w.creator, w.creatorStack = int64(by), stackFuncs(ev.Stack())
							get(by).children = append(get(by).children, int64(id))
						}
					case from == trace.GoUndetermined:
						w.lives++
					case from == trace.GoWaiting && to != trace.GoWaiting:
						by := int64(-1)
						stack := []string{}
						if g := ev.Goroutine(); g != id && g != trace.NoGoroutine {
							by, stack = int64(g), stackFuncs(ev.Stack())
						}
						w.wakers, w.wakerStacks, w.wakes = append(w.wakers, by), append(w.wakerStacks, stack), append(w.wakes, ev.Time())
					}
				case trace.EventLog:
					w := get(ev.Goroutine())
					w.logs = append(w.logs, ev.Log().Message)
				case trace.EventRegionBegin:
					w := get(ev.Goroutine())
					w.regions = append(w.regions, ev.Region().Type)
				}
			}
			ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{Actors: true})
			if err != nil {
				t.Fatal(err)
			}
			start := evs[0].Time()
			var ids []trace.GoID
			for id, w := range ws {
				// N.B. Reused IDs are left out: the events above do not
				// tell the goroutines apart.
				if w.lives == 1 && id != trace.NoGoroutine {
					ids = append(ids, id)
				}
			}
			slices.Sort(ids)
			checked := 0
			for _, id := range sample(ids) {
				w := ws[id]
				lives, err := Lives(context.Background(), bytes.NewReader(data), ix, id, -1)
				if err != nil {
					t.Fatalf("goroutine %d: %v", id, err)
				}
				if len(lives) != 1 {
					t.Fatalf("goroutine %d: %d lives", id, len(lives))
				}
				l := lives[0]
				checked++
				if l.Creator != w.creator || !slices.Equal(funcs(l.CreatorStack), w.creatorStack) {
					t.Errorf("goroutine %d: created by %d at %v, x/exp/trace: by %d at %v", id, l.Creator, funcs(l.CreatorStack), w.creator, w.creatorStack)
				}
				var wakers []int64
				var wakerStacks [][]string
				var wakes []trace.Time
				for _, sp := range l.Intervals {
					if sp.State == "blocked" && !sp.Open {
						wakers = append(wakers, sp.Unblocker)
						wakerStacks = append(wakerStacks, funcs(sp.UnblockStack))
						wakes = append(wakes, start+trace.Time(sp.Start+sp.Duration))
					}
				}
				if !slices.Equal(wakers, w.wakers) || !slices.Equal(wakes, w.wakes) {
					t.Errorf("goroutine %d: woken by %v at %v, x/exp/trace: by %v at %v", id, wakers, wakes, w.wakers, w.wakes)
				}
				for i := range min(len(wakerStacks), len(w.wakerStacks)) {
					if !slices.Equal(wakerStacks[i], w.wakerStacks[i]) {
						t.Errorf("goroutine %d, wait %d: woken at %v, x/exp/trace: %v", id, i, wakerStacks[i], w.wakerStacks[i])
					}
				}
				var children []int64
				for _, c := range l.Children {
					children = append(children, c.ID)
				}
				if !slices.Equal(children, w.children) {
					t.Errorf("goroutine %d: created %v, x/exp/trace: %v", id, children, w.children)
				}
				var logs, regions []string
				for _, lg := range l.Logs {
					logs = append(logs, lg.Message)
				}
				for _, r := range l.Regions {
					if !r.BegunBefore {
						regions = append(regions, r.Name)
					}
				}
				if !slices.Equal(logs, w.logs) || !slices.Equal(regions, w.regions) {
					t.Errorf("goroutine %d: logs %q regions %q, x/exp/trace: %q %q", id, logs, regions, w.logs, w.regions)
				}
			}
			if checked == 0 {
				t.Skip("no goroutine whose ID was used once")
			}
		})
	}
}

// TestLivesReused: an ID the runtime reused names a goroutine each time;
// ID.N picks one, and an incarnation the ID never had is an error.
func TestLivesReused(t *testing.T) {
	data := readTrace(t, "../../testdata/traces/callbacks.trace")
	rows, err := Goroutines(context.Background(), bytes.NewReader(data), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{Actors: true})
	if err != nil {
		t.Fatal(err)
	}
	n := make(map[int64]int)
	for _, r := range rows {
		n[r.ID]++
	}
	reused := false
	for id, count := range n {
		if count < 2 {
			continue
		}
		reused = true
		lives, err := Lives(context.Background(), bytes.NewReader(data), ix, trace.GoID(id), -1)
		if err != nil || len(lives) != count {
			t.Fatalf("goroutine %d: %d lives (%v), goroutines lists %d", id, len(lives), err, count)
		}
		for i, l := range lives {
			if l.Incarnation != i {
				t.Errorf("goroutine %d: life %d is incarnation %d", id, i, l.Incarnation)
			}
		}
		if _, err := Lives(context.Background(), bytes.NewReader(data), ix, trace.GoID(id), count); err == nil {
			t.Errorf("goroutine %d.%d: no error", id, count)
		}
	}
	if !reused {
		t.Fatal("no goroutine ID reused in callbacks.trace")
	}
	if _, err := Lives(context.Background(), bytes.NewReader(data), ix, 1<<40, -1); err == nil {
		t.Error("goroutine 1<<40: no error")
	}
}

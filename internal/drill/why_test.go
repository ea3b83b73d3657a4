package drill

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
	"golang.org/x/exp/trace"
)

func whyOf(t *testing.T, data []byte, q WhyQuery) (*WhyResult, error) {
	t.Helper()
	ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{Actors: true})
	if err != nil {
		t.Fatal(err)
	}
	return WhyTask(context.Background(), bytes.NewReader(data), ix, q)
}

// refState is one goroutine's state from a time on, read directly from
// golang.org/x/exp/trace's state transitions.
type refState struct {
	from  trace.Time
	state trace.GoState
}

type refGoKey struct {
	id  trace.GoID
	seq int
}

// refStates reads each goroutine's state changes from the events of data
// (a goroutine ID used again is a goroutine of its own, numbered as it
// appears), and the time of the first event.
func refStates(t *testing.T, data []byte) (map[refGoKey][]refState, trace.Time) {
	t.Helper()
	states := make(map[refGoKey][]refState)
	seqs := make(map[trace.GoID]int) // goroutines seen with the ID
	alive := make(map[trace.GoID]bool)
	var first trace.Time
	started := false
	first = eachEvent(t, data, func(ev *trace.Event) {
		if !started {
			first, started = ev.Time(), true
		}
		if ev.Kind() != trace.EventStateTransition {
			return
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			return
		}
		from, to := st.Goroutine()
		if from == to {
			return
		}
		id := st.Resource.Goroutine()
		if !alive[id] {
			if to == trace.GoNotExist {
				return
			}
			alive[id] = true
			seqs[id]++
			at := ev.Time()
			if from != trace.GoNotExist {
				at = first // it was in this state from the trace's start
			}
			states[refGoKey{id, seqs[id] - 1}] = append(states[refGoKey{id, seqs[id] - 1}], refState{at, to})
			return
		}
		k := refGoKey{id, seqs[id] - 1}
		states[k] = append(states[k], refState{ev.Time(), to})
		if to == trace.GoNotExist {
			alive[id] = false
		}
	})
	return states, first
}

var stateWords = map[string]trace.GoState{"running": trace.GoRunning, "runnable": trace.GoRunnable, "blocked": trace.GoWaiting, "syscall": trace.GoSyscall}

// checkPath checks that the path covers the task's wall time exactly, in
// order and without overlap, that the breakdown adds up to it, and that
// each segment's goroutine was in the segment's state all along, by the
// events read directly.
func checkPath(t *testing.T, w Why, states map[refGoKey][]refState, first trace.Time) {
	t.Helper()
	var sum time.Duration
	for _, p := range w.Breakdown {
		sum += p.Time
	}
	if sum != w.Wall || w.Wall != w.Task.Duration {
		t.Errorf("task %d: the breakdown adds up to %d ns, wall %d ns, task %d ns", w.Task.ID, sum, w.Wall, w.Task.Duration)
	}
	at := w.Task.Start
	for _, s := range w.Path {
		if s.Start != at {
			t.Errorf("task %d: segment at %d ns, want %d ns (the previous one's end)", w.Task.ID, s.Start, at)
		}
		at = s.Start + s.Duration
		want, ok := stateWords[s.State]
		if !ok {
			continue
		}
		ss := states[refGoKey{trace.GoID(s.Goroutine.ID), s.Goroutine.Incarnation}]
		from, to := first+trace.Time(s.Start), first+trace.Time(s.Start+s.Duration)
		// The state at from, and no change before to.
		i, _ := slices.BinarySearchFunc(ss, from, func(r refState, t trace.Time) int {
			if r.from <= t {
				return -1
			}
			return 1
		})
		if i == 0 || ss[i-1].state != want || i < len(ss) && ss[i].from < to {
			t.Errorf("task %d: goroutine %s %s over [%d, %d] ns: the events say otherwise", w.Task.ID, s.Goroutine.Label(), s.State, s.Start, s.Start+s.Duration)
		}
	}
	if at != w.Task.Start+w.Wall {
		t.Errorf("task %d: the path ends at %d ns, the task at %d ns", w.Task.ID, at, w.Task.Start+w.Wall)
	}
}

// TestWhySlowestRequest: the slowest request of the requests program waits
// mostly on the mutex its worker takes, and the critical path says so,
// with the worker's frame; the parts add up to the task's duration.
func TestWhySlowestRequest(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/requests.trace")
	if err != nil {
		t.Fatal(err)
	}
	restamped, _ := timelinetest.RestampedData(t, data)
	ref, _, _ := refTasks(t, restamped)
	var durs []trace.Time
	var slowest uint64
	for id, rt := range ref {
		if rt.typ != "request" || !rt.sawBegin || !rt.sawEnded {
			continue
		}
		d := rt.end - rt.begin
		if len(durs) == 0 || d > slices.Max(durs) {
			slowest = id
		}
		durs = append(durs, d)
	}
	slices.Sort(durs)
	slices.Reverse(durs)
	const n = 5
	res, err := whyOf(t, data, WhyQuery{Slowest: "request", N: n})
	if err != nil {
		t.Fatal(err)
	}
	w := res.Why
	if w.Task.ID != slowest || w.Wall != time.Duration(durs[0]) {
		t.Fatalf("explained task %d (%v), the slowest request is %d (%v)", w.Task.ID, w.Wall, slowest, time.Duration(durs[0]))
	}
	states, first := refStates(t, restamped)
	checkPath(t, w, states, first)
	top := w.Breakdown[0]
	if top.Category != "mutex" || top.Share < 0.5 || !strings.HasPrefix(top.Frame, "main.worker") {
		t.Errorf("the largest part is %+v; want the mutex wait in the worker, over half the time", top)
	}
	var wall, agg time.Duration
	for _, d := range durs[:n] {
		wall += time.Duration(d)
	}
	for _, p := range res.Aggregate {
		agg += p.Time
	}
	if len(res.Tasks) != n || res.Wall != wall || agg != wall {
		t.Errorf("aggregate over %d tasks: wall %v, parts %v; the %d slowest last %v", len(res.Tasks), res.Wall, agg, n, wall)
	}
	if res.Aggregate[0].Category != "mutex" {
		t.Errorf("the aggregate's largest part is %+v, want the mutex wait", res.Aggregate[0])
	}
}

// TestWhyPathsMatchEvents: every task's path, on the recorded traces and
// the Go tree's traces with tasks, covers its wall time exactly and puts
// each goroutine in the state the events give it.
func TestWhyPathsMatchEvents(t *testing.T) {
	var traces []reftest.CorpusTrace
	for _, name := range []string{"requests.trace", "annotated.trace"} {
		data, err := os.ReadFile("../../testdata/traces/" + name)
		if err != nil {
			t.Fatal(err)
		}
		traces = append(traces, reftest.CorpusTrace{Name: name, Data: data})
	}
	traces = append(traces, reftest.CorpusTrace{Name: "wait chain", Data: waitChainTrace(t)},
		reftest.CorpusTrace{Name: "creator", Data: creatorTrace(t)})
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		if c.Valid() {
			traces = append(traces, c)
		}
	}
	walked := 0
	for _, c := range traces {
		restamped, _ := timelinetest.RestampedData(t, c.Data)
		ref, _, _ := refTasks(t, restamped)
		if len(ref) == 0 {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			states, first := refStates(t, restamped)
			for id := range ref {
				res, err := whyOf(t, c.Data, WhyQuery{Task: id})
				if err != nil {
					t.Fatalf("task %d: %v", id, err)
				}
				checkPath(t, res.Why, states, first)
				walked++
			}
		})
	}
	if walked < 50 {
		t.Errorf("%d tasks walked, want 50 or more", walked)
	}
}

func TestWhyErrors(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/requests.trace")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whyOf(t, data, WhyQuery{Task: 1000}); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown task: %v, want ErrNotFound", err)
	}
	if _, err := whyOf(t, data, WhyQuery{Slowest: "reply"}); !errors.Is(err, ErrNoMatch) {
		t.Errorf("an unknown type: %v, want ErrNoMatch", err)
	}
}

// waitChainTrace is a one-generation trace with a known critical path.
// One tick is one nanosecond; on one P:
//
//	t=10   g1 begins task 1 "req"
//	t=20   g1 blocks on a channel receive
//	t=30   g2 (runnable since the trace began) runs
//	t=40   g2 blocks on a mutex ("sync")
//	t=50   g3 runs; at t=100 it unlocks the mutex (unblocks g2); exits at 110
//	t=120  g2 runs; at t=150 it sends on the channel (unblocks g1)
//	t=160  g2 blocks again
//	t=170  g1 runs; at t=200 it ends the task
//
// The task's 190ns: g1 ran 10 (10-20) and 30 (170-200) and waited 20 for
// a P (150-170); its wait on the channel (20-150) is g2's time: runnable
// 10 (20-30), running 10 (30-40), the mutex 60 (40-100), runnable 20
// (100-120), running 30 (120-150).
func waitChainTrace(t *testing.T) []byte {
	const (
		chanRecv = 1
		sync     = 2
		req      = 3
	)
	return onePTrace(t, []string{"chan receive", "sync", "req"}, []timedEvent{
		{format.EvProcStatus, 1, []uint64{0, 1}},
		{format.EvGoStatus, 2, []uint64{1, 0, uint64(format.GoRunning)}},
		{format.EvGoStatus, 3, []uint64{2, format.NoThread, uint64(format.GoRunnable)}},
		{format.EvGoStatus, 4, []uint64{3, format.NoThread, uint64(format.GoRunnable)}},
		{format.EvUserTaskBegin, 10, []uint64{1, 0, req, 0}},
		{format.EvGoBlock, 20, []uint64{chanRecv, 0}},
		{format.EvGoStart, 30, []uint64{2, 1}},
		{format.EvGoBlock, 40, []uint64{sync, 0}},
		{format.EvGoStart, 50, []uint64{3, 1}},
		{format.EvGoUnblock, 100, []uint64{2, 2, 0}},
		{format.EvGoDestroy, 110, nil},
		{format.EvGoStart, 120, []uint64{2, 3}},
		{format.EvGoUnblock, 150, []uint64{1, 1, 0}},
		{format.EvGoBlock, 160, []uint64{chanRecv, 0}},
		{format.EvGoStart, 170, []uint64{1, 2}},
		{format.EvUserTaskEnd, 200, []uint64{1, 0}},
		{format.EvGoBlock, 210, []uint64{chanRecv, 0}},
		{format.EvProcStop, 220, nil},
	})
}

// timedEvent is an event at an absolute time, with its arguments after
// the time.
type timedEvent struct {
	typ  format.EventType
	at   uint64
	args []uint64
}

// onePTrace assembles a one-generation Go 1.22 trace of one M's batch of
// evs, with strs as strings 1, 2, ...; one tick is one nanosecond.
func onePTrace(t *testing.T, strs []string, evs []timedEvent) []byte {
	t.Helper()
	e := format.NewEncoder(format.Go122)
	e.Batch(1, 0, 0, func(b *format.Encoder) {
		var last uint64
		for _, ev := range evs {
			b.Event(ev.typ, append([]uint64{ev.at - last}, ev.args...), nil)
			last = ev.at
		}
	})
	reftest.Tables(e, 1e9, strs...)
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// creatorTrace is a one-generation trace whose critical path goes through
// a goroutine's creator, a stop-the-world and a GC assist. On one P:
//
//	t=10   g1 begins task 1 "req"; at t=20 it blocks on a channel receive
//	t=30   g3 (runnable since the trace began) runs; at t=40 it creates g2;
//	       at t=50 it blocks
//	t=60   g2 runs: it stops the world from t=62 to 66, assists the GC
//	       from t=70 to 75, and at t=80 sends to g1; it exits at t=90
//	t=100  g1 runs; at t=110 it ends the task
func creatorTrace(t *testing.T) []byte {
	const (
		chanRecv = 1
		req      = 2
		stw      = 3
	)
	return onePTrace(t, []string{"chan receive", "req", "GC mark termination"}, []timedEvent{
		{format.EvProcStatus, 1, []uint64{0, 1}},
		{format.EvGoStatus, 2, []uint64{1, 0, uint64(format.GoRunning)}},
		{format.EvGoStatus, 3, []uint64{3, format.NoThread, uint64(format.GoRunnable)}},
		{format.EvUserTaskBegin, 10, []uint64{1, 0, req, 0}},
		{format.EvGoBlock, 20, []uint64{chanRecv, 0}},
		{format.EvGoStart, 30, []uint64{3, 1}},
		{format.EvGoCreate, 40, []uint64{2, 0, 0}},
		{format.EvGoBlock, 50, []uint64{chanRecv, 0}},
		{format.EvGoStart, 60, []uint64{2, 1}},
		{format.EvSTWBegin, 62, []uint64{stw, 0}},
		{format.EvSTWEnd, 66, nil},
		{format.EvGCMarkAssistBegin, 70, []uint64{0}},
		{format.EvGCMarkAssistEnd, 75, nil},
		{format.EvGoUnblock, 80, []uint64{1, 1, 0}},
		{format.EvGoDestroy, 90, nil},
		{format.EvGoStart, 100, []uint64{1, 2}},
		{format.EvUserTaskEnd, 110, []uint64{1, 0}},
		{format.EvGoBlock, 120, []uint64{chanRecv, 0}},
		{format.EvProcStop, 130, nil},
	})
}

// pathSeg is a path segment as the known-answer tests state it.
type pathSeg struct {
	g          int64
	state, cat string
	what       string
	start, dur time.Duration
	depth      int
}

// TestWhyKnownAnswers walks the paths of the hand-built traces: times are
// from the trace's start, the opening sync at t=1.
func TestWhyKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  []byte
		wall  time.Duration
		path  []pathSeg
		parts map[string]time.Duration
	}{
		{"wait chain", waitChainTrace(t), 190, []pathSeg{
			{1, "running", "running", "", 9, 10, 0},
			{2, "runnable", "scheduling", "", 19, 10, 1},
			{2, "running", "running", "", 29, 10, 1},
			{2, "blocked", "mutex", "sync", 39, 60, 1},
			{2, "runnable", "scheduling", "", 99, 20, 1},
			{2, "running", "running", "", 119, 30, 1},
			{1, "runnable", "scheduling", "", 149, 20, 0},
			{1, "running", "running", "", 169, 30, 0},
		}, map[string]time.Duration{"running": 80, "scheduling": 50, "mutex": 60}},
		{"creator", creatorTrace(t), 100, []pathSeg{
			{1, "running", "running", "", 9, 10, 0},
			{3, "runnable", "scheduling", "", 19, 10, 2},
			{3, "running", "running", "", 29, 10, 2},
			{2, "runnable", "scheduling", "", 39, 20, 1},
			{2, "running", "running", "", 59, 2, 1},
			{2, "running", "stop-the-world", "GC mark termination", 61, 4, 1},
			{2, "running", "running", "", 65, 4, 1},
			{2, "running", "gc assist", "", 69, 5, 1},
			{2, "running", "running", "", 74, 5, 1},
			{1, "runnable", "scheduling", "", 79, 20, 0},
			{1, "running", "running", "", 99, 10, 0},
		}, map[string]time.Duration{"running": 41, "scheduling": 50, "stop-the-world": 4, "gc assist": 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := whyOf(t, tc.data, WhyQuery{Task: 1})
			if err != nil {
				t.Fatal(err)
			}
			w := res.Why
			if w.Wall != tc.wall || w.Goroutine.ID != 1 {
				t.Fatalf("wall %d ns from goroutine %d, want %d from 1", w.Wall, w.Goroutine.ID, tc.wall)
			}
			var got []pathSeg
			for _, s := range w.Path {
				got = append(got, pathSeg{s.Goroutine.ID, s.State, s.Category, s.What, s.Start, s.Duration, s.Depth})
			}
			if !slices.Equal(got, tc.path) {
				t.Errorf("path:\n got %v\nwant %v", got, tc.path)
			}
			parts := make(map[string]time.Duration)
			for _, p := range w.Breakdown {
				parts[p.Category] += p.Time
			}
			if !maps.Equal(parts, tc.parts) {
				t.Errorf("breakdown %v, want %v", parts, tc.parts)
			}
		})
	}
}

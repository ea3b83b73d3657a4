package drill

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
	"golang.org/x/exp/trace"
)

// refTask is a task as the events of golang.org/x/exp/trace show it, read
// here directly.
type refTask struct {
	typ                string
	parent             uint64
	begin, end         trace.Time // 0 when not in the trace
	regions, logs      int
	goroutines         map[trace.GoID]bool
	children           int
	sawBegin, sawEnded bool
}

// refTasks reads data with golang.org/x/exp/trace and builds each task from
// its begin, end, region and log events; first and last are the times of
// the trace's first and last events.
func refTasks(t *testing.T, data []byte) (tasks map[uint64]*refTask, first, last trace.Time) {
	t.Helper()
	tasks = make(map[uint64]*refTask)
	get := func(id trace.TaskID) *refTask {
		rt := tasks[uint64(id)]
		if rt == nil {
			rt = &refTask{goroutines: make(map[trace.GoID]bool)}
			tasks[uint64(id)] = rt
		}
		return rt
	}
	depth := make(map[trace.GoID]int) // regions open on each goroutine
	first = eachEvent(t, data, func(ev *trace.Event) {
		last = ev.Time()
		switch ev.Kind() {
		case trace.EventTaskBegin:
			tk := ev.Task()
			rt := get(tk.ID)
			rt.typ, rt.begin, rt.sawBegin = tk.Type, ev.Time(), true
			if tk.Parent != trace.NoTask {
				rt.parent = uint64(tk.Parent)
			}
			if p, ok := tasks[uint64(tk.Parent)]; ok && tk.Parent != 0 {
				p.children++
			}
			rt.goroutines[ev.Goroutine()] = true
		case trace.EventTaskEnd:
			rt := get(ev.Task().ID)
			rt.end, rt.sawEnded = ev.Time(), true
			rt.goroutines[ev.Goroutine()] = true
		case trace.EventRegionBegin:
			depth[ev.Goroutine()]++
			if id := ev.Region().Task; id != 0 {
				rt := get(id)
				rt.regions++
				rt.goroutines[ev.Goroutine()] = true
			}
		case trace.EventRegionEnd:
			if depth[ev.Goroutine()] > 0 {
				depth[ev.Goroutine()]--
				return
			}
			if id := ev.Region().Task; id != 0 {
				rt := get(id)
				rt.regions++
				rt.goroutines[ev.Goroutine()] = true
			}
		case trace.EventLog:
			if id := ev.Log().Task; id != 0 {
				rt := get(id)
				rt.logs++
				rt.goroutines[ev.Goroutine()] = true
			}
		}
	})
	return tasks, first, last
}

// eachEvent reads data with golang.org/x/exp/trace and calls fn with each
// event; it returns the time of the first.
func eachEvent(t *testing.T, data []byte, fn func(*trace.Event)) (first trace.Time) {
	t.Helper()
	tr, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			return first
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			first = ev.Time()
		}
		fn(&ev)
	}
}

// checkTasks compares Tasks on data with the tasks read from its events.
func checkTasks(t *testing.T, data []byte) int {
	t.Helper()
	restamped, _ := timelinetest.RestampedData(t, data)
	ref, first, last := refTasks(t, restamped)
	l, err := Tasks(context.Background(), bytes.NewReader(data), TaskFilter{})
	if len(ref) == 0 {
		if !errors.Is(err, ErrNoMatch) {
			t.Errorf("no tasks: error %v, want ErrNoMatch", err)
		}
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Tasks) != len(ref) {
		t.Errorf("%d tasks, the events have %d", len(l.Tasks), len(ref))
	}
	for i, got := range l.Tasks {
		if i > 0 && got.Duration > l.Tasks[i-1].Duration {
			t.Errorf("task %d listed after a shorter one", got.ID)
		}
		checkTask(t, got, ref[got.ID], first, last)
	}
	// One task at a time, reading only the generations the index names.
	ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{Actors: true})
	if err != nil {
		t.Fatal(err)
	}
	for id, rt := range ref {
		one, err := TaskByID(context.Background(), bytes.NewReader(data), ix, id)
		if err != nil {
			t.Errorf("task %d by ID: %v", id, err)
			continue
		}
		checkTask(t, one.Tasks[0], rt, first, last)
	}
	return len(ref)
}

// checkTask compares got with rt, the task the events show; first and
// last are the times of the trace's first and last events.
func checkTask(t *testing.T, got Task, rt *refTask, first, last trace.Time) {
	t.Helper()
	if rt == nil {
		t.Errorf("task %d: not in the events", got.ID)
		return
	}
	begin, end := rt.begin, rt.end
	if !rt.sawBegin {
		begin = first
	}
	if !rt.sawEnded {
		end = last
	}
	want := Task{ID: got.ID, Type: rt.typ, Parent: rt.parent, Start: time.Duration(begin - first), Before: !rt.sawBegin,
		Duration: time.Duration(end - begin), Open: !rt.sawEnded, Regions: rt.regions, Logs: rt.logs, Children: rt.children}
	g := got
	g.Goroutines, g.endG = nil, GoRef{}
	if g.Type != want.Type || g.Parent != want.Parent || g.Start != want.Start || g.Before != want.Before ||
		g.Duration != want.Duration || g.Open != want.Open || g.Regions != want.Regions || g.Logs != want.Logs || g.Children != want.Children {
		t.Errorf("task %d:\n got %+v\nwant %+v", got.ID, g, want)
	}
	ids := make(map[trace.GoID]bool)
	for _, r := range got.Goroutines {
		ids[trace.GoID(r.ID)] = true
	}
	delete(rt.goroutines, trace.NoGoroutine)
	if len(ids) != len(rt.goroutines) {
		t.Errorf("task %d: goroutines %v, the events name %v", got.ID, ids, rt.goroutines)
	}
	for id := range rt.goroutines {
		if !ids[id] {
			t.Errorf("task %d: goroutine %d not listed", got.ID, id)
		}
	}
}

// TestTasksMatchEvents: every task's begin, end, parent, type, regions,
// logs and goroutines, against what the events read directly from
// golang.org/x/exp/trace say, on recorded traces and on the Go tree's trace
// tests.
func TestTasksMatchEvents(t *testing.T) {
	for _, name := range []string{"requests.trace", "annotated.trace", "workers.trace"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("../../testdata/traces/" + name)
			if err != nil {
				t.Fatal(err)
			}
			n := checkTasks(t, data)
			if name != "workers.trace" && n == 0 {
				t.Error("no tasks")
			}
		})
	}
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	withTasks := 0
	for _, c := range corpus {
		if !c.Valid() {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			if n := checkTasks(t, c.Data); n > 0 {
				withTasks++
				t.Logf("%d tasks", n)
			}
		})
	}
	// The annotation tests and go122-task-across-generations have tasks.
	if len(corpus) > 0 && withTasks < 3 {
		t.Errorf("%d traces of the Go tree's tests have tasks, want 3 or more", withTasks)
	}
}

// TestTasksTop: keeping only the slowest gives the head of the whole list,
// and the same total.
func TestTasksTop(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/requests.trace")
	if err != nil {
		t.Fatal(err)
	}
	all, err := Tasks(context.Background(), bytes.NewReader(data), TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 47, 48, 100} {
		top, err := Tasks(context.Background(), bytes.NewReader(data), TaskFilter{Top: n})
		if err != nil {
			t.Fatal(err)
		}
		want := all.Tasks[:min(n, len(all.Tasks))]
		if top.Total != all.Total || len(top.Tasks) != len(want) {
			t.Fatalf("top %d: %d of %d tasks, want %d of %d", n, len(top.Tasks), top.Total, len(want), all.Total)
		}
		for i := range want {
			if top.Tasks[i].ID != want[i].ID || top.Tasks[i].Duration != want[i].Duration {
				t.Errorf("top %d: row %d is task %d, want %d", n, i, top.Tasks[i].ID, want[i].ID)
			}
		}
	}
}

func TestIDSet(t *testing.T) {
	var s idSet
	ids := []uint64{0, 1, 63, 64, 65, 1000, 4095, 70000, 1 << 20, maxBitID - 1, maxBitID, 1 << 40}
	for i := uint64(0); i < 300000; i += 7 {
		ids = append(ids, i)
	}
	for _, id := range ids {
		s.add(id)
	}
	in := make(map[uint64]bool)
	for _, id := range ids {
		in[id] = true
		if !s.has(id) {
			t.Errorf("%d added, not in the set", id)
		}
	}
	for _, id := range []uint64{2, 62, 66, 999, 300001, maxBitID + 1, 1<<40 + 1} {
		if !in[id] && s.has(id) {
			t.Errorf("%d in the set, never added", id)
		}
	}
}

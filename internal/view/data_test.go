package view

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
	"golang.org/x/exp/trace"
)

// refTraces are the recorded traces the data is checked on.
var refTraces = []string{"annotated.trace", "workers.trace", "hotlock.trace", "leaky.trace"}

func tracePath(name string) string { return filepath.Join("..", "..", "testdata", "traces", name) }

// loaded keeps the Data read, by path: models do not change it.
var loaded = map[string]*Data{}

// openFile opens path for the test.
func openFile(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func loadFile(t testing.TB, path string) *Data {
	t.Helper()
	if d := loaded[path]; d != nil {
		return d
	}
	d, err := Load(openFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	loaded[path] = d
	return d
}

// TestGoroutineTimes holds each goroutine's time in each state, and its
// time on the P lanes, to go tool trace's goroutine pages as reftest
// computes them from golang.org/x/exp/trace's events.
func TestGoroutineTimes(t *testing.T) {
	for _, name := range refTraces {
		t.Run(name, func(t *testing.T) {
			path, ok := timelinetest.GoToolTraceInput(t, tracePath(name))
			if !ok {
				t.Skip("a goroutine ID is reused: the pages merge them")
			}
			pages, _, err := reftest.GoroutinePages(openFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			d := loadFile(t, path)
			type times struct{ running, runnable, syscall, onP trace.Time }
			got := make(map[trace.GoID]*times)
			for _, g := range d.Goroutines {
				tm := &times{}
				got[g.ID] = tm
				for _, iv := range g.Intervals {
					switch iv.State {
					case trace.GoRunning:
						tm.running += iv.End - iv.Start
					case trace.GoRunnable:
						tm.runnable += iv.End - iv.Start
					case trace.GoSyscall:
						tm.syscall += iv.End - iv.Start
					}
				}
			}
			for _, p := range d.Procs {
				for _, r := range p.Runs {
					got[r.G.ID].onP += r.End - r.Start
				}
			}
			checked := 0
			for _, pg := range pages {
				g := got[pg.ID]
				if g == nil {
					t.Errorf("G%d (%s): not in the view's data", pg.ID, pg.Name)
					continue
				}
				if g.running != pg.Running || g.runnable != pg.Runnable || g.syscall != pg.Syscall {
					t.Errorf("G%d (%s): running %d runnable %d syscall %d, go tool trace's pages: %d %d %d",
						pg.ID, pg.Name, g.running, g.runnable, g.syscall, pg.Running, pg.Runnable, pg.Syscall)
				}
				// N.B. A goroutine running in a system call holds no P
				// while it does; one running outside of one always does.
				if g.onP != pg.Running {
					t.Errorf("G%d (%s): %d ns on the P lanes, running %d ns by the pages", pg.ID, pg.Name, g.onP, pg.Running)
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("no goroutines compared")
			}
		})
	}
}

// TestRangesHeapTasks holds the GC band, the heap line and the tasks to
// the events golang.org/x/exp/trace delivers.
func TestRangesHeapTasks(t *testing.T) {
	for _, name := range refTraces {
		t.Run(name, func(t *testing.T) {
			path := timelinetest.Restamped(t, tracePath(name))
			r, err := trace.NewReader(openFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			var marks, stws []trace.Time // begin times
			var heap []Sample
			begun := map[trace.TaskID]trace.Time{}
			taskTime := map[trace.TaskID]trace.Time{}
			for {
				ev, err := r.ReadEvent()
				if err != nil {
					break
				}
				switch ev.Kind() {
				case trace.EventRangeBegin:
					switch n := ev.Range().Name; {
					case n == "GC concurrent mark phase":
						marks = append(marks, ev.Time())
					case strings.HasPrefix(n, "stop-the-world"):
						stws = append(stws, ev.Time())
					}
				case trace.EventMetric:
					if ev.Metric().Name == "/memory/classes/heap/objects:bytes" {
						heap = append(heap, Sample{ev.Time(), ev.Metric().Value.Uint64()})
					}
				case trace.EventTaskBegin:
					begun[ev.Task().ID] = ev.Time()
				case trace.EventTaskEnd:
					if b, ok := begun[ev.Task().ID]; ok {
						taskTime[ev.Task().ID] = ev.Time() - b
					}
				}
			}
			d := loadFile(t, path)
			var gotMarks, gotSTW []trace.Time
			for _, r := range d.GC {
				if r.Start != d.Start { // begun before the trace: no begin event
					gotMarks = append(gotMarks, r.Start)
				}
			}
			for _, r := range d.STW {
				gotSTW = append(gotSTW, r.Start)
			}
			if !equal(gotMarks, marks) {
				t.Errorf("GC mark phases begin at %v, x/exp/trace: %v", gotMarks, marks)
			}
			if !equal(gotSTW, stws) {
				t.Errorf("stopped worlds begin at %v, x/exp/trace: %v", gotSTW, stws)
			}
			if len(d.Heap) != len(heap) {
				t.Fatalf("%d heap samples, x/exp/trace has %d", len(d.Heap), len(heap))
			}
			for i := range heap {
				if d.Heap[i] != heap[i] {
					t.Errorf("heap sample %d: %v, x/exp/trace: %v", i, d.Heap[i], heap[i])
				}
			}
			ended := 0
			for _, tk := range d.Tasks {
				if !tk.Begun || !tk.Ended {
					continue
				}
				ended++
				if want, ok := taskTime[tk.ID]; !ok || tk.Duration() != want {
					t.Errorf("task %d (%s) took %d ns, x/exp/trace: %d", tk.ID, tk.Type, tk.Duration(), want)
				}
			}
			if ended != len(taskTime) {
				t.Errorf("%d tasks begun and ended, x/exp/trace: %d", ended, len(taskTime))
			}
		})
	}
}

func equal(a, b []trace.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

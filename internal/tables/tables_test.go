package tables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"github.com/parquet-go/parquet-go"
	"golang.org/x/exp/trace"
)

var testLabels = []Label{{"service", "api"}, {"release", "v1.2.3"}}

// export writes the tables of data into a new directory.
func export(t *testing.T, data []byte, labels []Label) (string, Summary, error) {
	t.Helper()
	dir := t.TempDir()
	var files []*os.File
	sum, err := Export(context.Background(), bytes.NewReader(data), Options{File: "x.trace", SHA256: "00", ID: "0123456789abcdef",
		Labels: labels, PageDir: dir,
		Create: func(table string) (io.Writer, error) {
			f, err := os.Create(filepath.Join(dir, table+".parquet"))
			files = append(files, f)
			return f, err
		}})
	for _, f := range files {
		if cerr := f.Close(); cerr != nil {
			t.Fatal(cerr)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".gotrace-pages-*")); len(left) > 0 {
		t.Fatalf("temporary page files left: %v", left)
	}
	return dir, sum, err
}

func read[T any](t *testing.T, dir, table string) []T {
	t.Helper()
	rows, err := parquet.ReadFile[T](filepath.Join(dir, table+".parquet"))
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	return rows
}

func rowGroups(t *testing.T, dir, table string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, table+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	return len(pf.RowGroups())
}

func readTrace(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "traces", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// events calls fn with each event of data, read with golang.org/x/exp/trace
// directly: the reference the tables are checked against.
func events(t *testing.T, data []byte, fn func(ev *trace.Event)) {
	t.Helper()
	r, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(&ev)
	}
}

type labelled struct {
	TraceID string `parquet:"trace_id"`
	Service string `parquet:"service"`
	Release string `parquet:"release"`
}

// TestExportMatchesEvents checks the tables of bundled traces against the
// events golang.org/x/exp/trace reads from them, and the goroutines
// against go tool trace's goroutine pages.
func TestExportMatchesEvents(t *testing.T) {
	for _, name := range []string{"annotated.trace", "leaky.trace", "workers.trace", "callbacks.trace"} {
		t.Run(name, func(t *testing.T) {
			data := readTrace(t, name)
			dir, sum, err := export(t, data, testLabels)
			if err != nil {
				t.Fatal(err)
			}

			// Every row of every table carries the trace and the labels.
			for _, tb := range Tables() {
				for _, r := range read[labelled](t, dir, tb.Name) {
					if r != (labelled{"0123456789abcdef", "api", "v1.2.3"}) {
						t.Fatalf("%s row: %+v", tb.Name, r)
					}
				}
				// One row group per generation at most: rows are cut at
				// each generation's end.
				if n := rowGroups(t, dir, tb.Name); n > sum.Generations {
					t.Errorf("%s: %d row groups for %d generations", tb.Name, n, sum.Generations)
				}
			}
			if n := rowGroups(t, dir, "intervals"); n != sum.Generations {
				t.Errorf("intervals: %d row groups, want one per generation (%d)", n, sum.Generations)
			}

			var (
				samples, syncs int
				first          trace.Time
				wall           int64
				logs           []string
				metrics        = map[string]int64{}
				nMetrics       int
				taskBegin      = map[trace.TaskID]trace.Time{}
				taskDur        = map[trace.TaskID]int64{}
				taskType       = map[trace.TaskID]string{}
				regions, stws  int
				stwOpen        = map[trace.ResourceID]bool{}
			)
			events(t, data, func(ev *trace.Event) {
				if first == 0 {
					first = ev.Time()
				}
				switch ev.Kind() {
				case trace.EventSync:
					syncs++
					if c := ev.Sync().ClockSnapshot; c != nil && wall == 0 {
						wall = c.Wall.UnixNano() - int64(c.Trace-first)
					}
				case trace.EventStackSample:
					samples++
				case trace.EventLog:
					l := ev.Log()
					logs = append(logs, fmt.Sprintf("%d %d %s %s", ev.Goroutine(), l.Task, l.Category, l.Message))
				case trace.EventMetric:
					if m := ev.Metric(); m.Value.Kind() == trace.ValueUint64 {
						metrics[m.Name] = int64(m.Value.Uint64())
						nMetrics++
					}
				case trace.EventTaskBegin:
					taskBegin[ev.Task().ID] = ev.Time()
					taskType[ev.Task().ID] = ev.Task().Type
				case trace.EventTaskEnd:
					if b, ok := taskBegin[ev.Task().ID]; ok {
						taskDur[ev.Task().ID] = int64(ev.Time() - b)
					}
				case trace.EventRegionBegin:
					regions++
				case trace.EventRangeBegin:
					if r := ev.Range(); strings.HasPrefix(r.Name, "stop-the-world") {
						stwOpen[r.Scope] = true
					}
				case trace.EventRangeEnd:
					if r := ev.Range(); strings.HasPrefix(r.Name, "stop-the-world") && stwOpen[r.Scope] {
						stws++
						delete(stwOpen, r.Scope)
					}
				}
			})

			type traceRow struct {
				Start       *int64 `parquet:"start_time"`
				Generations int64  `parquet:"generations"`
				Damaged     bool   `parquet:"damaged"`
			}
			tr := read[traceRow](t, dir, "traces")
			if len(tr) != 1 || tr[0].Generations != int64(syncs-1) && tr[0].Generations != int64(syncs) || tr[0].Damaged {
				t.Errorf("traces: %+v; want one undamaged row, %d syncs", tr, syncs)
			}
			if wall != 0 && (tr[0].Start == nil || *tr[0].Start != wall/1000) {
				t.Errorf("traces.start_time: %v, want %d µs", tr[0].Start, wall/1000)
			}

			if got := len(read[struct{}](t, dir, "cpu_samples")); got != samples {
				t.Errorf("cpu_samples: %d rows, x/exp/trace has %d samples", got, samples)
			}

			type logRow struct {
				Goroutine *int64 `parquet:"goroutine"`
				Task      int64  `parquet:"task_id"`
				Category  string `parquet:"category"`
				Message   string `parquet:"message"`
			}
			var gotLogs []string
			for _, l := range read[logRow](t, dir, "logs") {
				g := int64(trace.NoGoroutine)
				if l.Goroutine != nil {
					g = *l.Goroutine
				}
				gotLogs = append(gotLogs, fmt.Sprintf("%d %d %s %s", g, l.Task, l.Category, l.Message))
			}
			if !slices.Equal(gotLogs, logs) {
				t.Errorf("logs:\n%q\nx/exp/trace:\n%q", gotLogs, logs)
			}

			type metricRow struct {
				Name  string `parquet:"name"`
				Value int64  `parquet:"value"`
			}
			ms := read[metricRow](t, dir, "metrics")
			last := map[string]int64{}
			for _, m := range ms {
				last[m.Name] = m.Value
			}
			if len(ms) != nMetrics || fmt.Sprint(last) != fmt.Sprint(metrics) {
				t.Errorf("metrics: %d rows, last %v; x/exp/trace: %d, last %v", len(ms), last, nMetrics, metrics)
			}

			type taskRow struct {
				ID       int64  `parquet:"task_id"`
				Type     string `parquet:"type"`
				Start    *int64 `parquet:"start_ns"`
				Duration *int64 `parquet:"duration_ns"`
			}
			begun := 0
			for _, tk := range read[taskRow](t, dir, "tasks") {
				id := trace.TaskID(tk.ID)
				if tk.Start == nil {
					continue
				}
				begun++
				if tk.Type != taskType[id] {
					t.Errorf("task %d: type %q, x/exp/trace %q", id, tk.Type, taskType[id])
				}
				want, ended := taskDur[id]
				if ended != (tk.Duration != nil) || ended && *tk.Duration != want {
					t.Errorf("task %d: duration %v, x/exp/trace %d (ended %v)", id, tk.Duration, want, ended)
				}
			}
			if begun != len(taskBegin) {
				t.Errorf("tasks begun: %d rows, x/exp/trace %d", begun, len(taskBegin))
			}

			type spanRow struct {
				Kind  string `parquet:"kind"`
				Start *int64 `parquet:"start_ns"`
				End   *int64 `parquet:"end_ns"`
			}
			n := 0
			for _, r := range read[spanRow](t, dir, "regions") {
				if r.Start != nil {
					n++
				}
			}
			if n != regions {
				t.Errorf("regions begun: %d rows, x/exp/trace %d", n, regions)
			}
			n = 0
			for _, r := range read[spanRow](t, dir, "gc") {
				if r.Kind == "stw" && r.Start != nil && r.End != nil {
					n++
				}
			}
			if n != stws {
				t.Errorf("stop-the-world pauses: %d rows, x/exp/trace %d", n, stws)
			}

			checkPages(t, dir, data)
			checkStacks(t, dir)
		})
	}
}

// checkPages compares the goroutines table with go tool trace's goroutine
// pages, where a goroutine has one (its ID not reused), with the time
// blocked forever that the pages stop counting.
func checkPages(t *testing.T, dir string, data []byte) {
	t.Helper()
	// N.B. Through a Source, which moves the statuses the runtime writes
	// late back to where they belong, as the pages' rules assume.
	src, err := timeline.NewSource(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pages, _, err := reftest.GoroutinePages(src)
	if err != nil {
		t.Fatal(err)
	}
	type gRow struct {
		ID          int64  `parquet:"goroutine"`
		Incarnation int64  `parquet:"incarnation"`
		Name        string `parquet:"name"`
		Running     int64  `parquet:"running_ns"`
		Runnable    int64  `parquet:"runnable_ns"`
		Blocked     int64  `parquet:"blocked_ns"`
		Syscall     int64  `parquet:"syscall_ns"`
	}
	rows := read[gRow](t, dir, "goroutines")
	byID := map[int64][]gRow{}
	for _, r := range rows {
		byID[r.ID] = append(byID[r.ID], r)
	}
	compared := 0
	for _, p := range pages {
		rs := byID[int64(p.ID)]
		if len(rs) != 1 {
			continue
		}
		r := rs[0]
		want := [4]int64{int64(p.Running), int64(p.Runnable), int64(p.Blocked + p.Forever), int64(p.Syscall)}
		if got := [4]int64{r.Running, r.Runnable, r.Blocked, r.Syscall}; got != want || r.Name != p.Name {
			t.Errorf("goroutine %d %s: %v, go tool trace's page %s %v", r.ID, r.Name, got, p.Name, want)
		}
		compared++
	}
	if compared == 0 {
		t.Error("no goroutine compared with its page")
	}

	// The intervals add up to each goroutine's totals.
	type ivRow struct {
		ID          int64  `parquet:"goroutine"`
		Incarnation int64  `parquet:"incarnation"`
		State       string `parquet:"state"`
		Duration    int64  `parquet:"duration_ns"`
	}
	sums := map[[2]int64]map[string]int64{}
	for _, iv := range read[ivRow](t, dir, "intervals") {
		k := [2]int64{iv.ID, iv.Incarnation}
		if sums[k] == nil {
			sums[k] = map[string]int64{}
		}
		sums[k][iv.State] += iv.Duration
	}
	for _, r := range rows {
		s := sums[[2]int64{r.ID, r.Incarnation}]
		if s["running"] != r.Running || s["runnable"] != r.Runnable || s["blocked"] != r.Blocked || s["syscall"] != r.Syscall {
			t.Errorf("goroutine %d.%d: intervals sum to %v, totals %+v", r.ID, r.Incarnation, s, r)
		}
	}
}

// checkStacks checks that every stack named is in the stacks table, with
// as many frames as its depth.
func checkStacks(t *testing.T, dir string) {
	t.Helper()
	type stackRow struct {
		ID    int64 `parquet:"stack_id"`
		Depth int64 `parquet:"depth"`
	}
	type frameRow struct {
		ID    int64 `parquet:"stack_id"`
		Level int64 `parquet:"level"`
	}
	depth := map[int64]int64{}
	for _, s := range read[stackRow](t, dir, "stacks") {
		if _, dup := depth[s.ID]; dup {
			t.Errorf("stack %d listed twice", s.ID)
		}
		depth[s.ID] = s.Depth
	}
	frames := map[int64]int64{}
	for _, f := range read[frameRow](t, dir, "frames") {
		if f.Level != frames[f.ID] {
			t.Errorf("stack %d: frame at level %d after %d", f.ID, f.Level, frames[f.ID])
		}
		frames[f.ID]++
	}
	if fmt.Sprint(frames) != fmt.Sprint(depth) {
		t.Errorf("frames per stack %v, depths %v", frames, depth)
	}
	type ivRow struct {
		Stack *int64 `parquet:"stack_id"`
	}
	for _, iv := range read[ivRow](t, dir, "intervals") {
		if iv.Stack != nil && depth[*iv.Stack] == 0 {
			t.Fatalf("interval names stack %d, not in the stacks table", *iv.Stack)
		}
	}
}

// TestExportDamaged: a trace cut short gives the tables of its complete
// generations and says so.
func TestExportDamaged(t *testing.T) {
	data := readTrace(t, "annotated.trace")
	dir, sum, err := export(t, data[:20000], nil)
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("err = %v, want ErrDamaged", err)
	}
	if sum.Generations != 2 {
		t.Errorf("%d generations, want the 2 before the damage", sum.Generations)
	}
	type traceRow struct {
		Damaged bool   `parquet:"damaged"`
		Error   string `parquet:"error"`
	}
	tr := read[traceRow](t, dir, "traces")
	if len(tr) != 1 || !tr[0].Damaged || tr[0].Error == "" {
		t.Errorf("traces: %+v", tr)
	}
	if n := rowGroups(t, dir, "intervals"); n != 2 {
		t.Errorf("intervals: %d row groups, want 2", n)
	}
}

// TestExportCorpus exports the Go tree's trace tests: the valid ones
// without error, the others with one, none with a panic.
func TestExportCorpus(t *testing.T) {
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) == 0 {
		t.Skip("no GOROOT trace tests")
	}
	for _, c := range corpus {
		_, sum, err := export(t, c.Data, testLabels)
		if c.Valid() && err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if !c.Valid() && err == nil {
			t.Errorf("%s: no error, want %s", c.Name, c.Expect)
		}
		if err == nil && sum.Rows["traces"] != 1 {
			t.Errorf("%s: %d traces rows", c.Name, sum.Rows["traces"])
		}
	}
}

func TestTraceID(t *testing.T) {
	a := TraceID("ab", "x.trace", testLabels)
	for _, b := range []string{TraceID("ab", "y.trace", testLabels), TraceID("ac", "x.trace", testLabels),
		TraceID("ab", "x.trace", nil), TraceID("ab", "x.trace", []Label{{"service", "apiv1.2.3"}})} {
		if a == b {
			t.Errorf("TraceID %s given twice", a)
		}
	}
	if a != TraceID("ab", "x.trace", testLabels) || len(a) != 16 {
		t.Errorf("TraceID %q: want the same 16 hex digits each time", a)
	}
}

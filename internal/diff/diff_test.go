package diff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/exp/trace"

	"github.com/gotrace-cli/gotrace/internal/stats"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// The traces of testdata/progs/regress in testdata/diff: five runs as
// written (base), five with each regression injected, two built with Go
// 1.27. make diff-traces records them again.
const dir = "../../testdata/diff"

func traces(t *testing.T, prefix string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, prefix+"-*.trace"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s traces in %s: %v", prefix, dir, err)
	}
	slices.Sort(files)
	return files
}

func models(t *testing.T, files []string) []*stats.Model {
	t.Helper()
	var out []*stats.Model
	for _, f := range files {
		// As gotrace diff reads them: the program's own goroutines.
		m, err := stats.ComputeFile(context.Background(), f, stats.Options{Top: Top, Kinds: 1 << timeline.User})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func compare(t *testing.T, base, new string) *Diff {
	t.Helper()
	bf, nf := traces(t, base), traces(t, new)
	return Compare(bf, nf, models(t, bf), models(t, nf), Options{Threshold: 0.05})
}

func row(t *testing.T, d *Diff, metric string) Row {
	t.Helper()
	for _, r := range d.Rows {
		if r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %s", metric)
	return Row{}
}

// TestInjected compares the program as written with each regression
// injected, five traces a side: the regression comes first, in the
// function it was injected into, and the metrics it does not touch show
// no significant change.
func TestInjected(t *testing.T) {
	for _, tc := range []struct {
		inject string
		first  []string // the first row is one of these metrics (a prefix)
		where  string
		// untouched are metrics the change leaves alone.
		untouched []string
	}{
		{"lock", []string{"blocking.mutex.", `blocking.stacks["mutex at main.update`}, "main.update",
			[]string{"goroutines.leaked", "gc.cycles", "goroutines.created", `annotations.regions["lookup"].count`, `annotations.tasks["request"].count`, `annotations.regions["encode"].count`}},
		{"alloc", []string{"gc.", "heap."}, "main.encode",
			[]string{"goroutines.leaked", "blocking.mutex.total", "goroutines.created", `annotations.regions["store"].count`, "blocking.channel.total"}},
		{"leak", []string{"goroutines.leaked", `goroutines.groups["main.lookup.func"]`, "findings.leaks"}, "main.lookup.func1",
			[]string{"gc.cycles", "blocking.mutex.total", "goroutines.created", `annotations.regions["encode"].count`, "blocking.sync"}},
	} {
		t.Run(tc.inject, func(t *testing.T) {
			d := compare(t, "base", tc.inject)
			if !d.Judged || d.Worse == 0 {
				t.Fatalf("judged %v, %d worse", d.Judged, d.Worse)
			}
			first := d.Rows[0]
			if first.Verdict != Worse || !slices.ContainsFunc(tc.first, func(p string) bool { return strings.HasPrefix(first.Metric, p) }) {
				t.Errorf("first row %s (%s), want one of %q", first.Metric, first.Verdict, tc.first)
			}
			if first.Where != tc.where {
				t.Errorf("first row %s lives in %q, want %q", first.Metric, first.Where, tc.where)
			}
			// Five against five, every value of one side past every value
			// of the other: the U test's smallest p-value, 2/C(10,5).
			if first.P == nil || math.Abs(*first.P-2.0/252) > 1e-12 {
				t.Errorf("first row p = %v, want 2/252", first.P)
			}
			for _, m := range tc.untouched {
				if r := row(t, d, m); r.Verdict != Same || r.Significant {
					t.Errorf("%s: %s (p %v), want ~: base %v, new %v", m, r.Verdict, *r.P, r.BaseValues, r.NewValues)
				}
			}
		})
	}
}

// TestNoise compares the program as written with itself, recorded at
// another time on a machine as busy or idle as it then was: the runs took
// other times and waited otherwise, but nothing got worse.
func TestNoise(t *testing.T) {
	d := compare(t, "base", "again")
	if !d.Judged {
		t.Fatal("not judged")
	}
	for _, r := range d.Rows {
		if r.Verdict == Worse {
			t.Errorf("%s is worse: base %v, new %v, p %v", r.Metric, r.BaseValues, r.NewValues, *r.P)
		}
	}
	// The same work in less time: counts per second differ, counts do not.
	if r := row(t, d, `annotations.tasks["request"].count`); r.Verdict != Same || r.NewRate == r.BaseRate {
		t.Errorf("tasks: %s, %v/s and %v/s", r.Verdict, r.BaseRate, r.NewRate)
	}
}

// TestMutexReference checks the values diff compares for the lock
// regression against the blocked intervals read from golang.org/x/exp/trace
// directly: each trace's time blocked in sync.Mutex.Lock called from
// main.update.
func TestMutexReference(t *testing.T) {
	d := compare(t, "base", "lock")
	var r Row
	for _, x := range d.Rows {
		if strings.HasPrefix(x.Metric, `blocking.stacks["mutex at main.update`) && strings.HasSuffix(x.Metric, ".total") {
			r = x
		}
	}
	if r.Metric == "" {
		t.Fatal("no row for the mutex in main.update")
	}
	for i, f := range d.New.Files {
		want := refBlocked(t, f, "main.update", "sync.(*Mutex).Lock")
		if got := r.NewValues[i]; got != float64(want) {
			t.Errorf("%s: %s = %v, x/exp/trace says %d", f, r.Metric, got, want)
		}
		if want == 0 {
			t.Errorf("%s: no time blocked in main.update", f)
		}
	}
	for i, f := range d.Base.Files {
		if got, want := r.BaseValues[i], float64(refBlocked(t, f, "main.update", "sync.(*Mutex).Lock")); got != want {
			t.Errorf("%s: %s = %v, x/exp/trace says %v", f, r.Metric, got, want)
		}
	}
}

// TestLeakReference checks goroutines.leaked for the leak regression
// against x/exp/trace: goroutines started at main.lookup.func1 still
// blocked at the end, since a tenth of the trace or more.
func TestLeakReference(t *testing.T) {
	d := compare(t, "base", "leak")
	r := row(t, d, "goroutines.leaked")
	for i, f := range d.New.Files {
		if got, want := r.NewValues[i], float64(refLeaked(t, f, "main.lookup.func1")); got != want || want == 0 {
			t.Errorf("%s: goroutines.leaked = %v, x/exp/trace says %v", f, got, want)
		}
	}
}

// TestGCReference checks gc.cycles for the allocation regression against
// the GC mark phases x/exp/trace reads.
func TestGCReference(t *testing.T) {
	d := compare(t, "base", "alloc")
	r := row(t, d, "gc.cycles")
	for i, f := range d.New.Files {
		if got, want := r.NewValues[i], float64(refGCs(t, f)); got != want {
			t.Errorf("%s: gc.cycles = %v, x/exp/trace says %v", f, got, want)
		}
	}
}

func readTrace(t *testing.T, path string, fn func(trace.Event)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := trace.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := tr.ReadEvent()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			t.Fatal(err)
		}
		fn(ev)
	}
}

// eachTransition calls fn with each goroutine state transition of the
// trace at path.
func eachTransition(t *testing.T, path string, fn func(ev trace.Event, st trace.StateTransition, id trace.GoID, from, to trace.GoState)) {
	t.Helper()
	readTrace(t, path, func(ev trace.Event) {
		if ev.Kind() != trace.EventStateTransition {
			return
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			return
		}
		from, to := st.Goroutine()
		fn(ev, st, st.Resource.Goroutine(), from, to)
	})
}

func hasFrames(st trace.Stack, funcs ...string) bool {
	n := 0
	for f := range st.Frames() {
		if slices.Contains(funcs, f.Func) {
			n++
		}
	}
	return n == len(funcs)
}

// refBlocked sums the completed waits whose stack holds every one of funcs.
func refBlocked(t *testing.T, path string, funcs ...string) int64 {
	since := map[trace.GoID]trace.Time{}
	var total int64
	eachTransition(t, path, func(ev trace.Event, st trace.StateTransition, id trace.GoID, from, to trace.GoState) {
		if to == trace.GoWaiting && from == trace.GoRunning && hasFrames(st.Stack, funcs...) {
			since[id] = ev.Time()
		}
		if from == trace.GoWaiting && to != trace.GoWaiting {
			if s, ok := since[id]; ok {
				total += int64(ev.Time() - s)
				delete(since, id)
			}
		}
	})
	return total
}

// refLeaked counts the goroutines started at start that are blocked on a
// channel at the end of the trace since a tenth of it or a second,
// whichever is less.
func refLeaked(t *testing.T, path, start string) int {
	type g struct {
		start   string
		blocked trace.Time // 0 when not blocked
	}
	gs := map[trace.GoID]*g{}
	var first, last trace.Time
	readTrace(t, path, func(ev trace.Event) {
		if first == 0 {
			first = ev.Time()
		}
		last = ev.Time()
	})
	eachTransition(t, path, func(ev trace.Event, st trace.StateTransition, id trace.GoID, from, to trace.GoState) {
		x := gs[id]
		if x == nil || from == trace.GoNotExist {
			x = &g{}
			gs[id] = x
		}
		if x.start == "" {
			for f := range st.Stack.Frames() {
				x.start = f.Func // the root frame: the last one
			}
		}
		x.blocked = 0
		if to == trace.GoWaiting && strings.HasPrefix(st.Reason, "chan") {
			x.blocked = ev.Time()
		}
	})
	limit := min(trace.Time(int64(last-first)/10), trace.Time(1e9))
	n := 0
	for _, x := range gs {
		if x.start == start && x.blocked != 0 && last-x.blocked >= limit {
			n++
		}
	}
	return n
}

// refGCs counts the GC mark phases that begin in the trace.
func refGCs(t *testing.T, path string) int {
	n := 0
	readTrace(t, path, func(ev trace.Event) {
		if ev.Kind() == trace.EventRangeBegin && ev.Range().Name == "GC concurrent mark phase" {
			n++
		}
	})
	return n
}

// TestGo127 compares the program built with Go 1.26 and with Go 1.27: the
// goroutine groups and stacks of the program's own code match, none new
// or gone.
func TestGo127(t *testing.T) {
	base, new := traces(t, "base"), traces(t, "go127")
	bm, nm := models(t, base), models(t, new)
	// The releases name the same closure differently: the match is by
	// the normalised names.
	raw := func(m *stats.Model) map[string]bool {
		out := map[string]bool{}
		for _, g := range m.Goroutines.Groups {
			if timeline.IsUserFrame(g.Func) {
				out[g.Func] = true
			}
		}
		return out
	}
	renamed := 0
	for fn := range raw(nm[0]) {
		if !raw(bm[0])[fn] {
			renamed++
			if !slices.ContainsFunc(bm[0].Goroutines.Groups, func(g stats.GoroutineGroup) bool { return Normalize(g.Func) == Normalize(fn) }) {
				t.Errorf("%s of Go 1.27 matches no group of Go 1.26", fn)
			}
		}
	}
	if renamed == 0 {
		t.Error("Go 1.27 names every goroutine group as Go 1.26 does: the traces test no renaming")
	}
	d := Compare(base, new, bm, nm, Options{Threshold: 0.05})
	var user int
	for _, r := range d.Rows {
		if !slices.Contains([]string{"goroutines", "blocking", "syscalls", "leaks"}, r.Section) || r.Name == "" {
			continue
		}
		if !timeline.IsUserFrame(r.Where) {
			continue // the runtime's own goroutines differ between releases
		}
		user++
		if r.Presence != Both {
			t.Errorf("%s is %s between Go 1.26 and Go 1.27", r.Metric, r.Presence)
		}
	}
	if user == 0 {
		t.Fatal("no rows of the program's own code")
	}
}

// TestOneTrace compares one trace a side: nothing is judged, no p-value,
// and a change past the threshold is still shown.
func TestOneTrace(t *testing.T) {
	bf, nf := traces(t, "base")[:1], traces(t, "lock")[:1]
	d := Compare(bf, nf, models(t, bf), models(t, nf), Options{Threshold: 0.05})
	if d.Judged || d.MinP != 1 {
		t.Errorf("judged %v, min p %v", d.Judged, d.MinP)
	}
	for _, r := range d.Rows {
		if r.P != nil || r.Significant {
			t.Fatalf("%s has a p-value with one trace a side", r.Metric)
		}
	}
	if r := row(t, d, "blocking.mutex.total"); r.Verdict != Worse {
		t.Errorf("blocking.mutex.total: %s", r.Verdict)
	}
	// A row on one side only: its count and total are new, its
	// percentiles have nothing to be compared with.
	var one int
	for _, r := range d.Rows {
		if r.Presence == Both {
			continue
		}
		one++
		if !r.PerSecond && r.Section != "leaks" && r.Section != "findings" && r.Verdict != Same {
			t.Errorf("%s (%s): %s", r.Metric, r.Presence, r.Verdict)
		}
	}
	if one == 0 {
		t.Error("no row on one side only")
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"main.main.func1":                       "main.main.func",
		"main.serve.func2.3":                    "main.serve.func",
		"main.main.gowrap1":                     "main.main.gowrap",
		"main.walk-range2":                      "main.walk.func",
		"main.main-range1.1":                    "main.main.func",
		"main.main.func4":                       "main.main.func",
		"main.main-range1.1.deferwrap1":         "main.main.func.deferwrap",
		"main.main.func2.deferwrap1":            "main.main.func.deferwrap",
		"main.main.func1.gowrap2":               "main.main.func.gowrap",
		"main.(*server).run-fm":                 "main.(*server).run-fm",
		"main.pool[go.shape.int].func1":         "main.pool[...].func",
		"main.Map[go.shape.struct { F []int }]": "main.Map[...]",
		"example.com/x.(*T[go.shape.int]).Get":  "example.com/x.(*T[...]).Get",
		"main.(*server).handle.deferwrap1":      "main.(*server).handle.deferwrap",
		"runtime.goexit":                        "runtime.goexit",
		"main.callback at 0x4a2f10":             "main.callback at ",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func Example() {
	fmt.Println(Normalize("main.pool[go.shape.int].func2"))
	// Output: main.pool[...].func
}

// TestAllocRows: a trace with heap events has rows for its allocations by
// type and by goroutine, and a trace compared with itself changed nowhere.
func TestAllocRows(t *testing.T) {
	files := []string{"../../testdata/traces/allocfree.trace"}
	m := models(t, files)
	d := Compare(files, files, m, m, Options{Threshold: 0.05})
	var byType, byGoroutine int
	for _, r := range d.Rows {
		if r.Verdict != Same || r.Presence != Both {
			t.Errorf("%s: %s, %s against itself", r.Metric, r.Verdict, r.Presence)
		}
		switch listOf(r.Metric) {
		case "heap.allocs.by_type":
			byType++
		case "heap.allocs.by_goroutine":
			byGoroutine++
		}
	}
	if byType == 0 || byGoroutine == 0 || len(m[0].Heap.Allocs.ByType) == 0 {
		t.Errorf("%d rows by type, %d by goroutine", byType, byGoroutine)
	}
}

// TestMerge: two closures of one function are one row, their counts and
// times added, the largest of their maxima kept.
func TestMerge(t *testing.T) {
	m := &stats.Model{}
	m.Goroutines.Groups = []stats.GoroutineGroup{
		{Func: "main.serve.func1", Count: 2, Blocked: 5},
		{Func: "main.serve.func2", Count: 3, Blocked: 7},
	}
	m.Annotations.Regions = []stats.NamedDist{{Name: "a", Dist: stats.Dist{Count: 1, Max: 9}}}
	var count, blocked float64
	n := 0
	for _, x := range metrics(m) {
		switch x.key {
		case `goroutines.groups["main.serve.func"].count`:
			count, n = x.value, n+1
		case `goroutines.groups["main.serve.func"].blocked`:
			blocked = x.value
		}
	}
	if n != 1 || count != 5 || blocked != 12 {
		t.Errorf("%d rows, count %v, blocked %v; want 1 row, 5, 12", n, count, blocked)
	}
	ms := merge([]metric{{key: "x.max", value: 3}, {key: "x.max", value: 8}, {key: "x.max", value: 5}})
	if len(ms) != 1 || ms[0].value != 8 {
		t.Errorf("merged maxima: %+v", ms)
	}
}

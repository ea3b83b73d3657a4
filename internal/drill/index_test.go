package drill

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"golang.org/x/exp/trace"
)

// indexInputs are the traces the index is checked on: the committed ones
// and the valid traces of the Go tree's trace tests.
func indexInputs(t *testing.T) map[string][]byte {
	t.Helper()
	in := make(map[string][]byte)
	names, _ := filepath.Glob("../../testdata/traces/*.trace")
	names2, _ := filepath.Glob("../../testdata/drill/*.trace")
	for _, path := range append(names, names2...) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		in[filepath.Base(path)] = data
	}
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		if c.Valid() {
			in[c.Name] = c.Data
		}
	}
	return in
}

// xexpGens reads data with golang.org/x/exp/trace alone and
// returns the time of the Sync event opening each generation and, for
// each goroutine and task, the generations (counted from 0) whose events
// name it.
func xexpGens(data []byte) (syncs []trace.Time, gs map[trace.GoID]GenRange, tasks map[trace.TaskID]GenRange, err error) {
	r, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, nil, err
	}
	gs = make(map[trace.GoID]GenRange)
	tasks = make(map[trace.TaskID]GenRange)
	markG := func(id trace.GoID, n int) {
		if id != trace.NoGoroutine {
			widen(gs, id, n)
		}
	}
	markT := func(id trace.TaskID, n int) {
		if id != trace.NoTask && id != trace.BackgroundTask {
			widen(tasks, id, n)
		}
	}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, nil, err
		}
		n := len(syncs) - 1
		switch ev.Kind() {
		case trace.EventSync:
			syncs = append(syncs, ev.Time())
		case trace.EventStackSample:
			// names the goroutine it caught, not one the generation tracks
		case trace.EventStateTransition:
			markG(ev.Goroutine(), n)
			if st := ev.StateTransition(); st.Resource.Kind == trace.ResourceGoroutine {
				markG(st.Resource.Goroutine(), n)
			}
		case trace.EventTaskBegin, trace.EventTaskEnd:
			markG(ev.Goroutine(), n)
			markT(ev.Task().ID, n)
		case trace.EventRegionBegin, trace.EventRegionEnd:
			markG(ev.Goroutine(), n)
			markT(ev.Region().Task, n)
		case trace.EventLog:
			markG(ev.Goroutine(), n)
			markT(ev.Log().Task, n)
		default:
			markG(ev.Goroutine(), n)
		}
	}
	return syncs, gs, tasks, nil
}

// widen adds generation n to the range of id in m.
func widen[K comparable](m map[K]GenRange, id K, n int) {
	rg, ok := m[id]
	if !ok {
		rg.First = n
	}
	rg.Last = n
	m[id] = rg
}

// TestIndexMatchesXExp: the generations the index finds open at the times
// of golang.org/x/exp/trace's Sync events, and each goroutine and task is
// in the generations whose events, as x/exp/trace reads them, name it.
func TestIndexMatchesXExp(t *testing.T) {
	multi := 0
	for name, data := range indexInputs(t) {
		t.Run(name, func(t *testing.T) {
			// As every command reads it: late statuses moved back.
			var restamped bytes.Buffer
			if _, err := timeline.Copy(&restamped, bytes.NewReader(data)); err != nil {
				t.Skipf("copying: %v", err)
			}
			syncs, gs, tasks, err := xexpGens(restamped.Bytes())
			if err != nil {
				t.Skipf("x/exp/trace: %v", err)
			}
			for _, opts := range []IndexOptions{{}, {Actors: true}} {
				ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), opts)
				if err != nil {
					t.Fatal(err)
				}
				checkSpans(t, ix, syncs, opts.Actors)
				if len(ix.Gens) > 1 {
					multi++
				}
			}
			ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{Actors: true})
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range gs {
				if got, ok := ix.Goroutine(id); !ok || got != want {
					t.Errorf("goroutine %d in generations %v (%v), x/exp/trace: %v", id, got, ok, want)
				}
			}
			if n := ix.NumGoroutineIDs(); n != len(gs) {
				t.Errorf("%d goroutine IDs, x/exp/trace names %d", n, len(gs))
			}
			for id, want := range tasks {
				if got, ok := ix.Task(id); !ok || got != want {
					t.Errorf("task %d in generations %v (%v), x/exp/trace: %v", id, got, ok, want)
				}
			}
		})
	}
	if multi == 0 {
		t.Error("no trace of several generations checked")
	}
}

// eventKey is an event as TestReadGensAsWhole compares it: a status the
// generations read alone begin with is a state first seen (Undetermined
// before it), which a read of the whole knew already; where it is, when
// and what it says are the same. Nor do they know the type of a task that
// began before them.
func eventKey(ev *trace.Event) string {
	if ev.Kind() == trace.EventStateTransition {
		st := ev.StateTransition()
		if st.Resource.Kind == trace.ResourceGoroutine {
			from, to := st.Goroutine()
			if from == to || from == trace.GoUndetermined {
				return fmt.Sprintf("status %v %v at %d", st.Resource, to, ev.Time())
			}
		}
		if st.Resource.Kind == trace.ResourceProc {
			from, to := st.Proc()
			if from == to || from == trace.ProcUndetermined {
				return fmt.Sprintf("status %v %v at %d", st.Resource, to, ev.Time())
			}
		}
	}
	key := fmt.Sprintf("%v at %d on g%d p%d m%d", ev.Kind(), ev.Time(), ev.Goroutine(), ev.Proc(), ev.Thread())
	if ev.Kind() == trace.EventStateTransition {
		st := ev.StateTransition()
		key += fmt.Sprintf(" %v %s", st.Resource, st.Reason)
		switch st.Resource.Kind {
		case trace.ResourceGoroutine:
			from, to := st.Goroutine()
			key += fmt.Sprintf(" %v->%v", from, to)
		case trace.ResourceProc:
			from, to := st.Proc()
			key += fmt.Sprintf(" %v->%v", from, to)
		}
	}
	// N.B. Nor the type of a task that began before them: the task's
	// ID is enough.
	return key
}

// checkSpans compares the generations of ix with the times of
// golang.org/x/exp/trace's Sync events. An index that did not walk the
// events knows only the first generation's start to the nanosecond: each
// later one starts at its earliest batch, while its Sync comes after the
// last event of the one before, which may be later.
func checkSpans(t *testing.T, ix *Index, syncs []trace.Time, exact bool) {
	t.Helper()
	// The last Sync closes the trace; it opens nothing.
	if len(ix.Gens) != len(syncs)-1 {
		t.Fatalf("%d generations, x/exp/trace has %d Sync events", len(ix.Gens), len(syncs))
	}
	// N.B. x/exp/trace moves an event that is not later than the one
	// before it to a nanosecond after it, Syncs too: some of the Go
	// tree's tests have runs of equal times. The last Sync is at the last
	// event.
	for i, g := range ix.Gens {
		if g.From > syncs[i] || syncs[i] > g.From+100 && (exact || i == 0) {
			t.Errorf("generation %d starts at %d, its Sync at %d", g.Num, g.From, syncs[i])
		}
	}
	if end := syncs[len(syncs)-1]; ix.End() > end || end > ix.End()+100 {
		t.Errorf("end %d, x/exp/trace's last event at %d", ix.End(), end)
	}
}

// TestReadGensAsWhole: reading some generations alone gives the events a
// read of the whole trace gives in them, in the same order and at the
// same times.
func TestReadGensAsWhole(t *testing.T) {
	for name, data := range indexInputs(t) {
		t.Run(name, func(t *testing.T) {
			ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ix.Gens) < 2 || len(data) > 512<<10 {
				t.Skip("one generation, or a trace too long to read four times in a short test")
			}
			var whole [][]string
			if _, err := timeline.Read(bytes.NewReader(data), func(ev *trace.Event) bool {
				if ev.Kind() == trace.EventSync {
					whole = append(whole, nil)
				} else {
					whole[len(whole)-1] = append(whole[len(whole)-1], eventKey(ev))
				}
				return true
			}); err != nil {
				t.Skipf("reading it whole: %v", err)
			}
			// Each generation alone, and the first two together.
			for lo := range ix.Gens {
				for _, hi := range []int{lo, lo + 1} {
					if hi > lo && (lo > 0 || hi >= len(ix.Gens)) {
						continue
					}
					var got []string
					err := ix.ReadGens(bytes.NewReader(data), lo, hi, func(ev *trace.Event) bool {
						if ev.Kind() != trace.EventSync {
							got = append(got, eventKey(ev))
						}
						return true
					})
					if err != nil {
						t.Fatalf("generations %d-%d: %v", lo, hi, err)
					}
					var want []string
					for i := lo; i <= hi; i++ {
						want = append(want, whole[i]...)
					}
					if len(got) != len(want) {
						t.Fatalf("generations %d-%d: %d events, %d read whole", lo, hi, len(got), len(want))
					}
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("generations %d-%d, event %d:\n%s\nread whole:\n%s", lo, hi, i, got[i], want[i])
						}
					}
				}
			}
		})
	}
}

// TestOpenReadsAtOffsets: what Open returns reads at its offsets the bytes
// it gives read in order, across the parts it splices.
func TestOpenReadsAtOffsets(t *testing.T) {
	checked := 0
	for name, data := range indexInputs(t) {
		ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{})
		if err != nil || len(ix.Gens) < 2 || len(data) > 512<<10 {
			continue
		}
		for _, hi := range []int{0, len(ix.Gens) - 1} {
			in, err := ix.Open(bytes.NewReader(data), 0, hi)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			whole, err := io.ReadAll(in)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, off := range []int{0, 1, len(whole) / 3, len(whole) / 2, len(whole) - 7} {
				for _, n := range []int{1, 5, 100, 4096, len(whole)} {
					want := whole[off:min(off+n, len(whole))]
					got := make([]byte, n)
					m, err := in.ReadAt(got, int64(off))
					if !bytes.Equal(got[:m], want) || m < n && err != io.EOF || m == n && err != nil {
						t.Fatalf("%s: generations 0-%d: ReadAt(%d bytes, %d): %d bytes, %v; want %d", name, hi, n, off, m, err, len(want))
					}
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no trace of several generations checked")
	}
}

// TestRangeTable: IDs past the slices, and generations past what they
// hold, are kept as well, and an ID's range spans both.
func TestRangeTable(t *testing.T) {
	var rt rangeTable
	rt.mark(3, 0)
	rt.mark(3, 5)
	rt.mark(maxDenseID+7, 2)
	rt.mark(9, maxDenseGen-1)
	rt.mark(9, maxDenseGen+3)
	rt.mark(3, maxDenseGen+10)
	for _, c := range []struct {
		id   uint64
		want GenRange
	}{{3, GenRange{0, maxDenseGen + 10}}, {maxDenseID + 7, GenRange{2, 2}}, {9, GenRange{maxDenseGen - 1, maxDenseGen + 3}}} {
		if got, ok := rt.get(c.id, math.MaxInt); !ok || got != c.want {
			t.Errorf("ID %d: %v, %v; want %v", c.id, got, ok, c.want)
		}
	}
	if _, ok := rt.get(4, math.MaxInt); ok {
		t.Error("ID 4, never marked, is")
	}
	if n := rt.len(math.MaxInt); n != 3 {
		t.Errorf("%d IDs, want 3", n)
	}
	// Cut to the first 3 generations, as after damage in the fourth: ID
	// 3 ends in the last kept, ID maxDenseID+7 is whole, ID 9 is gone.
	for _, c := range []struct {
		id   uint64
		want GenRange
		ok   bool
	}{{3, GenRange{0, 2}, true}, {maxDenseID + 7, GenRange{2, 2}, true}, {9, GenRange{}, false}} {
		if got, ok := rt.get(c.id, 3); ok != c.ok || got != c.want {
			t.Errorf("3 generations: ID %d: %v, %v; want %v, %v", c.id, got, ok, c.want, c.ok)
		}
	}
	if n := rt.len(3); n != 2 {
		t.Errorf("3 generations: %d IDs, want 2", n)
	}
	if n := rt.len(1); n != 1 {
		t.Errorf("1 generation: %d IDs, want 1", n)
	}
}

package order

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"golang.org/x/exp/trace"
)

var orderTraces = flag.String("ordertrace", "", "comma-separated trace files to compare with golang.org/x/exp/trace as well (large ones welcome)")

// descX renders what golang.org/x/exp/trace says about an event, every
// accessor that applies to its kind, frames included.
func descX(b *strings.Builder, e *trace.Event) {
	b.Reset()
	fmt.Fprintf(b, "%v t=%d g=%d p=%d m=%d", e.Kind(), e.Time(), e.Goroutine(), e.Proc(), e.Thread())
	switch e.Kind() {
	case trace.EventSync:
		s := e.Sync()
		fmt.Fprintf(b, " N=%d", s.N)
		if c := s.ClockSnapshot; c != nil {
			fmt.Fprintf(b, " clock=%d/%d/%d", c.Trace, c.Mono, c.Wall.UnixNano())
		}
		descExp(b, s.ExperimentalBatches)
	case trace.EventMetric:
		m := e.Metric()
		fmt.Fprintf(b, " %s=%d", m.Name, m.Value.Uint64())
	case trace.EventLabel:
		l := e.Label()
		fmt.Fprintf(b, " label=%q on %s", l.Label, resX(l.Resource))
	case trace.EventRangeBegin, trace.EventRangeActive, trace.EventRangeEnd:
		r := e.Range()
		fmt.Fprintf(b, " range=%q on %s", r.Name, resX(r.Scope))
		if e.Kind() == trace.EventRangeEnd {
			for _, a := range e.RangeAttributes() {
				fmt.Fprintf(b, " %s=%d", a.Name, a.Value.Uint64())
			}
		}
	case trace.EventTaskBegin, trace.EventTaskEnd:
		t := e.Task()
		fmt.Fprintf(b, " task=%d parent=%d type=%q", t.ID, t.Parent, t.Type)
	case trace.EventRegionBegin, trace.EventRegionEnd:
		r := e.Region()
		fmt.Fprintf(b, " task=%d type=%q", r.Task, r.Type)
	case trace.EventLog:
		l := e.Log()
		fmt.Fprintf(b, " task=%d cat=%q msg=%q", l.Task, l.Category, l.Message)
	case trace.EventStateTransition:
		s := e.StateTransition()
		switch s.Resource.Kind {
		case trace.ResourceGoroutine:
			from, to := s.Goroutine()
			fmt.Fprintf(b, " G%d %v->%v", s.Resource.Goroutine(), from, to)
		case trace.ResourceProc:
			from, to := s.Proc()
			fmt.Fprintf(b, " P%d %v->%v", s.Resource.Proc(), from, to)
		}
		fmt.Fprintf(b, " reason=%q tstack=[", s.Reason)
		for f := range s.Stack.Frames() {
			fmt.Fprintf(b, " %x %s %s:%d", f.PC, f.Func, f.File, f.Line)
		}
		b.WriteString("]")
	case trace.EventExperimental:
		x := e.Experimental()
		fmt.Fprintf(b, " %s/%s", x.Experiment, x.Name)
		for i, n := range x.Args {
			fmt.Fprintf(b, " %s=%d", n, x.ArgValue(i).Uint64())
		}
	}
	b.WriteString(" stack=[")
	for f := range e.Stack().Frames() {
		fmt.Fprintf(b, " %x %s %s:%d", f.PC, f.Func, f.File, f.Line)
	}
	b.WriteString("]")
}

// descO renders the same for an Event of this package.
func descO(b *strings.Builder, e *Event) {
	b.Reset()
	fmt.Fprintf(b, "%v t=%d g=%d p=%d m=%d", e.Kind(), e.Time(), e.Goroutine(), e.Proc(), e.Thread())
	switch e.Kind() {
	case trace.EventSync:
		s := e.Sync()
		fmt.Fprintf(b, " N=%d", s.N)
		if c := s.ClockSnapshot; c != nil {
			fmt.Fprintf(b, " clock=%d/%d/%d", c.Trace, c.Mono, c.Wall.UnixNano())
		}
		descExp(b, s.ExperimentalBatches)
	case trace.EventMetric:
		m := e.Metric()
		fmt.Fprintf(b, " %s=%d", m.Name, m.Value.Uint64())
	case trace.EventLabel:
		l := e.Label()
		fmt.Fprintf(b, " label=%q on %s", l.Label, resX(l.Resource.ResourceID()))
	case trace.EventRangeBegin, trace.EventRangeActive, trace.EventRangeEnd:
		r := e.Range()
		fmt.Fprintf(b, " range=%q on %s", r.Name, resX(r.Scope.ResourceID()))
		if e.Kind() == trace.EventRangeEnd {
			for _, a := range e.RangeAttributes() {
				fmt.Fprintf(b, " %s=%d", a.Name, a.Value.Uint64())
			}
		}
	case trace.EventTaskBegin, trace.EventTaskEnd:
		t := e.Task()
		fmt.Fprintf(b, " task=%d parent=%d type=%q", t.ID, t.Parent, t.Type)
	case trace.EventRegionBegin, trace.EventRegionEnd:
		r := e.Region()
		fmt.Fprintf(b, " task=%d type=%q", r.Task, r.Type)
	case trace.EventLog:
		l := e.Log()
		fmt.Fprintf(b, " task=%d cat=%q msg=%q", l.Task, l.Category, l.Message)
	case trace.EventStateTransition:
		s := e.StateTransition()
		switch s.Resource.Kind {
		case trace.ResourceGoroutine:
			from, to := s.Goroutine()
			fmt.Fprintf(b, " G%d %v->%v", s.Resource.ID, from, to)
		case trace.ResourceProc:
			from, to := s.Proc()
			fmt.Fprintf(b, " P%d %v->%v", s.Resource.ID, from, to)
		}
		fmt.Fprintf(b, " reason=%q tstack=[", s.Reason)
		for f := range s.Stack.Frames() {
			fmt.Fprintf(b, " %x %s %s:%d", f.PC, f.Func, f.File, f.Line)
		}
		b.WriteString("]")
	case trace.EventExperimental:
		x := e.Experimental()
		fmt.Fprintf(b, " %s/%s", x.Experiment, x.Name)
		for i, n := range x.ArgNames {
			fmt.Fprintf(b, " %s=%d", n, x.Args[i])
		}
	}
	b.WriteString(" stack=[")
	for f := range e.Stack().Frames() {
		fmt.Fprintf(b, " %x %s %s:%d", f.PC, f.Func, f.File, f.Line)
	}
	b.WriteString("]")
}

func resX(r trace.ResourceID) string {
	switch r.Kind {
	case trace.ResourceGoroutine:
		return fmt.Sprintf("G%d", r.Goroutine())
	case trace.ResourceProc:
		return fmt.Sprintf("P%d", r.Proc())
	case trace.ResourceThread:
		return fmt.Sprintf("M%d", r.Thread())
	}
	return "none"
}

func descExp(b *strings.Builder, m map[string][]trace.ExperimentalBatch) {
	for _, name := range []string{"AllocFree"} {
		for _, x := range m[name] {
			fmt.Fprintf(b, " %s:M%d:%x", name, x.Thread, x.Data)
		}
	}
}

// result is what a lockstep read of both readers found.
type result struct {
	events int   // events both gave, equal
	errO   error // this package's error, nil at a clean end
	errX   error // golang.org/x/exp/trace's, nil at a clean end or if it had not ended
	xPanic any   // what golang.org/x/exp/trace panicked with, if it did
}

// lockstep reads data with both readers and checks that every event this
// package gives is the event golang.org/x/exp/trace gives at that place.
// It stops at the first error of this package's reader; past that, only
// golang.org/x/exp/trace's verdict matters (read on to its end).
func lockstep(t testing.TB, data []byte) result {
	t.Helper()
	var res result
	or, err := NewReader(bytes.NewReader(data))
	if err != nil {
		res.errO = err
		res.errX = drainX(data, &res)
		return res
	}
	defer or.Close()
	xr, xerr := trace.NewReader(bufio.NewReader(bytes.NewReader(data)))
	if xerr != nil {
		// Ours read a header the reference refuses.
		t.Errorf("x/exp/trace refuses the header (%v); order reads it", xerr)
		return res
	}
	var ev Event
	var bo, bx strings.Builder
	for {
		errO := or.Next(&ev)
		xev, p, errX := readX(xr)
		if p != nil {
			res.xPanic = p
			return res
		}
		if errO != nil {
			if errO != io.EOF {
				res.errO = errO
				// x/exp may read on past what ours refuses.
				for errX == nil {
					_, p, errX = readX(xr)
					if p != nil {
						res.xPanic = p
						return res
					}
				}
				if errX != io.EOF {
					res.errX = errX
				}
				return res
			}
			if errX != io.EOF {
				if errX == nil {
					t.Errorf("event %d: order ended, x/exp/trace gives %v", res.events, xev.String())
				} else {
					res.errX = errX
					t.Errorf("event %d: order ended, x/exp/trace fails: %v", res.events, errX)
				}
			}
			return res
		}
		if errX != nil {
			descO(&bo, &ev)
			if errX == io.EOF {
				t.Errorf("event %d: x/exp/trace ended, order gives %s", res.events, bo.String())
			} else {
				res.errX = errX
				t.Errorf("event %d: x/exp/trace fails (%v), order gives %s", res.events, errX, bo.String())
			}
			return res
		}
		descO(&bo, &ev)
		descX(&bx, &xev)
		if bo.String() != bx.String() {
			t.Errorf("event %d differs:\norder:    %s\nx/exp:    %s", res.events, bo.String(), bx.String())
			return res
		}
		res.events++
	}
}

func readX(xr *trace.Reader) (ev trace.Event, p any, err error) {
	defer func() {
		p = recover()
	}()
	ev, err = xr.ReadEvent()
	return ev, nil, err
}

// drainX reads data with golang.org/x/exp/trace alone and returns its
// error, nil at a clean end.
func drainX(data []byte, res *result) error {
	xr, err := trace.NewReader(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return err
	}
	for {
		_, p, err := readX(xr)
		if p != nil {
			res.xPanic = p
			return nil
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// committedTrace is one trace of testdata/traces, read.
type committedTrace struct {
	name string
	data []byte
}

// committedTraces reads the committed traces, those of at most max bytes
// (all when max is 0).
func committedTraces(t testing.TB, max int) []committedTrace {
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed traces: %v", err)
	}
	var out []committedTrace
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if max == 0 || len(data) <= max {
			out = append(out, committedTrace{filepath.Base(f), data})
		}
	}
	return out
}

// TestCommittedTraces compares every committed trace event by event.
func TestCommittedTraces(t *testing.T) {
	total := 0
	for _, c := range committedTraces(t, 0) {
		t.Run(c.name, func(t *testing.T) {
			res := lockstep(t, c.data)
			if res.errO != nil || res.errX != nil || res.xPanic != nil {
				t.Fatalf("order: %v; x/exp/trace: %v (panic %v)", res.errO, res.errX, res.xPanic)
			}
			total += res.events
			t.Logf("%d events agree", res.events)
		})
	}
	t.Logf("committed traces: %d events agree", total)
}

// TestGorootCorpus compares the Go tree's trace tests: the valid ones
// event by event, and the others must fail (the message may differ) after
// giving no event golang.org/x/exp/trace does not.
func TestGorootCorpus(t *testing.T) {
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) == 0 {
		t.Skip("no GOROOT corpus")
	}
	total, ran := 0, 0
	for _, c := range corpus {
		t.Run(c.Name, func(t *testing.T) {
			if v, err := format.ParseHeader(c.Data); err == nil && !v.IsV2() {
				t.Skipf("format %v", v)
			}
			ran++
			res := lockstep(t, c.Data)
			if res.xPanic != nil {
				t.Fatalf("x/exp/trace panics: %v", res.xPanic)
			}
			if c.Valid() {
				if res.errO != nil || res.errX != nil {
					t.Fatalf("want success; order: %v; x/exp/trace: %v", res.errO, res.errX)
				}
			} else if res.errO == nil {
				t.Fatalf("want failure %s; order read it all (x/exp/trace: %v)", c.Expect, res.errX)
			}
			total += res.events
		})
	}
	t.Logf("GOROOT corpus: %d traces, %d events agree", ran, total)
}

// TestLargeTraces compares the files -ordertrace names.
func TestLargeTraces(t *testing.T) {
	if *orderTraces == "" {
		t.Skip("no -ordertrace files")
	}
	for _, f := range strings.Split(*orderTraces, ",") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res := lockstep(t, data)
			if res.errO != nil || res.errX != nil || res.xPanic != nil {
				t.Fatalf("order: %v; x/exp/trace: %v (panic %v)", res.errO, res.errX, res.xPanic)
			}
			t.Logf("%d events agree", res.events)
		})
	}
}

// checkDamaged reads damaged input: never a panic, and every event given
// is golang.org/x/exp/trace's at that place (lockstep checks that).
func checkDamaged(t testing.TB, data []byte, mustFail bool) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("panic: %v", p)
		}
	}()
	res := lockstep(t, data)
	if mustFail && res.errO == nil {
		t.Errorf("damaged input read without error")
	}
	if res.errO != nil {
		var de *decode.Error
		if !errors.As(res.errO, &de) && !errors.Is(res.errO, decode.ErrEmpty) && !errors.Is(res.errO, format.ErrNotTrace) {
			t.Errorf("error is not a *decode.Error: %v", res.errO)
		}
	}
}

// damagedMax bounds the committed traces damaged all over: a damaged
// trace is read in step with golang.org/x/exp/trace up to the damage, and
// the larger traces read so at every place would take most of the
// package's test time for kinds of damage the smaller ones have.
const damagedMax = 400 << 10

// TestTruncated cuts every committed trace at a few places (the ones over
// damagedMax in their first third only): each must fail, after events
// golang.org/x/exp/trace gives too.
func TestTruncated(t *testing.T) {
	for _, c := range committedTraces(t, 0) {
		data := c.data
		t.Run(c.name, func(t *testing.T) {
			n := len(data)
			for _, cut := range []int{1, 15, 17, 40, n / 7, n / 3, n / 2, n - n/5, n - 100, n - 3, n - 1} {
				if cut <= 0 || cut >= n {
					continue
				}
				if n > damagedMax && cut > n/3 {
					continue // read in step up to the cut: the late ones cost most
				}
				t.Run(fmt.Sprint(cut), func(t *testing.T) {
					checkDamaged(t, data[:cut], true)
				})
			}
		})
	}
}

// TestCorrupted flips bytes of the committed traces: no panic, and no
// event golang.org/x/exp/trace would not give. A flip that harms nothing
// the reader checks is read to the end, in step with
// golang.org/x/exp/trace, so only the traces up to damagedMax bytes are
// flipped, which keeps the test to seconds; TestTruncated damages the
// larger ones too.
func TestCorrupted(t *testing.T) {
	for _, c := range committedTraces(t, damagedMax) {
		data := c.data
		t.Run(c.name, func(t *testing.T) {
			n := len(data)
			for i, at := range []int{5, 16, 17, 20, 33, n / 5, n / 2, 2 * n / 3, n - 50} {
				if at <= 0 || at >= n {
					continue
				}
				bad := bytes.Clone(data)
				bad[at] ^= byte(0x55 + 13*i)
				t.Run(fmt.Sprint(at), func(t *testing.T) {
					checkDamaged(t, bad, false)
				})
			}
		})
	}
}

// FuzzOrder reads mutated traces: never a panic, and never an event
// golang.org/x/exp/trace would not give at that place.
func FuzzOrder(f *testing.F) {
	for _, name := range []string{"allocfree", "annotated", "callbacks", "demo", "requests"} {
		data, err := os.ReadFile(filepath.Join("../../testdata/traces", name+".trace"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// N.B. Headers this package refuses send golang.org/x/exp/trace
		// to its parser of the old formats, whose slowness on garbage
		// is not what this fuzzes.
		if v, err := format.ParseHeader(data); err != nil || !v.IsV2() {
			return
		}
		lockstep(t, data)
	})
}

// TestNoAllocs checks that reading an event allocates nothing once the
// reader is warm: allocation happens per generation only.
func TestNoAllocs(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/workers.trace")
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	n := 0
	allocs := testing.AllocsPerRun(1, func() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for n = 0; ; n++ {
			if err := r.Next(&ev); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
	})
	if per := allocs / float64(n); per > 0.05 {
		t.Errorf("%.0f allocations for %d events (%.3f per event)", allocs, n, per)
	}
	t.Logf("%.0f allocations for %d events", allocs, n)
}

// TestXExpFuzzCorpus reads golang.org/x/exp/trace's own fuzz corpus of
// hostile inputs: no panic, and no event it would not give.
func TestXExpFuzzCorpus(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/exp").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "trace", "testdata", "fuzz", "FuzzReader")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Skip("no x/exp/trace fuzz corpus")
	}
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Corpus files are "go test fuzz v1" and one []byte("...") line.
		s := string(raw)
		i := strings.Index(s, "[]byte(")
		if !strings.HasPrefix(s, "go test fuzz v1") || i < 0 {
			continue
		}
		lit := strings.TrimSpace(s[i+len("[]byte("):])
		lit = strings.TrimSuffix(lit, ")")
		data, err := strconv.Unquote(lit)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			checkDamaged(t, []byte(data), false)
		})
	}
	t.Logf("%d inputs", n)
}

// TestBadTableIDs: an event naming a stack or string its generation lacks
// fails where golang.org/x/exp/trace fails, as it is handed out, after
// the same events.
func TestBadTableIDs(t *testing.T) {
	for _, tc := range []struct {
		name          string
		reason, stack uint64
	}{
		{"stack", 1, 99},
		{"string", 77, 0},
		{"fine", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := format.NewEncoder(format.Go122)
			reftest.Tables(e, 15625000, "sleep")
			e.Batch(1, 1, 100, func(b *format.Encoder) {
				b.Event(format.EvProcStatus, []uint64{1, 0, uint64(format.ProcRunning)}, nil)
				b.Event(format.EvGoStatus, []uint64{1, 1, 1, uint64(format.GoRunning)}, nil)
				b.Event(format.EvGoBlock, []uint64{5, tc.reason, tc.stack}, nil)
			})
			data, err := e.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			res := lockstep(t, data)
			if tc.name == "fine" {
				if res.errO != nil || res.errX != nil {
					t.Fatalf("order: %v; x/exp/trace: %v", res.errO, res.errX)
				}
				return
			}
			if !errors.Is(res.errO, ErrInvalid) || res.errX == nil {
				t.Fatalf("order: %v; x/exp/trace: %v", res.errO, res.errX)
			}
			// Sync, ProcStatus, GoStatus come before the failure.
			if res.events != 3 {
				t.Errorf("%d events before the failure, want 3", res.events)
			}
			t.Logf("order: %v", res.errO)
		})
	}
}

// TestStuck: a trace whose next events can never happen fails naming the
// generation and the waiting events with their places, after the events
// golang.org/x/exp/trace gives too.
func TestStuck(t *testing.T) {
	e := format.NewEncoder(format.Go122)
	reftest.Tables(e, 15625000)
	e.Batch(1, 1, 100, func(b *format.Encoder) {
		b.Event(format.EvProcStatus, []uint64{1, 0, uint64(format.ProcRunning)}, nil)
		b.Event(format.EvGoStart, []uint64{1, 5, 1}, nil) // goroutine 5 never existed
	})
	e.Batch(1, 2, 100, func(b *format.Encoder) {
		b.Event(format.EvProcStart, []uint64{3, 1, 1}, nil) // P 1 never had a status
	})
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	res := lockstep(t, data)
	if !errors.Is(res.errO, ErrStuck) || res.errX == nil {
		t.Fatalf("order: %v; x/exp/trace: %v", res.errO, res.errX)
	}
	for _, want := range []string{"gen 1", "GoStart at 0x", "ProcStart at 0x", "thread 1", "thread 2"} {
		if !strings.Contains(res.errO.Error(), want) {
			t.Errorf("error %q does not say %q", res.errO, want)
		}
	}
	t.Logf("order: %v", res.errO)
}

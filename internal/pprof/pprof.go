// Package pprof turns an execution trace into profiles that go tool pprof
// reads: CPU samples, the time goroutines spend runnable, blocked or in
// system calls, and the wall time of user regions and tasks.
//
// The scheduling, blocking, network and syscall profiles count what go tool
// trace -pprof=sched|sync|net|syscall counts, so the two tools agree on the
// same file: each time a goroutine leaves the state of interest, the time it
// spent there is charged to the stack of the event that put it there. Like go
// tool trace, only time inside a goroutine's life as the trace sees it counts:
// from the first time it runs to its end (or the end of the trace). A
// goroutine that never runs is counted whole.
package pprof

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"golang.org/x/exp/trace"
)

// Type is a kind of profile.
type Type string

const (
	CPU     Type = "cpu"     // the trace's CPU samples
	Sched   Type = "sched"   // time runnable, waiting for a P
	Block   Type = "block"   // time blocked on channels, mutexes, select, cond
	Net     Type = "net"     // time blocked on the network
	Syscall Type = "syscall" // time in system calls
	Region  Type = "region"  // wall time of user regions, by name
	Task    Type = "task"    // wall time of user tasks, by name
)

// Types lists every profile type in the order the help text shows them.
func Types() []Type { return []Type{CPU, Sched, Block, Net, Syscall, Region, Task} }

// ParseType returns the Type named s.
func ParseType(s string) (Type, error) {
	for _, t := range Types() {
		if string(t) == s {
			return t, nil
		}
	}
	names := make([]string, 0, len(Types()))
	for _, t := range Types() {
		names = append(names, string(t))
	}
	return "", fmt.Errorf("unknown profile type %q (want one of %s)", s, strings.Join(names, ", "))
}

// CPUSamplePeriod is the time one CPU sample stands for. The trace does not
// record the profiling rate; this is the runtime's default, 100 Hz.
const CPUSamplePeriod = 10 * time.Millisecond

// Filter restricts what a profile counts. The zero Filter counts everything.
type Filter struct {
	// Goroutine keeps goroutines whose root function is this name, as
	// go tool trace names goroutines (e.g. "main.worker.func1").
	Goroutine string
	// Region keeps time inside user regions of this name (outermost ones,
	// on the goroutine that opened them).
	Region string
	// Task keeps time inside user regions that belong to tasks of this name.
	Task string
	// From and To cut a window, as durations from the trace's first event.
	// To == 0 means the end of the trace.
	From, To time.Duration
}

func (f Filter) byRegion() bool { return f.Region != "" || f.Task != "" }

// ErrNoMatch is returned (wrapped) when a filter selects nothing to count.
var ErrNoMatch = errors.New("nothing matches")

// Build reads the trace in r twice (once to learn the goroutines, regions and
// tasks, once to count) and returns the profile of type t. When ctx is done
// it stops and returns ctx's error.
func Build(ctx context.Context, r io.ReadSeeker, t Type, f Filter) (*profile.Profile, error) {
	if _, err := ParseType(string(t)); err != nil {
		return nil, err
	}
	sum, err := summarize(ctx, r, f)
	if err != nil {
		return nil, err
	}
	sel, err := sum.selection(t, f)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b := newBuilder(t)
	if err := b.count(ctx, r, sum, sel); err != nil {
		return nil, err
	}
	return b.profile(), nil
}

// span is a time interval [start, end].
type span struct{ start, end trace.Time }

func (s span) overlap(o span) time.Duration {
	lo, hi := max(s.start, o.start), min(s.end, o.end)
	if hi <= lo {
		return 0
	}
	return time.Duration(hi - lo)
}

// goroutine is what the first pass learns about one goroutine.
type goroutine struct {
	name       string     // root function of its stack
	start, end trace.Time // first run; exit (0: never ran, never ended)
	regions    []span     // the regions the filter keeps, when it has one
	open       []region   // regions not yet ended, innermost last
}

type region struct {
	name  string
	start trace.Time
	keep  bool // the filter keeps it
}

// summary is the result of the first pass.
type summary struct {
	first, last trace.Time
	gs          map[trace.GoID]*goroutine
	// tasks holds the tasks named as the filter's Task, so that regions in
	// them are kept; only those, so it stays small.
	tasks map[trace.TaskID]bool
}

func readErr(err error) error { return fmt.Errorf("reading trace: %w", err) }

// summarize is the first pass. It keeps only the regions that f selects,
// so its memory follows the goroutines and the kept regions.
func summarize(ctx context.Context, r io.Reader, f Filter) (*summary, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, readErr(err)
	}
	s := &summary{gs: make(map[trace.GoID]*goroutine), tasks: make(map[trace.TaskID]bool)}
	get := func(id trace.GoID) *goroutine {
		g := s.gs[id]
		if g == nil {
			g = &goroutine{}
			s.gs[id] = g
		}
		return g
	}
	keep := func(r trace.Region) bool {
		return f.byRegion() && (f.Region == "" || r.Type == f.Region) && (f.Task == "" || s.tasks[r.Task])
	}
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readErr(err)
		}
		if n == 0 {
			s.first = ev.Time()
		}
		s.last = ev.Time()
		switch ev.Kind() {
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			from, to := st.Goroutine()
			if from == to {
				continue
			}
			g := get(st.Resource.Goroutine())
			if g.name == "" {
				for fr := range st.Stack.Frames() {
					g.name = fr.Func // N.B. the last frame is the root
				}
			}
			switch {
			case to == trace.GoRunning && g.start == 0:
				g.start = ev.Time()
			case to == trace.GoNotExist, to == trace.GoWaiting && st.Reason == "forever":
				g.end = ev.Time()
			}
		case trace.EventTaskBegin:
			if t := ev.Task(); f.Task != "" && t.Type == f.Task {
				s.tasks[t.ID] = true
			}
		case trace.EventRegionBegin:
			if !f.byRegion() {
				continue
			}
			g := get(ev.Goroutine())
			r := ev.Region()
			g.open = append(g.open, region{name: r.Type, start: ev.Time(), keep: keep(r)})
		case trace.EventRegionEnd:
			if !f.byRegion() {
				continue
			}
			g := get(ev.Goroutine())
			r := ev.Region()
			if n := len(g.open); n > 0 && g.open[n-1].name == r.Type {
				if o := g.open[n-1]; o.keep {
					g.regions = append(g.regions, span{o.start, ev.Time()})
				}
				g.open = g.open[:n-1]
				continue
			}
			// N.B. the region began before the trace did.
			if keep(r) {
				g.regions = append(g.regions, span{s.first, ev.Time()})
			}
		}
	}
	for _, g := range s.gs {
		for _, o := range g.open {
			if o.keep {
				g.regions = append(g.regions, span{o.start, s.last})
			}
		}
		g.open = nil
	}
	return s, nil
}

// selection is the time a profile counts: per goroutine, or everywhere,
// always inside window.
type selection struct {
	perG   map[trace.GoID][]span // nil: every goroutine, all the time
	window span
}

func (s *selection) overlap(g trace.GoID, iv span) time.Duration {
	iv = span{max(iv.start, s.window.start), min(iv.end, s.window.end)}
	if iv.end < iv.start {
		return 0
	}
	if s.perG == nil {
		return iv.overlap(iv) // N.B. the whole of iv: a span overlaps itself
	}
	var d time.Duration
	for _, sp := range s.perG[g] {
		d += sp.overlap(iv)
	}
	return d
}

func (s *selection) contains(g trace.GoID, t trace.Time) bool {
	if t < s.window.start || t > s.window.end {
		return false
	}
	if s.perG == nil {
		return true
	}
	for _, sp := range s.perG[g] {
		if sp.start <= t && t <= sp.end {
			return true
		}
	}
	return false
}

// selection works out what Build counts for type t under filter f.
func (s *summary) selection(t Type, f Filter) (*selection, error) {
	sel := &selection{window: span{s.first, s.last}}
	if f.From > 0 || f.To > 0 {
		sel.window.start = s.first + trace.Time(f.From)
		if f.To > 0 {
			sel.window.end = min(s.last, s.first+trace.Time(f.To))
		}
		if sel.window.start >= sel.window.end {
			return nil, fmt.Errorf("%w: the window %v-%v is outside the trace (%v long)", ErrNoMatch, f.From, f.To, time.Duration(s.last-s.first))
		}
	}
	stateProfile := t == Sched || t == Block || t == Net || t == Syscall
	if !stateProfile && f.Goroutine == "" && !f.byRegion() {
		return sel, nil
	}
	sel.perG = make(map[trace.GoID][]span)
	for id, g := range s.gs {
		if f.Goroutine != "" && g.name != f.Goroutine {
			continue
		}
		if !f.byRegion() {
			end := g.end
			if end == 0 {
				end = s.last
			}
			sel.perG[id] = []span{{g.start, end}}
			continue
		}
		if spans := outermost(g.regions); len(spans) > 0 {
			sel.perG[id] = spans
		}
	}
	if len(sel.perG) == 0 {
		var what []string
		if f.Goroutine != "" {
			what = append(what, fmt.Sprintf("goroutine %q", f.Goroutine))
		}
		if f.byRegion() {
			r := "region"
			if f.Region != "" {
				r += fmt.Sprintf(" %q", f.Region)
			}
			if f.Task != "" {
				r += fmt.Sprintf(" of a task %q", f.Task)
			}
			what = append(what, r)
		}
		if len(what) == 0 {
			what = append(what, "goroutine")
		}
		return nil, fmt.Errorf("%w: no %s in the trace", ErrNoMatch, strings.Join(what, " with "))
	}
	return sel, nil
}

// outermost sorts spans and drops those nested in (or overlapping) an
// earlier one, as go tool trace does for its region profiles.
func outermost(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.end, b.end)
	})
	var last trace.Time
	out := spans[:0]
	for _, sp := range spans {
		if last <= sp.start {
			out = append(out, sp)
			last = sp.end
		}
	}
	return out
}

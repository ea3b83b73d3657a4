// Package pprof turns an execution trace into profiles that go tool pprof
// reads: CPU samples, the time goroutines spend runnable, blocked or in
// system calls, and the wall time of user regions and tasks.
//
// The scheduling, blocking, network and syscall profiles count the
// intervals of the goroutine timeline (internal/timeline) that go tool trace
// -pprof=sched|sync|net|syscall counts, so the two tools agree on the same
// file, and gotrace stats' totals are the same intervals: each time a
// goroutine leaves the state of interest, the time it spent there is
// charged to the stack of the event that put it there, counting from its
// first run on, or all of it for a goroutine that never runs in the trace.
// Unlike go tool trace, a goroutine ID the runtime reuses is a new
// goroutine, with a life of its own.
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
	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline"
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

// Any reports whether f restricts anything.
func (f Filter) Any() bool { return f != Filter{} }

// ErrNoMatch is returned (wrapped) when a filter selects nothing to count.
var ErrNoMatch = errors.New("nothing matches")

// Build reads the trace in r and returns the profile of type t; with a
// goroutine, region or task filter it reads it twice (once to learn the
// goroutines and their regions, once to count). When ctx is done it stops
// and returns ctx's error.
//
// A damaged trace gives the profile of its complete generations and an
// error wrapping timeline.ErrDamaged that says where the damage is.
func Build(ctx context.Context, r io.ReadSeeker, t Type, f Filter) (*profile.Profile, error) {
	return BuildWith(ctx, r, t, f, nil)
}

// InParts reports whether Build reads a trace for a profile of type t
// with filter f a generation at a time, on as many goroutines as there
// are processors, when it can seek in the file (io.ReaderAt): for every
// unfiltered profile, and for the waits of goroutines with one start
// function (--goroutine alone), which the timeline names as it hands
// each interval on.
func InParts(t Type, f Filter) bool {
	return !f.Any() || f == Filter{Goroutine: f.Goroutine} && t.waits()
}

// waits reports whether t counts the time goroutines spend in a state.
func (t Type) waits() bool { return t == Sched || t == Block || t == Net || t == Syscall }

// BuildWith is Build, calling inOrder, if not nil, before it reads in one
// ordered pass a trace it meant to read in parts (see InParts): a
// damaged one, or one whose generations overlap more than the parts can
// mend. That pass holds more in memory.
func BuildWith(ctx context.Context, r io.ReadSeeker, t Type, f Filter, inOrder func()) (*profile.Profile, error) {
	if _, err := ParseType(string(t)); err != nil {
		return nil, err
	}
	if ra, ok := r.(io.ReaderAt); ok && InParts(t, f) {
		b, err := countParts(ctx, ra, r, t, f)
		if err == nil {
			return b.profile(), nil
		}
		if !errors.Is(err, timeline.ErrInOrder) {
			return nil, err
		}
		// Damage: found by a reading in order that counts nothing, then
		// the complete generations before it counted in parts, as the
		// trace of those generations alone. Overlapping generations are
		// no damage: they are counted in order at once, and so is a
		// filtered profile of a damaged trace.
		if !errors.Is(err, timeline.ErrOverlap) && !f.Any() {
			if p, damage := prefixInParts(ctx, ra, r, t); p != nil || ctx.Err() != nil {
				return p, cmp.Or(ctx.Err(), damage)
			}
		}
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		if inOrder != nil {
			inOrder()
		}
	}
	var sum *summary
	if f.Goroutine != "" || f.byRegion() {
		var err error
		if sum, err = summarize(ctx, r, f); err != nil && !errors.Is(err, timeline.ErrDamaged) {
			return nil, err
		}
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	b := newBuilder(t)
	sel := &selection{f: f, sum: sum}
	damage := b.count(ctx, r, sel)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if damage != nil && !errors.Is(damage, timeline.ErrDamaged) {
		return nil, damage
	}
	var de *decode.Error
	if errors.As(damage, &de) {
		// golang.org/x/exp/trace may have delivered part of the damaged
		// generation before it said so: count the complete ones alone,
		// as every command does.
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		b = newBuilder(t)
		sel = &selection{f: f, sum: sum}
		b.count(ctx, io.LimitReader(r, de.Offset), sel)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if err := sel.check(); err != nil {
		return nil, err
	}
	return b.profile(), damage
}

// prefixInParts reads the trace in r (in the v2 format) in order,
// counting nothing, for its damage, and counts the generations before it
// in parts. It returns the profile and the damage, or no profile when
// there is no damage, the trace is not in the v2 format or the
// generations before the damage cannot be counted in parts: the caller
// counts in order then.
func prefixInParts(ctx context.Context, ra io.ReaderAt, r io.ReadSeeker, t Type) (*profile.Profile, error) {
	hdr := make([]byte, format.HeaderSize)
	if n, _ := ra.ReadAt(hdr, 0); n < len(hdr) {
		return nil, nil
	}
	v, err := format.ParseHeader(hdr)
	if err != nil || !v.IsV2() {
		return nil, nil
	}
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, nil
	}
	// N.B. Located as every command locates damage: by gotrace's
	// ordered reader, and by golang.org/x/exp/trace when it stops short.
	in := func() io.Reader { return io.NewSectionReader(ra, 0, size) }
	syncs, err := timeline.Locate(ctx, in(), ra, in)
	var de *decode.Error
	if ctx.Err() != nil || !errors.As(err, &de) {
		return nil, nil
	}
	damage := fmt.Errorf("%w: %w", timeline.ErrDamaged, err)
	// The generations both the reading and the framing found whole:
	// golang.org/x/exp/trace emits a sync before each generation, and
	// those before the last one it delivered are whole.
	spans, _ := timeline.Framed(ctx, ra, size, v)
	good := min(len(spans), syncs-1)
	if good <= 0 {
		return nil, nil
	}
	prefix := io.NewSectionReader(ra, 0, spans[good-1].End)
	b, err := countParts(ctx, prefix, prefix, t, Filter{})
	if err != nil {
		return nil, nil
	}
	return b.profile(), damage
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

// gkey is one goroutine: its ID and incarnation.
type gkey struct {
	id  trace.GoID
	seq int
}

// goroutine is what the first pass learns about one goroutine.
type goroutine struct {
	name    string
	regions []span   // the regions the filter keeps, when it has one
	open    []region // regions not yet ended, innermost last
}

type region struct {
	name  string
	start trace.Time
	keep  bool // the filter keeps it
}

// summary is the result of the first pass.
type summary struct {
	first, last trace.Time
	gs          map[gkey]*goroutine
	// tasks holds the tasks named as the filter's Task, so that regions in
	// them are kept; only those, so it stays small.
	tasks map[trace.TaskID]bool
}

// read reads the trace in r, handing each event to fn, and stops when ctx
// is done. Damage after a valid header comes back wrapping
// timeline.ErrDamaged, after the events before it.
func read(ctx context.Context, r io.Reader, fn func(*trace.Event)) error {
	n := 0
	src, err := timeline.Read(r, func(ev *trace.Event) bool {
		fn(ev)
		n++
		return n%1024 != 0 || ctx.Err() == nil
	})
	var de *decode.Error
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err == nil:
		return nil
	case !errors.As(err, &de):
		return err // the old format: no generations to keep
	case src == nil:
		return err // not a trace: nothing was read
	}
	return fmt.Errorf("%w: %w", timeline.ErrDamaged, err)
}

// summarize is the first pass. It keeps only the regions that f selects,
// so its memory follows the goroutines and the kept regions.
func summarize(ctx context.Context, r io.Reader, f Filter) (*summary, error) {
	s := &summary{gs: make(map[gkey]*goroutine), tasks: make(map[trace.TaskID]bool)}
	tk := timeline.NewTracker()
	get := func(id trace.GoID) *goroutine {
		g := tk.Goroutine(id)
		if g == nil {
			return nil
		}
		k := gkey{id, g.Seq}
		sg := s.gs[k]
		if sg == nil {
			sg = &goroutine{}
			s.gs[k] = sg
		}
		return sg
	}
	tk.End = func(g *timeline.Goroutine) {
		if sg := s.gs[gkey{g.ID, g.Seq}]; sg != nil {
			sg.name = g.Name
		} else {
			s.gs[gkey{g.ID, g.Seq}] = &goroutine{name: g.Name}
		}
	}
	keep := func(r trace.Region) bool {
		return f.byRegion() && (f.Region == "" || r.Type == f.Region) && (f.Task == "" || s.tasks[r.Task])
	}
	err := read(ctx, r, func(ev *trace.Event) {
		tk.Event(ev)
		switch ev.Kind() {
		case trace.EventTaskBegin:
			if t := ev.Task(); f.Task != "" && t.Type == f.Task {
				s.tasks[t.ID] = true
			}
		case trace.EventRegionBegin:
			if g := get(ev.Goroutine()); g != nil && f.byRegion() {
				r := ev.Region()
				g.open = append(g.open, region{name: r.Type, start: ev.Time(), keep: keep(r)})
			}
		case trace.EventRegionEnd:
			g := get(ev.Goroutine())
			if g == nil || !f.byRegion() {
				return
			}
			r := ev.Region()
			if n := len(g.open); n > 0 && g.open[n-1].name == r.Type {
				if o := g.open[n-1]; o.keep {
					g.regions = append(g.regions, span{o.start, ev.Time()})
				}
				g.open = g.open[:n-1]
				return
			}
			// N.B. the region began before the trace did.
			if keep(r) {
				g.regions = append(g.regions, span{tk.Start(), ev.Time()})
			}
		}
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	tk.Finish()
	s.first, s.last = tk.Start(), tk.Last()
	for _, g := range s.gs {
		for _, o := range g.open {
			if o.keep {
				g.regions = append(g.regions, span{o.start, s.last})
			}
		}
		g.open = nil
		g.regions = outermost(g.regions)
	}
	return s, err
}

// selection is the time a profile counts: inside the filter's window and,
// with a goroutine or region filter, the goroutines and regions it keeps.
type selection struct {
	f   Filter
	sum *summary // the first pass, with a goroutine or region filter
	// first and last are the trace's first and last event times, as the
	// counting pass sees them.
	first, last trace.Time
	started     bool
}

// see notes the time of an event of the counting pass.
func (s *selection) see(t trace.Time) {
	if !s.started {
		s.first, s.started = t, true
	}
	s.last = max(s.last, t)
}

// window is the filter's window, as far as the trace has gone.
func (s *selection) window() span {
	w := span{s.first + trace.Time(s.f.From), s.last}
	if s.f.To > 0 {
		w.end = min(w.end, s.first+trace.Time(s.f.To))
	}
	return w
}

// spans returns the spans the filter keeps for goroutine k, and whether it
// keeps any of k's time; nil spans with true keep all of it.
func (s *selection) spans(k gkey) ([]span, bool) {
	if s.sum == nil {
		return nil, true
	}
	g := s.sum.gs[k]
	if g == nil || s.f.Goroutine != "" && g.name != s.f.Goroutine {
		return nil, false
	}
	if !s.f.byRegion() {
		return nil, true
	}
	return g.regions, len(g.regions) > 0
}

// overlap is how much of iv, on goroutine k, the selection keeps.
func (s *selection) overlap(k gkey, iv span) time.Duration {
	w := s.window()
	iv = span{max(iv.start, w.start), min(iv.end, w.end)}
	if iv.end < iv.start {
		return 0
	}
	spans, ok := s.spans(k)
	if !ok {
		return 0
	}
	if spans == nil {
		return iv.overlap(iv) // N.B. the whole of iv: a span overlaps itself
	}
	var d time.Duration
	for _, sp := range spans {
		d += sp.overlap(iv)
	}
	return d
}

// contains reports whether the selection keeps goroutine k at t.
func (s *selection) contains(k gkey, t trace.Time) bool {
	w := s.window()
	if t < w.start || t > w.end {
		return false
	}
	spans, ok := s.spans(k)
	if !ok {
		return false
	}
	if spans == nil {
		return true
	}
	for _, sp := range spans {
		if sp.start <= t && t <= sp.end {
			return true
		}
	}
	return false
}

// check says, once the trace is read, whether the filter selected nothing.
func (s *selection) check() error {
	f := s.f
	if (f.From > 0 || f.To > 0) && s.started {
		if w := s.window(); w.start >= w.end {
			return fmt.Errorf("%w: the window %v-%v is outside the trace (%v long)", ErrNoMatch, f.From, f.To, time.Duration(s.last-s.first))
		}
	}
	if s.sum == nil {
		return nil
	}
	for k := range s.sum.gs {
		if _, ok := s.spans(k); ok {
			return nil
		}
	}
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
	return fmt.Errorf("%w: no %s in the trace", ErrNoMatch, strings.Join(what, " with "))
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

package pprof

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/google/pprof/profile"
	"github.com/gotrace-cli/gotrace/internal/order"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// maxFrames bounds the frames that tell two stacks apart, as in go tool
// trace; deeper frames are kept but do not split samples.
const maxFrames = 128

// record is one sample being accumulated: a stack (and, for regions and
// tasks, a name) with a count and a total.
type record struct {
	key   string
	stack timeline.StackRef
	label string
	count int64
	total time.Duration
}

// builder accumulates records and turns them into a profile.
type builder struct {
	t       Type
	records map[string]*record
	order   []*record // first-seen order, so output is deterministic
	dur     time.Duration
	key     []byte
	// byStack is records by stack, for samples with no label: a
	// stack's frames are read once per generation, not per sample.
	byStack map[timeline.StackRef]*record
}

func newBuilder(t Type) *builder {
	return &builder{t: t, records: make(map[string]*record), byStack: make(map[timeline.StackRef]*record)}
}

func (b *builder) add(st timeline.StackRef, label string, d time.Duration) {
	if label == "" {
		if r := b.byStack[st]; r != nil {
			r.count++
			r.total += d
			return
		}
	}
	b.key = b.key[:0]
	n := 0
	for fr := range st.Frames() {
		if n == maxFrames {
			break
		}
		b.key = binary.AppendUvarint(b.key, fr.PC)
		n++
	}
	b.key = append(b.key, 0)
	b.key = append(b.key, label...)
	r := b.records[string(b.key)]
	if r == nil {
		r = &record{key: string(b.key), stack: st, label: label}
		b.records[r.key] = r
		b.order = append(b.order, r)
	}
	if label == "" {
		b.byStack[st] = r
	}
	r.count++
	r.total += d
}

// merge adds o's records to b's.
func (b *builder) merge(o *builder) {
	for _, or := range o.order {
		r := b.records[or.key]
		if r == nil {
			b.records[or.key] = or
			b.order = append(b.order, or)
			continue
		}
		r.count += or.count
		r.total += or.total
	}
}

// charge adds iv to b if it is what b counts.
func (b *builder) charge(iv *timeline.Interval, sel *selection) {
	// N.B. An interval still open when the trace ends is not charged,
	// as in go tool trace.
	if iv.Open || !iv.Profiled || !b.tracks(iv.State, iv.Reason) {
		return
	}
	if sel.sum == nil && sel.f.Goroutine != "" && iv.G.Name != sel.f.Goroutine {
		return // N.B. counted in parts: the goroutine is named as it is handed on
	}
	if d := sel.overlap(gkey{iv.G.ID, iv.G.Seq}, span{iv.Seen, iv.End}); d > 0 {
		b.add(iv.Stack, "", d)
	}
}

// countParts counts a profile of the trace in r, of size bytes, unfiltered
// or with f's goroutine filter alone (see InParts), a generation at a time
// on as many goroutines as there are processors (timeline.ReadParts): each
// part adds to a builder of its own, and the builders add up in trace
// order. An error wrapping timeline.ErrInOrder says to count in order
// instead.
func countParts(ctx context.Context, r io.ReaderAt, s io.Seeker, t Type, f Filter) (*builder, error) {
	size, err := s.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", timeline.ErrInOrder, err)
	}
	var mu sync.Mutex
	var parts []*spanPart
	// N.B. With no filter, or a goroutine's alone, the selection keeps
	// every interval whole: it needs no times of its own.
	sel := &selection{f: f, first: 0, last: math.MaxInt64, started: true}
	tk, err := timeline.ReadParts(ctx, r, size, runtime.GOMAXPROCS(0), func(i int, tk *timeline.Tracker) func(*order.Event) {
		p := &spanPart{b: newBuilder(t)}
		mu.Lock()
		for len(parts) <= i {
			parts = append(parts, nil)
		}
		parts[i] = p
		mu.Unlock()
		b := p.b
		switch t {
		case CPU:
			// N.B. Unfiltered, a sample counts whoever it is on.
			tk.OnlyTimes()
			return func(ev *order.Event) {
				if ev.Kind() == trace.EventStackSample {
					b.add(timeline.OrderStack(ev.Stack()), "", CPUSamplePeriod)
				}
			}
		case Region, Task:
			// N.B. Kept to the end for its times (TimeInTrace): it
			// follows no goroutine, so it holds little. A part Tracker
			// that does is not kept.
			tk.OnlyTimes()
			p.tk = tk
			return func(ev *order.Event) { p.event(ev, sel) }
		}
		tk.Emit = func(iv *timeline.Interval) {
			switch {
			case f.Goroutine == "":
			case iv.G.Name == f.Goroutine:
				p.matched = true
			case iv.G.Name == "":
				// N.B. Handed on before its goroutine was named (see
				// timeline.Tracker.Emit): the name it gets later may
				// be the filter's.
				p.unnamed = true
			}
			b.charge(iv, sel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	tk.Finish()
	if slices.ContainsFunc(parts, func(p *spanPart) bool { return p.unnamed }) {
		return nil, fmt.Errorf("%w: a goroutine's intervals were counted before its name was known", timeline.ErrInOrder)
	}
	if f.Goroutine != "" && !slices.ContainsFunc(parts, func(p *spanPart) bool { return p.matched }) {
		return nil, fmt.Errorf("%w: no goroutine %q in the trace", ErrNoMatch, f.Goroutine)
	}
	b := parts[0].b
	for _, p := range parts[1:] {
		b.merge(p.b)
	}
	if t == Region || t == Task {
		// The regions and tasks the parts could not count alone, in
		// order.
		open := &spanPart{tk: tk, b: b}
		for _, p := range parts {
			open.settle(p, sel, tk.Start())
		}
		open.finish(sel, tk.Last())
	}
	b.dur = time.Duration(tk.Last() - tk.Start())
	return b, nil
}

// spanPart is a part's count of the regions or tasks of its generation,
// read on its own, with what it cannot count alone: the ends of regions
// and tasks begun before it, the spans that begin or end at its first
// events (which Merge may time anew: see timeline.Tracker.TimeInTrace),
// and what is still open at its end. Settled in order, the parts count
// what the ordered pass (builder.count) does, span for span.
type spanPart struct {
	tk      *timeline.Tracker // for a profile of regions or tasks
	b       *builder
	regions map[trace.GoID][]pending // begun in the part and open, innermost last
	tasks   map[trace.TaskID]pending // begun in the part and open
	begun   map[trace.TaskID]bool    // tasks begun in the part
	later   []spanEnd                // in the order of the part's events
	matched bool                     // a goroutine the filter names has an interval in the part
	unnamed bool                     // an interval came before its goroutine's name
}

// spanEnd is an end a part leaves to be settled in order.
type spanEnd struct {
	p pending // the begin, in the part's times, unless fromStart
	// fromStart is set for a region or task whose begin is not in the
	// part: it counts from the trace's start, unless region or task.
	fromStart bool
	// region is set for the end of a region whose begin is in a part
	// before, if it has the name (on goroutine g); task for the end of a
	// task begun in a part before, if it still is open there.
	region bool
	g      trace.GoID
	task   bool
	id     trace.TaskID
	end    trace.Time
}

func (p *spanPart) event(ev *order.Event, sel *selection) {
	switch ev.Kind() {
	case trace.EventRegionBegin:
		if p.b.t == Region {
			if p.regions == nil {
				p.regions = make(map[trace.GoID][]pending)
			}
			g := ev.Goroutine()
			p.regions[g] = append(p.regions[g], pending{start: ev.Time(), stack: timeline.OrderStack(ev.Stack()), name: ev.Region().Type})
		}
	case trace.EventRegionEnd:
		if p.b.t != Region {
			return
		}
		g, name, now := ev.Goroutine(), ev.Region().Type, ev.Time()
		open := p.regions[g]
		n := len(open)
		switch {
		case n == 0:
			// N.B. The top of the regions open before the part.
			p.later = append(p.later, spanEnd{p: pending{name: name}, fromStart: true, region: true, g: g, end: now})
		case open[n-1].name == name:
			p.regions[g] = open[:n-1]
			p.count(sel, open[n-1], now)
		default:
			p.later = append(p.later, spanEnd{p: pending{name: name}, fromStart: true, end: now})
		}
	case trace.EventTaskBegin:
		if p.b.t == Task {
			if p.tasks == nil {
				p.tasks, p.begun = make(map[trace.TaskID]pending), make(map[trace.TaskID]bool)
			}
			t := ev.Task()
			p.tasks[t.ID] = pending{start: ev.Time(), stack: timeline.OrderStack(ev.Stack()), name: t.Type}
			p.begun[t.ID] = true
		}
	case trace.EventTaskEnd:
		if p.b.t != Task {
			return
		}
		t := ev.Task()
		if b, ok := p.tasks[t.ID]; ok {
			delete(p.tasks, t.ID)
			p.count(sel, b, ev.Time())
			return
		}
		// N.B. A task begun in the part and ended is not open before it.
		p.later = append(p.later, spanEnd{p: pending{name: t.Type}, fromStart: true, task: !p.begun[t.ID], id: t.ID, end: ev.Time()})
	}
}

// count counts b, begun in the part, ended at end, or leaves it to be settled if Merge may
// time either anew.
func (p *spanPart) count(sel *selection, b pending, end trace.Time) {
	if p.tk.MayMove(b.start) || p.tk.MayMove(end) {
		p.later = append(p.later, spanEnd{p: b, end: end})
		return
	}
	p.b.span(sel, b, end)
}

// settle counts, into o (which holds what the parts before left open),
// what part p left, and keeps what it leaves open; start is the trace's.
func (o *spanPart) settle(p *spanPart, sel *selection, start trace.Time) {
	at := p.tk.TimeInTrace
	for _, l := range p.later {
		b := l.p
		if !l.fromStart {
			b.start = at(b.start)
			o.b.span(sel, b, at(l.end))
			continue
		}
		// N.B. What the parts before left open is in the trace's times.
		b.start = start
		switch {
		case l.region:
			open := o.regions[l.g]
			if n := len(open); n > 0 && open[n-1].name == b.name {
				b = open[n-1]
				o.regions[l.g] = open[:n-1]
			}
		case l.task:
			if t, ok := o.tasks[l.id]; ok {
				b = t
				delete(o.tasks, l.id)
			}
		}
		o.b.span(sel, b, at(l.end))
	}
	if len(p.regions) > 0 && o.regions == nil {
		o.regions = make(map[trace.GoID][]pending)
	}
	for g, open := range p.regions {
		for _, b := range open {
			b.start = at(b.start)
			o.regions[g] = append(o.regions[g], b)
		}
	}
	if len(p.begun) > 0 && o.tasks == nil {
		o.tasks = make(map[trace.TaskID]pending)
	}
	for id := range p.begun {
		delete(o.tasks, id) // begun again in p
	}
	for id, b := range p.tasks {
		b.start = at(b.start)
		o.tasks[id] = b
	}
}

// finish counts the regions and tasks still open at the trace's end, as
// lasting until then.
func (o *spanPart) finish(sel *selection, last trace.Time) {
	for _, open := range o.regions {
		for _, b := range open {
			o.b.span(sel, b, last)
		}
	}
	for _, b := range o.tasks {
		o.b.span(sel, b, last)
	}
}

// tracks reports whether an interval in state st for reason is what a
// state profile counts.
func (b *builder) tracks(st trace.GoState, reason string) bool {
	switch b.t {
	case Sched:
		return st == trace.GoRunnable
	case Block:
		return st == trace.GoWaiting && timeline.ProfileOf(reason) == timeline.SyncProfile
	case Net:
		return st == trace.GoWaiting && timeline.ProfileOf(reason) == timeline.NetProfile
	case Syscall:
		return st == trace.GoSyscall
	}
	return false
}

// pending is a region or a task begun and not yet ended.
type pending struct {
	start trace.Time
	stack timeline.StackRef
	name  string
	g     gkey
}

// count is the counting pass: it follows the goroutines on the timeline
// and adds what the selection keeps. It returns the damage it found.
func (b *builder) count(ctx context.Context, r io.Reader, sel *selection) error {
	tk := timeline.NewTracker()
	if b.t == Sched || b.t == Block || b.t == Net || b.t == Syscall {
		tk.Emit = func(iv *timeline.Interval) { b.charge(iv, sel) }
	}
	key := func(id trace.GoID) gkey {
		if g := tk.Goroutine(id); g != nil {
			return gkey{id, g.Seq}
		}
		return gkey{id, -1}
	}
	regions := make(map[trace.GoID][]pending) // region profile: open regions, innermost last
	tasks := make(map[trace.TaskID]pending)   // task profile
	err := read(ctx, r, func(ev *trace.Event) {
		sel.see(ev.Time())
		tk.Event(ev)
		switch ev.Kind() {
		case trace.EventStackSample:
			if b.t == CPU && sel.contains(key(ev.Goroutine()), ev.Time()) {
				b.add(timeline.XStack(ev.Stack()), "", CPUSamplePeriod)
			}
		case trace.EventRegionBegin:
			if b.t == Region {
				g := ev.Goroutine()
				regions[g] = append(regions[g], pending{start: ev.Time(), stack: timeline.XStack(ev.Stack()), name: ev.Region().Type, g: key(g)})
			}
		case trace.EventRegionEnd:
			if b.t != Region {
				return
			}
			g, name := ev.Goroutine(), ev.Region().Type
			open := regions[g]
			p := pending{start: sel.first, name: name, g: key(g)} // N.B. begun before the trace
			if n := len(open); n > 0 && open[n-1].name == name {
				p = open[n-1]
				regions[g] = open[:n-1]
			}
			b.span(sel, p, ev.Time())
		case trace.EventTaskBegin:
			if b.t == Task {
				t := ev.Task()
				tasks[t.ID] = pending{start: ev.Time(), stack: timeline.XStack(ev.Stack()), name: t.Type, g: key(ev.Goroutine())}
			}
		case trace.EventTaskEnd:
			if b.t != Task {
				return
			}
			t := ev.Task()
			p, ok := tasks[t.ID]
			if !ok {
				p = pending{start: sel.first, name: t.Type, g: key(ev.Goroutine())}
			}
			delete(tasks, t.ID)
			b.span(sel, p, ev.Time())
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	tk.Finish()
	b.dur = time.Duration(sel.window().end - sel.window().start)
	// Regions and tasks still open at the end last until the end.
	for _, open := range regions {
		for _, p := range open {
			b.span(sel, p, sel.last)
		}
	}
	for _, p := range tasks {
		b.span(sel, p, sel.last)
	}
	return err
}

func (b *builder) span(sel *selection, p pending, end trace.Time) {
	if d := sel.overlap(p.g, span{p.start, end}); d > 0 {
		name := p.name
		if name == "" {
			name = "(unnamed)"
		}
		b.add(p.stack, name, d)
	}
}

// profile converts the records. Locations are keyed by PC and functions by
// file and name, as go tool trace does, so the two tools' profiles match.
func (b *builder) profile() *profile.Profile {
	p := &profile.Profile{DurationNanos: int64(b.dur)}
	switch b.t {
	case CPU:
		p.PeriodType = &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}
		p.Period = int64(CPUSamplePeriod)
		p.SampleType = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}
	case Region, Task:
		p.PeriodType = &profile.ValueType{Type: "trace", Unit: "count"}
		p.Period = 1
		p.SampleType = []*profile.ValueType{{Type: string(b.t) + "s", Unit: "count"}, {Type: "wall", Unit: "nanoseconds"}}
	default:
		p.PeriodType = &profile.ValueType{Type: "trace", Unit: "count"}
		p.Period = 1
		p.SampleType = []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}}
	}
	p.DefaultSampleType = p.SampleType[1].Type
	idx := &locIndex{p: p, byPC: make(map[uint64]*profile.Location), byName: make(map[string]*profile.Location), funcs: make(map[string]*profile.Function)}
	for _, r := range b.order {
		s := &profile.Sample{Value: []int64{r.count, int64(r.total)}}
		if r.label != "" {
			// The name is a label for pprof -tags and the leaf of the stack,
			// so pprof -top lists time by name.
			s.Label = map[string][]string{string(b.t): {r.label}}
			s.Location = append(s.Location, idx.name(string(b.t)+" "+r.label))
		}
		for fr := range r.stack.Frames() {
			s.Location = append(s.Location, idx.frame(fr))
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

// locIndex adds each location and function to a profile once.
type locIndex struct {
	p      *profile.Profile
	byPC   map[uint64]*profile.Location
	byName map[string]*profile.Location // frames that stand for a name, with no PC
	funcs  map[string]*profile.Function
}

func (x *locIndex) frame(fr trace.StackFrame) *profile.Location {
	if l := x.byPC[fr.PC]; l != nil {
		return l
	}
	l := x.add(fr, fr.File+fr.Func)
	x.byPC[fr.PC] = l
	return l
}

func (x *locIndex) name(name string) *profile.Location {
	if l := x.byName[name]; l != nil {
		return l
	}
	l := x.add(trace.StackFrame{Func: name}, "\x00"+name)
	x.byName[name] = l
	return l
}

func (x *locIndex) add(fr trace.StackFrame, fnKey string) *profile.Location {
	p := x.p
	fn := x.funcs[fnKey]
	if fn == nil {
		fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: fr.Func, SystemName: fr.Func, Filename: fr.File}
		p.Function = append(p.Function, fn)
		x.funcs[fnKey] = fn
	}
	l := &profile.Location{ID: uint64(len(p.Location) + 1), Address: fr.PC, Line: []profile.Line{{Function: fn, Line: int64(fr.Line)}}}
	p.Location = append(p.Location, l)
	return l
}

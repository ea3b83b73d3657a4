package pprof

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/google/pprof/profile"
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
	stack trace.Stack
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
	byStack map[trace.Stack]*record
}

func newBuilder(t Type) *builder {
	return &builder{t: t, records: make(map[string]*record), byStack: make(map[trace.Stack]*record)}
}

func (b *builder) add(st trace.Stack, label string, d time.Duration) {
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
	if d := sel.overlap(gkey{iv.G.ID, iv.G.Seq}, span{iv.Seen, iv.End}); d > 0 {
		b.add(iv.Stack, "", d)
	}
}

// countParts counts an unfiltered profile of the trace in r, of size
// bytes, a generation at a time on as many goroutines as there are
// processors (timeline.ReadParts): each part adds to a builder of its own,
// and the builders add up in trace order. An error wrapping
// timeline.ErrInOrder says to count in order instead.
func countParts(ctx context.Context, r io.ReaderAt, s io.Seeker, t Type) (*builder, error) {
	size, err := s.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", timeline.ErrInOrder, err)
	}
	var mu sync.Mutex
	var parts []*builder
	// N.B. With no filter, the selection keeps every interval whole: it
	// needs no times of its own.
	sel := &selection{first: 0, last: math.MaxInt64, started: true}
	tk, err := timeline.ReadParts(ctx, r, size, runtime.GOMAXPROCS(0), func(i int, tk *timeline.Tracker) func(*trace.Event) {
		b := newBuilder(t)
		mu.Lock()
		for len(parts) <= i {
			parts = append(parts, nil)
		}
		parts[i] = b
		mu.Unlock()
		if t == CPU {
			// N.B. Unfiltered, a sample counts whoever it is on.
			tk.OnlyTimes()
			return func(ev *trace.Event) {
				if ev.Kind() == trace.EventStackSample {
					b.add(ev.Stack(), "", CPUSamplePeriod)
				}
			}
		}
		tk.Emit = func(iv *timeline.Interval) { b.charge(iv, sel) }
		return nil
	})
	if err != nil {
		return nil, err
	}
	tk.Finish()
	b := parts[0]
	for _, p := range parts[1:] {
		b.merge(p)
	}
	b.dur = time.Duration(tk.Last() - tk.Start())
	return b, nil
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
	stack trace.Stack
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
				b.add(ev.Stack(), "", CPUSamplePeriod)
			}
		case trace.EventRegionBegin:
			if b.t == Region {
				g := ev.Goroutine()
				regions[g] = append(regions[g], pending{start: ev.Time(), stack: ev.Stack(), name: ev.Region().Type, g: key(g)})
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
				tasks[t.ID] = pending{start: ev.Time(), stack: ev.Stack(), name: t.Type, g: key(ev.Goroutine())}
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

package order

import (
	"strings"

	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// Goroutine is the goroutine r names, trace.NoGoroutine when it names none.
func (r Resource) Goroutine() trace.GoID {
	if r.Kind != trace.ResourceGoroutine {
		return trace.NoGoroutine
	}
	return trace.GoID(r.ID)
}

// Proc is the P r names, trace.NoProc when it names none.
func (r Resource) Proc() trace.ProcID {
	if r.Kind != trace.ResourceProc {
		return trace.NoProc
	}
	return trace.ProcID(r.ID)
}

// Thread is the thread r names, trace.NoThread when it names none.
func (r Resource) Thread() trace.ThreadID {
	if r.Kind != trace.ResourceThread {
		return trace.NoThread
	}
	return trace.ThreadID(r.ID)
}

// Converter turns golang.org/x/exp/trace's events into Events, for what
// the Reader does not read: traces of Go 1.11 to 1.21, which
// golang.org/x/exp/trace converts to the current events, and a reading
// that must fail where golang.org/x/exp/trace fails. Each event becomes
// the wire event whose accessors give what golang.org/x/exp/trace's
// accessors gave; strings and stacks go into tables of the converter's
// own, begun again at each Sync, as golang.org/x/exp/trace's stack handles
// are.
type Converter struct {
	tab    *tables
	strIDs map[string]uint64
	stkIDs map[trace.Stack]uint64
}

// NewConverter returns a Converter.
func NewConverter() *Converter {
	c := &Converter{strIDs: make(map[string]uint64), stkIDs: make(map[trace.Stack]uint64)}
	c.begin()
	return c
}

// begin starts new tables; Events converted before keep theirs.
func (c *Converter) begin() {
	c.tab = &tables{strs: []string{""}, strOK: []bool{true}, stkLo: []int32{-1}, stkHi: []int32{-1}}
	clear(c.strIDs)
	clear(c.stkIDs)
}

// Convert fills dst with ev and reports whether it could: an event that
// no wire event describes (a range or metric of a name the format does not
// have) is left out, false.
func (c *Converter) Convert(ev *trace.Event, dst *Event) bool {
	*dst = Event{kind: ev.Kind(), time: ev.Time(), g: ev.Goroutine(), p: ev.Proc(), m: ev.Thread(), tab: c.tab}
	a := &dst.args
	switch ev.Kind() {
	case trace.EventSync:
		s := ev.Sync()
		c.begin()
		// N.B. A Sync's tables hold only what it reports.
		dst.typ, dst.tab = format.EvSync, &tables{clock: s.ClockSnapshot, exp: s.ExperimentalBatches}
		a[0] = uint64(s.N)
		return true
	case trace.EventStateTransition:
		if !c.transition(ev, dst) {
			return false
		}
	case trace.EventRangeBegin, trace.EventRangeActive, trace.EventRangeEnd:
		if !c.rangeEvent(ev, dst) {
			return false
		}
	case trace.EventMetric:
		m := ev.Metric()
		switch m.Name {
		case "/sched/gomaxprocs:threads":
			dst.typ = format.EvProcsChange
		case "/memory/classes/heap/objects:bytes":
			dst.typ = format.EvHeapAlloc
		case "/gc/heap/goal:bytes":
			dst.typ = format.EvHeapGoal
		default:
			return false
		}
		if m.Value.Kind() != trace.ValueUint64 {
			return false
		}
		a[0] = m.Value.Uint64()
	case trace.EventLabel:
		dst.typ = format.EvGoLabel
		a[0] = c.str(ev.Label().Label)
	case trace.EventTaskBegin:
		t := ev.Task()
		dst.typ = format.EvUserTaskBegin
		a[0], a[1], a[2] = uint64(t.ID), uint64(t.Parent), c.str(t.Type)
	case trace.EventTaskEnd:
		t := ev.Task()
		dst.typ = format.EvUserTaskEnd
		a[0], a[2], dst.str = uint64(t.ID), uint64(t.Parent), t.Type
	case trace.EventRegionBegin, trace.EventRegionEnd:
		r := ev.Region()
		dst.typ = format.EvUserRegionBegin
		if ev.Kind() == trace.EventRegionEnd {
			dst.typ = format.EvUserRegionEnd
		}
		a[0], a[1] = uint64(r.Task), c.str(r.Type)
	case trace.EventLog:
		l := ev.Log()
		dst.typ = format.EvUserLog
		a[0], a[1], a[2] = uint64(l.Task), c.str(l.Category), c.str(l.Message)
	case trace.EventStackSample:
		dst.typ = format.EvCPUSample
	case trace.EventExperimental:
		x := ev.Experimental()
		t, ok := experimentalTypes[x.Name]
		if !ok || len(x.Args) > len(a) {
			return false
		}
		dst.typ = t
		for i := range x.Args {
			v := x.ArgValue(i)
			if v.Kind() != trace.ValueUint64 {
				return false // the AllocFree experiment's are numbers
			}
			a[i] = v.Uint64()
		}
		return true
	default:
		return false
	}
	if i := stackArg[dst.typ]; i >= 0 && a[i] == 0 {
		a[i] = c.stack(ev.Stack())
	}
	return true
}

// experimentalTypes are the experimental event types by name.
var experimentalTypes = func() map[string]format.EventType {
	m := make(map[string]format.EventType)
	for t := format.MaxEvent + 1; t.Experimental(); t++ {
		if s := format.Current.Spec(t); s != nil {
			m[s.Name] = t
		}
	}
	return m
}()

// transition picks, for a state transition, the wire event that makes it:
// the one whose accessors give the same states, reason and stacks. One
// that no wire event makes for its goroutine (a status, or a change made
// for another goroutine than the one running) is a status with both
// states given, which has no reason. A thread's transition has none: false.
func (c *Converter) transition(ev *trace.Event, dst *Event) bool {
	st := ev.StateTransition()
	a := &dst.args
	if st.Resource.Kind == trace.ResourceProc {
		from, to := st.Proc()
		dst.typ, dst.from, dst.to = format.EvProcStatus, uint8(from), uint8(to)
		a[0] = uint64(st.Resource.Proc())
		return true
	}
	if st.Resource.Kind != trace.ResourceGoroutine {
		return false
	}
	id := st.Resource.Goroutine()
	from, to := st.Goroutine()
	own := id == ev.Goroutine() // made by the goroutine itself
	switch {
	case from == trace.GoNotExist && (to == trace.GoRunnable || to == trace.GoWaiting) && !own:
		dst.typ = format.EvGoCreate
		if to == trace.GoWaiting {
			dst.typ = format.EvGoCreateBlocked
		}
		a[0], a[1] = uint64(id), c.stack(st.Stack)
		return true
	case from == trace.GoNotExist && to == trace.GoSyscall:
		dst.typ = format.EvGoCreateSyscall
		a[0] = uint64(id)
		return true
	case from == trace.GoRunnable && to == trace.GoRunning:
		dst.typ = format.EvGoStart
		a[0] = uint64(id)
		return true
	case from == trace.GoWaiting && to == trace.GoRunnable && st.Stack == trace.NoStack:
		dst.typ = format.EvGoUnblock
		a[0] = uint64(id)
		return true
	case own && from == trace.GoRunning && to == trace.GoNotExist && st.Stack == trace.NoStack:
		dst.typ = format.EvGoDestroy
		return true
	case own && from == trace.GoSyscall && to == trace.GoNotExist && st.Stack == trace.NoStack:
		dst.typ = format.EvGoDestroySyscall
		return true
	case own && from == trace.GoRunning && (to == trace.GoRunnable || to == trace.GoWaiting) && st.Stack == ev.Stack():
		dst.typ = format.EvGoStop
		if to == trace.GoWaiting {
			dst.typ = format.EvGoBlock
		}
		a[0] = c.str(st.Reason)
		return true
	case own && from == trace.GoRunning && to == trace.GoSyscall && st.Stack == ev.Stack():
		dst.typ = format.EvGoSyscallBegin
		return true
	case own && from == trace.GoSyscall && (to == trace.GoRunning || to == trace.GoRunnable) && st.Stack == trace.NoStack:
		dst.typ = format.EvGoSyscallEnd
		if to == trace.GoRunnable {
			dst.typ = format.EvGoSyscallEndBlocked
		}
		return true
	}
	dst.typ, dst.from, dst.to = format.EvGoStatusStack, uint8(from), uint8(to)
	a[0], a[3] = uint64(id), c.stack(st.Stack)
	return true
}

// rangeEvent picks the wire event of a range by its name and kind.
func (c *Converter) rangeEvent(ev *trace.Event, dst *Event) bool {
	r := ev.Range()
	k := ev.Kind()
	pick := func(begin, active, end format.EventType) format.EventType {
		switch k {
		case trace.EventRangeBegin:
			return begin
		case trace.EventRangeActive:
			return active
		}
		return end
	}
	a := &dst.args
	switch {
	case r.Name == "GC concurrent mark phase":
		dst.typ = pick(format.EvGCBegin, format.EvGCActive, format.EvGCEnd)
	case r.Name == "GC incremental sweep" && r.Scope.Kind == trace.ResourceProc:
		dst.typ = pick(format.EvGCSweepBegin, format.EvGCSweepActive, format.EvGCSweepEnd)
		switch k {
		case trace.EventRangeActive:
			a[0] = uint64(r.Scope.Proc())
		case trace.EventRangeBegin, trace.EventRangeEnd:
			dst.p = r.Scope.Proc()
		}
		if k == trace.EventRangeEnd {
			for _, at := range ev.RangeAttributes() {
				switch at.Name {
				case "bytes swept":
					a[0] = at.Value.Uint64()
				case "bytes reclaimed":
					a[1] = at.Value.Uint64()
				}
			}
		}
	case r.Name == "GC mark assist" && r.Scope.Kind == trace.ResourceGoroutine:
		dst.typ = pick(format.EvGCMarkAssistBegin, format.EvGCMarkAssistActive, format.EvGCMarkAssistEnd)
		if k == trace.EventRangeActive {
			a[0] = uint64(r.Scope.Goroutine())
		} else {
			dst.g = r.Scope.Goroutine()
		}
	case strings.HasPrefix(r.Name, "stop-the-world (") && strings.HasSuffix(r.Name, ")") && k != trace.EventRangeActive:
		dst.typ = pick(format.EvSTWBegin, format.EvNone, format.EvSTWEnd)
		a[0] = c.str(r.Name[len("stop-the-world (") : len(r.Name)-1])
		if r.Scope.Kind == trace.ResourceGoroutine {
			dst.g = r.Scope.Goroutine()
		}
	default:
		return false
	}
	return true
}

// str is the ID of s in the converter's string table.
func (c *Converter) str(s string) uint64 {
	if s == "" {
		return 0
	}
	id, ok := c.strIDs[s]
	if !ok {
		id = uint64(len(c.tab.strs))
		c.tab.strs = append(c.tab.strs, s)
		c.tab.strOK = append(c.tab.strOK, true)
		c.strIDs[s] = id
	}
	return id
}

// stack is the ID of s in the converter's stack table, 0 for no stack.
func (c *Converter) stack(s trace.Stack) uint64 {
	if s == trace.NoStack {
		return 0
	}
	id, ok := c.stkIDs[s]
	if ok {
		return id
	}
	t := c.tab
	lo := int32(len(t.frameIdx))
	for f := range s.Frames() {
		t.frameIdx = append(t.frameIdx, int32(len(t.frames)))
		t.frames = append(t.frames, frameRec{pc: f.PC, funcID: c.str(f.Func), fileID: c.str(f.File), line: f.Line})
	}
	id = uint64(len(t.stkLo))
	t.stkLo = append(t.stkLo, lo)
	t.stkHi = append(t.stkHi, int32(len(t.frameIdx)))
	c.stkIDs[s] = id
	return id
}

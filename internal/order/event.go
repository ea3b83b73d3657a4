package order

import (
	"fmt"

	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// Event is one event in trace order, as Reader.Next fills it. It is plain
// data owned by the caller: Next overwrites it, and nothing in it refers to
// the Reader's buffers (strings and stacks point at tables that live as
// long as the Event does).
//
// The accessors mirror golang.org/x/exp/trace's Event. Those that describe
// one kind (Range, Task, ...) panic when called on another, as theirs do.
type Event struct {
	typ  format.EventType // wire type; EvSync for Sync events, EvCPUSample for samples
	kind trace.EventKind
	// from and to are the states of a status or steal transition, which
	// depend on what the ordering knew when the event advanced.
	from, to uint8
	time     trace.Time
	g        trace.GoID
	p        trace.ProcID
	m        trace.ThreadID
	// args are the wire arguments after dt. The ordering rewrites a few:
	// STWEnd's first carries its STWBegin's kind, UserTaskEnd's third the
	// parent task; a Sync's first is its number.
	args [4]uint64
	off  int64
	bad  bool   // names a stack or string its tables lack: Next fails on it
	str  string // UserTaskEnd: the type its UserTaskBegin gave
	tab  *tables
}

var kindOf = func() (k [256]trace.EventKind) {
	for _, t := range []format.EventType{
		format.EvProcStart, format.EvProcStop, format.EvProcSteal, format.EvProcStatus,
		format.EvGoCreate, format.EvGoCreateSyscall, format.EvGoStart, format.EvGoDestroy,
		format.EvGoDestroySyscall, format.EvGoStop, format.EvGoBlock, format.EvGoUnblock,
		format.EvGoSyscallBegin, format.EvGoSyscallEnd, format.EvGoSyscallEndBlocked,
		format.EvGoStatus, format.EvGoSwitch, format.EvGoSwitchDestroy,
		format.EvGoCreateBlocked, format.EvGoStatusStack,
	} {
		k[t] = trace.EventStateTransition
	}
	k[format.EvCPUSample] = trace.EventStackSample
	k[format.EvSync] = trace.EventSync
	k[format.EvProcsChange] = trace.EventMetric
	k[format.EvHeapAlloc] = trace.EventMetric
	k[format.EvHeapGoal] = trace.EventMetric
	k[format.EvSTWBegin] = trace.EventRangeBegin
	k[format.EvGCBegin] = trace.EventRangeBegin
	k[format.EvGCSweepBegin] = trace.EventRangeBegin
	k[format.EvGCMarkAssistBegin] = trace.EventRangeBegin
	k[format.EvGCActive] = trace.EventRangeActive
	k[format.EvGCSweepActive] = trace.EventRangeActive
	k[format.EvGCMarkAssistActive] = trace.EventRangeActive
	k[format.EvSTWEnd] = trace.EventRangeEnd
	k[format.EvGCEnd] = trace.EventRangeEnd
	k[format.EvGCSweepEnd] = trace.EventRangeEnd
	k[format.EvGCMarkAssistEnd] = trace.EventRangeEnd
	k[format.EvGoLabel] = trace.EventLabel
	k[format.EvUserTaskBegin] = trace.EventTaskBegin
	k[format.EvUserTaskEnd] = trace.EventTaskEnd
	k[format.EvUserRegionBegin] = trace.EventRegionBegin
	k[format.EvUserRegionEnd] = trace.EventRegionEnd
	k[format.EvUserLog] = trace.EventLog
	for t := format.MaxEvent + 1; t.Experimental(); t++ {
		k[t] = trace.EventExperimental
	}
	return k
}()

// Kind is the kind of event, as golang.org/x/exp/trace classifies it.
func (e *Event) Kind() trace.EventKind { return e.kind }

// Type is the wire event type behind the event: format.EvSync for Sync
// events, format.EvCPUSample for stack samples. GoSwitch is followed by a
// GoBlock (or GoDestroy) and a GoStart that the ordering makes up, and
// GoDestroySyscall, when the goroutine held a P, by a ProcSteal.
func (e *Event) Type() format.EventType { return e.typ }

// Time is the event's time in nanoseconds, strictly increasing over the
// trace: a time not after the previous event's reads as the previous
// plus one.
func (e *Event) Time() trace.Time { return e.time }

// Goroutine is the goroutine running on the event's thread when it
// happened (before a transition the event makes), trace.NoGoroutine when
// none.
func (e *Event) Goroutine() trace.GoID { return e.g }

// Proc is the P held by the event's thread when it happened (before a
// transition the event makes), trace.NoProc when none.
func (e *Event) Proc() trace.ProcID { return e.p }

// Thread is the thread the event happened on, trace.NoThread when none.
func (e *Event) Thread() trace.ThreadID { return e.m }

// Offset is the input offset of the wire event behind this one (the one
// the ordering made it from, for made-up events); -1 for Sync events and
// CPU samples, whose places decode does not keep.
func (e *Event) Offset() int64 { return e.off }

// Gen is the number of the generation the event belongs to, 0 for the
// final Sync.
func (e *Event) Gen() uint64 {
	if e.tab == nil {
		return 0
	}
	return e.tab.gen
}

// Args are the event's wire arguments after the timestamp; the slice
// points into e.
func (e *Event) Args() []uint64 {
	if e.typ == format.EvSync || e.typ == format.EvCPUSample {
		return nil
	}
	return e.args[:len(format.Current.Spec(e.typ).Args)-1]
}

// stackArg is, by type, the index in args of the event's own stack, -1
// when it has none.
var stackArg = func() (a [256]int8) {
	for t := range a {
		a[t] = -1
		s := format.Current.Spec(format.EventType(t))
		if s != nil && s.IsTimed && len(s.StackArgs) > 0 {
			a[t] = int8(s.StackArgs[0] - 1)
		}
	}
	a[format.EvCPUSample] = 0
	return a
}()

// StackID is the ID of the event's stack in its generation's table, 0 when
// it has none.
func (e *Event) StackID() uint64 {
	if i := stackArg[e.typ]; i >= 0 {
		return e.args[i]
	}
	return 0
}

// Stack is the event's stack: for a state transition of the goroutine
// running on the thread, that goroutine's stack where it happened; for a
// sample, the sampled stack.
func (e *Event) Stack() Stack {
	id := e.StackID()
	if id == 0 {
		return Stack{}
	}
	return Stack{e.tab, id}
}

// Resource names a goroutine, proc or thread (or nothing), as
// trace.ResourceID does but without its conversion cost.
type Resource struct {
	Kind trace.ResourceKind // trace.ResourceNone when it names nothing
	ID   int64              // the goroutine, proc or thread ID
}

// ResourceID converts r to golang.org/x/exp/trace's form.
func (r Resource) ResourceID() trace.ResourceID {
	switch r.Kind {
	case trace.ResourceGoroutine:
		return trace.MakeResourceID(trace.GoID(r.ID))
	case trace.ResourceProc:
		return trace.MakeResourceID(trace.ProcID(r.ID))
	case trace.ResourceThread:
		return trace.MakeResourceID(trace.ThreadID(r.ID))
	}
	return trace.ResourceID{}
}

// Transition is a state transition of a goroutine or a proc.
type Transition struct {
	// Resource is the goroutine or proc whose state changes.
	Resource Resource
	// Reason is why a goroutine stopped or blocked, "" otherwise.
	Reason string
	// Stack is the stack of the goroutine making the transition where
	// the trace gives it: GoStop, GoBlock, GoSyscallBegin, GoStatusStack,
	// and for GoCreate the new goroutine's starting stack.
	Stack    Stack
	from, to uint8
}

// Goroutine returns the states of a goroutine transition.
func (t Transition) Goroutine() (from, to trace.GoState) {
	return trace.GoState(t.from), trace.GoState(t.to)
}

// Proc returns the states of a proc transition.
func (t Transition) Proc() (from, to trace.ProcState) {
	return trace.ProcState(t.from), trace.ProcState(t.to)
}

func goTrans(id trace.GoID, from, to trace.GoState) Transition {
	return Transition{Resource: Resource{trace.ResourceGoroutine, int64(id)}, from: uint8(from), to: uint8(to)}
}

func procTrans(id trace.ProcID, from, to trace.ProcState) Transition {
	return Transition{Resource: Resource{trace.ResourceProc, int64(id)}, from: uint8(from), to: uint8(to)}
}

// StateTransition describes an EventStateTransition.
func (e *Event) StateTransition() Transition {
	if e.kind != trace.EventStateTransition {
		panic("order: StateTransition of a " + e.kind.String() + " event")
	}
	if id, from, to, ok := e.GoTransition(); ok {
		t := goTrans(id, from, to)
		t.Reason, t.Stack = e.TransitionReason(), e.TransitionStack()
		return t
	}
	a := &e.args
	switch e.typ {
	case format.EvProcStart:
		return procTrans(trace.ProcID(a[0]), trace.ProcIdle, trace.ProcRunning)
	case format.EvProcStop:
		return procTrans(e.p, trace.ProcRunning, trace.ProcIdle)
	case format.EvProcSteal, format.EvProcStatus:
		return procTrans(trace.ProcID(a[0]), trace.ProcState(e.from), trace.ProcState(e.to))
	}
	panic(fmt.Sprintf("order: no transition for event type %d", e.typ))
}

// GoTransition returns, for a goroutine's state transition, the goroutine
// and the states StateTransition gives, without building the rest of it;
// ok is false for any other event.
func (e *Event) GoTransition() (id trace.GoID, from, to trace.GoState, ok bool) {
	if e.kind != trace.EventStateTransition {
		return 0, 0, 0, false
	}
	a := &e.args
	switch e.typ {
	case format.EvGoCreate:
		return trace.GoID(a[0]), trace.GoNotExist, trace.GoRunnable, true
	case format.EvGoCreateBlocked:
		return trace.GoID(a[0]), trace.GoNotExist, trace.GoWaiting, true
	case format.EvGoCreateSyscall:
		return trace.GoID(a[0]), trace.GoNotExist, trace.GoSyscall, true
	case format.EvGoStart:
		return trace.GoID(a[0]), trace.GoRunnable, trace.GoRunning, true
	case format.EvGoDestroy:
		return e.g, trace.GoRunning, trace.GoNotExist, true
	case format.EvGoDestroySyscall:
		return e.g, trace.GoSyscall, trace.GoNotExist, true
	case format.EvGoStop:
		return e.g, trace.GoRunning, trace.GoRunnable, true
	case format.EvGoBlock:
		return e.g, trace.GoRunning, trace.GoWaiting, true
	case format.EvGoUnblock, format.EvGoSwitch, format.EvGoSwitchDestroy:
		// A switch first unblocks the goroutine it names; its other
		// halves follow as events of their own.
		return trace.GoID(a[0]), trace.GoWaiting, trace.GoRunnable, true
	case format.EvGoSyscallBegin:
		return e.g, trace.GoRunning, trace.GoSyscall, true
	case format.EvGoSyscallEnd:
		return e.g, trace.GoSyscall, trace.GoRunning, true
	case format.EvGoSyscallEndBlocked:
		return e.g, trace.GoSyscall, trace.GoRunnable, true
	case format.EvGoStatus, format.EvGoStatusStack:
		return trace.GoID(a[0]), trace.GoState(e.from), trace.GoState(e.to), true
	}
	return 0, 0, 0, false
}

// TransitionReason is a goroutine transition's Reason: why it stopped or
// blocked, "" for other events.
func (e *Event) TransitionReason() string {
	if e.typ != format.EvGoStop && e.typ != format.EvGoBlock {
		return ""
	}
	r, _ := e.tab.str(e.args[0])
	return r
}

// TransitionStack is a goroutine transition's Stack: the stack of the
// goroutine making it where the trace gives one, and for a creation the
// new goroutine's starting stack; no stack for other events.
func (e *Event) TransitionStack() Stack {
	switch e.typ {
	case format.EvGoCreate, format.EvGoCreateBlocked:
		// N.B. The new goroutine's stack is handed out even when its
		// ID is 0, as golang.org/x/exp/trace does; it has no frames.
		return Stack{e.tab, e.args[1]}
	case format.EvGoStop, format.EvGoBlock, format.EvGoSyscallBegin, format.EvGoStatus, format.EvGoStatusStack:
		return e.Stack()
	}
	return Stack{}
}

// Range describes a range event: its name and what it is bound to.
type Range struct {
	Name  string   // e.g. "GC concurrent mark phase", "stop-the-world (GC sweep termination)"
	Scope Resource // the goroutine or proc it runs on; none for GC marking
}

// Range describes an EventRangeBegin, EventRangeActive or EventRangeEnd,
// named as golang.org/x/exp/trace names them.
func (e *Event) Range() Range {
	switch e.typ {
	case format.EvSTWBegin, format.EvSTWEnd:
		kind, _ := e.tab.str(e.args[0])
		return Range{"stop-the-world (" + kind + ")", Resource{trace.ResourceGoroutine, int64(e.g)}}
	case format.EvGCBegin, format.EvGCActive, format.EvGCEnd:
		return Range{"GC concurrent mark phase", Resource{}}
	case format.EvGCSweepBegin, format.EvGCSweepEnd:
		return Range{"GC incremental sweep", Resource{trace.ResourceProc, int64(e.p)}}
	case format.EvGCSweepActive:
		return Range{"GC incremental sweep", Resource{trace.ResourceProc, int64(e.args[0])}}
	case format.EvGCMarkAssistBegin, format.EvGCMarkAssistEnd:
		return Range{"GC mark assist", Resource{trace.ResourceGoroutine, int64(e.g)}}
	case format.EvGCMarkAssistActive:
		return Range{"GC mark assist", Resource{trace.ResourceGoroutine, int64(e.args[0])}}
	}
	panic("order: Range of a " + e.kind.String() + " event")
}

// RangeAttributes are the values an EventRangeEnd carries: bytes swept
// and reclaimed for a sweep, none for the others.
func (e *Event) RangeAttributes() []trace.RangeAttribute {
	if e.kind != trace.EventRangeEnd {
		panic("order: RangeAttributes of a " + e.kind.String() + " event")
	}
	if e.typ != format.EvGCSweepEnd {
		return nil
	}
	return []trace.RangeAttribute{
		{Name: "bytes swept", Value: trace.Uint64Value(e.args[0])},
		{Name: "bytes reclaimed", Value: trace.Uint64Value(e.args[1])},
	}
}

// Task describes an EventTaskBegin or EventTaskEnd. An end's parent and
// type come from its begin, wherever in the trace that was.
func (e *Event) Task() trace.Task {
	switch e.typ {
	case format.EvUserTaskBegin:
		typ, _ := e.tab.str(e.args[2])
		return trace.Task{ID: trace.TaskID(e.args[0]), Parent: trace.TaskID(e.args[1]), Type: typ}
	case format.EvUserTaskEnd:
		return trace.Task{ID: trace.TaskID(e.args[0]), Parent: trace.TaskID(e.args[2]), Type: e.str}
	}
	panic("order: Task of a " + e.kind.String() + " event")
}

// Region describes an EventRegionBegin or EventRegionEnd.
func (e *Event) Region() trace.Region {
	if e.kind != trace.EventRegionBegin && e.kind != trace.EventRegionEnd {
		panic("order: Region of a " + e.kind.String() + " event")
	}
	typ, _ := e.tab.str(e.args[1])
	return trace.Region{Task: trace.TaskID(e.args[0]), Type: typ}
}

// Log describes an EventLog.
func (e *Event) Log() trace.Log {
	if e.kind != trace.EventLog {
		panic("order: Log of a " + e.kind.String() + " event")
	}
	cat, _ := e.tab.str(e.args[1])
	msg, _ := e.tab.str(e.args[2])
	return trace.Log{Task: trace.TaskID(e.args[0]), Category: cat, Message: msg}
}

// Metric describes an EventMetric.
func (e *Event) Metric() trace.Metric {
	var name string
	switch e.typ {
	case format.EvProcsChange:
		name = "/sched/gomaxprocs:threads"
	case format.EvHeapAlloc:
		name = "/memory/classes/heap/objects:bytes"
	case format.EvHeapGoal:
		name = "/gc/heap/goal:bytes"
	default:
		panic("order: Metric of a " + e.kind.String() + " event")
	}
	return trace.Metric{Name: name, Value: trace.Uint64Value(e.args[0])}
}

// Label is a label on a goroutine.
type Label struct {
	Label    string   // the label's text
	Resource Resource // the goroutine labelled
}

// Label describes an EventLabel: the label, on the running goroutine.
func (e *Event) Label() Label {
	if e.kind != trace.EventLabel {
		panic("order: Label of a " + e.kind.String() + " event")
	}
	s, _ := e.tab.str(e.args[0])
	return Label{s, Resource{trace.ResourceGoroutine, int64(e.g)}}
}

// Sync is what an EventSync reports about the events up to the next one.
type Sync struct {
	// N counts the Sync events so far, this one included.
	N int
	// ClockSnapshot ties the trace clock to the wall and monotonic
	// clocks (Go 1.25+), nil before and for the final Sync.
	ClockSnapshot *trace.ClockSnapshot
	// ExperimentalBatches are the generation's experimental batches by
	// experiment name; nil for the final Sync.
	ExperimentalBatches map[string][]trace.ExperimentalBatch
}

// Sync describes an EventSync.
func (e *Event) Sync() Sync {
	if e.kind != trace.EventSync {
		panic("order: Sync of a " + e.kind.String() + " event")
	}
	s := Sync{N: int(e.args[0])}
	if e.tab != nil {
		s.ClockSnapshot = e.tab.clock
		s.ExperimentalBatches = e.tab.exp
	}
	return s
}

// Experimental describes an experimental event.
type Experimental struct {
	// Name is the event type's name, e.g. "HeapObjectAlloc".
	Name string
	// Experiment is the experiment's name, e.g. "AllocFree".
	Experiment string
	// ArgNames are the names of Args, from the spec; not to be changed.
	ArgNames []string
	// Args are the raw argument values. N.B. They point into the Event,
	// which the next Reader.Next overwrites.
	Args []uint64
}

// Experimental describes an EventExperimental.
func (e *Event) Experimental() Experimental {
	if e.kind != trace.EventExperimental {
		panic("order: Experimental of a " + e.kind.String() + " event")
	}
	s := format.Current.Spec(e.typ)
	names := s.Args[1:]
	return Experimental{Name: s.Name, Experiment: s.Experiment.String(), ArgNames: names, Args: e.args[:len(names)]}
}

package format

// Event types, in wire order. Arguments are listed in brackets; "dt" is the
// timestamp delta of a timed event.
const (
	EvNone EventType = iota // never written

	// Structural events: framing and per-generation tables.
	EvEventBatch // batch header [gen, m, time, size], then size bytes of events
	EvStacks     // begins a stack-table batch [] followed by EvStack entries
	EvStack      // stack-table entry [id, nframes] then nframes × {pc, func, file, line}
	EvStrings    // begins a string-table batch [] followed by EvString entries
	EvString     // string-table entry [id] then length and bytes
	EvCPUSamples // begins a CPU-sample batch [] followed by EvCPUSample entries
	EvCPUSample  // CPU profile sample [time, m, p, g, stack]
	EvFrequency  // timestamp ticks per second [freq]

	// Ps.
	EvProcsChange // GOMAXPROCS changed [dt, procs, stack]
	EvProcStart   // a P starts running [dt, p, p_seq]
	EvProcStop    // the current P stops [dt]
	EvProcSteal   // a P in a syscall was taken [dt, p, p_seq, m]
	EvProcStatus  // a P's state at the start of a generation [dt, p, pstatus]

	// Goroutines.
	EvGoCreate            // goroutine created [dt, new_g, new_stack, stack]
	EvGoCreateSyscall     // goroutine appears in a syscall (cgo callback) [dt, new_g]
	EvGoStart             // goroutine starts running [dt, g, g_seq]
	EvGoDestroy           // goroutine exits [dt]
	EvGoDestroySyscall    // goroutine exits in a syscall (cgo callback) [dt]
	EvGoStop              // goroutine yields and stays runnable [dt, reason, stack]
	EvGoBlock             // goroutine blocks [dt, reason, stack]
	EvGoUnblock           // goroutine made runnable [dt, g, g_seq, stack]
	EvGoSyscallBegin      // syscall entered [dt, p_seq, stack]
	EvGoSyscallEnd        // syscall returned without losing the P [dt]
	EvGoSyscallEndBlocked // syscall returned after losing the P [dt]
	EvGoStatus            // a goroutine's state at the start of a generation [dt, g, m, gstatus]

	// Stop-the-world.
	EvSTWBegin // world stops [dt, kind, stack]
	EvSTWEnd   // world restarts [dt]

	// Garbage collector.
	EvGCActive           // GC already running at generation start [dt, gc_seq]
	EvGCBegin            // GC cycle begins [dt, gc_seq, stack]
	EvGCEnd              // GC cycle ends [dt, gc_seq]
	EvGCSweepActive      // sweep already running at generation start [dt, p]
	EvGCSweepBegin       // sweep begins [dt, stack]
	EvGCSweepEnd         // sweep ends [dt, swept, reclaimed]
	EvGCMarkAssistActive // mark assist already running at generation start [dt, g]
	EvGCMarkAssistBegin  // mark assist begins [dt, stack]
	EvGCMarkAssistEnd    // mark assist ends [dt]
	EvHeapAlloc          // live heap changed [dt, heapalloc]
	EvHeapGoal           // heap goal changed [dt, heapgoal]

	// User annotations (runtime/trace).
	EvGoLabel         // label on the running goroutine [dt, label]
	EvUserTaskBegin   // trace.NewTask [dt, task, parent_task, name, stack]
	EvUserTaskEnd     // task.End [dt, task, stack]
	EvUserRegionBegin // region starts [dt, task, name, stack]
	EvUserRegionEnd   // region ends [dt, task, name, stack]
	EvUserLog         // trace.Log [dt, task, key, value, stack]

	// Coroutines (Go 1.23).
	EvGoSwitch        // switch to another goroutine [dt, g, g_seq]
	EvGoSwitchDestroy // switch and exit [dt, g, g_seq]
	EvGoCreateBlocked // goroutine created blocked [dt, new_g, new_stack, stack]

	// Goroutine status with a stack (Go 1.23).
	EvGoStatusStack // like EvGoStatus, with the goroutine's stack [dt, g, m, gstatus, stack]

	// Experimental batch (Go 1.23): a blob of experiment-defined data.
	EvExperimentalBatch // [exp, gen, m, time] then length and bytes

	// Sync batch (Go 1.25); before it, a lone EvFrequency batch.
	EvSync          // begins a sync batch [] followed by EvFrequency and EvClockSnapshot
	EvClockSnapshot // trace, monotonic and wall clock together [dt, mono, sec, nsec]

	// End of a generation, in band (Go 1.26).
	EvEndOfGeneration

	numEvents
)

// Experimental event types start above MaxEvent.
const (
	MaxEvent EventType = 127 + iota

	// AllocFree experiment (Go 1.23).
	EvSpan                // heap span exists [dt, id, npages, kindclass]
	EvSpanAlloc           // heap span allocated [dt, id, npages, kindclass]
	EvSpanFree            // heap span freed [dt, id]
	EvHeapObject          // heap object exists [dt, id, type]
	EvHeapObjectAlloc     // heap object allocated [dt, id, type]
	EvHeapObjectFree      // heap object freed [dt, id]
	EvGoroutineStack      // goroutine stack exists [dt, id, order]
	EvGoroutineStackAlloc // goroutine stack allocated [dt, id, order]
	EvGoroutineStackFree  // goroutine stack freed [dt, id]

	maxExperimentalEvent
)

// Experimental reports whether t is in the experimental range.
func (t EventType) Experimental() bool { return t > MaxEvent && t < maxExperimentalEvent }

func timed(name string, args ...string) EventSpec {
	s := EventSpec{Name: name, Args: append([]string{"dt"}, args...), IsTimed: true}
	s.indexArgs()
	return s
}

func structural(name string, args ...string) EventSpec {
	s := EventSpec{Name: name, Args: args}
	s.indexArgs()
	return s
}

// indexArgs fills StringArgs and StackArgs from the argument names. The
// event's own stack comes first in StackArgs, as readers expect.
func (s *EventSpec) indexArgs() {
	for i, a := range s.Args {
		switch ArgKindOf(a) {
		case ArgString:
			s.StringArgs = append(s.StringArgs, i)
		case ArgStack:
			if a == "stack" {
				s.StackArgs = append([]int{i}, s.StackArgs...)
			} else {
				s.StackArgs = append(s.StackArgs, i)
			}
		}
	}
}

func endOf(start EventType, s EventSpec) EventSpec { s.StartEv = start; return s }

func experimental(s EventSpec) EventSpec { s.Experiment = AllocFree; return s }

// table is every event type known, indexed by EventType. Version tables are
// prefixes of its first part plus, from Go 1.23, its experimental part.
var table = func() [256]EventSpec {
	var t [256]EventSpec
	t[EvEventBatch] = structural("EventBatch", "gen", "m", "time", "size")
	t[EvStacks] = structural("Stacks")
	t[EvStack] = structural("Stack", "id", "nframes")
	t[EvStack].IsStack = true
	t[EvStrings] = structural("Strings")
	t[EvString] = structural("String", "id")
	t[EvString].HasData = true
	t[EvCPUSamples] = structural("CPUSamples")
	t[EvCPUSample] = structural("CPUSample", "time", "m", "p", "g", "stack")
	t[EvFrequency] = structural("Frequency", "freq")

	t[EvProcsChange] = timed("ProcsChange", "procs_value", "stack")
	t[EvProcStart] = timed("ProcStart", "p", "p_seq")
	t[EvProcStop] = timed("ProcStop")
	t[EvProcSteal] = timed("ProcSteal", "p", "p_seq", "m")
	t[EvProcStatus] = timed("ProcStatus", "p", "pstatus")

	t[EvGoCreate] = timed("GoCreate", "new_g", "new_stack", "stack")
	t[EvGoCreateSyscall] = timed("GoCreateSyscall", "new_g")
	t[EvGoStart] = timed("GoStart", "g", "g_seq")
	t[EvGoDestroy] = timed("GoDestroy")
	t[EvGoDestroySyscall] = timed("GoDestroySyscall")
	t[EvGoStop] = timed("GoStop", "reason_string", "stack")
	t[EvGoBlock] = timed("GoBlock", "reason_string", "stack")
	t[EvGoUnblock] = timed("GoUnblock", "g", "g_seq", "stack")
	t[EvGoSyscallBegin] = timed("GoSyscallBegin", "p_seq", "stack")
	t[EvGoSyscallEnd] = endOf(EvGoSyscallBegin, timed("GoSyscallEnd"))
	t[EvGoSyscallEndBlocked] = endOf(EvGoSyscallBegin, timed("GoSyscallEndBlocked"))
	t[EvGoStatus] = timed("GoStatus", "g", "m", "gstatus")

	t[EvSTWBegin] = timed("STWBegin", "kind_string", "stack")
	t[EvSTWEnd] = endOf(EvSTWBegin, timed("STWEnd"))

	t[EvGCActive] = endOf(EvGCBegin, timed("GCActive", "gc_seq"))
	t[EvGCBegin] = timed("GCBegin", "gc_seq", "stack")
	t[EvGCEnd] = endOf(EvGCBegin, timed("GCEnd", "gc_seq"))
	t[EvGCSweepActive] = endOf(EvGCSweepBegin, timed("GCSweepActive", "p"))
	t[EvGCSweepBegin] = timed("GCSweepBegin", "stack")
	t[EvGCSweepEnd] = endOf(EvGCSweepBegin, timed("GCSweepEnd", "swept_value", "reclaimed_value"))
	t[EvGCMarkAssistActive] = endOf(EvGCMarkAssistBegin, timed("GCMarkAssistActive", "g"))
	t[EvGCMarkAssistBegin] = timed("GCMarkAssistBegin", "stack")
	t[EvGCMarkAssistEnd] = endOf(EvGCMarkAssistBegin, timed("GCMarkAssistEnd"))
	t[EvHeapAlloc] = timed("HeapAlloc", "heapalloc_value")
	t[EvHeapGoal] = timed("HeapGoal", "heapgoal_value")

	t[EvGoLabel] = timed("GoLabel", "label_string")
	t[EvUserTaskBegin] = timed("UserTaskBegin", "task", "parent_task", "name_string", "stack")
	t[EvUserTaskEnd] = timed("UserTaskEnd", "task", "stack")
	t[EvUserRegionBegin] = timed("UserRegionBegin", "task", "name_string", "stack")
	t[EvUserRegionEnd] = endOf(EvUserRegionBegin, timed("UserRegionEnd", "task", "name_string", "stack"))
	t[EvUserLog] = timed("UserLog", "task", "key_string", "value_string", "stack")

	t[EvGoSwitch] = timed("GoSwitch", "g", "g_seq")
	t[EvGoSwitchDestroy] = timed("GoSwitchDestroy", "g", "g_seq")
	t[EvGoCreateBlocked] = timed("GoCreateBlocked", "new_g", "new_stack", "stack")
	t[EvGoStatusStack] = timed("GoStatusStack", "g", "m", "gstatus", "stack")
	t[EvExperimentalBatch] = structural("ExperimentalBatch", "exp", "gen", "m", "time")
	t[EvExperimentalBatch].HasData = true
	t[EvSync] = structural("Sync")
	t[EvClockSnapshot] = timed("ClockSnapshot", "mono", "sec", "nsec")
	t[EvEndOfGeneration] = structural("EndOfGeneration")

	t[EvSpan] = experimental(timed("Span", "id", "npages_value", "kindclass"))
	t[EvSpanAlloc] = experimental(timed("SpanAlloc", "id", "npages_value", "kindclass"))
	t[EvSpanFree] = experimental(timed("SpanFree", "id"))
	t[EvHeapObject] = experimental(timed("HeapObject", "id", "type"))
	t[EvHeapObjectAlloc] = experimental(timed("HeapObjectAlloc", "id", "type"))
	t[EvHeapObjectFree] = experimental(timed("HeapObjectFree", "id"))
	t[EvGoroutineStack] = experimental(timed("GoroutineStack", "id", "order"))
	t[EvGoroutineStackAlloc] = experimental(timed("GoroutineStackAlloc", "id", "order"))
	t[EvGoroutineStackFree] = experimental(timed("GoroutineStackFree", "id"))
	return t
}()

// MaxTimedArgs is the most arguments any timed event has, dt included.
const MaxTimedArgs = 5

// Goroutine states in EvGoStatus.
const (
	GoBad GoStatus = iota
	GoRunnable
	GoRunning
	GoSyscall
	GoWaiting
)

// GoStatus is a goroutine's state as EvGoStatus records it.
type GoStatus uint8

func (s GoStatus) String() string {
	if s > GoWaiting {
		return "bad"
	}
	return [...]string{"bad", "runnable", "running", "syscall", "waiting"}[s]
}

// P states in EvProcStatus.
const (
	ProcBad ProcStatus = iota
	ProcRunning
	ProcIdle
	ProcSyscall
	ProcSyscallAbandoned
)

// ProcStatus is a P's state as EvProcStatus records it.
type ProcStatus uint8

func (s ProcStatus) String() string {
	if s > ProcSyscallAbandoned {
		return "bad"
	}
	return [...]string{"bad", "running", "idle", "syscall", "syscall-abandoned"}[s]
}

package order

import (
	"errors"
	"fmt"

	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// ctx is where an event happened: the thread and what it held.
type ctx struct {
	g trace.GoID
	p trace.ProcID
	m trace.ThreadID
}

// seqNum orders the events of one goroutine or proc across threads. Only
// numbers of the same generation compare: each generation restarts them.
type seqNum struct{ gen, n uint64 }

func (a seqNum) follows(b seqNum) bool { return a.gen == b.gen && a.n == b.n+1 }

// rangeKey is a special range (STW, sweep, mark assist) in flight on a
// goroutine or proc: the type of its begin event and, for STW, the string
// ID of its kind.
type rangeKey struct {
	begin format.EventType
	desc  uint64
}

// rangeSet holds the ranges in flight on one resource; there are rarely
// more than one.
type rangeSet []rangeKey

func (s *rangeSet) has(k rangeKey) bool {
	for _, r := range *s {
		if r == k {
			return true
		}
	}
	return false
}

func (s *rangeSet) begin(k rangeKey) error {
	if s.has(k) {
		return fmt.Errorf("%s while that range is already in flight", format.Current.EventName(k.begin))
	}
	*s = append(*s, k)
	return nil
}

// active records a range the generation found in flight: in the first
// generation it is news, later it must already be known.
func (s *rangeSet) active(k rangeKey, first bool) error {
	switch {
	case first && s.has(k):
		return fmt.Errorf("%s range reported active twice in the first generation", format.Current.EventName(k.begin))
	case first:
		*s = append(*s, k)
	case !s.has(k):
		return fmt.Errorf("%s range reported active but none is in flight", format.Current.EventName(k.begin))
	}
	return nil
}

// end removes the first range begun by begin and returns its desc.
func (s *rangeSet) end(begin format.EventType) (uint64, error) {
	r := *s
	for i := range r {
		if r[i].begin == begin {
			desc := r[i].desc
			r[i] = r[len(r)-1]
			*s = r[:len(r)-1]
			return desc, nil
		}
	}
	return 0, fmt.Errorf("end of a %s range that is not in flight", format.Current.EventName(begin))
}

type region struct {
	task uint64
	name string // by value: string IDs change between generations
}

type gState struct {
	status  format.GoStatus
	seq     seqNum
	regions []region
	ranges  rangeSet
}

type pState struct {
	status format.ProcStatus
	seq    seqNum
	ranges rangeSet
}

type mState struct {
	id trace.ThreadID
	g  trace.GoID
	p  trace.ProcID
}

type taskState struct {
	name   string
	parent uint64
}

type gcPhase uint8

const (
	gcUnknown gcPhase = iota
	gcIdle
	gcRunning
)

// sched replays the runtime's scheduler from the events to decide which
// thread's next event can happen, and to give each event its context. It
// holds goroutines, procs and threads in slabs indexed through idTables,
// so a step costs a probe or two and no allocation.
type sched struct {
	firstGen uint64 // generation of the first event advanced; 0 before
	gen      uint64
	tab      *tables

	gIdx  idTable
	gs    []gState
	gFree []int32
	pIdx  idTable
	ps    []pState
	mIdx  idTable
	ms    []mState
	tIdx  idTable
	ts    []taskState
	tFree []int32

	gcSeq uint64
	gc    gcPhase

	// dst, when not nil, receives the next event made, and out those
	// after it, oldest first from head: a step nearly always makes one
	// event, which then goes straight to the caller's Event.
	dst  *Event
	out  []Event
	head int
}

var errNoCtx = errors.New("event outside the context it needs")

// req is what an event requires of its context's thread, proc or
// goroutine.
type req uint8

const (
	mustNot req = iota
	may
	must
)

// check holds c to what an event requires of it. A failure is an error,
// not a wait: a thread's context changes only with its own events.
func check(c ctx, m, p, g req) error {
	if (m == must && c.m == trace.NoThread) || (m == mustNot && c.m != trace.NoThread) {
		return fmt.Errorf("%w: thread %d", errNoCtx, c.m)
	}
	if (p == must && c.p == trace.NoProc) || (p == mustNot && c.p != trace.NoProc) {
		return fmt.Errorf("%w: proc %d", errNoCtx, c.p)
	}
	if (g == must && c.g == trace.NoGoroutine) || (g == mustNot && c.g != trace.NoGoroutine) {
		return fmt.Errorf("%w: goroutine %d", errNoCtx, c.g)
	}
	return nil
}

// checkUser is check for events of running user code: a thread, a proc
// and a goroutine.
func checkUser(c ctx) error { return check(c, must, must, must) }

func (s *sched) gLookup(id trace.GoID) (*gState, int32) {
	i, ok := s.gIdx.get(uint64(id))
	if !ok {
		return nil, -1
	}
	return &s.gs[i], i
}

func (s *sched) gAdd(id trace.GoID, st format.GoStatus) {
	var i int32
	if n := len(s.gFree); n > 0 {
		i = s.gFree[n-1]
		s.gFree = s.gFree[:n-1]
	} else {
		i = int32(len(s.gs))
		s.gs = append(s.gs, gState{})
	}
	g := &s.gs[i]
	g.status, g.seq = st, seqNum{s.gen, 0}
	g.regions, g.ranges = g.regions[:0], g.ranges[:0]
	s.gIdx.put(uint64(id), i)
}

func (s *sched) gDel(id trace.GoID, i int32) {
	s.gIdx.del(uint64(id))
	s.gFree = append(s.gFree, i)
}

func (s *sched) pLookup(id trace.ProcID) *pState {
	i, ok := s.pIdx.get(uint64(id))
	if !ok {
		return nil
	}
	return &s.ps[i]
}

// theG is goroutine id, the one an event is about: it must be known and, unless
// want is GoBad, in status want.
func (s *sched) theG(id trace.GoID, want format.GoStatus) (*gState, int32, error) {
	g, i := s.gLookup(id)
	if g == nil {
		return nil, 0, fmt.Errorf("goroutine %d is unknown", id)
	}
	if want != format.GoBad && g.status != want {
		return nil, 0, fmt.Errorf("goroutine %d is %s, not %s", id, g.status, want)
	}
	return g, i, nil
}

// theP is P id, the one an event is about: it must be known and, unless want is
// ProcBad, in status want.
func (s *sched) theP(id trace.ProcID, want format.ProcStatus) (*pState, error) {
	p := s.pLookup(id)
	if p == nil {
		return nil, fmt.Errorf("proc %d is unknown", id)
	}
	if want != format.ProcBad && p.status != want {
		return nil, fmt.Errorf("proc %d is %s, not %s", id, p.status, want)
	}
	return p, nil
}

func (s *sched) mLookup(id trace.ThreadID) *mState {
	i, ok := s.mIdx.get(uint64(id))
	if !ok {
		return nil
	}
	return &s.ms[i]
}

// mSlot returns thread id's slot, adding it (holding nothing) if new.
func (s *sched) mSlot(id trace.ThreadID) int32 {
	if i, ok := s.mIdx.get(uint64(id)); ok {
		return i
	}
	i := int32(len(s.ms))
	s.ms = append(s.ms, mState{id: id, g: trace.NoGoroutine, p: trace.NoProc})
	s.mIdx.put(uint64(id), i)
	return i
}

// emit queues an event made from w in context c and returns it for the
// caller to complete.
func (s *sched) emit(c ctx, w *wireEvent) *Event {
	e := s.dst
	if e != nil {
		s.dst = nil
	} else {
		if s.head == len(s.out) {
			s.out, s.head = s.out[:0], 0
		}
		s.out = append(s.out, Event{})
		e = &s.out[len(s.out)-1]
	}
	// N.B. Field by field: a composite literal is built on the stack
	// and then copied, and the copy stalls on the stores just made.
	e.typ, e.kind, e.from, e.to = w.typ, kindOf[w.typ], 0, 0
	e.time, e.g, e.p, e.m = w.time, c.g, c.p, c.m
	e.args, e.off, e.bad = w.args, w.off, w.bad
	e.str, e.tab = "", s.tab
	return e
}

// made queues an event the ordering makes up, of type t, at w's time and
// place.
func (s *sched) made(c ctx, w *wireEvent, t format.EventType, args ...uint64) *Event {
	e := s.emit(c, w)
	e.typ, e.kind, e.bad = t, kindOf[t], false
	e.args = [4]uint64{}
	copy(e.args[:], args)
	return e
}

func (s *sched) pending() bool { return s.head < len(s.out) }

var goStateOf = [...]trace.GoState{
	format.GoBad:      trace.GoUndetermined,
	format.GoRunnable: trace.GoRunnable,
	format.GoRunning:  trace.GoRunning,
	format.GoSyscall:  trace.GoSyscall,
	format.GoWaiting:  trace.GoWaiting,
}

// procStateOf maps wire statuses to states: a P in a syscall is still
// running as far as its thread goes; one whose syscall was abandoned is
// as good as idle.
var procStateOf = [...]trace.ProcState{
	format.ProcBad:              trace.ProcUndetermined,
	format.ProcRunning:          trace.ProcRunning,
	format.ProcIdle:             trace.ProcIdle,
	format.ProcSyscall:          trace.ProcRunning,
	format.ProcSyscallAbandoned: trace.ProcIdle,
}

// advance tries to let w, the next event of thread m, happen now. It
// reports false, with no error, when w must wait for another thread's
// events; an error means the trace cannot be ordered. mslot caches m's
// slot between calls (-1 before the first).
func (s *sched) advance(w *wireEvent, m trace.ThreadID, mslot *int32) (bool, error) {
	if s.firstGen == 0 {
		s.firstGen = s.gen
	}
	c := ctx{g: trace.NoGoroutine, p: trace.NoProc, m: m}
	mi := int32(-1)
	if m != trace.NoThread {
		if *mslot < 0 {
			*mslot = s.mSlot(m)
		}
		mi = *mslot
		c.g, c.p = s.ms[mi].g, s.ms[mi].p
	}
	nc, ok, err := s.step(w, c)
	if ok && err == nil && mi >= 0 {
		s.ms[mi].g, s.ms[mi].p = nc.g, nc.p
	}
	return ok, err
}

// step is advance for one event in context c; it returns the thread's
// context after the event.
func (s *sched) step(w *wireEvent, c ctx) (ctx, bool, error) {
	a := &w.args
	first := s.gen == s.firstGen
	switch w.typ {
	case format.EvProcStatus:
		return s.procStatus(w, c)
	case format.EvProcStart:
		pid := trace.ProcID(a[0])
		p := s.pLookup(pid)
		seq := seqNum{s.gen, a[1]}
		if p == nil || p.status != format.ProcIdle || !seq.follows(p.seq) || c.p != trace.NoProc {
			return c, false, nil
		}
		if err := check(c, must, mustNot, may); err != nil {
			return c, false, err
		}
		p.status, p.seq = format.ProcRunning, seq
		s.emit(c, w)
		c2 := c
		c2.p = pid
		return c2, true, nil
	case format.EvProcStop:
		p := s.pLookup(c.p)
		if p == nil {
			return c, false, fmt.Errorf("ProcStop for proc %d, which is unknown", c.p)
		}
		if p.status != format.ProcRunning && p.status != format.ProcSyscall {
			return c, false, fmt.Errorf("ProcStop for proc %d, which is %s", c.p, p.status)
		}
		if err := check(c, must, must, may); err != nil {
			return c, false, err
		}
		p.status = format.ProcIdle
		s.emit(c, w)
		c2 := c
		c2.p = trace.NoProc
		return c2, true, nil
	case format.EvProcSteal:
		return s.procSteal(w, c)

	case format.EvGoStatus, format.EvGoStatusStack:
		return s.goStatus(w, c, first)
	case format.EvGoCreate, format.EvGoCreateBlocked:
		if err := check(c, must, must, may); err != nil {
			return c, false, err
		}
		if g, _ := s.gLookup(c.g); g != nil && g.status != format.GoRunning {
			return c, false, fmt.Errorf("goroutine %d creates another while %s", c.g, g.status)
		}
		id := trace.GoID(a[0])
		if g, _ := s.gLookup(id); g != nil {
			return c, false, fmt.Errorf("goroutine %d created twice", id)
		}
		st := format.GoRunnable
		if w.typ == format.EvGoCreateBlocked {
			st = format.GoWaiting
		}
		s.gAdd(id, st)
		s.emit(c, w)
		return c, true, nil
	case format.EvGoDestroy, format.EvGoStop, format.EvGoBlock:
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		g, gi, err := s.theG(c.g, format.GoRunning)
		if err != nil {
			return c, false, err
		}
		switch w.typ {
		case format.EvGoDestroy:
			s.gDel(c.g, gi)
		case format.EvGoStop:
			g.status = format.GoRunnable
		default:
			g.status = format.GoWaiting
		}
		s.emit(c, w)
		c2 := c
		c2.g = trace.NoGoroutine
		return c2, true, nil
	case format.EvGoStart:
		id := trace.GoID(a[0])
		g, _ := s.gLookup(id)
		seq := seqNum{s.gen, a[1]}
		if g == nil || g.status != format.GoRunnable || !seq.follows(g.seq) {
			return c, false, nil
		}
		if err := check(c, must, must, mustNot); err != nil {
			return c, false, err
		}
		g.status, g.seq = format.GoRunning, seq
		s.emit(c, w)
		c2 := c
		c2.g = id
		return c2, true, nil
	case format.EvGoUnblock:
		g, _ := s.gLookup(trace.GoID(a[0]))
		seq := seqNum{s.gen, a[1]}
		if g == nil || g.status != format.GoWaiting || !seq.follows(g.seq) {
			return c, false, nil
		}
		// N.B. Any context may unblock a goroutine (sysmon has none).
		g.status, g.seq = format.GoRunnable, seq
		s.emit(c, w)
		return c, true, nil
	case format.EvGoSwitch, format.EvGoSwitchDestroy:
		return s.goSwitch(w, c)
	case format.EvGoSyscallBegin:
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		g, _, err := s.theG(c.g, format.GoRunning)
		if err != nil {
			return c, false, err
		}
		g.status = format.GoSyscall
		p, err := s.theP(c.p, format.ProcBad)
		if err != nil {
			return c, false, err
		}
		p.status = format.ProcSyscall
		// N.B. The P's sequence number is here only to tell which
		// syscall a ProcSteal takes the P from; this thread holds the
		// P, so the number must fit now rather than after a wait.
		seq := seqNum{s.gen, a[0]}
		if !seq.follows(p.seq) {
			return c, false, fmt.Errorf("proc %d sequence %d does not follow %d", c.p, seq.n, p.seq.n)
		}
		p.seq = seq
		s.emit(c, w)
		return c, true, nil
	case format.EvGoSyscallEnd:
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		g, _, err := s.theG(c.g, format.GoSyscall)
		if err != nil {
			return c, false, err
		}
		g.status = format.GoRunning
		p, err := s.theP(c.p, format.ProcSyscall)
		if err != nil {
			return c, false, err
		}
		p.status = format.ProcRunning
		s.emit(c, w)
		return c, true, nil
	case format.EvGoSyscallEndBlocked:
		// The thread lost its P during the syscall; until the steal
		// (or stop) that took it has happened, wait.
		if c.p != trace.NoProc {
			p, err := s.theP(c.p, format.ProcBad)
			if err != nil {
				return c, false, err
			}
			if p.status == format.ProcSyscall {
				return c, false, nil
			}
		}
		if err := check(c, must, may, must); err != nil {
			return c, false, err
		}
		g, _, err := s.theG(c.g, format.GoSyscall)
		if err != nil {
			return c, false, err
		}
		g.status = format.GoRunnable
		s.emit(c, w)
		c2 := c
		c2.g = trace.NoGoroutine
		return c2, true, nil
	case format.EvGoCreateSyscall:
		if err := check(c, must, may, mustNot); err != nil {
			return c, false, err
		}
		id := trace.GoID(a[0])
		if g, _ := s.gLookup(id); g != nil {
			return c, false, fmt.Errorf("goroutine %d created twice", id)
		}
		s.gAdd(id, format.GoSyscall)
		s.emit(c, w)
		c2 := c
		c2.g = id
		return c2, true, nil
	case format.EvGoDestroySyscall:
		return s.goDestroySyscall(w, c)

	case format.EvUserTaskBegin:
		id := a[0]
		if _, ok := s.tIdx.get(id); ok {
			return c, false, fmt.Errorf("task %d begins twice", id)
		}
		// N.B. Parent 0 means none here, not the background task.
		if a[1] == 0 {
			a[1] = uint64(trace.NoTask)
		}
		name, ok := s.tab.str(a[2])
		if !ok {
			return c, false, fmt.Errorf("task type string %d is not in the string table", a[2])
		}
		s.taskAdd(id, taskState{name: name, parent: a[1]})
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil
	case format.EvUserTaskEnd:
		parent, name := uint64(trace.NoTask), ""
		if i, ok := s.tIdx.get(a[0]); ok {
			parent, name = s.ts[i].parent, s.ts[i].name
			s.tIdx.del(a[0])
			s.tFree = append(s.tFree, i)
		}
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		e := s.emit(c, w)
		e.args[2], e.str = parent, name
		return c, true, nil
	case format.EvUserRegionBegin, format.EvUserRegionEnd:
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		name, ok := s.tab.str(a[1])
		if !ok {
			return c, false, fmt.Errorf("region type string %d is not in the string table", a[1])
		}
		g, _, err := s.theG(c.g, format.GoBad)
		if err != nil {
			return c, false, err
		}
		r := region{a[0], name}
		if w.typ == format.EvUserRegionBegin {
			g.regions = append(g.regions, r)
		} else if n := len(g.regions); n > 0 {
			// N.B. With none open, the region began before the
			// trace did: nothing to check.
			if g.regions[n-1] != r {
				return c, false, fmt.Errorf("goroutine %d ends region %q of task %d inside region %q of task %d", c.g, name, a[0], g.regions[n-1].name, g.regions[n-1].task)
			}
			g.regions = g.regions[:n-1]
		}
		s.emit(c, w)
		return c, true, nil

	case format.EvGCActive:
		seq := a[0]
		if first {
			if s.gc != gcUnknown {
				return c, false, errors.New("GCActive after another GC event in the first generation")
			}
			s.gcSeq, s.gc = seq, gcRunning
			s.emit(c, w)
			return c, true, nil
		}
		if seq != s.gcSeq+1 {
			return c, false, nil
		}
		if s.gc != gcRunning {
			return c, false, errors.New("GCActive while no GC runs")
		}
		s.gcSeq = seq
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil
	case format.EvGCBegin:
		seq := a[0]
		if s.gc == gcUnknown {
			s.gcSeq, s.gc = seq, gcRunning
			s.emit(c, w)
			return c, true, nil
		}
		if seq != s.gcSeq+1 {
			return c, false, nil
		}
		if s.gc == gcRunning {
			return c, false, errors.New("GCBegin while a GC runs")
		}
		s.gcSeq, s.gc = seq, gcRunning
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil
	case format.EvGCEnd:
		seq := a[0]
		if seq != s.gcSeq+1 {
			return c, false, nil
		}
		if s.gc != gcRunning {
			return c, false, errors.New("GCEnd while no GC is known to run")
		}
		s.gcSeq, s.gc = seq, gcIdle
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil

	case format.EvProcsChange, format.EvGoLabel, format.EvUserLog:
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil
	case format.EvHeapAlloc, format.EvHeapGoal:
		if err := check(c, must, must, may); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil

	case format.EvGCSweepBegin, format.EvGCSweepEnd:
		if err := check(c, must, must, may); err != nil {
			return c, false, err
		}
		p, err := s.theP(c.p, format.ProcBad)
		if err != nil {
			return c, false, err
		}
		if w.typ == format.EvGCSweepBegin {
			err = p.ranges.begin(rangeKey{format.EvGCSweepBegin, 0})
		} else {
			_, err = p.ranges.end(format.EvGCSweepBegin)
		}
		if err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil
	case format.EvGCSweepActive:
		p := s.pLookup(trace.ProcID(a[0]))
		if p == nil {
			return c, false, fmt.Errorf("GCSweepActive for proc %d, which is unknown", a[0])
		}
		if err := p.ranges.active(rangeKey{format.EvGCSweepBegin, 0}, first); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil
	case format.EvSTWBegin, format.EvGCMarkAssistBegin, format.EvSTWEnd, format.EvGCMarkAssistEnd:
		if err := checkUser(c); err != nil {
			return c, false, err
		}
		g, _, err := s.theG(c.g, format.GoBad)
		if err != nil {
			return c, false, err
		}
		switch w.typ {
		case format.EvSTWBegin:
			if err := g.ranges.begin(rangeKey{w.typ, a[0]}); err != nil {
				return c, false, err
			}
		case format.EvGCMarkAssistBegin:
			if err := g.ranges.begin(rangeKey{w.typ, 0}); err != nil {
				return c, false, err
			}
		default:
			begin := format.Current.Spec(w.typ).StartEv
			desc, err := g.ranges.end(begin)
			if err != nil {
				return c, false, err
			}
			if w.typ == format.EvSTWEnd {
				// The end names its kind as the begin did.
				a[0] = desc
			}
		}
		s.emit(c, w)
		return c, true, nil
	case format.EvGCMarkAssistActive:
		g, _ := s.gLookup(trace.GoID(a[0]))
		if g == nil {
			return c, false, fmt.Errorf("GCMarkAssistActive for goroutine %d, which is unknown", a[0])
		}
		if err := g.ranges.active(rangeKey{format.EvGCMarkAssistBegin, 0}, first); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil
	}
	if w.typ.Experimental() {
		if err := check(c, must, may, may); err != nil {
			return c, false, err
		}
		s.emit(c, w)
		return c, true, nil
	}
	return c, false, fmt.Errorf("event type %d cannot appear in an event batch", w.typ)
}

func (s *sched) taskAdd(id uint64, t taskState) {
	var i int32
	if n := len(s.tFree); n > 0 {
		i = s.tFree[n-1]
		s.tFree = s.tFree[:n-1]
		s.ts[i] = t
	} else {
		i = int32(len(s.ts))
		s.ts = append(s.ts, t)
	}
	s.tIdx.put(id, i)
}

func (s *sched) procStatus(w *wireEvent, c ctx) (ctx, bool, error) {
	pid := trace.ProcID(w.args[0])
	st := format.ProcStatus(w.args[1])
	if st > format.ProcSyscallAbandoned {
		return c, false, fmt.Errorf("proc %d has status %d", pid, st)
	}
	from, to := procStateOf[st], procStateOf[st]
	if p := s.pLookup(pid); p != nil {
		switch {
		case st == format.ProcSyscallAbandoned && p.status == format.ProcSyscall:
			// N.B. Abandoned is what the runtime reports for a P
			// left in a syscall; known to be in one, nothing was
			// lost, and it reads as running to running.
			from, to = trace.ProcRunning, trace.ProcRunning
		case st == format.ProcSyscallAbandoned && p.status == format.ProcSyscallAbandoned:
			from = trace.ProcIdle
		case p.status != st:
			return c, false, fmt.Errorf("proc %d has status %s, known as %s", pid, st, p.status)
		}
		p.seq = seqNum{s.gen, 0}
	} else {
		s.pIdx.put(uint64(pid), int32(len(s.ps)))
		s.ps = append(s.ps, pState{status: st, seq: seqNum{s.gen, 0}})
		from = trace.ProcNotExist
		if s.gen == s.firstGen {
			from = trace.ProcUndetermined
		}
	}
	nc := c
	if st == format.ProcRunning || st == format.ProcSyscall {
		nc.p = pid
	}
	if st == format.ProcSyscallAbandoned && from == trace.ProcRunning {
		// The P is about to be stolen, and its status may come from
		// another thread than the one it is bound to: the event
		// belongs to the thread that holds it.
		found := false
		for i := range s.ms {
			if s.ms[i].p == pid {
				c = ctx{g: s.ms[i].g, p: pid, m: s.ms[i].id}
				found = true
			}
		}
		if !found {
			return c, false, fmt.Errorf("proc %d about to be stolen is held by no thread", pid)
		}
	}
	e := s.emit(c, w)
	e.from, e.to = uint8(from), uint8(to)
	return nc, true, nil
}

func (s *sched) procSteal(w *wireEvent, c ctx) (ctx, bool, error) {
	pid := trace.ProcID(w.args[0])
	seq := seqNum{s.gen, w.args[1]}
	p := s.pLookup(pid)
	if p == nil || (p.status != format.ProcSyscall && p.status != format.ProcSyscallAbandoned) || !seq.follows(p.seq) {
		return c, false, nil
	}
	if err := check(c, must, may, may); err != nil {
		return c, false, err
	}
	was := p.status
	p.status, p.seq = format.ProcIdle, seq
	if was == format.ProcSyscallAbandoned {
		// Its thread is unknown by now and may have moved on: leave
		// every thread alone; the P was idle as far as anyone knew.
		e := s.emit(c, w)
		e.from, e.to = uint8(trace.ProcIdle), uint8(trace.ProcIdle)
		return c, true, nil
	}
	victim := trace.ThreadID(w.args[2])
	nc := c
	if victim == c.m {
		if c.p != pid {
			return c, false, fmt.Errorf("thread %d steals proc %d from itself but holds proc %d", victim, pid, c.p)
		}
		nc.p = trace.NoProc
	} else {
		vm := s.mLookup(victim)
		if vm == nil {
			return c, false, fmt.Errorf("proc %d stolen from thread %d, which is unknown", pid, victim)
		}
		if vm.p != pid {
			return c, false, fmt.Errorf("proc %d stolen from thread %d, which holds proc %d", pid, victim, vm.p)
		}
		// The victim is in a syscall and waits in
		// GoSyscallEndBlocked until it has lost the P.
		vm.p = trace.NoProc
	}
	e := s.emit(c, w)
	e.from, e.to = uint8(trace.ProcRunning), uint8(trace.ProcIdle)
	return nc, true, nil
}

func (s *sched) goStatus(w *wireEvent, c ctx, first bool) (ctx, bool, error) {
	gid := trace.GoID(w.args[0])
	mid := trace.ThreadID(w.args[1])
	st := format.GoStatus(w.args[2])
	if st > format.GoWaiting {
		return c, false, fmt.Errorf("goroutine %d has status %d", gid, st)
	}
	from := goStateOf[st]
	if g, _ := s.gLookup(gid); g != nil {
		if g.status != st {
			return c, false, fmt.Errorf("goroutine %d has status %s, known as %s", gid, st, g.status)
		}
		g.seq = seqNum{s.gen, 0}
	} else if first {
		s.gAdd(gid, st)
		from = trace.GoUndetermined
	} else {
		return c, false, fmt.Errorf("status of goroutine %d, unknown, after the first generation", gid)
	}
	nc := c
	switch st {
	case format.GoRunning:
		nc.g = gid
	case format.GoSyscall:
		if mid == trace.NoThread {
			return c, false, fmt.Errorf("goroutine %d in a syscall on no thread", gid)
		}
		if mid == c.m {
			if !first && c.g != gid {
				return c, false, fmt.Errorf("goroutine %d in a syscall on thread %d, which runs goroutine %d", gid, mid, c.g)
			}
			nc.g = gid
			break
		}
		// A goroutine blocked in a syscall on another thread the
		// whole generation long: the event belongs to that thread.
		if vm := s.mLookup(mid); vm != nil {
			if vm.g != gid {
				return c, false, fmt.Errorf("goroutine %d in a syscall on thread %d, which runs goroutine %d", gid, mid, vm.g)
			}
			c.g = vm.g
		} else {
			// First sight of the thread: this event binds them, and
			// the context is the one before it.
			i := int32(len(s.ms))
			s.ms = append(s.ms, mState{id: mid, g: gid, p: trace.NoProc})
			s.mIdx.put(uint64(mid), i)
		}
		c.m = mid
	}
	e := s.emit(c, w)
	e.from, e.to = uint8(from), uint8(goStateOf[st])
	return nc, true, nil
}

// goSwitch handles a coroutine switch: the named goroutine unblocks, the
// running one blocks (or exits), and the named one starts, all at once.
// The last two become events of their own.
func (s *sched) goSwitch(w *wireEvent, c ctx) (ctx, bool, error) {
	if err := checkUser(c); err != nil {
		return c, false, err
	}
	cur, ci, err := s.theG(c.g, format.GoRunning)
	if err != nil {
		return c, false, err
	}
	next := trace.GoID(w.args[0])
	ng, _ := s.gLookup(next)
	seq := seqNum{s.gen, w.args[1]}
	if ng == nil || ng.status != format.GoWaiting || !seq.follows(ng.seq) {
		return c, false, nil
	}
	s.emit(c, w)
	if w.typ == format.EvGoSwitch {
		cur.status = format.GoWaiting
		s.made(c, w, format.EvGoBlock)
	} else {
		s.gDel(c.g, ci)
		s.made(c, w, format.EvGoDestroy)
	}
	// N.B. gDel only frees the slot; ng still points at live state.
	ng.status, ng.seq = format.GoRunning, seq
	start := c
	start.g = trace.NoGoroutine
	s.made(start, w, format.EvGoStart, uint64(next), w.args[1])
	nc := c
	nc.g = next
	return nc, true, nil
}

// goDestroySyscall ends a goroutine a cgo callback made. A P it holds is
// given up with it, as a steal from itself: the thread ID may be reused
// by a new thread, which must not find the P.
func (s *sched) goDestroySyscall(w *wireEvent, c ctx) (ctx, bool, error) {
	if err := check(c, must, may, must); err != nil {
		return c, false, err
	}
	_, gi, err := s.theG(c.g, format.GoSyscall)
	if err != nil {
		return c, false, err
	}
	s.gDel(c.g, gi)
	nc := c
	nc.g = trace.NoGoroutine
	if c.p != trace.NoProc {
		p, err := s.theP(c.p, format.ProcSyscall)
		if err != nil {
			return c, false, err
		}
		p.status = format.ProcSyscallAbandoned
		nc.p = trace.NoProc
		e := s.made(c, w, format.EvProcSteal, uint64(c.p))
		e.from, e.to = uint8(trace.ProcRunning), uint8(trace.ProcIdle)
	}
	s.emit(c, w)
	return nc, true, nil
}

package stats

import (
	"math"

	"github.com/gotrace-cli/gotrace/internal/order"
	"golang.org/x/exp/trace"
)

// Parts. The generations of a trace can be read apart: the file header
// followed by the bytes of generations k to m is a valid trace, which
// golang.org/x/exp/trace reads as if it began there. So a later part can
// be analysed by an Analyzer of its own, at the same time as the parts
// before it, and absorbed into them afterwards, in order.
//
// What a part cannot know is the state it begins in. Goroutines that
// existed before it first show up as coming from an undetermined state,
// ranges in progress as active ones, and the GC work on each P, which the
// minimum mutator utilization follows, is unknown. So a part's Analyzer
// (part set) keeps to itself only what it can account for alone and
// defers the rest to the parts before it, in one log, in event order:
//
//   - the events of an inherited goroutine until it is next seen running
//     or stopping running (its deferring time): its first interval began
//     in an earlier part, and whether it ran before decides how its waits
//     count. From then on its intervals are the part's own; when the part
//     is absorbed, the totals of both halves add up and the start stack,
//     open regions and group come from the earlier record;
//   - the ends of ranges, tasks and regions begun in an earlier part, and
//     the ranges found active or scoped to a deferring goroutine;
//   - every change to the utilization function (GC work on a P, stopped
//     world, GOMAXPROCS, the steps themselves), the count of goroutines
//     alive, and the Ps that go idle (a goroutine of an earlier part may
//     be in a syscall on one);
//   - every event of the part's prefix, whose times only the parts before
//     can tell (see NewPartAnalyzer).
//
// Absorb replays the log on the Analyzer of the parts before, through
// the same handlers the ordered pass uses, then adds up the rest:
// distributions, stacks (by program counters: stack IDs are per
// Analyzer), groups and lists. The model is the one the ordered pass
// computes; the tests hold the two to each other.

// opKind is what a logged op does.
type opKind uint8

const (
	opProcGC        opKind = iota // n is added to P p's GC work
	opProcGCUpdate                // as opProcGC, then opUpdate: the usual pair
	opUpdate                      // a utilization step at t
	opSTW                         // n is added to the stop-the-world count
	opActiveAtStart               // GC work found running at the start of the trace
	opProcs                       // GOMAXPROCS is n from t
	opAlive                       // n is added to the goroutines alive, which reach at most t above where they were
	opProcIdle                    // P p went idle at t
	opEvent                       // events[n] is handled
)

type op struct {
	kind   opKind
	prefix bool // an opEvent of the part's prefix
	// own marks an opEvent ending a mark assist of a goroutine whose
	// state the part held by then: the part counted the assist's
	// running, which the replay must not count again.
	own bool
	p   int32 // a trace.ProcID
	n   int64
	t   trace.Time
}

// partLog is what an Analyzer of a later part defers.
type partLog struct {
	opened     bool       // the sync that opens the part has been seen
	syncTime   trace.Time // its time
	prefix     bool       // still in the part's prefix
	chain      trace.Time // the latest time a prefix event may have; see inPrefix
	ops        []op
	events     []order.Event
	inherited  map[trace.GoID]bool // goroutines that existed before the part
	orphans    []orphan            // inherited goroutines that ended in the part
	gomaxprocs int                 // the first GOMAXPROCS the part saw, 0 if none
}

// orphan is an inherited goroutine that ended in the part: its group is
// known only to the parts before.
type orphan struct {
	id trace.GoID
	g  *goroutine
}

// NewPartAnalyzer returns an Analyzer for a part of a trace that does not
// begin at the trace's start. Its results become part of the model when
// the Analyzer of the parts before absorbs it (Absorb).
//
// bound is a time no earlier than the last event of the parts before.
// golang.org/x/exp/trace never lets time run backwards: reading the whole
// trace, it moves an event that is not later than the one before to just
// after it, which happens to the first events of a generation that
// overlap the end of the one before. Reading a part alone it cannot know
// that, so the events of the part up to the bound (its prefix) are all
// deferred, to be timed and handled by the parts before.
func NewPartAnalyzer(opts Options, bound trace.Time) *Analyzer {
	a := NewAnalyzer(opts)
	// N.B. The chain starts one past the bound: the sync event that
	// opens the part comes first and may itself be moved.
	a.part = &partLog{inherited: make(map[trace.GoID]bool), prefix: true, chain: bound + 1}
	a.partStart = true
	return a
}

// opening handles the sync that opens a part, which is the one that
// closed the part before it: one event, counted there. It reports whether
// it did.
func (a *Analyzer) opening(t trace.Time, k trace.EventKind) bool {
	p := a.part
	if p.opened || k != trace.EventSync {
		a.partStart = !p.opened || p.prefix
		return false
	}
	p.opened, p.syncTime = true, t
	return true
}

// inPrefix reports whether an event at t belongs to the part's prefix.
// Read with the parts before, the i-th event of the part gets the time
// max(t, time of the event before + 1): at most bound+i while t is not
// past that, and t itself from the first event that is.
func (p *partLog) inPrefix(t trace.Time) bool {
	if !p.prefix {
		return false
	}
	if t > p.chain {
		p.prefix = false
		return false
	}
	p.chain++
	return true
}

// deferPrefix defers ev, an event of the prefix, and follows what the
// part's own events after the prefix need: which goroutines exist, their
// states and mark assists. Every goroutine it touches is deferring, so the
// interval it is in when the prefix ends is closed by the parts before,
// which know when it began.
func (a *Analyzer) deferPrefix(ev *order.Event, t trace.Time, k trace.EventKind) {
	p := a.part
	p.add(op{kind: opEvent, prefix: true, n: int64(len(p.events))})
	p.events = append(p.events, *ev)
	switch k {
	case trace.EventStateTransition:
		id, from, to, ok := ev.GoTransition()
		if !ok {
			return
		}
		g := a.gs.get(id)
		if g == nil {
			if to == trace.GoNotExist {
				return
			}
			g = a.inherit(id)
		}
		a.shadow(id, g, ev, ev.TransitionReason(), from, to, t, false)
	case trace.EventRangeBegin:
		a.shadowAssist(ev.Range(), true, t)
	case trace.EventRangeActive:
		a.shadowAssist(ev.Range(), true, math.MaxInt64)
	case trace.EventRangeEnd:
		a.shadowAssist(ev.Range(), false, 0)
	}
}

func (p *partLog) add(o op) { p.ops = append(p.ops, o) }

// alive logs d goroutines coming or going, adding to the op before when
// it is one of the same kind: a run of them only needs its sum and the
// highest its running sum reaches.
func (p *partLog) alive(d int64) {
	if n := len(p.ops); n > 0 && p.ops[n-1].kind == opAlive {
		o := &p.ops[n-1]
		o.n += d
		o.t = max(o.t, trace.Time(o.n))
		return
	}
	p.add(op{kind: opAlive, n: d, t: trace.Time(max(d, 0))})
}

func (p *partLog) orphan(id trace.GoID, g *goroutine) {
	p.orphans = append(p.orphans, orphan{id, g})
}

// deferEvent logs ev for the parts before.
func (a *Analyzer) deferEvent(ev *order.Event) {
	p := a.part
	p.add(op{kind: opEvent, n: int64(len(p.events))})
	p.events = append(p.events, *ev)
}

// deferFor defers ev when it is about goroutine id and the parts before
// hold that goroutine's state.
func (a *Analyzer) deferFor(id trace.GoID, ev *order.Event) bool {
	if a.part == nil || id == trace.NoGoroutine {
		return false
	}
	if g := a.gs.get(id); g != nil && !g.deferring {
		return false
	}
	a.deferEvent(ev)
	return true
}

// deferringScope reports whether r belongs to a goroutine whose state the
// parts before hold.
func (a *Analyzer) deferringScope(r order.Range) bool {
	if r.Scope.Kind != trace.ResourceGoroutine {
		return false
	}
	g := a.gs.get(r.Scope.Goroutine())
	return g == nil || g.deferring
}

// endOwnAssist reports whether r, a range ending at t that the part
// defers, ends a mark assist of a goroutine whose state the part holds:
// it then counts the assist's running up to t, as an ordered pass would
// here, for the replay of the parts before cannot (they do not know the
// state the part has followed the goroutine through since).
func (a *Analyzer) endOwnAssist(r order.Range, t trace.Time) bool {
	if r.Name != "GC mark assist" || r.Scope.Kind != trace.ResourceGoroutine {
		return false
	}
	g := a.gs.get(r.Scope.Goroutine())
	if g == nil || g.deferring {
		return false
	}
	if g.inAssist && g.state == trace.GoRunning && t > g.assistFrom {
		a.assistRunning += Duration(t - max(g.since, g.assistFrom))
	}
	return true
}

// shadowAssist follows, in a part, whether a goroutine is in a mark assist
// when the range's events are deferred: later transitions of the
// goroutine that are the part's own need it. An assist begun at from
// counts its running from then on; one found active (begun in a
// generation before: from is math.MaxInt64) counts none, as an assist
// that spans generations counts no more running read in order either.
func (a *Analyzer) shadowAssist(r order.Range, on bool, from trace.Time) {
	if r.Name != "GC mark assist" || r.Scope.Kind != trace.ResourceGoroutine {
		return
	}
	id := r.Scope.Goroutine()
	g := a.gs.get(id)
	if g == nil {
		g = a.inherit(id)
	}
	g.inAssist = on
	if on {
		g.assistFrom = from
	}
}

// inherit records a goroutine that existed before the part.
func (a *Analyzer) inherit(id trace.GoID) *goroutine {
	g := &goroutine{state: trace.GoUndetermined, inherited: true, deferring: true}
	a.gs.put(id, g)
	a.part.inherited[id] = true
	return g
}

// shadow follows the state of a deferring goroutine through a transition
// the parts before will account for and, if end, ends its deferring time
// when it runs or stops running.
func (a *Analyzer) shadow(id trace.GoID, g *goroutine, ev *order.Event, reason string, from, to trace.GoState, t trace.Time, end bool) {
	if to == trace.GoNotExist {
		a.gs.put(id, nil) // the parts before retire it
		return
	}
	if to == g.state {
		return
	}
	real := from != trace.GoUndetermined
	if real && from == trace.GoRunning {
		g.raw, g.stack = ev.Stack(), 0
	}
	g.state, g.since, g.why = to, t, nil
	if to == trace.GoWaiting {
		g.why = a.reasonAcc(reason)
	}
	if end && real && (from == trace.GoRunning || to == trace.GoRunning) {
		// It has run: how its later waits count no longer depends on
		// the parts before.
		g.deferring = false
		g.ran, g.counted, g.isNew, g.held = true, true, false, nil
		if to == trace.GoSyscall {
			g.syscallP, g.lostP = ev.Proc(), 0
			a.inSyscall = append(a.inSyscall, g)
		}
	}
}

// The utilization function's inputs, applied or, in a part, logged.

func (a *Analyzer) gcProc(p trace.ProcID, d int) {
	if a.part != nil {
		a.part.add(op{kind: opProcGC, p: int32(p), n: int64(d)})
		return
	}
	a.mmu.procGC(p, d)
}

func (a *Analyzer) gcUpdate(t trace.Time) {
	if p := a.part; p != nil {
		if n := len(p.ops); n > 0 && p.ops[n-1].kind == opProcGC {
			p.ops[n-1].kind, p.ops[n-1].t = opProcGCUpdate, t
			return
		}
		p.add(op{kind: opUpdate, t: t})
		return
	}
	a.mmu.update(int64(t))
}

func (a *Analyzer) gcSTW(d int) {
	if a.part != nil {
		a.part.add(op{kind: opSTW, n: int64(d)})
		return
	}
	a.mmu.stw += d
}

func (a *Analyzer) gcActiveAtStart() {
	if a.part != nil {
		a.part.add(op{kind: opActiveAtStart})
		return
	}
	a.mmu.activeAtStart()
}

func (a *Analyzer) gcProcs(t trace.Time, n int) {
	if a.part != nil {
		a.part.add(op{kind: opProcs, t: t, n: int64(n)})
		return
	}
	a.mmu.setProcs(int64(t), n)
}

// aliveAdd counts goroutines coming and going.
func (a *Analyzer) aliveAdd(d int64) {
	if a.part != nil {
		a.part.alive(d)
		return
	}
	a.alive += d
	if d > 0 {
		a.m.Goroutines.PeakAlive = max(a.m.Goroutines.PeakAlive, a.alive)
	}
}

// origin is the time list entries count from: the trace's first event,
// or, in a part, zero, so absorb can count them from the trace's start.
func (a *Analyzer) origin() trace.Time {
	if a.part != nil {
		return 0
	}
	return a.first
}

// Absorb adds b, the Analyzer of the part that follows the parts a has
// read, to a. b must have been made by NewPartAnalyzer and must not be
// used afterwards.
func (a *Analyzer) Absorb(b *Analyzer) {
	p := b.part
	if p == nil || a.part != nil {
		panic("stats: Absorb of an Analyzer that is not a part, or into one")
	}

	// 1. Stacks, by program counters.
	remap := make([]stackID, len(b.stacks.keys)+1)
	for i, key := range b.stacks.keys {
		remap[i+1] = a.stacks.intern(key, b.stacks.frames[i], b.stacks.root[i])
	}
	rs := func(id stackID) stackID {
		if id <= 0 || int(id) >= len(remap) {
			return 0
		}
		return remap[id]
	}
	why := func(r *reasonAcc) *reasonAcc {
		if r == nil {
			return nil
		}
		return a.reasonAcc(r.reason)
	}

	// 2. The log, in event order, after the sync that opens the part.
	// N.B. The sync that closed the parts before already came one past
	// their last event, as golang.org/x/exp/trace moves it there.
	if p.opened {
		a.last = max(p.syncTime, a.last)
	}
	for _, o := range p.ops {
		switch o.kind {
		case opProcGC:
			a.mmu.procGC(trace.ProcID(o.p), int(o.n))
		case opProcGCUpdate:
			a.mmu.procGC(trace.ProcID(o.p), int(o.n))
			a.mmu.update(int64(o.t))
		case opUpdate:
			a.mmu.update(int64(o.t))
		case opSTW:
			a.mmu.stw += int(o.n)
		case opActiveAtStart:
			a.mmu.activeAtStart()
		case opProcs:
			a.mmu.setProcs(int64(o.t), int(o.n))
		case opAlive:
			a.m.Goroutines.PeakAlive = max(a.m.Goroutines.PeakAlive, a.alive+int64(o.t))
			a.alive += o.n
		case opProcIdle:
			for _, g := range a.syscallers(trace.ProcID(o.p)) {
				g.lostP = o.t
			}
		case opEvent:
			ev := &p.events[o.n]
			t := ev.Time()
			if o.prefix {
				if t <= a.last {
					// Moved, and counted as Add counts it in an ordered
					// pass: a sync is not (the part's last one is in
					// its prefix when the whole generation is).
					t = a.last + 1
					if ev.Kind() != trace.EventSync {
						a.moved++
					}
				}
				a.last = t
			}
			a.replayOwn = o.own
			a.handle(ev, t, ev.Kind())
			a.replayOwn = false
		}
	}
	// Let go of the part's tables, as a sync does.
	a.newGeneration()

	// 3. Goroutines. The part's record of an inherited goroutine goes on
	// from where the replay left the earlier one.
	own := func(g *goroutine) {
		g.stack, g.start, g.why = rs(g.stack), rs(g.start), why(g.why)
		g.createdAt = rs(g.createdAt)
		if g.raw != noStack {
			g.stack, g.raw = a.stacks.id(g.raw), noStack
		}
		g.lastRaw = noStack
		for i := range g.held {
			g.held[i].stack, g.held[i].why = rs(g.held[i].stack), why(g.held[i].why)
		}
	}
	join := func(id trace.GoID, g *goroutine) {
		if e := a.gs.get(id); e != nil {
			for i := range g.totals {
				g.totals[i] += e.totals[i]
			}
			if e.start != 0 {
				g.start = e.start
			}
			if e.createdAt != 0 {
				g.createdAt = e.createdAt
			}
			g.regions = append(e.regions[:len(e.regions):len(e.regions)], g.regions...)
		}
		g.inherited = false
	}
	starts := make(map[trace.GoID]stackID)
	b.gs.eachID(func(id trace.GoID, g *goroutine) {
		if g.deferring {
			return // the replay brought the earlier record up to date
		}
		own(g)
		if g.inherited {
			join(id, g)
			starts[id] = g.start
		}
		a.gs.put(id, g)
	})
	for id, start := range b.unnamed {
		a.noteUnnamed(id, rs(start))
	}
	for _, o := range p.orphans {
		own(o.g)
		join(o.id, o.g)
		starts[o.id] = o.g.start
		a.nameEnded(o.id, o.g.start)
		a.gs.put(o.id, nil)
		a.retire(o.g)
	}
	a.inSyscall = a.inSyscall[:0]
	a.gs.each(func(g *goroutine) {
		if g.state == trace.GoSyscall {
			a.inSyscall = append(a.inSyscall, g)
		}
	})

	// 4. Counts, distributions and lists.
	a.events += b.events
	a.moved += b.moved
	a.syncs += b.syncs
	if b.haveTime {
		if !a.haveTime {
			a.first, a.haveTime = b.first, true
		}
		a.last = max(a.last, b.last)
	}
	a.threads.merge(&b.threads)
	a.procs.merge(&b.procs)
	if n := p.gomaxprocs; n != 0 {
		o := &a.m.Overview
		if a.gomaxprocs == 0 {
			o.GOMAXPROCS = n
		} else if n != a.gomaxprocs {
			o.GOMAXPROCSChange++
		}
		o.GOMAXPROCSChange += b.m.Overview.GOMAXPROCSChange
		o.GOMAXPROCSMax = max(o.GOMAXPROCSMax, b.m.Overview.GOMAXPROCSMax)
		a.gomaxprocs = b.gomaxprocs
	}
	ag, bg := &a.m.Goroutines, &b.m.Goroutines
	ag.Created += bg.Created
	ag.Existing += bg.Existing
	ag.Ended += bg.Ended
	for name, bga := range b.groups {
		ga := a.groups[name]
		if ga == nil {
			ga = new(groupAcc)
			a.groups[name] = ga
		}
		ga.count += bga.count
		for i, v := range bga.totals {
			ga.totals[i] += v
		}
	}

	a.sched.merge(&b.sched)
	a.start.merge(&b.start)
	a.blockAll.merge(&b.blockAll)
	for i := range a.kinds {
		a.kinds[i].merge(&b.kinds[i])
	}
	a.syncNs += b.syncNs
	a.netNs += b.netNs
	for _, br := range b.reasons {
		ar := a.reasonAcc(br.reason)
		ar.d.merge(&br.d)
		ar.stacks.merge(br.stacks, rs)
	}
	for _, w := range b.schedTop.items {
		w.Start -= Duration(a.first)
		if p.inherited[trace.GoID(w.Goroutine)] {
			start := starts[trace.GoID(w.Goroutine)]
			w.Func = a.groupName(&goroutine{start: start})
			if len(w.Stack) == 0 {
				w.Stack = a.stacks.get(start)
			}
		}
		a.schedTop.offer(w)
	}

	for sec := range a.apart {
		for k := range a.apart[sec] {
			a.apart[sec][k].count += b.apart[sec][k].count
			a.apart[sec][k].total += b.apart[sec][k].total
		}
	}
	a.sys.merge(&b.sys)
	a.sysBlock.merge(&b.sysBlock)
	a.sysStacks.merge(b.sysStacks, rs)

	for k, t := range b.ranges {
		a.ranges[k] = t
	}
	for k, s := range b.rangeStk {
		a.rangeStk[k] = rs(s)
	}
	a.gcCycles += b.gcCycles
	a.gcTime += b.gcTime
	a.stw.merge(&b.stw)
	mergeDists(a.stwKinds, b.stwKinds)
	for _, x := range b.stwTop.items {
		x.Start -= Duration(a.first)
		a.stwTop.offer(x)
	}
	a.assist.merge(&b.assist)
	a.assistRunning += b.assistRunning
	a.sweep.merge(&b.sweep)

	a.heapMax = max(a.heapMax, b.heapMax)
	if b.goalMin >= 0 && (a.goalMin < 0 || b.goalMin < a.goalMin) {
		a.goalMin = b.goalMin
	}
	a.goalMax = max(a.goalMax, b.goalMax)

	for id, t := range b.tasks {
		a.tasks[id] = t
	}
	mergeDists(a.taskD, b.taskD)
	mergeDists(a.regionD, b.regionD)
	for c, n := range b.logs {
		a.logs[c] += n
	}

	a.cpuSamples += b.cpuSamples
	for f, n := range b.cpuFlat {
		a.cpuFlat[f] += n
	}
	for f, n := range b.cpuCum {
		a.cpuCum[f] += n
	}
	for f, n := range b.allocCPU {
		a.allocCPU[f] += n
	}
}

func mergeDists(into, from map[string]*dist) {
	for k, d := range from {
		distFor(into, k).merge(d)
	}
}

package stats

import (
	"cmp"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/order"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// Options tune an analysis.
type Options struct {
	// Top is how many entries lists of stacks, groups and findings keep.
	Top int
	// Progress, when set, is called now and then with the bytes read so
	// far and the total, from one goroutine at a time.
	Progress func(done, total int64)
	// Workers is how many generations are analysed at once; 0 means one
	// per CPU (GOMAXPROCS), at most maxWorkers.
	Workers int

	// Goroutine, when set, keeps to the scheduling, blocking and syscall
	// sections only the goroutines whose start function it matches.
	Goroutine *regexp.Regexp

	// Ignore drops from the leak suspects and the findings the goroutines
	// whose start function or stack has a function matching one of
	// these.
	Ignore []*regexp.Regexp

	// Kinds, when not zero, is the kinds of goroutine (a bit per
	// timeline.Kind) whose time the scheduling, blocking and syscall
	// sections count; the others' time is reported apart. Zero counts
	// every goroutine, as go tool trace does.
	Kinds uint8

	// ordered makes Compute read the trace in one ordered pass, which
	// the analysis in parts is checked against; partsOnly makes it fail
	// where the analysis in parts does, not read in order instead.
	ordered, partsOnly bool
}

// maxWorkers bounds the default Options.Workers: each worker holds one
// generation in golang.org/x/exp/trace's memory.
const maxWorkers = 4

// ignored reports whether a goroutine started at fn, at stack, is one the
// options drop from the findings.
func (o Options) ignored(fn string, stack []Frame) bool {
	for _, re := range o.Ignore {
		if re.MatchString(fn) || slices.ContainsFunc(stack, func(f Frame) bool { return re.MatchString(f.Func) }) {
			return true
		}
	}
	return false
}

// counts reports whether the sections count goroutines of kind k.
func (o Options) counts(k timeline.Kind) bool { return o.Kinds == 0 || o.Kinds&(1<<k) != 0 }

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return max(1, min(runtime.GOMAXPROCS(0), maxWorkers))
}

// DefaultTop is the list size when Options.Top is not set.
const DefaultTop = 10

// goroutine is what the analysis keeps about a live goroutine.
type goroutine struct {
	// The fields read at every transition come first, to share cache lines.
	state    trace.GoState
	isNew    bool // created during the trace and not run yet
	ran      bool // has been seen running: later intervals count as go tool trace counts them
	counted  bool // the current interval began after the goroutine first ran
	inAssist bool
	markRun  bool // running as a GC mark worker, counted on markP
	// In a part of the trace analysed on its own (see part.go): the
	// goroutine existed before the part began, and, while deferring,
	// its events wait for the analysis of the parts before.
	inherited, deferring bool
	stack                stackID     // where it stopped running last (its parked stack)
	start                stackID     // its start stack, for the group
	since                trace.Time  // when the current state began
	totals               [4]Duration // running, runnable, blocked, syscall
	why                  *reasonAcc  // why it waits, while it is GoWaiting
	// Up to here: one cache line.
	raw        order.Stack // the parked stack before it is interned; see parked
	lastRaw    order.Stack // the raw stack interned last, as lastID
	lastID     stackID
	markP      trace.ProcID
	syscallP   trace.ProcID
	lostP      trace.Time // when the P of its syscall was taken, 0 if not
	regions    []openRegion
	held       []wait        // waits before its first run; see Analyzer.wait
	kind       timeline.Kind // see Analyzer.kindOf
	assistFrom trace.Time    // when its mark assist began, while inAssist
	createdAt  stackID       // where it was created, 0 if before the trace
	kindKnown  bool
}

type openRegion struct {
	typ   string
	start trace.Time
}

// The indices of goroutine.totals, as timeline's.
const (
	tRunning  = timeline.Running
	tRunnable = timeline.Runnable
	tBlocked  = timeline.Blocked
	tSyscall  = timeline.Syscall
)

// blockKind is the category a wait for reason counts in, before its
// stack is seen (a "sync" wait is a mutex's until then).
func blockKind(reason string) timeline.Category { return timeline.ReasonCategory(reason) }

// leakMin is how long a goroutine must have been blocked at the end of a
// trace of the given duration to be a leak suspect: a tenth of the trace,
// at most a second. Goroutines passing work around are blocked for moments
// at any instant; a leaked one has waited a long time.
func leakMin(duration int64) int64 { return min(duration/10, int64(time.Second)) }

// leakable reports whether a goroutine blocked for reason at the end of a
// trace may be leaked: it waits for another goroutine that may never come.
func leakable(reason string) bool {
	switch blockKind(reason) {
	case timeline.Channel, timeline.Select, timeline.Mutex, timeline.Cond:
		return true
	}
	return reason == "forever" || reason == "synctest"
}

type rangeKey struct {
	name string
	kind trace.ResourceKind
	id   int64
}

// reasonAcc accumulates the waits for one reason. Its kind and pprof
// class are worked out once, not at every wait.
type reasonAcc struct {
	reason string
	kind   timeline.Category
	class  timeline.Profile
	d      dist
	stacks stackAcc
}

func (a *Analyzer) reasonAcc(reason string) *reasonAcc {
	if r := a.lastReason; r != nil && r.reason == reason {
		return r
	}
	for _, r := range a.reasons {
		if r.reason == reason {
			a.lastReason = r
			return r
		}
	}
	r := &reasonAcc{reason: reason, kind: blockKind(reason), class: timeline.ProfileOf(reason), stacks: make(stackAcc)}
	a.reasons = append(a.reasons, r)
	a.lastReason = r
	return r
}

type groupAcc struct {
	count  int64
	totals [4]Duration
}

type taskOpen struct {
	typ   string
	start trace.Time
}

// Analyzer turns a trace's ordered events (internal/order's, or
// golang.org/x/exp/trace's converted) into a Model. Feed it every event in
// order with Add, then call Finalize.
type Analyzer struct {
	opts   Options
	m      Model
	stacks *stackTable

	first, last trace.Time
	haveTime    bool
	wallStart   int64
	events      int64
	moved       int64 // events golang.org/x/exp/trace moved; see Add
	lastThread  trace.ThreadID
	threads     idSet
	lastProc    trace.ProcID
	procs       idSet
	gomaxprocs  int
	syncs       int

	gs         goTable
	alive      int64
	groups     map[string]*groupAcc
	sched      dist
	start      dist
	blockAll   dist
	kinds      [timeline.NumCategories]dist
	syncNs     Duration
	netNs      Duration
	reasons    []*reasonAcc // few: a list beats hashing the reason
	lastReason *reasonAcc
	schedTop   *topN[SchedWait]
	// unnamed holds the goroutines listed in schedTop before their start
	// function was known, with their start stack once it is, for those
	// that have ended: a goroutine found running at the start of the
	// trace shows its stack only when it first stops.
	unnamed map[trace.GoID]stackID

	apart [numSecs][timeline.NumKinds]apartAcc

	inSyscall []*goroutine // goroutines in a syscall, for P steals
	sys       dist
	sysBlock  dist
	sysStacks stackAcc

	ranges   map[rangeKey]trace.Time
	rangeStk map[rangeKey]stackID
	gcCycles int64
	gcTime   Duration
	stw      dist
	stwKinds map[string]*dist
	stwTop   *topN[Pause]
	assist   dist
	// assistRunning is the part of the mark assists their goroutines
	// spent running; the rest they waited to run or for work.
	assistRunning Duration
	// replayOwn is set while Absorb replays an assist's end whose
	// running the part counted (see endOwnAssist).
	replayOwn bool
	sweep     dist
	mmu       mmuTracker

	heapMax, goalMin, goalMax int64

	tasks   map[trace.TaskID]taskOpen
	taskD   map[string]*dist
	regionD map[string]*dist
	logs    map[string]int64

	cpuSamples int64
	cpuFlat    map[string]int64
	cpuCum     map[string]int64
	cpuCache   map[stackID][]string
	// allocCPU counts the CPU samples in the allocator by the innermost
	// frame of the program's own code that called it.
	allocCPU map[string]int64

	// part is set when the Analyzer reads a later part of the trace on
	// its own, and partStart while it is at the part's start; see
	// part.go.
	part      *partLog
	partStart bool
}

// NewAnalyzer returns an Analyzer.
func NewAnalyzer(opts Options) *Analyzer {
	if opts.Top <= 0 {
		opts.Top = DefaultTop
	}
	a := &Analyzer{
		opts:       opts,
		stacks:     newStackTable(),
		lastThread: trace.NoThread,
		lastProc:   trace.NoProc,
		groups:     make(map[string]*groupAcc),
		sysStacks:  make(stackAcc),
		ranges:     make(map[rangeKey]trace.Time),
		rangeStk:   make(map[rangeKey]stackID),
		stwKinds:   make(map[string]*dist),
		tasks:      make(map[trace.TaskID]taskOpen),
		taskD:      make(map[string]*dist),
		regionD:    make(map[string]*dist),
		logs:       make(map[string]int64),
		cpuFlat:    make(map[string]int64),
		cpuCum:     make(map[string]int64),
		cpuCache:   make(map[stackID][]string),
		allocCPU:   make(map[string]int64),
		goalMin:    -1,
	}
	// N.B. Ties go to the earlier one, then the lower goroutine ID, so
	// the lists do not depend on the order they were offered in.
	a.schedTop = newTopN(opts.Top, func(x, y SchedWait) bool {
		return cmp.Or(cmp.Compare(x.Wait, y.Wait), cmp.Compare(y.Start, x.Start), cmp.Compare(y.Goroutine, x.Goroutine)) < 0
	})
	a.stwTop = newTopN(opts.Top, func(x, y Pause) bool {
		return cmp.Or(cmp.Compare(x.Duration, y.Duration), cmp.Compare(y.Start, x.Start)) < 0
	})
	a.mmu.init()
	return a
}

// Add accounts for one event. Events must come in the order
// golang.org/x/exp/trace delivers them.
func (a *Analyzer) Add(ev *order.Event) {
	t := ev.Time()
	k := ev.Kind()
	if a.partStart && a.opening(t, k) {
		return
	}
	if !a.haveTime {
		a.first, a.haveTime = t, true
	} else if t == a.last+1 && k != trace.EventSync {
		// golang.org/x/exp/trace sets an event that is not later than
		// the one before to a nanosecond after it; the trace clock's
		// ticks are tens of nanoseconds, so a real 1 ns step is not.
		a.moved++
	}
	if t > a.last {
		a.last = t
	}
	a.events++
	if th := ev.Thread(); th != a.lastThread {
		a.lastThread = th
		if th != trace.NoThread {
			a.threads.add(int64(th))
		}
	}
	if p := ev.Proc(); p != a.lastProc {
		a.lastProc = p
		if p != trace.NoProc {
			a.procs.add(int64(p))
		}
	}
	if a.partStart && a.part.inPrefix(t) {
		a.deferPrefix(ev, t, k)
		return
	}
	a.handle(ev, t, k)
}

// handle is Add's work for one event after the counting.
func (a *Analyzer) handle(ev *order.Event, t trace.Time, k trace.EventKind) {
	switch k {
	case trace.EventStateTransition:
		a.onTransition(ev, t)
	case trace.EventSync:
		a.onSync(ev)
	case trace.EventMetric:
		a.onMetric(ev, t)
	case trace.EventRangeBegin, trace.EventRangeActive:
		a.onRangeBegin(ev, t, k == trace.EventRangeActive)
	case trace.EventRangeEnd:
		a.onRangeEnd(ev, t)
	case trace.EventLabel:
		l := ev.Label()
		// A mark worker labels itself each time it starts running, with
		// its mode; an idle-time worker takes nothing from the program.
		//
		// N.B. go tool trace adds a P's share at every label and also at
		// every later start of a goroutine once labelled, so a worker
		// that runs twice is counted twice and never fully taken off.
		// Here a worker counts once per run, from its label to its stop.
		if strings.HasPrefix(l.Label, "GC ") && l.Label != "GC (idle)" {
			if a.deferFor(ev.Goroutine(), ev) {
				return
			}
			if g := a.gs.get(ev.Goroutine()); g != nil && !g.markRun && g.state.Executing() {
				g.markRun, g.markP = true, ev.Proc()
				a.gcProc(ev.Proc(), 1)
				a.gcUpdate(t)
			}
		}
	case trace.EventTaskBegin:
		tk := ev.Task()
		a.tasks[tk.ID] = taskOpen{typ: tk.Type, start: t}
	case trace.EventTaskEnd:
		tk := ev.Task()
		o, ok := a.tasks[tk.ID]
		if !ok && a.part != nil {
			a.deferEvent(ev) // begun in an earlier part
			return
		}
		if ok {
			delete(a.tasks, tk.ID)
			typ := o.typ
			if typ == "" {
				typ = tk.Type
			}
			distFor(a.taskD, typ).add(int64(t - o.start))
		}
	case trace.EventRegionBegin:
		if a.deferFor(ev.Goroutine(), ev) {
			return
		}
		if g := a.gs.get(ev.Goroutine()); g != nil {
			g.regions = append(g.regions, openRegion{typ: ev.Region().Type, start: t})
		}
	case trace.EventRegionEnd:
		if a.deferFor(ev.Goroutine(), ev) {
			return
		}
		if g := a.gs.get(ev.Goroutine()); g != nil {
			typ := ev.Region().Type
			i := len(g.regions) - 1
			for ; i >= 0; i-- {
				if g.regions[i].typ == typ {
					distFor(a.regionD, typ).add(int64(t - g.regions[i].start))
					g.regions = append(g.regions[:i], g.regions[i+1:]...)
					break
				}
			}
			if i < 0 && g.inherited {
				a.deferEvent(ev) // begun in an earlier part
			}
		}
	case trace.EventLog:
		a.logs[ev.Log().Category]++
	case trace.EventStackSample:
		a.onSample(ev)
	}
}

func distFor(m map[string]*dist, k string) *dist {
	d := m[k]
	if d == nil {
		d = new(dist)
		m[k] = d
	}
	return d
}

func (a *Analyzer) onSync(ev *order.Event) {
	a.syncs++
	s := ev.Sync()
	if a.part == nil {
		a.mmu.sync(s.N)
	}
	a.newGeneration()
	if a.part == nil && a.wallStart == 0 && s.ClockSnapshot != nil && !s.ClockSnapshot.Wall.IsZero() {
		c := s.ClockSnapshot
		a.wallStart = c.Wall.UnixNano() - int64(c.Trace-a.first)
	}
}

func (a *Analyzer) onMetric(ev *order.Event, t trace.Time) {
	m := ev.Metric()
	if m.Value.Kind() != trace.ValueUint64 {
		return
	}
	v := m.Value.Uint64()
	switch m.Name {
	case "/sched/gomaxprocs:threads":
		n := int(min(v, 1<<20))
		if a.part != nil && a.part.gomaxprocs == 0 {
			a.part.gomaxprocs = n
		}
		if a.gomaxprocs == 0 {
			a.m.Overview.GOMAXPROCS = n
		} else if n != a.gomaxprocs {
			a.m.Overview.GOMAXPROCSChange++
		}
		a.gomaxprocs = n
		a.m.Overview.GOMAXPROCSMax = max(a.m.Overview.GOMAXPROCSMax, n)
		a.gcProcs(t, n)
		a.gcUpdate(t)
	case "/memory/classes/heap/objects:bytes":
		a.heapMax = max(a.heapMax, int64(min(v, 1<<62)))
	case "/gc/heap/goal:bytes":
		g := int64(min(v, 1<<62))
		if a.goalMin < 0 || g < a.goalMin {
			a.goalMin = g
		}
		a.goalMax = max(a.goalMax, g)
	}
}

func (a *Analyzer) onTransition(ev *order.Event, t trace.Time) {
	// N.B. A goroutine's transition without the whole StateTransition,
	// which costs more to build than most of what follows.
	id, from, to, isG := ev.GoTransition()
	if !isG {
		a.onProcTransition(ev, t)
		return
	}
	a.onGoTransition(ev, t, id, from, to)
}

// onProcTransition follows a P's state transition.
func (a *Analyzer) onProcTransition(ev *order.Event, t trace.Time) {
	st := ev.StateTransition()
	if st.Resource.Kind != trace.ResourceProc {
		return
	}
	// A P taken from a goroutine in a syscall makes the syscall a
	// blocking one.
	// N.B. A P whose status is reported counts even where the event has
	// no P yet (a status that opens a trace, or a part).
	p := st.Resource.Proc()
	a.procs.add(int64(p))
	if from, to := st.Proc(); from != to && to == trace.ProcIdle {
		for _, g := range a.syscallers(p) {
			g.lostP = t
		}
		if a.part != nil {
			// Goroutines of the parts before may be in a syscall on p.
			a.part.add(op{kind: opProcIdle, p: int32(p), t: t})
		}
	}
}

// onGoTransition follows goroutine id's state transition from one state
// to another.
func (a *Analyzer) onGoTransition(ev *order.Event, t trace.Time, id trace.GoID, from, to trace.GoState) {
	g := a.gs.get(id)
	if a.part != nil {
		if g == nil && from != trace.GoNotExist {
			g = a.inherit(id)
		}
		if g != nil && g.deferring {
			a.deferEvent(ev)
			a.shadow(id, g, ev, ev.TransitionReason(), from, to, t, true)
			return
		}
	}
	if g == nil {
		if to == trace.GoNotExist {
			return
		}
		g = &goroutine{state: trace.GoNotExist, since: t}
		a.gs.put(id, g)
		if from == trace.GoNotExist {
			a.m.Goroutines.Created++
			g.isNew = true
			g.createdAt = a.stacks.id(ev.Stack())
			a.aliveAdd(1)
		} else {
			a.existed(g, to, t)
		}
	}
	if g.start == 0 {
		if stk := ev.TransitionStack(); stk != noStack {
			g.start = a.stacks.id(stk)
		}
	}
	// The MMU counts GC work by running GC goroutines: assists while
	// they run, mark workers until they stop.
	if g.inAssist {
		if !g.state.Executing() && to.Executing() {
			a.gcProc(ev.Proc(), 1)
			a.gcUpdate(t)
		} else if g.state.Executing() && !to.Executing() {
			a.gcProc(ev.Proc(), -1)
			a.gcUpdate(t)
		}
	}
	if g.markRun && g.state.Executing() && !to.Executing() {
		g.markRun = false
		a.gcProc(g.markP, -1)
		a.gcUpdate(t)
	}
	if to == g.state {
		return // a restatement, not a change: the interval goes on
	}
	a.closeInterval(id, g, t)
	// Open the next interval.
	if g.state == trace.GoRunning {
		g.raw, g.stack = ev.Stack(), 0
	}
	g.state, g.since, g.why = to, t, nil
	if to == trace.GoWaiting {
		g.why = a.reasonAcc(ev.TransitionReason())
	}
	g.counted = g.ran
	switch to {
	case trace.GoRunning:
		g.ran, g.held = true, nil
	case trace.GoSyscall:
		g.syscallP, g.lostP = ev.Proc(), 0
		a.inSyscall = append(a.inSyscall, g)
	case trace.GoNotExist:
		a.countHeld(g)
		a.m.Goroutines.Ended++
		a.aliveAdd(-1)
		if a.unnamed != nil {
			a.nameEnded(id, g.start)
		}
		if g.inherited {
			a.part.orphan(id, g) // its group is known to the parts before
		} else {
			a.retire(g)
		}
		a.gs.put(id, nil)
	}
}

// existed counts g, first seen at t in state to, which existed before the
// trace began. Its first status is written lazily, just before its first
// event or when the generation ends, so it has been in state to since the
// trace began: that time counts in its totals (its waits count from the
// status, as go tool trace's profiles count them), and it was alive all
// along, so the peak so far was one higher.
func (a *Analyzer) existed(g *goroutine, to trace.GoState, t trace.Time) {
	a.m.Goroutines.Existing++
	if i := timeline.StateIndex(to); i >= 0 && a.haveTime {
		g.totals[i] += Duration(t - a.first)
	}
	a.alive++
	a.m.Goroutines.PeakAlive++
}

// syscallers returns the goroutines in a syscall on P p that still hold
// it. It is only called when a P goes idle, and scans only the goroutines
// in a syscall.
func (a *Analyzer) syscallers(p trace.ProcID) []*goroutine {
	var out []*goroutine
	for _, g := range a.inSyscall {
		if g.syscallP == p && g.lostP == 0 {
			out = append(out, g)
		}
	}
	return out
}

// closeInterval ends g's current state at t and accounts for it.
func (a *Analyzer) closeInterval(id trace.GoID, g *goroutine, t trace.Time) {
	d := int64(t - g.since)
	switch g.state {
	case trace.GoRunning:
		g.totals[tRunning] += Duration(d)
		if g.inAssist && t > g.assistFrom {
			a.assistRunning += Duration(t - max(g.since, g.assistFrom))
		}
	case trace.GoRunnable:
		g.totals[tRunnable] += Duration(d)
		counted := (a.opts.Kinds == 0 || a.opts.counts(a.kindOf(g))) && a.named(g)
		switch {
		case !counted:
			if g.counted && d > 0 && a.named(g) {
				a.apart[secSched][a.kindOf(g)].add(d)
			}
		case g.counted:
			if d > 0 {
				a.sched.add(d)
			}
		case g.isNew:
			a.start.add(d)
		}
		g.isNew = false
		// Most waits are far below the list's shortest: compare first.
		if top := a.schedTop; counted && top.n > 0 && (len(top.items) < top.n || Duration(d) > top.items[0].Wait) {
			w := SchedWait{Goroutine: int64(id), Start: Duration(g.since - a.origin()), Wait: Duration(d)}
			w.Func = a.groupName(g)
			if g.start == 0 {
				a.noteUnnamed(id, 0)
			}
			stk := a.parked(g)
			if stk == 0 && !g.inherited {
				stk = g.start // a new goroutine has not stopped anywhere yet
			}
			w.Stack = a.stacks.get(stk)
			a.schedTop.offer(w)
		}
	case trace.GoWaiting:
		g.totals[tBlocked] += Duration(d)
		if d > 0 {
			stk := a.parked(g)
			a.wait(g, wait{why: g.why, stack: stk, d: d, kind: a.waitKind(g, stk), unnamed: !a.named(g)})
		}
	case trace.GoSyscall:
		g.totals[tSyscall] += Duration(d)
		a.leaveSyscall(g)
		if d > 0 {
			stk := a.parked(g)
			a.wait(g, wait{stack: stk, d: d, lostP: g.lostP != 0, kind: a.waitKind(g, stk), unnamed: !a.named(g)})
		}
	}
}

// kindOf is the kind of goroutine g, by its start function, or its parked
// stack's root where the part of the trace read has not shown its start.
// Until a stack is seen it is the program's.
func (a *Analyzer) kindOf(g *goroutine) timeline.Kind {
	if g.kindKnown {
		return g.kind
	}
	id := g.start
	if id == 0 {
		id = a.parked(g)
	}
	k, ok := a.stacks.kind(id)
	if ok {
		g.kind, g.kindKnown = k, true
	}
	return k
}

// named reports whether g is a goroutine the Goroutine option keeps, by
// its start function, or its parked stack's root where the part of the
// trace read has not shown its start.
func (a *Analyzer) named(g *goroutine) bool {
	re := a.opts.Goroutine
	if re == nil {
		return true
	}
	id := g.start
	if id == 0 {
		id = a.parked(g)
	}
	return re.MatchString(a.stacks.rootFunc(id))
}

// waitKind is the kind of a wait of g parked at stk: the stack's root is
// the goroutine's start function.
func (a *Analyzer) waitKind(g *goroutine, stk stackID) timeline.Kind {
	if k, ok := a.stacks.kind(stk); ok {
		return k
	}
	return a.kindOf(g)
}

// Sections whose totals count only the kinds of goroutine asked for; the
// others' time is kept apart.
const (
	secSched = iota
	secBlocking
	secSyscalls
	numSecs
)

// apartAcc is the time of the goroutines a section does not count.
type apartAcc struct{ count, total int64 }

func (x *apartAcc) add(d int64) { x.count++; x.total += d }

// wait is a blocked or syscall interval that has ended.
type wait struct {
	why   *reasonAcc // why it blocked; nil for a syscall
	stack stackID
	d     int64
	lostP bool          // a syscall whose P was taken
	kind  timeline.Kind // whose goroutine waited
	// unnamed is set for the wait of a goroutine the Goroutine option
	// leaves out.
	unnamed bool
}

// wait counts w, an interval of g, as go tool trace's profiles do: only
// within the goroutine's life from its first run to its end, where a
// goroutine that never runs in the trace lives all of it. So the waits of
// a goroutine that has not run yet are held until it runs (and they are
// dropped) or it ends or the trace does (and they count).
func (a *Analyzer) wait(g *goroutine, w wait) {
	if !g.counted {
		g.held = append(g.held, w)
		return
	}
	a.count(w)
}

// count adds w to the blocking or syscall totals.
func (a *Analyzer) count(w wait) {
	d := w.d
	if w.unnamed {
		return
	}
	if a.opts.Kinds != 0 && !a.opts.counts(w.kind) {
		sec := secBlocking
		if w.why == nil {
			sec = secSyscalls
		}
		a.apart[sec][w.kind].add(d)
		return
	}
	if w.why == nil {
		a.sys.add(d)
		a.sysStacks.add(w.stack, d)
		if w.lostP {
			a.sysBlock.add(d)
		}
		return
	}
	ra := w.why
	a.blockAll.add(d)
	cat := ra.kind
	if cat == timeline.Mutex {
		cat = a.stacks.syncCategory(w.stack)
	}
	a.kinds[cat].add(d)
	switch ra.class {
	case timeline.SyncProfile:
		a.syncNs += Duration(d)
	case timeline.NetProfile:
		a.netNs += Duration(d)
	}
	ra.d.add(d)
	ra.stacks.add(w.stack, d)
}

// countHeld counts the waits held for g, which has ended or outlived the
// trace without running.
func (a *Analyzer) countHeld(g *goroutine) {
	for _, w := range g.held {
		a.count(w)
	}
	g.held = nil
}

func (a *Analyzer) leaveSyscall(g *goroutine) {
	for i, x := range a.inSyscall {
		if x == g {
			a.inSyscall[i] = a.inSyscall[len(a.inSyscall)-1]
			a.inSyscall = a.inSyscall[:len(a.inSyscall)-1]
			return
		}
	}
}

// parked returns the stack where g last stopped running. Interning a stack
// costs a hash of its handle, and most stops (preemptions) never need
// theirs, so the handle waits in g.raw until asked for, or until the next
// sync.
func (a *Analyzer) parked(g *goroutine) stackID {
	if g.raw != noStack {
		// A goroutine mostly stops where it stopped before: that
		// handle's ID is at hand without a lookup.
		if g.raw != g.lastRaw {
			g.lastRaw, g.lastID = g.raw, a.stacks.id(g.raw)
		}
		g.stack, g.raw = g.lastID, noStack
	}
	return g.stack
}

// newGeneration interns the parked stacks still pending and forgets the
// stack handles of the generation that ends, so that no goroutine keeps
// its tables alive.
func (a *Analyzer) newGeneration() {
	a.gs.each(func(g *goroutine) {
		a.parked(g)
		g.lastRaw = noStack
		if g.inAssist {
			// An assist that spans generations counts no more running:
			// read in parts, the part it ends in cannot know it.
			g.assistFrom = math.MaxInt64
		}
	})
	a.stacks.newGeneration()
}

// groupName is the start function of g.
func (a *Analyzer) groupName(g *goroutine) string {
	if fn := a.stacks.rootFunc(g.start); fn != "" {
		return fn
	}
	return unknownFunc
}

// unknownFunc names the start function of a goroutine whose stacks the
// trace has not shown.
const unknownFunc = "(unknown)"

// noteUnnamed records that goroutine id is listed without its start
// function, and its start stack if known.
func (a *Analyzer) noteUnnamed(id trace.GoID, start stackID) {
	if a.unnamed == nil {
		a.unnamed = make(map[trace.GoID]stackID)
	}
	if start != 0 || a.unnamed[id] == 0 {
		a.unnamed[id] = start
	}
}

// nameEnded records the start stack of goroutine id, which has ended, if it
// is listed without its start function.
func (a *Analyzer) nameEnded(id trace.GoID, start stackID) {
	if _, ok := a.unnamed[id]; ok && start != 0 {
		a.unnamed[id] = start
	}
}

// nameLate names the start function of w's goroutine if it became known
// after w was listed, so that a goroutine goes by one name in the report.
func (a *Analyzer) nameLate(w *SchedWait) {
	id := trace.GoID(w.Goroutine)
	start, ok := a.unnamed[id]
	if !ok || w.Func != unknownFunc {
		return
	}
	if g := a.gs.get(id); g != nil {
		start = g.start
	}
	if start != 0 {
		w.Func = a.groupName(&goroutine{start: start})
	}
}

// retire adds an ended or surviving goroutine to its group.
func (a *Analyzer) retire(g *goroutine) {
	name := a.groupName(g)
	ga := a.groups[name]
	if ga == nil {
		ga = new(groupAcc)
		a.groups[name] = ga
	}
	ga.count++
	for i, v := range g.totals {
		ga.totals[i] += v
	}
}

func (a *Analyzer) onRangeBegin(ev *order.Event, t trace.Time, active bool) {
	r := ev.Range()
	k := a.rangeKeyOf(ev, r)
	if a.part != nil && (active || a.deferringScope(r)) {
		// A range found active began in an earlier part, and the
		// parts before hold the state of a deferring goroutine.
		a.deferEvent(ev)
		from := t
		if active {
			from = math.MaxInt64
		}
		a.shadowAssist(r, true, from)
		return
	}
	if _, open := a.ranges[k]; open && active {
		return // restated at a generation start
	}
	a.ranges[k] = t
	switch {
	case r.Name == "GC concurrent mark phase":
		if !active {
			a.gcCycles++
		}
	case strings.HasPrefix(r.Name, "stop-the-world"):
		a.rangeStk[k] = a.stacks.id(ev.Stack())
		if isGCSTW(r.Name) {
			a.gcSTW(1)
		}
	case r.Name == "GC mark assist":
		if active {
			if g := a.gs.get(ev.Goroutine()); g != nil && g.state.Executing() {
				a.gcActiveAtStart()
			}
		}
		a.gcProc(ev.Proc(), 1)
		if r.Scope.Kind == trace.ResourceGoroutine {
			if g := a.gs.get(r.Scope.Goroutine()); g != nil {
				g.inAssist = true
				g.assistFrom = t
				if active {
					// Begun before the trace: not counted, as its
					// duration is not.
					g.assistFrom = math.MaxInt64
				}
			}
		}
	case r.Name == "GC incremental sweep":
		if active {
			a.gcActiveAtStart()
		}
		a.gcProc(ev.Proc(), 1)
	}
	a.gcUpdate(t)
}

func (a *Analyzer) onRangeEnd(ev *order.Event, t trace.Time) {
	r := ev.Range()
	k := a.rangeKeyOf(ev, r)
	begin, open := a.ranges[k]
	if a.part != nil && (!open || a.deferringScope(r)) {
		own := a.endOwnAssist(r, t)
		a.deferEvent(ev) // begun in an earlier part
		a.part.ops[len(a.part.ops)-1].own = own
		a.shadowAssist(r, false, 0)
		return
	}
	delete(a.ranges, k)
	d := int64(t - begin)
	switch {
	case r.Name == "GC concurrent mark phase":
		if open {
			a.gcTime += Duration(d)
		}
	case strings.HasPrefix(r.Name, "stop-the-world"):
		if isGCSTW(r.Name) {
			a.gcSTW(-1)
		}
		stk := a.rangeStk[k]
		delete(a.rangeStk, k)
		if open {
			kind := stwKind(r.Name)
			a.stw.add(d)
			distFor(a.stwKinds, kind).add(d)
			p := Pause{Kind: kind, Start: Duration(begin - a.origin()), Duration: Duration(d)}
			if a.stwTop.wants(p) {
				p.Stack = a.stacks.get(stk)
				a.stwTop.offer(p)
			}
		}
	case r.Name == "GC mark assist":
		a.gcProc(ev.Proc(), -1)
		if r.Scope.Kind == trace.ResourceGoroutine {
			if g := a.gs.get(r.Scope.Goroutine()); g != nil {
				if !a.replayOwn && g.inAssist && g.state == trace.GoRunning && t > g.assistFrom {
					a.assistRunning += Duration(t - max(g.since, g.assistFrom))
				}
				g.inAssist = false
			}
		}
		if open {
			a.assist.add(d)
		}
	case r.Name == "GC incremental sweep":
		a.gcProc(ev.Proc(), -1)
		if open {
			a.sweep.add(d)
		}
	}
	a.gcUpdate(t)
}

// stwKind turns "stop-the-world (GC mark termination)" into "GC mark
// termination".
func stwKind(name string) string {
	s := strings.TrimPrefix(name, "stop-the-world")
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	if s == "" {
		return "unknown"
	}
	return s
}

func (a *Analyzer) rangeKeyOf(ev *order.Event, r order.Range) rangeKey {
	k := rangeKey{name: r.Name, kind: r.Scope.Kind}
	switch r.Scope.Kind {
	case trace.ResourceGoroutine:
		k.id = int64(r.Scope.Goroutine())
	case trace.ResourceProc:
		k.id = int64(r.Scope.Proc())
	case trace.ResourceThread:
		k.id = int64(r.Scope.Thread())
	}
	return k
}

func (a *Analyzer) onSample(ev *order.Event) {
	a.cpuSamples++
	id := a.stacks.id(ev.Stack())
	funcs, ok := a.cpuCache[id]
	if !ok {
		fr := a.stacks.get(id)
		seen := make(map[string]bool, len(fr))
		for _, f := range fr {
			if !seen[f.Func] {
				seen[f.Func] = true
				funcs = append(funcs, f.Func)
			}
		}
		a.cpuCache[id] = funcs
	}
	if len(funcs) == 0 {
		a.cpuFlat["(no stack)"]++
		return
	}
	a.cpuFlat[funcs[0]]++
	inAlloc := ""
	for _, f := range funcs {
		a.cpuCum[f]++
		switch {
		case f == "runtime.mallocgc":
			inAlloc = "(runtime)" // until a frame of the program's says whose
		case inAlloc == "(runtime)" && timeline.IsUserFrame(f):
			inAlloc = f
		}
	}
	if inAlloc != "" {
		a.allocCPU[inAlloc]++
	}
}

// Finalize closes what is still open at the end of the trace and returns
// the model. The Analyzer must not be used afterwards.
func (a *Analyzer) Finalize() *Model {
	m := &a.m
	m.Schema = Schema
	o := &m.Overview
	if a.haveTime {
		o.Duration = Duration(a.last - a.first)
	}
	o.WallStartUnixNs = a.wallStart
	o.Events = a.events
	o.MovedEvents = a.moved
	if o.Duration > 0 {
		o.EventsPerSecond = float64(a.events) / time.Duration(o.Duration).Seconds()
	}
	o.Threads = a.threads.n
	o.Procs = a.procs.n
	if o.Generations == 0 && a.syncs > 0 {
		o.Generations = a.syncs - 1
	}
	o.Footprint = []EventBytes{}
	o.PerGeneration = []Generation{}

	// Goroutines still alive: close their intervals at the end for the
	// time-in-state totals, and look for leak suspects.
	type leakKey struct {
		stack  stackID
		reason string
	}
	leaks := make(map[leakKey]*Leak)
	gr := &m.Goroutines
	a.gs.each(func(g *goroutine) {
		if g.state == trace.GoNotExist {
			return
		}
		a.countHeld(g)
		d := int64(a.last - g.since)
		switch g.state {
		case trace.GoRunning:
			g.totals[tRunning] += Duration(d)
		case trace.GoRunnable:
			g.totals[tRunnable] += Duration(d)
		case trace.GoWaiting:
			g.totals[tBlocked] += Duration(d)
			name := a.groupName(g)
			if leakable(g.why.reason) && timeline.KindOf(name) == timeline.User && d >= leakMin(int64(o.Duration)) {
				k := leakKey{a.parked(g), g.why.reason}
				l := leaks[k]
				if l == nil {
					l = &Leak{Reason: g.why.reason, Func: name, BlockedMin: Duration(d), Stack: a.stacks.get(k.stack), CreatedAt: a.stacks.get(g.createdAt)}
					l.Benign = benignLeak(l)
					leaks[k] = l
				}
				if a.opts.ignored(l.Func, l.Stack) {
					break
				}
				l.Count++
				l.BlockedMin = min(l.BlockedMin, Duration(d))
				l.BlockedMax = max(l.BlockedMax, Duration(d))
				if l.Benign != "" {
					gr.LeakedBenign++
				} else {
					gr.Leaked++
				}
			}
		case trace.GoSyscall:
			g.totals[tSyscall] += Duration(d)
		}
		a.retire(g)
		gr.AliveAtEnd++
	})
	for _, ga := range a.groups {
		gr.Running += ga.totals[tRunning]
		gr.Runnable += ga.totals[tRunnable]
		gr.Blocked += ga.totals[tBlocked]
		gr.Syscall += ga.totals[tSyscall]
	}
	groups := newTopN(a.opts.Top, func(x, y GoroutineGroup) bool {
		if x.Running != y.Running {
			return x.Running < y.Running
		}
		if x.Count != y.Count {
			return x.Count < y.Count
		}
		return x.Func > y.Func
	})
	var byKind [timeline.NumKinds]KindTotals
	for name, ga := range a.groups {
		k := timeline.KindOf(name)
		groups.offer(GoroutineGroup{Func: name, Kind: k.String(), Count: ga.count, Running: ga.totals[tRunning],
			Runnable: ga.totals[tRunnable], Blocked: ga.totals[tBlocked], Syscall: ga.totals[tSyscall]})
		t := &byKind[k]
		t.Count += ga.count
		t.Running += ga.totals[tRunning]
		t.Runnable += ga.totals[tRunnable]
		t.Blocked += ga.totals[tBlocked]
		t.Syscall += ga.totals[tSyscall]
	}
	gr.Groups = groups.sorted()
	gr.ByKind = []KindTotals{}
	m.Kinds = []string{}
	for k := range timeline.NumKinds {
		byKind[k].Kind = k.String()
		gr.ByKind = append(gr.ByKind, byKind[k])
		if a.opts.counts(k) {
			m.Kinds = append(m.Kinds, k.String())
		}
	}
	m.Sched.Apart = a.apartOf(secSched)
	m.Blocking.Apart = a.apartOf(secBlocking)
	m.Syscalls.Apart = a.apartOf(secSyscalls)

	m.Sched.Latency = a.sched.summary()
	m.Sched.StartLatency = a.start.summary()

	b := &m.Blocking
	b.All = a.blockAll.summary()
	b.Sync, b.Net = a.syncNs, a.netNs
	cats := [timeline.NumCategories]*Dist{timeline.Channel: &b.Channel, timeline.Select: &b.Select, timeline.Mutex: &b.Mutex,
		timeline.WaitGroup: &b.WaitGroup, timeline.Cond: &b.Cond, timeline.Network: &b.Network, timeline.Sleep: &b.Sleep,
		timeline.GC: &b.GC, timeline.Runtime: &b.Runtime, timeline.Other: &b.Other}
	// The stacks and reasons of each category, from those of each reason:
	// a "sync" wait's category is its stack's.
	var catStacks [timeline.NumCategories]stackAcc
	var catReasons [timeline.NumCategories][]string
	for _, ra := range a.reasons {
		for id, p := range ra.stacks {
			c := ra.kind
			if c == timeline.Mutex {
				c = a.stacks.syncCategory(id)
			}
			if catStacks[c] == nil {
				catStacks[c] = make(stackAcc)
			}
			catStacks[c].addN(id, p[0], p[1])
			if !slices.Contains(catReasons[c], ra.reason) {
				catReasons[c] = append(catReasons[c], ra.reason)
			}
		}
	}
	b.ByCategory = []BlockCategory{}
	for c, p := range cats {
		*p = a.kinds[c].summary()
		if p.Count > 0 {
			slices.Sort(catReasons[c])
			b.ByCategory = append(b.ByCategory, BlockCategory{Category: timeline.Category(c).String(), Dist: *p,
				Reasons: append([]string{}, catReasons[c]...), Stacks: catStacks[c].top(a.stacks, a.opts.Top)})
		}
	}
	slices.SortStableFunc(b.ByCategory, func(x, y BlockCategory) int { return cmp.Compare(y.Dist.Total, x.Dist.Total) })
	b.Reasons = []BlockReason{}
	for _, ra := range a.reasons {
		if ra.d.count == 0 {
			continue // only waits that were not counted
		}
		b.Reasons = append(b.Reasons, BlockReason{Reason: ra.reason, Dist: ra.d.summary(), Stacks: ra.stacks.top(a.stacks, a.opts.Top)})
	}
	slices.SortFunc(b.Reasons, func(x, y BlockReason) int {
		return cmp.Or(cmp.Compare(y.Dist.Total, x.Dist.Total), cmp.Compare(x.Reason, y.Reason))
	})

	gc := &m.GC
	gc.Cycles = a.gcCycles
	gc.Time = a.gcTime
	for k, begin := range a.ranges {
		if k.name == "GC concurrent mark phase" {
			gc.Time += Duration(a.last - begin)
		}
	}
	if o.Duration > 0 {
		gc.WallShare = float64(gc.Time) / float64(o.Duration)
	}
	gc.STW = a.stw.summary()
	gc.STWByKind = namedDists(a.stwKinds, func(n string, d Dist) STWKind { return STWKind{Kind: n, Dist: d} },
		func(s STWKind) Dist { return s.Dist })
	gc.Assist = a.assist.summary()
	gc.AssistRunning = a.assistRunning
	gc.AssistWaiting = gc.Assist.Total - a.assistRunning
	gc.Sweep = a.sweep.summary()
	mmu := a.mmu.finish(int64(a.last))
	gc.MMU = MMU{W1ms: mmu[0], W10ms: mmu[1], W100ms: mmu[2], W1s: mmu[3]}

	m.Heap.Max = ByteCount(a.heapMax)
	m.Heap.GoalMin = ByteCount(max(a.goalMin, 0))
	m.Heap.GoalMax = ByteCount(a.goalMax)

	m.Syscalls.Dist = a.sys.summary()
	m.Syscalls.Blocking = a.sysBlock.summary()
	m.Syscalls.Stacks = a.sysStacks.top(a.stacks, a.opts.Top)

	named := func(n string, d Dist) NamedDist { return NamedDist{Name: n, Dist: d} }
	getD := func(n NamedDist) Dist { return n.Dist }
	m.Annotations.Tasks = namedDists(a.taskD, named, getD)
	m.Annotations.Regions = namedDists(a.regionD, named, getD)
	m.Annotations.Logs = []LogCount{}
	for c, n := range a.logs {
		m.Annotations.Logs = append(m.Annotations.Logs, LogCount{Category: c, Count: n})
	}
	slices.SortFunc(m.Annotations.Logs, func(x, y LogCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Category, y.Category))
	})

	m.CPU.AllocSites = topFuncs(a.allocCPU, a.opts.Top)
	m.CPU.Samples = a.cpuSamples
	m.CPU.Flat = topFuncs(a.cpuFlat, a.opts.Top)
	m.CPU.Cum = topFuncs(a.cpuCum, a.opts.Top)

	keys := make([]leakKey, 0, len(leaks))
	for k := range leaks {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y leakKey) int {
		lx, ly := leaks[x], leaks[y]
		return cmp.Or(cmp.Compare(ly.Count, lx.Count), cmp.Compare(ly.BlockedMax, lx.BlockedMax),
			cmp.Compare(x.stack, y.stack), cmp.Compare(x.reason, y.reason))
	})
	m.Findings.Leaks = []Leak{}
	for _, k := range keys {
		if leaks[k].Count > 0 {
			m.Findings.Leaks = append(m.Findings.Leaks, *leaks[k])
		}
	}
	if len(m.Findings.Leaks) > a.opts.Top {
		m.Findings.Leaks = m.Findings.Leaks[:a.opts.Top]
	}
	m.Findings.LongSTW = a.stwTop.sorted()
	m.Findings.SchedWaits = a.schedTop.sorted()
	for i := range m.Findings.SchedWaits {
		a.nameLate(&m.Findings.SchedWaits[i])
	}
	// N.B. A goroutine's kind may have been learned after its wait was
	// listed (its start function shows only when it first stops).
	m.Findings.SchedWaits = slices.DeleteFunc(m.Findings.SchedWaits, func(w SchedWait) bool {
		return a.opts.ignored(w.Func, w.Stack) || w.Func != unknownFunc && !a.opts.counts(timeline.KindOf(w.Func))
	})
	m.Sections = []string{}
	return m
}

// apartOf lists the time section sec did not count, by kind.
func (a *Analyzer) apartOf(sec int) []KindTime {
	out := []KindTime{}
	for k, x := range a.apart[sec] {
		if x.count > 0 {
			out = append(out, KindTime{Kind: timeline.Kind(k).String(), Count: x.count, Total: Duration(x.total)})
		}
	}
	return out
}

// namedDists turns a map of distributions into a list, most total time
// first.
func namedDists[T any](m map[string]*dist, mk func(string, Dist) T, get func(T) Dist) []T {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]T, 0, len(m))
	for _, n := range names {
		out = append(out, mk(n, m[n].summary()))
	}
	slices.SortStableFunc(out, func(x, y T) int { return cmp.Compare(get(y).Total, get(x).Total) })
	return out
}

func topFuncs(m map[string]int64, n int) []FuncSamples {
	h := newTopN(n, func(x, y FuncSamples) bool {
		if x.Samples != y.Samples {
			return x.Samples < y.Samples
		}
		return x.Func > y.Func
	})
	for f, c := range m {
		h.offer(FuncSamples{Func: f, Samples: c})
	}
	return h.sorted()
}

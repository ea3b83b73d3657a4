package drill

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// WhySchema names the JSON schema of a task's critical path.
const WhySchema = "gotrace.why/v1"

// WhyQuery says which task to explain: the one with ID Task, or the slowest
// of type Slowest, with the aggregate over the N slowest of that type.
type WhyQuery struct {
	Task    uint64
	Slowest string
	N       int
}

// The categories of the parts of a critical path, besides the blocked
// categories of timeline.Category, whose names they share.
const (
	CatRunning    = "running"        // the goroutine on the path ran
	CatScheduling = "scheduling"     // it was runnable, waiting for a P
	CatSyscall    = "syscall"        // it was in a system call
	CatAssist     = "gc assist"      // it ran, assisting the garbage collector
	CatSTW        = "stop-the-world" // the world was stopped
	CatUnknown    = "unknown"        // the trace does not say: a goroutine not seen yet, or ended while its task stayed open
)

// Part is one line of a critical path's breakdown: the time of the path in
// one category, at one place.
type Part struct {
	Category string `json:"category" help:"running, scheduling, syscall, gc assist, stop-the-world, unknown, or a blocked category: mutex, network, sleep, gc, runtime, other; channel, select, waitgroup and cond when no goroutine's work explains the wait"`
	// What is the function from CPU samples (running), the runtime's
	// reason (blocked), the system call's function, or the range's name.
	What string `json:"what" help:"the sampled function (running, with CPU samples), the runtime's reason for a wait, the system call, or the stop-the-world's kind"`
	// Frame is the innermost user frame where it happened.
	Frame     string        `json:"frame" help:"the innermost frame of the program's own code where it happened, func file:line; \"\" when the stack has none"`
	Goroutine string        `json:"goroutine" help:"the start function of the goroutine it happened on"`
	Time      time.Duration `json:"time_ns" unit:"ns" help:"time on the critical path"`
	Share     float64       `json:"share" help:"share of the task's wall time (of the tasks' total, in the aggregate)"`
}

// Segment is a stretch of the critical path on one goroutine in one state.
type Segment struct {
	Start     time.Duration `json:"start_ns" unit:"ns" help:"from the trace's start"`
	Duration  time.Duration `json:"duration_ns" unit:"ns" help:"how long"`
	Goroutine GoRef         `json:"goroutine" help:"the goroutine the path was on"`
	State     string        `json:"state" help:"running, runnable, blocked or syscall"`
	Category  string        `json:"category" help:"as in the breakdown"`
	What      string        `json:"what" help:"as in the breakdown"`
	Frame     string        `json:"frame" help:"as in the breakdown"`
	// Stack is innermost first.
	Stack []Frame `json:"stack" help:"the goroutine's stack there, innermost frame first"`
	// Depth is how many wake-ups the path followed from the task's
	// goroutine to get here.
	Depth int `json:"depth" help:"how many wake-ups were followed back from the task's goroutine to reach this goroutine"`
}

// Why is the critical path of one task.
type Why struct {
	Task      Task          `json:"task"`
	Goroutine GoRef         `json:"goroutine" help:"the goroutine the walk back starts on: the one that ended the task (began it, for an open task)"`
	Wall      time.Duration `json:"wall_ns" unit:"ns" help:"the task's wall time, which the parts add up to exactly"`
	Breakdown []Part        `json:"breakdown" help:"the path's time by category and place, largest first"`
	Path      []Segment     `json:"path" help:"the path in time order"`
}

// WhyResult is the answer to a WhyQuery.
type WhyResult struct {
	Why Why
	// Aggregate is the breakdown summed over the Slowest tasks of the
	// type, when asked by type; Tasks are their IDs.
	Aggregate []Part
	Tasks     []uint64
	Wall      time.Duration // the Slowest tasks' wall time
	OfType    int           // the tasks of the type
}

// WhyTask finds the task the query names in the trace f and walks each
// chosen task's critical path. It reads the trace twice: to find the task
// (for --task, only the generations it appears in; for --slowest, all of
// them), then the generations each chosen task spans. The trace's damage,
// after the complete generations the index holds, is the caller's to
// report.
func WhyTask(ctx context.Context, f TraceFile, q WhyQuery) (*WhyResult, error) {
	var l *TaskList
	var err error
	if q.Slowest == "" {
		l, err = TaskByID(ctx, f, q.Task)
	} else {
		l, err = TasksIn(ctx, f, TaskFilter{Type: q.Slowest, Top: max(q.N, 1)})
	}
	if err != nil {
		return nil, err
	}
	res := &WhyResult{OfType: l.Total}
	agg := make(map[partKey]time.Duration)
	// Each run of tasks whose generations overlap is walked on one read
	// of those generations.
	for _, run := range spans(f, l.Tasks) {
		w := newWalker(run.tasks, f.collector(TaskFilter{}).base)
		if err := f.each(ctx, run.rg, w.tk, nil, w.event); err != nil {
			return nil, err
		}
		for _, t := range run.tasks {
			why := w.walk(t)
			if t.ID == l.Tasks[0].ID {
				res.Why = why
			}
			res.Wall += why.Wall
			for _, p := range why.Breakdown {
				agg[partKey{p.Category, p.What, p.Frame, p.Goroutine}] += p.Time
			}
		}
	}
	for _, t := range l.Tasks {
		res.Tasks = append(res.Tasks, t.ID)
	}
	if q.Slowest != "" {
		res.Aggregate = parts(agg, res.Wall)
	}
	return res, nil
}

// taskRun is tasks whose generations make one range.
type taskRun struct {
	rg    GenRange
	tasks []Task
}

// spans groups tasks into runs whose generations overlap, in file order.
func spans(f TraceFile, tasks []Task) []taskRun {
	type one struct {
		rg GenRange
		t  Task
	}
	var all []one
	for _, t := range tasks {
		rg := f.all()
		if f.Index != nil {
			if r, ok := f.Index.Task(trace.TaskID(t.ID)); ok {
				rg = r
			}
		}
		all = append(all, one{rg, t})
	}
	slices.SortStableFunc(all, func(x, y one) int { return cmp.Compare(x.rg.First, y.rg.First) })
	var runs []taskRun
	for _, o := range all {
		if n := len(runs); n > 0 && o.rg.First <= runs[n-1].rg.Last {
			runs[n-1].rg.Last = max(runs[n-1].rg.Last, o.rg.Last)
			runs[n-1].tasks = append(runs[n-1].tasks, o.t)
			continue
		}
		runs = append(runs, taskRun{o.rg, []Task{o.t}})
	}
	return runs
}

// interval is a goroutine's state interval kept for the walk: the walk
// may need those of every goroutine over the chosen tasks' spans, so it
// is kept small (40 bytes), its reason interned.
type interval struct {
	start, end trace.Time
	unblocker  *timeline.Goroutine
	stack      stackRef // where it entered the state
	reason     uint32   // in walker.reasons
	state      trace.GoState
	category   timeline.Category
}

type cpuSample struct {
	at        trace.Time
	fn, frame string
	stack     stackRef
}

type span struct {
	start, end trace.Time
	name       string
}

// walker holds what the critical paths of the chosen tasks need: the
// intervals, CPU samples, assists and stop-the-worlds within their spans.
type walker struct {
	tk       *timeline.Tracker
	base     trace.Time // the trace's start; 0: the first event's time
	windows  []span     // the chosen tasks' spans, in trace time
	chosen   []Task
	ivs      map[*timeline.Goroutine][]interval
	creators map[*timeline.Goroutine]*timeline.Goroutine
	samples  map[*timeline.Goroutine][]cpuSample
	assists  map[*timeline.Goroutine][]span
	stws     []span
	open     map[string]trace.Time // ranges begun, by scope and name
	byRef    map[goKey]*timeline.Goroutine
	wakers   map[wakeKey]*timeline.Goroutine // who ended a wait, by the waiting goroutine and when
	// stacks are the stacks the kept intervals and samples name, as
	// frames: a trace.Stack would hold its generation's tables in
	// memory after the read moved on.
	stacks  [][]Frame
	stackAt map[timeline.StackRef]stackRef
	reasons strTable
}

// stackRef is a stack in walker.stacks; noStack is the empty one.
type stackRef int32

const noStack stackRef = 0

// stackRef is st among w's stacks, added when first met.
func (w *walker) stackRef(st timeline.StackRef) stackRef {
	if st == (timeline.StackRef{}) {
		return noStack
	}
	if r, ok := w.stackAt[st]; ok {
		return r
	}
	r := stackRef(len(w.stacks))
	w.stacks = append(w.stacks, frames(st))
	w.stackAt[st] = r
	return r
}

type wakeKey struct {
	g  trace.GoID
	at trace.Time
}

type goKey struct {
	id  int64
	seq int
}

func newWalker(chosen []Task, base trace.Time) *walker {
	w := &walker{tk: timeline.NewTracker(), chosen: chosen, base: base,
		ivs:      make(map[*timeline.Goroutine][]interval),
		creators: make(map[*timeline.Goroutine]*timeline.Goroutine),
		samples:  make(map[*timeline.Goroutine][]cpuSample),
		assists:  make(map[*timeline.Goroutine][]span),
		open:     make(map[string]trace.Time),
		byRef:    make(map[goKey]*timeline.Goroutine),
		wakers:   make(map[wakeKey]*timeline.Goroutine),
		stacks:   [][]Frame{{}},
		stackAt:  make(map[timeline.StackRef]stackRef)}
	w.tk.Emit = func(iv *timeline.Interval) {
		if !w.within(iv.Start, iv.End) {
			return
		}
		k := interval{state: iv.State, category: iv.Category, reason: w.reasons.id(iv.Reason), start: iv.Start, end: iv.End, stack: w.stackRef(iv.Stack)}
		if iv.Unblocker != trace.NoGoroutine {
			key := wakeKey{iv.G.ID, iv.End}
			k.unblocker = w.wakers[key]
			delete(w.wakers, key)
		}
		if w.ivs[iv.G] == nil {
			w.byRef[goKey{int64(iv.G.ID), iv.G.Seq}] = iv.G
		}
		w.ivs[iv.G] = append(w.ivs[iv.G], k)
	}
	return w
}

// origin is the trace's start, which times from the start count from.
func (w *walker) origin() trace.Time {
	if w.base == 0 {
		w.base = w.tk.Start()
	}
	return w.base
}

// within reports whether [start, end] meets a chosen task's span.
func (w *walker) within(start, end trace.Time) bool {
	if w.windows == nil {
		for _, t := range w.chosen {
			s := w.origin() + trace.Time(t.Start)
			w.windows = append(w.windows, span{start: s, end: s + trace.Time(t.Duration)})
		}
	}
	for _, s := range w.windows {
		if start <= s.end && end >= s.start {
			return true
		}
	}
	return false
}

func (w *walker) event(ev *trace.Event) {
	now := ev.Time()
	if ev.Kind() == trace.EventSync {
		// A new generation: its stacks are its own, and the map's keys
		// would hold the last one's tables.
		clear(w.stackAt)
	}
	// N.B. Who ends a wait is looked up as it does: the interval comes
	// out of the Tracker later for a goroutine that has not run yet, when
	// the waker may have ended and its ID gone to another goroutine.
	if ev.Kind() == trace.EventStateTransition && ev.Goroutine() != trace.NoGoroutine {
		if st := ev.StateTransition(); st.Resource.Kind == trace.ResourceGoroutine && st.Resource.Goroutine() != ev.Goroutine() {
			if from, _ := st.Goroutine(); from == trace.GoWaiting && w.within(now, now) {
				if by := w.tk.Goroutine(ev.Goroutine()); by != nil {
					w.wakers[wakeKey{st.Resource.Goroutine(), now}] = by
				}
			}
		}
	}
	w.tk.Event(ev)
	switch ev.Kind() {
	case trace.EventStateTransition:
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			return
		}
		if from, _ := st.Goroutine(); from == trace.GoNotExist && w.within(now, now) {
			if g, by := w.tk.Goroutine(st.Resource.Goroutine()), w.tk.Goroutine(ev.Goroutine()); g != nil && by != nil && by != g {
				w.creators[g] = by
			}
		}
	case trace.EventStackSample:
		if !w.within(now, now) {
			return
		}
		g := w.tk.Goroutine(ev.Goroutine())
		if g == nil {
			return
		}
		s := cpuSample{at: now, stack: w.stackRef(timeline.XStack(ev.Stack()))}
		for f := range ev.Stack().Frames() {
			if s.fn == "" {
				s.fn = f.Func
			}
			if timeline.IsUserFrame(f.Func) {
				s.frame = frameString(f)
				break
			}
		}
		w.samples[g] = append(w.samples[g], s)
	case trace.EventRangeBegin, trace.EventRangeActive, trace.EventRangeEnd:
		r := ev.Range()
		stw := strings.HasPrefix(r.Name, "stop-the-world")
		if !stw && r.Name != "GC mark assist" {
			return
		}
		key := r.Name
		var g *timeline.Goroutine
		if !stw {
			if r.Scope.Kind != trace.ResourceGoroutine {
				return
			}
			g = w.tk.Goroutine(r.Scope.Goroutine())
			key = fmt.Sprintf("%d %s", r.Scope.Goroutine(), r.Name)
		}
		switch ev.Kind() {
		case trace.EventRangeBegin:
			w.open[key] = now
		case trace.EventRangeActive:
			// Active since before what was read, or, read a generation
			// at a time, since it began in the one before.
			if _, ok := w.open[key]; !ok {
				w.open[key] = w.origin()
			}
		case trace.EventRangeEnd:
			start, ok := w.open[key]
			if !ok {
				start = w.origin()
			}
			delete(w.open, key)
			if !w.within(start, now) {
				return
			}
			if stw {
				w.stws = append(w.stws, span{start, now, strings.TrimSuffix(strings.TrimPrefix(r.Name, "stop-the-world ("), ")")})
			} else if g != nil {
				w.assists[g] = append(w.assists[g], span{start, now, r.Name})
			}
		}
	}
}

// frameString is f as func file:line.
func frameString(f trace.StackFrame) string {
	return fmt.Sprintf("%s %s:%d", f.Func, shortFile(f.File), f.Line)
}

// leaf is one piece of the path before it is named for output.
type leaf struct {
	g          *timeline.Goroutine
	start, end trace.Time
	state      trace.GoState
	category   string
	what       string
	stack      stackRef
	frame      string
	depth      int
}

// frame is a stretch of one goroutine's time to explain.
type walkFrame struct {
	g      *timeline.Goroutine
	lo, hi trace.Time
	depth  int
}

// walk finds the critical path of task t, which ends (or the trace does)
// at end from the trace's start.
//
//  1. Start on the goroutine that ended the task, at the task's end (for
//     an open task, on the one that began it, at the trace's end).
//  2. Go back through its intervals to the task's start. Running,
//     runnable and syscall time is the path's own, split where a GC
//     assist or a stop-the-world covers it and, for running, by the CPU
//     samples taken in it.
//  3. A wait on a channel, select, WaitGroup or Cond that another
//     goroutine ended is explained by what that goroutine did over the
//     wait: go back on it, from the wake-up to the wait's start. A mutex
//     wait is not followed: its waker is only the lock's last holder, and
//     the wait itself (contention) is the answer. Other waits (sleep,
//     network, the runtime's) are parts of their own.
//  4. Before a goroutine was created, its creator's time explains it.
//
// Every step covers a stretch of time no other does, so the parts add up
// to the task's wall time exactly.
func (w *walker) walk(t Task) Why {
	base := w.origin()
	lo := base + trace.Time(t.Start)
	hi := lo + trace.Time(t.Duration)
	why := Why{Task: t, Wall: t.Duration}
	// The goroutine the task ended on (or began on, while open).
	// N.B. The task was found on a first pass: its goroutines are found
	// again here by ID and incarnation.
	var from GoRef
	if len(t.Goroutines) > 0 {
		from = t.Goroutines[0]
	}
	if !t.Open && t.endG.ID > 0 {
		from = t.endG
	}
	start := w.byRef[goKey{from.ID, from.Incarnation}]
	why.Goroutine = GoRef{ID: -1}
	var leaves []leaf
	if start == nil {
		leaves = append(leaves, leaf{start: lo, end: hi, category: CatUnknown})
	} else {
		why.Goroutine = GoRef{g: start}.named()
		leaves = w.explain(walkFrame{g: start, lo: lo, hi: hi})
	}
	slices.SortFunc(leaves, func(x, y leaf) int { return cmp.Compare(x.start, y.start) })
	byPart := make(map[partKey]time.Duration)
	for _, l := range leaves {
		d := time.Duration(l.end - l.start)
		name := ""
		if l.g != nil {
			name = l.g.Name
		}
		byPart[partKey{l.category, l.what, l.frame, name}] += d
		seg := Segment{Start: time.Duration(l.start - base), Duration: d, Goroutine: GoRef{ID: -1, g: l.g}.named(),
			State: stateWord(l.state), Category: l.category, What: l.what, Frame: l.frame, Stack: w.stacks[l.stack], Depth: l.depth}
		if l.category == CatUnknown {
			seg.State = "unknown"
		}
		if n := len(why.Path); n > 0 {
			// Adjacent stretches alike are one segment.
			p := &why.Path[n-1]
			if p.Goroutine == seg.Goroutine && p.State == seg.State && p.Category == seg.Category && p.What == seg.What &&
				p.Frame == seg.Frame && p.Depth == seg.Depth && p.Start+p.Duration == seg.Start {
				p.Duration += d
				continue
			}
		}
		why.Path = append(why.Path, seg)
	}
	if why.Path == nil {
		why.Path = []Segment{}
	}
	why.Breakdown = parts(byPart, why.Wall)
	return why
}

type partKey struct{ category, what, frame, goroutine string }

// parts lists the breakdown, largest first.
func parts(m map[partKey]time.Duration, wall time.Duration) []Part {
	out := make([]Part, 0, len(m))
	for k, d := range m {
		p := Part{Category: k.category, What: k.what, Frame: k.frame, Goroutine: k.goroutine, Time: d}
		if wall > 0 {
			p.Share = float64(d) / float64(wall)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y Part) int {
		return cmp.Or(cmp.Compare(y.Time, x.Time), cmp.Compare(x.Category, y.Category), cmp.Compare(x.What, y.What),
			cmp.Compare(x.Frame, y.Frame), cmp.Compare(x.Goroutine, y.Goroutine))
	})
	return out
}

// follows reports whether a wait of category c is explained by what its
// waker did.
func follows(c timeline.Category) bool {
	switch c {
	case timeline.Channel, timeline.Select, timeline.WaitGroup, timeline.Cond:
		return true
	}
	return false
}

// explain walks back over the stretch f and returns its leaves.
func (w *walker) explain(first walkFrame) []leaf {
	var out []leaf
	todo := []walkFrame{first}
	for len(todo) > 0 {
		f := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		ivs := w.ivs[f.g]
		t := f.hi
		for t > f.lo {
			// The interval with start < t <= end.
			i, _ := slices.BinarySearchFunc(ivs, t, func(iv interval, t trace.Time) int { return cmp.Compare(iv.start, t) })
			i--
			if i < 0 {
				// Not alive yet: before its creation, its creator's
				// time explains it.
				if c := w.creators[f.g]; c != nil {
					todo = append(todo, walkFrame{g: c, lo: f.lo, hi: t, depth: f.depth + 1})
				} else {
					out = append(out, leaf{g: f.g, start: f.lo, end: t, category: CatUnknown, depth: f.depth})
				}
				break
			}
			if end := ivs[i].end; end < t {
				// Not alive any more: an open task's goroutine ended
				// before the trace did.
				s := max(end, f.lo)
				out = append(out, leaf{g: f.g, start: s, end: t, category: CatUnknown, what: "goroutine ended", depth: f.depth})
				t = s
				continue
			}
			iv := &ivs[i]
			s := max(iv.start, f.lo)
			switch iv.state {
			case trace.GoRunning:
				out = w.running(out, f, ivs, i, s, t)
			case trace.GoRunnable:
				// Where the goroutine is: where it waited, when a wait
				// made it runnable (the event's stack is its waker's);
				// nowhere yet, just created (the stack is its
				// creator's); else where it was stopped.
				stack := iv.stack
				switch {
				case i > 0 && ivs[i-1].end == iv.start && ivs[i-1].state == trace.GoWaiting:
					stack = ivs[i-1].stack
				case !f.g.Existed && iv.start == f.g.Created:
					stack = noStack
				}
				out = w.cutSTW(out, leaf{g: f.g, start: s, end: t, state: trace.GoRunnable, category: CatScheduling, stack: stack, depth: f.depth})
			case trace.GoSyscall:
				out = append(out, leaf{g: f.g, start: s, end: t, state: trace.GoSyscall, category: CatSyscall, what: syscallName(w.stacks[iv.stack]), stack: iv.stack, depth: f.depth})
			case trace.GoWaiting:
				if u := iv.unblocker; u != nil && iv.end == t && follows(iv.category) {
					todo = append(todo, walkFrame{g: u, lo: s, hi: t, depth: f.depth + 1})
				} else {
					out = append(out, leaf{g: f.g, start: s, end: t, state: trace.GoWaiting, category: iv.category.String(), what: w.reasons.str(iv.reason), stack: iv.stack, depth: f.depth})
				}
			default:
				out = append(out, leaf{g: f.g, start: s, end: t, category: CatUnknown, depth: f.depth})
			}
			t = s
		}
	}
	for i := range out {
		if out[i].frame == "" {
			out[i].frame = userFrameOf(w.stacks[out[i].stack])
		}
	}
	return out
}

// running appends the leaves of f.g running over [s, t], in interval i of
// ivs: assists and stop-the-worlds cut out, the rest split by the CPU
// samples of the whole interval, or named by where the run ended.
func (w *walker) running(out []leaf, f walkFrame, ivs []interval, i int, s, t trace.Time) []leaf {
	iv := ivs[i]
	endStack := noStack
	if i+1 < len(ivs) && ivs[i+1].start == iv.end {
		endStack = ivs[i+1].stack
	}
	base := leaf{g: f.g, state: trace.GoRunning, category: CatRunning, stack: endStack, depth: f.depth}
	// Cut the assists out first, then stop-the-worlds from the rest.
	pieces := cut([]span{{s, t, ""}}, w.assists[f.g])
	var run []span
	for _, p := range pieces {
		if p.name != "" {
			l := base
			l.start, l.end, l.category, l.what = p.start, p.end, CatAssist, ""
			out = append(out, l)
			continue
		}
		for _, q := range cut([]span{p}, w.stws) {
			if q.name != "" {
				l := base
				l.start, l.end, l.category, l.what = q.start, q.end, CatSTW, q.name
				out = append(out, l)
				continue
			}
			run = append(run, q)
		}
	}
	// The samples taken while it ran in this interval.
	var in []cpuSample
	for _, sm := range w.samples[f.g] {
		if sm.at >= iv.start && sm.at <= iv.end {
			in = append(in, sm)
		}
	}
	for _, p := range run {
		out = append(out, splitBySamples(base, p, in)...)
	}
	return out
}

// splitBySamples divides the running stretch p among the functions of the
// samples in the same proportions, to the nanosecond: the remainder goes
// to the largest shares first.
func splitBySamples(base leaf, p span, in []cpuSample) []leaf {
	if len(in) == 0 {
		l := base
		l.start, l.end = p.start, p.end
		return []leaf{l}
	}
	type share struct {
		s     cpuSample
		n     int
		d     trace.Time
		frac  trace.Time
		order int
	}
	var shares []*share
	byFn := make(map[[2]string]*share)
	for _, sm := range in {
		k := [2]string{sm.fn, sm.frame}
		if byFn[k] == nil {
			byFn[k] = &share{s: sm, order: len(shares)}
			shares = append(shares, byFn[k])
		}
		byFn[k].n++
	}
	total := p.end - p.start
	left := total
	for _, sh := range shares {
		sh.d = total * trace.Time(sh.n) / trace.Time(len(in))
		sh.frac = total * trace.Time(sh.n) % trace.Time(len(in))
		left -= sh.d
	}
	order := slices.Clone(shares)
	slices.SortStableFunc(order, func(x, y *share) int { return cmp.Compare(y.frac, x.frac) })
	for i := 0; left > 0; i = (i + 1) % len(order) {
		order[i].d++
		left--
	}
	var out []leaf
	at := p.start
	for _, sh := range shares {
		if sh.d == 0 {
			continue
		}
		l := base
		l.start, l.end, l.what, l.frame, l.stack = at, at+sh.d, sh.s.fn, sh.s.frame, sh.s.stack
		at += sh.d
		out = append(out, l)
	}
	return out
}

// cut splits the unnamed spans of in where the named spans of by cover
// them; the covered pieces take by's name.
func cut(in []span, by []span) []span {
	for _, b := range by {
		var next []span
		for _, p := range in {
			if p.name != "" || b.end <= p.start || b.start >= p.end {
				next = append(next, p)
				continue
			}
			if b.start > p.start {
				next = append(next, span{p.start, b.start, ""})
			}
			next = append(next, span{max(p.start, b.start), min(p.end, b.end), cmp.Or(b.name, "?")})
			if b.end < p.end {
				next = append(next, span{b.end, p.end, ""})
			}
		}
		in = next
	}
	return in
}

// cutSTW appends l, with the stretches a stop-the-world covers apart.
func (w *walker) cutSTW(out []leaf, l leaf) []leaf {
	for _, p := range cut([]span{{l.start, l.end, ""}}, w.stws) {
		m := l
		m.start, m.end = p.start, p.end
		if p.name != "" {
			m.category, m.what = CatSTW, p.name
		}
		out = append(out, m)
	}
	return out
}

// syscallName is the system call's function: the innermost frame of
// package syscall, or of golang.org/x/sys, or else the innermost one.
func syscallName(st []Frame) string {
	first := ""
	for _, f := range st {
		if first == "" {
			first = f.Func
		}
		if strings.HasPrefix(f.Func, "syscall.") || strings.HasPrefix(f.Func, "golang.org/x/sys/") {
			return f.Func
		}
	}
	return first
}

// Package view is gotrace's terminal timeline: a Bubble Tea model over
// the goroutine timeline of a trace. The model is plain data; Update
// handles one message and View draws it from nothing else, so tests drive
// it with key, mouse and size messages and compare screens.
//
// What it draws comes from two places. Data holds what the timeline
// Tracker says about a stretch of the trace read in full through
// golang.org/x/exp/trace: goroutine intervals, the goroutine on each P,
// GC and stop-the-world ranges, heap samples and tasks. A Summary holds
// what a cheap pass over the wire says about each generation, so that a
// view of a large trace too wide to read in full still has something to
// show; only the generations in view are read in full.
package view

import (
	"cmp"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// Data is a stretch of the trace read in full.
type Data struct {
	// Start and End bound what was read.
	Start, End trace.Time
	// Goroutines in the order of their groups, then by ID.
	Goroutines []*Goroutine
	// Groups are the goroutines by start function.
	Groups []*Group
	// Procs are the Ps, by ID, with the goroutines that ran on them.
	Procs []*Proc
	// GC holds the collector's mark phases, STW the stopped worlds.
	GC, STW []Range
	// Heap samples the heap in use (live and not yet swept objects).
	Heap []Sample
	// Tasks are the tasks begun or ended in the stretch.
	Tasks []*Task

	// stacks and reasons are what Spans name by index.
	stacks  []timeline.StackRef
	reasons []string
}

// Span is one interval of a goroutine's life in one state: what the
// Tracker's timeline.Interval says, kept small, as a generation of a busy
// program holds a million of them.
type Span struct {
	Start, End trace.Time
	// Unblocker is the goroutine that ended a wait, trace.NoGoroutine if
	// none or not a wait.
	Unblocker      trace.GoID
	stack, unblock uint32 // Data.stacks: where it began, where the wait was ended
	reason         uint16 // Data.reasons
	State          trace.GoState
	Category       timeline.Category
	// Open is set for a span the stretch ended in.
	Open bool
}

// Stack is the stack of the event that began s: where it blocked, or
// where it was made runnable.
func (d *Data) Stack(s *Span) timeline.StackRef { return d.stacks[s.stack] }

// Reason is the runtime's reason for the wait s is, "" for none.
func (d *Data) Reason(s *Span) string { return d.reasons[s.reason] }

// Goroutine is one goroutine's life in the stretch.
type Goroutine struct {
	*timeline.Goroutine
	Group     *Group
	Intervals []Span
	Creator   *Goroutine // nil when it existed before or its creator is not in the stretch
	Children  []*Goroutine
}

// Label is how lanes and lists name g: "G12 main.worker".
func (g *Goroutine) Label() string {
	id := "G" + itoa(int64(g.ID))
	if g.Seq > 0 {
		id += "." + itoa(int64(g.Seq))
	}
	if g.Name == "" {
		return id
	}
	return id + " " + g.Name
}

// At is the interval of g that holds t, or nil.
func (g *Goroutine) At(t trace.Time) *Span {
	i, _ := slices.BinarySearchFunc(g.Intervals, t, func(iv Span, t trace.Time) int {
		if iv.End <= t {
			return -1
		}
		return 1
	})
	if i < len(g.Intervals) && g.Intervals[i].Start <= t {
		return &g.Intervals[i]
	}
	return nil
}

// Group is the goroutines with one start function.
type Group struct {
	Name       string
	Kind       timeline.Kind
	Index      int // its place among the groups, which picks its colour
	Goroutines []*Goroutine
	Busy       trace.Time // time its goroutines were not blocked: the order of the groups
}

// Proc is one P and the goroutines that ran on it.
type Proc struct {
	ID   trace.ProcID
	Runs []Run
}

// Run is a goroutine running on a P.
type Run struct {
	Start, End trace.Time
	G          *Goroutine
}

// Range is a span of time with a name.
type Range struct {
	Name       string
	Start, End trace.Time
}

// Sample is a value at a time.
type Sample struct {
	T     trace.Time
	Value uint64
}

// Task is one task instance.
type Task struct {
	ID         trace.TaskID
	Type       string
	Start, End trace.Time
	// Begun and Ended say whether its begin and end are in the stretch;
	// a missing one is at the stretch's edge.
	Begun, Ended bool
	G            trace.GoID // the goroutine that began it
}

// Duration is how long t took, within the stretch.
func (t *Task) Duration() trace.Time { return t.End - t.Start }

// The names golang.org/x/exp/trace gives the ranges and metric drawn.
const (
	gcMark     = "GC concurrent mark phase"
	stwPrefix  = "stop-the-world"
	heapMetric = "/memory/classes/heap/objects:bytes"
)

// Load reads the trace in r in full through the timeline's Tracker. A
// damaged trace gives the Data of its complete generations and the
// *decode.Error that says where the damage is.
func Load(r io.Reader) (*Data, error) {
	return LoadRange(r, nil, 0, math.MaxInt64)
}

// LoadRange is Load keeping only what touches [lo, hi]: the goroutines
// alive in it, their spans and the Ps' runs that overlap it. at, when not
// nil, reads r's input at its offsets (see timeline.ReadAt): the
// generation waiting for the next one's first timestamp is read again
// from it rather than copied.
func LoadRange(r io.Reader, at io.ReaderAt, lo, hi trace.Time) (*Data, error) {
	b := newBuilder()
	b.lo, b.hi = lo, hi
	_, err := timeline.ReadAt(r, at, func(ev *trace.Event) bool {
		b.event(ev)
		return true
	})
	d := b.finish()
	return d, err
}

// builder collects Data from events in order.
type builder struct {
	tk      *timeline.Tracker
	gs      map[*timeline.Goroutine]*Goroutine
	all     []*Goroutine
	procs   map[trace.ProcID]*Proc
	running map[trace.GoID]runningOn
	gc      map[rangeKey]trace.Time // the ranges drawn that are open
	d       *Data
	tasks   map[trace.TaskID]int
	// taskBlock is the block the next task goes in (see addTask).
	taskBlock []Task
	stacks    map[timeline.StackRef]uint32
	reasons   map[string]uint16
	lo, hi    trace.Time // what is kept
}

// keeps reports whether a span [start, end] is kept.
func (b *builder) keeps(start, end trace.Time) bool { return end >= b.lo && start <= b.hi }

// rangeKey names a range open on a resource: a stopped world is the
// goroutine's that stopped it, a mark phase the whole program's.
type rangeKey struct {
	name  string
	scope trace.ResourceID
}

// drawn reports whether the GC band draws ranges with the name.
func drawn(name string) bool { return name == gcMark || strings.HasPrefix(name, stwPrefix) }

type runningOn struct {
	p     trace.ProcID
	start trace.Time
}

func newBuilder() *builder {
	b := &builder{
		tk:      timeline.NewTracker(),
		gs:      make(map[*timeline.Goroutine]*Goroutine),
		procs:   make(map[trace.ProcID]*Proc),
		running: make(map[trace.GoID]runningOn),
		gc:      make(map[rangeKey]trace.Time),
		tasks:   make(map[trace.TaskID]int),
		stacks:  make(map[timeline.StackRef]uint32),
		reasons: make(map[string]uint16),
		d:       &Data{},
	}
	b.tk.Emit = func(iv *timeline.Interval) {
		if !b.keeps(iv.Start, iv.End) {
			return
		}
		g := b.goroutine(iv.G)
		g.Intervals = append(g.Intervals, Span{
			Start: iv.Start, End: iv.End, Unblocker: iv.Unblocker,
			stack: b.stack(iv.Stack), unblock: b.stack(iv.UnblockStack), reason: b.reason(iv.Reason),
			State: iv.State, Category: iv.Category, Open: iv.Open,
		})
	}
	return b
}

func (b *builder) stack(st timeline.StackRef) uint32 {
	i, ok := b.stacks[st]
	if !ok {
		i = uint32(len(b.d.stacks))
		b.stacks[st] = i
		b.d.stacks = append(b.d.stacks, st)
	}
	return i
}

func (b *builder) reason(r string) uint16 {
	i, ok := b.reasons[r]
	if !ok {
		if len(b.d.reasons) == 1<<16-1 {
			r = "other" // N.B. The runtime has a few dozen.
			if i, ok := b.reasons[r]; ok {
				return i
			}
		}
		i = uint16(len(b.d.reasons))
		b.reasons[r] = i
		b.d.reasons = append(b.d.reasons, r)
	}
	return i
}

func (b *builder) goroutine(tg *timeline.Goroutine) *Goroutine {
	g := b.gs[tg]
	if g == nil {
		g = &Goroutine{Goroutine: tg}
		b.gs[tg] = g
		b.all = append(b.all, g)
	}
	return g
}

func (b *builder) event(ev *trace.Event) {
	switch ev.Kind() {
	case trace.EventStateTransition:
		st := ev.StateTransition()
		if st.Resource.Kind == trace.ResourceGoroutine {
			b.transition(ev, st)
		}
	case trace.EventRangeBegin, trace.EventRangeActive:
		if r := ev.Range(); drawn(r.Name) {
			k := rangeKey{r.Name, r.Scope}
			if _, open := b.gc[k]; !open {
				t := ev.Time()
				if ev.Kind() == trace.EventRangeActive {
					t = b.since(t)
				}
				b.gc[k] = t
			}
		}
	case trace.EventRangeEnd:
		if r := ev.Range(); drawn(r.Name) {
			k := rangeKey{r.Name, r.Scope}
			if start, open := b.gc[k]; open {
				b.addRange(r.Name, start, ev.Time())
				delete(b.gc, k)
			}
		}
	case trace.EventMetric:
		if m := ev.Metric(); m.Name == heapMetric {
			b.d.Heap = append(b.d.Heap, Sample{T: ev.Time(), Value: m.Value.Uint64()})
		}
	case trace.EventTaskBegin:
		t := ev.Task()
		b.tasks[t.ID] = b.addTask(Task{ID: t.ID, Type: t.Type, Start: ev.Time(), Begun: true, G: ev.Goroutine()})
	case trace.EventTaskEnd:
		t := ev.Task()
		i, ok := b.tasks[t.ID]
		if !ok {
			i = b.addTask(Task{ID: t.ID, Type: t.Type, G: trace.NoGoroutine})
		}
		b.d.Tasks[i].End, b.d.Tasks[i].Ended = ev.Time(), true
		delete(b.tasks, t.ID)
	}
	b.tk.Event(ev)
}

// tasksPerBlock is how many tasks are allocated at once.
const tasksPerBlock = 4096

// addTask adds t to the tasks and returns its index. The tasks are
// allocated in blocks that never move: a busy generation has a hundred
// thousand or more, which a growing slice of them would copy, holding the
// old array and the new at once.
func (b *builder) addTask(t Task) int {
	if len(b.taskBlock) == cap(b.taskBlock) {
		b.taskBlock = make([]Task, 0, tasksPerBlock)
	}
	b.taskBlock = append(b.taskBlock, t)
	b.d.Tasks = append(b.d.Tasks, &b.taskBlock[len(b.taskBlock)-1])
	return len(b.d.Tasks) - 1
}

func (b *builder) addRange(name string, start, end trace.Time) {
	switch {
	case name == gcMark:
		b.d.GC = append(b.d.GC, Range{Name: name, Start: start, End: end})
	case strings.HasPrefix(name, stwPrefix):
		b.d.STW = append(b.d.STW, Range{Name: name, Start: start, End: end})
	}
}

// transition follows which goroutine runs on which P: the Tracker knows
// goroutines, not Ps.
func (b *builder) transition(ev *trace.Event, st trace.StateTransition) {
	from, to := st.Goroutine()
	id := st.Resource.Goroutine()
	if from == to {
		return
	}
	now := ev.Time()
	if r, ok := b.running[id]; ok && from == trace.GoRunning {
		tg := b.tk.Goroutine(id)
		if tg != nil && b.keeps(r.start, now) {
			b.proc(r.p).Runs = append(b.proc(r.p).Runs, Run{Start: r.start, End: now, G: b.goroutine(tg)})
		}
		delete(b.running, id)
	}
	if to == trace.GoRunning && ev.Proc() != trace.NoProc {
		start := now
		if from == trace.GoUndetermined && b.tk.Goroutine(id) == nil {
			start = b.since(now) // running since the trace began
		}
		b.running[id] = runningOn{p: ev.Proc(), start: start}
	}
}

// since is when what was already so at now began: the trace's start,
// which is now for the first event.
func (b *builder) since(now trace.Time) trace.Time {
	if s := b.tk.Start(); s != 0 {
		return s
	}
	return now
}

func (b *builder) proc(id trace.ProcID) *Proc {
	p := b.procs[id]
	if p == nil {
		p = &Proc{ID: id}
		b.procs[id] = p
	}
	return p
}

// finish closes what the trace ended in and puts the Data in order.
func (b *builder) finish() *Data {
	d := b.d
	// Running goroutines first, while the Tracker still knows them.
	for id, r := range b.running {
		if tg := b.tk.Goroutine(id); tg != nil && b.keeps(r.start, b.tk.Last()) {
			b.proc(r.p).Runs = append(b.proc(r.p).Runs, Run{Start: r.start, End: b.tk.Last(), G: b.goroutine(tg)})
		}
	}
	b.tk.End = func(tg *timeline.Goroutine) {
		if tg.Created <= b.hi && (tg.Ended == 0 || tg.Ended >= b.lo) {
			b.goroutine(tg)
		}
	}
	b.tk.Finish()
	d.Start, d.End = b.tk.Start(), b.tk.Last()
	for k, start := range b.gc {
		b.addRange(k.name, start, d.End)
	}
	slices.SortFunc(d.GC, func(a, b Range) int { return cmp.Compare(a.Start, b.Start) })
	slices.SortFunc(d.STW, func(a, b Range) int { return cmp.Compare(a.Start, b.Start) })
	for _, t := range d.Tasks {
		if !t.Begun {
			t.Start = d.Start
		}
		if !t.Ended {
			t.End = d.End
		}
	}
	for _, p := range b.procs {
		slices.SortFunc(p.Runs, func(a, b Run) int { return cmp.Compare(a.Start, b.Start) })
		d.Procs = append(d.Procs, p)
	}
	slices.SortFunc(d.Procs, func(a, b *Proc) int { return cmp.Compare(a.ID, b.ID) })

	// Creators: the goroutine with the creator's ID alive at the creation.
	byID := make(map[trace.GoID][]*Goroutine)
	for _, g := range b.all {
		byID[g.ID] = append(byID[g.ID], g)
	}
	for _, g := range b.all {
		if g.Existed || g.Goroutine.Creator == trace.NoGoroutine {
			continue
		}
		for _, c := range byID[g.Goroutine.Creator] {
			if c.Created <= g.Created && (c.Ended == 0 || c.Ended >= g.Created) {
				g.Creator = c
				c.Children = append(c.Children, g)
				break
			}
		}
	}

	groups := make(map[string]*Group)
	for _, g := range b.all {
		gr := groups[g.Name]
		if gr == nil {
			gr = &Group{Name: g.Name, Kind: timeline.KindOf(g.Name)}
			groups[g.Name] = gr
			d.Groups = append(d.Groups, gr)
		}
		gr.Goroutines = append(gr.Goroutines, g)
		g.Group = gr
		for _, iv := range g.Intervals {
			if iv.State != trace.GoWaiting {
				gr.Busy += iv.End - iv.Start
			}
		}
	}
	// The program's own groups first, busiest first.
	slices.SortFunc(d.Groups, func(a, b *Group) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(b.Busy, a.Busy), cmp.Compare(a.Name, b.Name))
	})
	for i, gr := range d.Groups {
		gr.Index = i
		slices.SortFunc(gr.Goroutines, byLife)
		d.Goroutines = append(d.Goroutines, gr.Goroutines...)
	}
	for _, g := range b.all {
		slices.SortFunc(g.Children, byLife)
	}
	return d
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func byLife(a, b *Goroutine) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Seq, b.Seq))
}

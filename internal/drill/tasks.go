package drill

import (
	"bufio"
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// TasksSchema names the JSON schema of a task list and of one task.
const TasksSchema = "gotrace.tasks/v1"

// Task is one task instance: one runtime/trace.NewTask call and its End.
type Task struct {
	ID     uint64 `json:"id" help:"task ID"`
	Type   string `json:"type" help:"the task's type, as given to runtime/trace.NewTask; \"\" for a task begun before the trace"`
	Parent uint64 `json:"parent" help:"the parent task's ID, 0 for none"`
	// Start is from the trace's start.
	Start  time.Duration `json:"start_ns" unit:"ns" help:"when it began, from the trace's start; 0 for a task begun before the trace"`
	Before bool          `json:"began_before" help:"it began before the trace: its type, parent and start are not known"`
	// Duration runs to the trace's end for an open task.
	Duration   time.Duration `json:"duration_ns" unit:"ns" help:"from its start to its end, or to the trace's end while open"`
	Open       bool          `json:"open" help:"it had not ended when the trace ended"`
	Goroutines []GoRef       `json:"goroutines" help:"the goroutines that began or ended it, or ran a region or wrote a log in it, in the order they first did"`
	Regions    int           `json:"regions" help:"regions run in it"`
	Logs       int           `json:"logs" help:"logs written in it"`
	Children   int           `json:"children" help:"tasks begun with it as parent"`

	endG GoRef // the goroutine that ended it
}

// GoRef names one goroutine (one incarnation of its ID).
type GoRef struct {
	ID          int64  `json:"id" help:"goroutine ID"`
	Incarnation int    `json:"incarnation" help:"how many goroutines had this ID before this one"`
	Name        string `json:"name" help:"its start function"`

	g *timeline.Goroutine
}

// Label is the goroutine's ID, with the incarnation when the ID was used
// before.
func (r GoRef) Label() string {
	return Goroutine{ID: r.ID, Incarnation: r.Incarnation}.Label()
}

// TaskEvent is one thing that happened in a task.
type TaskEvent struct {
	At        time.Duration `json:"at_ns" unit:"ns" help:"when, from the trace's start"`
	Kind      string        `json:"kind" help:"begin, end, region, log or child (a task begun with this one as parent)"`
	Goroutine GoRef         `json:"goroutine" help:"the goroutine it happened on"`
	// Name is the region's type, the log's category or the child's type.
	Name    string `json:"name,omitempty" help:"the region's type, the log's category or the child task's type"`
	Message string `json:"message,omitempty" help:"the log's message"`
	// Duration is a region's, to the trace's end while open.
	Duration time.Duration `json:"duration_ns,omitempty" unit:"ns" help:"a region's duration, to the trace's end while open"`
	Open     bool          `json:"open,omitempty" help:"a region still open when the trace ended"`
	Depth    int           `json:"depth,omitempty" help:"a region's nesting depth on its goroutine"`
	Child    uint64        `json:"child,omitempty" help:"the child task's ID"`
	Frame    string        `json:"frame,omitempty" help:"the innermost user frame of the event's stack, file:line"`
}

// TaskFilter chooses tasks.
type TaskFilter struct {
	Type string        // only tasks of this type
	Min  time.Duration // only tasks at least this long
	// ID, when set (HasID), asks for one task and its events.
	ID    uint64
	HasID bool
	// Top, when more than 0, keeps only the Top slowest of those that
	// pass: what is kept is bounded by it and the tasks open at once,
	// not by the trace's length. Total counts them all.
	Top int
}

// passes reports whether t is one f chooses.
func (f TaskFilter) passes(t *Task) bool {
	if f.HasID {
		return t.ID == f.ID
	}
	return (f.Type == "" || t.Type == f.Type) && t.Duration >= f.Min
}

// ErrNotFound is returned (wrapped) for a task or goroutine the trace does
// not have.
var ErrNotFound = errors.New("not in the trace")

// TaskList is what Tasks finds.
type TaskList struct {
	Tasks []Task // slowest first
	Total int    // the tasks that pass the filter, Tasks or not
	Types []string
	// Events are the events of the task TaskFilter.ID names, in time
	// order.
	Events []TaskEvent
	End    time.Duration // the trace's length
}

// Tasks reads the trace in r and lists its task instances, slowest first.
// With f.HasID it finds that one task and its events. A damaged trace gives
// the tasks of its complete generations and an error wrapping
// timeline.ErrDamaged.
func Tasks(ctx context.Context, r io.Reader, f TaskFilter) (*TaskList, error) {
	c := newTaskCollector(f, 0)
	err := read(ctx, r, nil, c.tk, c.keep, c.event)
	if ctx.Err() != nil {
		return nil, err
	}
	return c.result(err)
}

// TraceFile is a trace to read in parts: its bytes and, for one with
// generations, their index (drawn with IndexOptions.Actors). Without an
// index (a trace in the old format) each read is of the whole trace.
type TraceFile struct {
	R     io.ReaderAt
	Size  int64
	Index *Index
}

// each calls fn with every event of the generations rg of the trace (of
// all of it, without an index), in order, then finishes tk, which fn
// feeds. It reads one generation at a time, each through
// golang.org/x/exp/trace on its own, so that one generation is in memory,
// not two; the statuses that open each generation after the first,
// restating what tk knows, are left out, as a read of the whole trace
// gives them as no change. Errors and keep are as read's, and as read it
// reads on a goroutine of its own while fn runs on the caller's.
func (f TraceFile) each(ctx context.Context, rg GenRange, tk *timeline.Tracker, keep func(*trace.Event) bool, fn func(*trace.Event)) error {
	if f.Index == nil {
		return read(ctx, bufio.NewReaderSize(io.NewSectionReader(f.R, 0, f.Size), 1<<20), f.R, tk, keep, fn)
	}
	err := f.Index.eachGen(ctx, f.R, rg, tk, keep, func(ev *trace.Event) bool {
		fn(ev)
		return true
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%w: %w", timeline.ErrDamaged, err)
	}
	tk.Finish()
	return nil
}

// all is the range of every generation.
func (f TraceFile) all() GenRange {
	if f.Index == nil {
		return GenRange{}
	}
	return GenRange{0, len(f.Index.Gens) - 1}
}

// collector is a task collector for f, which times from the trace's start
// and sees its end even when it reads only some generations.
func (f TraceFile) collector(tf TaskFilter) *taskCollector {
	if f.Index == nil {
		return newTaskCollector(tf, 0)
	}
	c := newTaskCollector(tf, f.Index.Start())
	c.end = f.Index.End()
	return c
}

// TasksIn lists the task instances of the trace f, slowest first, as Tasks
// does, reading one generation at a time.
func TasksIn(ctx context.Context, f TraceFile, tf TaskFilter) (*TaskList, error) {
	c := f.collector(tf)
	err := f.each(ctx, f.all(), c.tk, c.keep, c.event)
	if ctx.Err() != nil {
		return nil, err
	}
	return c.result(err)
}

// TaskByID finds task id and its events, reading only the generations of
// the trace in which its index says the task appears.
func TaskByID(ctx context.Context, f TraceFile, id uint64) (*TaskList, error) {
	rg := f.all()
	if f.Index != nil {
		var ok bool
		rg, ok = f.Index.Task(trace.TaskID(id))
		if !ok || id == uint64(trace.BackgroundTask) {
			return nil, fmt.Errorf("task %d: %w (%s)", id, ErrNotFound, indexTasks(f.Index))
		}
	}
	c := f.collector(TaskFilter{ID: id, HasID: true})
	err := f.each(ctx, rg, c.tk, c.keep, c.event)
	if ctx.Err() != nil {
		return nil, err
	}
	return c.result(err)
}

// result is the list c collected and the error to go with it: err (the
// damage), or that nothing passed the filter.
func (c *taskCollector) result(err error) (*TaskList, error) {
	l := c.finish()
	f := c.f
	if len(l.Tasks) > 0 || err != nil {
		return l, err
	}
	switch {
	case f.HasID:
		return l, fmt.Errorf("task %d: %w (%s)", f.ID, ErrNotFound, c.have())
	case c.all == 0:
		return l, fmt.Errorf("%w: the trace has no tasks", ErrNoMatch)
	case f.Type != "" && !slices.Contains(l.Types, f.Type):
		return l, fmt.Errorf("%w: no task of type %q (types: %s)", ErrNoMatch, f.Type, strings.Join(l.Types, ", "))
	}
	return l, fmt.Errorf("%w: no task passes the filters", ErrNoMatch)
}

// taskCollector follows the tasks, regions and logs of a trace. It keeps
// the tasks open and those the filter keeps, and lets the others go as
// they end, remembering only their IDs.
type taskCollector struct {
	f       TaskFilter
	base    trace.Time // the trace's start; 0: the first event's time
	end     trace.Time // the trace's end, when the read stops short of it
	tk      *timeline.Tracker
	live    map[trace.TaskID]*Task // open, or ended and kept
	ended   idSet
	kept    []*Task // ended and passing: a heap, fastest first, with f.Top
	total   int
	regions map[trace.GoID][]openRegion
	events  []TaskEvent
	types   map[string]bool
	all     int    // tasks met
	lo, hi  uint64 // their least and greatest IDs
}

type openRegion struct {
	task  trace.TaskID
	start trace.Time
	event int // its TaskEvent, -1 when not collected
}

// newTaskCollector returns a collector for f; base is the trace's start,
// or 0 for the first event's time.
func newTaskCollector(f TaskFilter, base trace.Time) *taskCollector {
	return &taskCollector{f: f, base: base, tk: timeline.NewTracker(), live: make(map[trace.TaskID]*Task),
		regions: make(map[trace.GoID][]openRegion), types: make(map[string]bool)}
}

// since is t from the trace's start.
func (c *taskCollector) since(t trace.Time) time.Duration {
	if c.base == 0 {
		return time.Duration(t - c.tk.Start())
	}
	return time.Duration(t - c.base)
}

// task is the task with the ID, made when first met; nil for one that
// ended and was let go.
func (c *taskCollector) task(id trace.TaskID) *Task {
	t := c.live[id]
	if t == nil {
		if c.ended.has(uint64(id)) {
			return nil
		}
		t = &Task{ID: uint64(id), Before: true, Open: true}
		c.live[id] = t
		if c.all == 0 {
			c.lo, c.hi = t.ID, t.ID
		}
		c.all++
		c.lo, c.hi = min(c.lo, t.ID), max(c.hi, t.ID)
	}
	return t
}

// involve counts goroutine id among the goroutines of t.
func (c *taskCollector) involve(t *Task, id trace.GoID) GoRef {
	g := c.tk.Goroutine(id)
	r := GoRef{ID: int64(id), g: g}
	if id == trace.NoGoroutine {
		r.ID = -1
	}
	if g == nil {
		return r
	}
	for _, have := range t.Goroutines {
		if have.ID == r.ID && have.Incarnation == g.Seq {
			return r
		}
	}
	t.Goroutines = append(t.Goroutines, GoRef{ID: r.ID, Incarnation: g.Seq, Name: g.Name})
	return r
}

// offer keeps t, which has ended (or outlived the trace), if the filter
// chooses it and it is among the slowest.
func (c *taskCollector) offer(t *Task) {
	for i := range t.Goroutines {
		if r := &t.Goroutines[i]; r.Name == "" {
			if g := c.tk.Goroutine(trace.GoID(r.ID)); g != nil && g.Seq == r.Incarnation {
				r.Name = g.Name
			}
		}
	}
	if !c.f.passes(t) {
		delete(c.live, trace.TaskID(t.ID))
		return
	}
	c.total++
	if c.f.Top <= 0 {
		c.kept = append(c.kept, t)
		return
	}
	heap.Push((*taskHeap)(&c.kept), t)
	if len(c.kept) > c.f.Top {
		out := heap.Pop((*taskHeap)(&c.kept)).(*Task)
		delete(c.live, trace.TaskID(out.ID))
	}
}

// slower orders tasks slowest first, then by ID.
func slower(x, y *Task) int {
	return cmp.Or(cmp.Compare(y.Duration, x.Duration), cmp.Compare(x.ID, y.ID))
}

// taskHeap holds the slowest tasks, the fastest of them at the root.
type taskHeap []*Task

func (h taskHeap) Len() int           { return len(h) }
func (h taskHeap) Less(i, j int) bool { return slower(h[i], h[j]) > 0 }
func (h taskHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *taskHeap) Push(x any)        { *h = append(*h, x.(*Task)) }
func (h *taskHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// want reports whether the events of task id are collected.
func (c *taskCollector) want(id trace.TaskID) bool { return c.f.HasID && uint64(id) == c.f.ID }

// keep reports whether the TaskEnd event ev is to keep its stack while
// it is read (see read): only the task asked for shows where it ended. It
// runs on the reading goroutine, and reads only the filter.
func (c *taskCollector) keep(ev *trace.Event) bool { return c.want(ev.Task().ID) }

func (c *taskCollector) add(id trace.TaskID, e TaskEvent, ev *trace.Event) int {
	if !c.want(id) {
		return -1
	}
	e.At = c.since(ev.Time())
	e.Frame = userFrame(ev.Stack())
	c.events = append(c.events, e)
	return len(c.events) - 1
}

func (c *taskCollector) event(ev *trace.Event) {
	c.tk.Event(ev)
	now := ev.Time()
	switch ev.Kind() {
	case trace.EventTaskBegin:
		info := ev.Task()
		t := c.task(info.ID)
		if t == nil {
			return
		}
		t.Before, t.Type, t.Start = false, info.Type, c.since(now)
		if info.Parent != trace.NoTask {
			t.Parent = uint64(info.Parent)
		}
		c.types[info.Type] = true
		g := c.involve(t, ev.Goroutine())
		c.add(info.ID, TaskEvent{Kind: "begin", Goroutine: g}, ev)
		if p := c.live[info.Parent]; p != nil && info.Parent != trace.BackgroundTask {
			p.Children++
		}
		if info.Parent != trace.BackgroundTask {
			c.add(info.Parent, TaskEvent{Kind: "child", Goroutine: g, Name: info.Type, Child: uint64(info.ID)}, ev)
		}
	case trace.EventTaskEnd:
		info := ev.Task()
		t := c.task(info.ID)
		if t == nil {
			return
		}
		if t.Before {
			c.types[t.Type] = true
		}
		t.Open = false
		t.Duration = c.since(now) - t.Start
		g := c.involve(t, ev.Goroutine())
		t.endG = GoRef{ID: g.ID}
		if g.g != nil {
			t.endG.Incarnation = g.g.Seq
		}
		c.add(info.ID, TaskEvent{Kind: "end", Goroutine: g}, ev)
		c.ended.add(uint64(info.ID))
		c.offer(t)
	case trace.EventRegionBegin:
		reg := ev.Region()
		id := ev.Goroutine()
		i := -1
		if reg.Task != trace.BackgroundTask {
			if t := c.task(reg.Task); t != nil {
				t.Regions++
				g := c.involve(t, id)
				i = c.add(reg.Task, TaskEvent{Kind: "region", Goroutine: g, Name: reg.Type, Open: true, Depth: len(c.regions[id])}, ev)
			}
		}
		c.regions[id] = append(c.regions[id], openRegion{task: reg.Task, start: now, event: i})
	case trace.EventRegionEnd:
		reg := ev.Region()
		id := ev.Goroutine()
		if open := c.regions[id]; len(open) > 0 {
			top := open[len(open)-1]
			c.regions[id] = open[:len(open)-1]
			if len(open) == 1 {
				delete(c.regions, id)
			}
			if top.event >= 0 {
				e := &c.events[top.event]
				e.Duration, e.Open = time.Duration(now-top.start), false
			}
			return
		}
		if reg.Task == trace.BackgroundTask {
			return
		}
		// Begun before the trace: it counts from the trace's start.
		t := c.task(reg.Task)
		if t == nil {
			return
		}
		t.Regions++
		g := c.involve(t, id)
		if i := c.add(reg.Task, TaskEvent{Kind: "region", Goroutine: g, Name: reg.Type}, ev); i >= 0 {
			e := &c.events[i]
			e.Duration, e.At = e.At, 0
		}
	case trace.EventLog:
		l := ev.Log()
		if l.Task == trace.BackgroundTask {
			return
		}
		t := c.task(l.Task)
		if t == nil {
			return
		}
		t.Logs++
		g := c.involve(t, ev.Goroutine())
		c.add(l.Task, TaskEvent{Kind: "log", Goroutine: g, Name: l.Category, Message: l.Message}, ev)
	}
}

// finish closes what is open at the trace's end and lists the tasks kept.
func (c *taskCollector) finish() *TaskList {
	// N.B. The later of the two: the index's end is the last timestamp,
	// where golang.org/x/exp/trace's closing sync comes a nanosecond
	// after it.
	end := c.since(max(c.end, c.tk.Last()))
	l := &TaskList{End: end, Types: make([]string, 0, len(c.types))}
	for typ := range c.types {
		l.Types = append(l.Types, typ)
	}
	slices.Sort(l.Types)
	// N.B. In ID order, so that which of equally slow tasks are kept does
	// not depend on the map's order.
	var open []*Task
	for _, t := range c.live {
		if t.Open {
			open = append(open, t)
		}
	}
	slices.SortFunc(open, func(x, y *Task) int { return cmp.Compare(x.ID, y.ID) })
	for _, t := range open {
		t.Duration = end - t.Start
		c.offer(t)
	}
	slices.SortFunc(c.kept, slower)
	// N.B. Each task is let go as it is copied: a list of every task
	// (--top 0) may hold millions.
	clear(c.live)
	l.Tasks = make([]Task, 0, len(c.kept))
	for i, t := range c.kept {
		if t.Goroutines == nil {
			t.Goroutines = []GoRef{} // [] in JSON, never null
		}
		l.Tasks = append(l.Tasks, *t)
		c.kept[i] = nil
	}
	c.kept = nil
	l.Total = c.total
	for i := range c.events {
		e := &c.events[i]
		e.Goroutine = e.Goroutine.named()
		if e.Kind == "region" && e.Open {
			e.Duration = end - e.At
		}
	}
	slices.SortStableFunc(c.events, func(x, y TaskEvent) int { return cmp.Compare(x.At, y.At) })
	l.Events = c.events
	return l
}

// idSet is a set of task IDs: a bitmap for the small IDs the runtime hands
// out in order, a map past it.
type idSet struct {
	bits []uint64
	more map[uint64]bool
}

const maxBitID = 1 << 26

func (s *idSet) add(id uint64) {
	if id >= maxBitID {
		if s.more == nil {
			s.more = make(map[uint64]bool)
		}
		s.more[id] = true
		return
	}
	w := int(id / 64)
	if w >= len(s.bits) {
		n := max(w+1, 2*len(s.bits))
		s.bits = slices.Grow(s.bits, n-len(s.bits))[:n]
	}
	s.bits[w] |= 1 << (id % 64)
}

func (s *idSet) has(id uint64) bool {
	if id >= maxBitID {
		return s.more[id]
	}
	w := int(id / 64)
	return w < len(s.bits) && s.bits[w]&(1<<(id%64)) != 0
}

// indexTasks says which task IDs the index saw, as have does.
func indexTasks(ix *Index) string {
	c := &taskCollector{}
	if ix.actors != nil {
		t := &ix.actors.tasks
		seen := func(id uint64) {
			if id == uint64(trace.BackgroundTask) {
				return
			}
			if c.all == 0 {
				c.lo, c.hi = id, id
			}
			c.all++
			c.lo, c.hi = min(c.lo, id), max(c.hi, id)
		}
		for id, f := range t.first {
			if f != 0 {
				seen(uint64(id))
			}
		}
		for id := range t.sparse {
			seen(id)
		}
	}
	return c.have()
}

// have says which task IDs the trace has, for an error about one it lacks.
func (c *taskCollector) have() string {
	if c.all == 0 {
		return "the trace has no tasks"
	}
	return fmt.Sprintf("the trace has %d %s, IDs %d to %d", c.all, plural(c.all, "task", "tasks"), c.lo, c.hi)
}

// named is r with its goroutine's incarnation and name, known once the
// trace is read.
func (r GoRef) named() GoRef {
	if r.g == nil {
		return r
	}
	return GoRef{ID: int64(r.g.ID), Incarnation: r.g.Seq, Name: r.g.Name, g: r.g}
}

// userFrame is the innermost frame of st in the program's own code, as
// func file:line, "" when there is none.
func userFrame(st trace.Stack) string { return userFrameOf(frames(st)) }

// userFrameOf is userFrame of a stack's frames.
func userFrameOf(st []Frame) string {
	for _, f := range st {
		if timeline.IsUserFrame(f.Func) {
			return fmt.Sprintf("%s %s:%d", f.Func, shortFile(f.File), f.Line)
		}
	}
	return ""
}

// shortFile is the last two elements of a source path.
func shortFile(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i > 0 {
		if j := strings.LastIndexByte(path[:i], '/'); j >= 0 {
			return path[j+1:]
		}
	}
	return path
}

package drill

import (
	"cmp"
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
	Start  time.Duration `json:"start_ns" help:"when it began, from the trace's start; 0 for a task begun before the trace"`
	Before bool          `json:"began_before" help:"it began before the trace: its type, parent and start are not known"`
	// Duration runs to the trace's end for an open task.
	Duration   time.Duration `json:"duration_ns" help:"from its start to its end, or to the trace's end while open"`
	Open       bool          `json:"open" help:"it had not ended when the trace ended"`
	Goroutines []GoRef       `json:"goroutines" help:"the goroutines that began or ended it, or ran a region or wrote a log in it, in the order they first did"`
	Regions    int           `json:"regions" help:"regions run in it"`
	Logs       int           `json:"logs" help:"logs written in it"`
	Children   int           `json:"children" help:"tasks begun with it as parent"`

	byG  map[*timeline.Goroutine]bool
	endG *timeline.Goroutine // the goroutine that ended it
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
	At        time.Duration `json:"at_ns" help:"when, from the trace's start"`
	Kind      string        `json:"kind" help:"begin, end, region, log or child (a task begun with this one as parent)"`
	Goroutine GoRef         `json:"goroutine" help:"the goroutine it happened on"`
	// Name is the region's type, the log's category or the child's type.
	Name    string `json:"name,omitempty" help:"the region's type, the log's category or the child task's type"`
	Message string `json:"message,omitempty" help:"the log's message"`
	// Duration is a region's, to the trace's end while open.
	Duration time.Duration `json:"duration_ns,omitempty" help:"a region's duration, to the trace's end while open"`
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
}

// ErrNotFound is returned (wrapped) for a task or goroutine the trace does
// not have.
var ErrNotFound = errors.New("not in the trace")

// TaskList is what Tasks finds.
type TaskList struct {
	Tasks []Task // slowest first
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
	c := newTaskCollector(f)
	err := read(ctx, r, c.tk, c.event)
	if ctx.Err() != nil {
		return nil, err
	}
	l := c.finish()
	if f.HasID {
		if len(l.Tasks) == 0 && err == nil {
			return l, fmt.Errorf("task %d: %w (%s)", f.ID, ErrNotFound, c.have())
		}
		return l, err
	}
	l.Tasks = slices.DeleteFunc(l.Tasks, func(t Task) bool {
		return f.Type != "" && t.Type != f.Type || t.Duration < f.Min
	})
	if len(l.Tasks) == 0 && err == nil {
		switch {
		case c.all == 0:
			return l, fmt.Errorf("%w: the trace has no tasks", ErrNoMatch)
		case f.Type != "" && !slices.Contains(l.Types, f.Type):
			return l, fmt.Errorf("%w: no task of type %q (types: %s)", ErrNoMatch, f.Type, strings.Join(l.Types, ", "))
		default:
			return l, fmt.Errorf("%w: no task passes the filters", ErrNoMatch)
		}
	}
	return l, err
}

// taskCollector follows the tasks, regions and logs of a trace.
type taskCollector struct {
	f       TaskFilter
	tk      *timeline.Tracker
	tasks   map[trace.TaskID]*Task
	order   []*Task
	regions map[trace.GoID][]openRegion
	events  []TaskEvent
	types   map[string]bool
	all     int
}

type openRegion struct {
	task  trace.TaskID
	start trace.Time
	event int // its TaskEvent, -1 when not collected
}

func newTaskCollector(f TaskFilter) *taskCollector {
	return &taskCollector{f: f, tk: timeline.NewTracker(), tasks: make(map[trace.TaskID]*Task),
		regions: make(map[trace.GoID][]openRegion), types: make(map[string]bool)}
}

// since is t from the trace's start.
func (c *taskCollector) since(t trace.Time) time.Duration { return time.Duration(t - c.tk.Start()) }

// task is the task with the ID, made when first met.
func (c *taskCollector) task(id trace.TaskID) *Task {
	t := c.tasks[id]
	if t == nil {
		t = &Task{ID: uint64(id), Before: true, Open: true, byG: make(map[*timeline.Goroutine]bool)}
		c.tasks[id] = t
		c.order = append(c.order, t)
		c.all++
	}
	return t
}

// involve counts g among the goroutines of t.
func (c *taskCollector) involve(t *Task, id trace.GoID) GoRef {
	g := c.tk.Goroutine(id)
	r := GoRef{ID: int64(id), g: g}
	if id == trace.NoGoroutine {
		r.ID = -1
	}
	if g != nil && !t.byG[g] {
		t.byG[g] = true
		t.Goroutines = append(t.Goroutines, r)
	}
	return r
}

// want reports whether the events of task id are collected.
func (c *taskCollector) want(id trace.TaskID) bool { return c.f.HasID && uint64(id) == c.f.ID }

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
		t.Before, t.Type, t.Start = false, info.Type, c.since(now)
		if info.Parent != trace.NoTask {
			t.Parent = uint64(info.Parent)
		}
		c.types[info.Type] = true
		g := c.involve(t, ev.Goroutine())
		c.add(info.ID, TaskEvent{Kind: "begin", Goroutine: g}, ev)
		if p, ok := c.tasks[info.Parent]; ok && info.Parent != trace.BackgroundTask {
			p.Children++
			c.add(info.Parent, TaskEvent{Kind: "child", Goroutine: g, Name: info.Type, Child: uint64(info.ID)}, ev)
		}
	case trace.EventTaskEnd:
		info := ev.Task()
		t := c.task(info.ID)
		t.Open = false
		t.Duration = c.since(now) - t.Start
		g := c.involve(t, ev.Goroutine())
		t.endG = g.g
		c.add(info.ID, TaskEvent{Kind: "end", Goroutine: g}, ev)
	case trace.EventRegionBegin:
		reg := ev.Region()
		id := ev.Goroutine()
		i := -1
		if reg.Task != trace.BackgroundTask {
			t := c.task(reg.Task)
			t.Regions++
			g := c.involve(t, id)
			i = c.add(reg.Task, TaskEvent{Kind: "region", Goroutine: g, Name: reg.Type, Open: true, Depth: len(c.regions[id])}, ev)
		}
		c.regions[id] = append(c.regions[id], openRegion{task: reg.Task, start: now, event: i})
	case trace.EventRegionEnd:
		reg := ev.Region()
		id := ev.Goroutine()
		if open := c.regions[id]; len(open) > 0 {
			top := open[len(open)-1]
			c.regions[id] = open[:len(open)-1]
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
		t.Logs++
		g := c.involve(t, ev.Goroutine())
		c.add(l.Task, TaskEvent{Kind: "log", Goroutine: g, Name: l.Category, Message: l.Message}, ev)
	}
}

// finish closes what is open at the trace's end and names the goroutines.
func (c *taskCollector) finish() *TaskList {
	end := time.Duration(c.tk.Last() - c.tk.Start())
	l := &TaskList{End: end, Types: make([]string, 0, len(c.types))}
	for typ := range c.types {
		l.Types = append(l.Types, typ)
	}
	slices.Sort(l.Types)
	for _, t := range c.order {
		if c.f.HasID && t.ID != c.f.ID {
			continue
		}
		if t.Open {
			t.Duration = end - t.Start
		}
		for i := range t.Goroutines {
			t.Goroutines[i] = t.Goroutines[i].named()
		}
		t.byG = nil
		l.Tasks = append(l.Tasks, *t)
	}
	for i := range c.events {
		e := &c.events[i]
		e.Goroutine = e.Goroutine.named()
		if e.Kind == "region" && e.Open {
			e.Duration = end - e.At
		}
	}
	slices.SortStableFunc(c.events, func(x, y TaskEvent) int { return cmp.Compare(x.At, y.At) })
	l.Events = c.events
	slices.SortStableFunc(l.Tasks, func(x, y Task) int {
		return cmp.Or(cmp.Compare(y.Duration, x.Duration), cmp.Compare(x.ID, y.ID))
	})
	return l
}

// have says which task IDs the trace has, for an error about one it lacks.
func (c *taskCollector) have() string {
	if len(c.order) == 0 {
		return "the trace has no tasks"
	}
	lo, hi := c.order[0].ID, c.order[0].ID
	for _, t := range c.order {
		lo, hi = min(lo, t.ID), max(hi, t.ID)
	}
	return fmt.Sprintf("the trace has %d %s, IDs %d to %d", len(c.order), plural(len(c.order), "task", "tasks"), lo, hi)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
func userFrame(st trace.Stack) string {
	for f := range st.Frames() {
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

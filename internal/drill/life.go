package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// GoroutineSchema names the JSON schema of one goroutine's life.
const GoroutineSchema = "gotrace.goroutine/v1"

// Life is one goroutine's life in the trace: its row of gotrace
// goroutines, then every interval of it, and what it did besides: regions,
// tasks, logs and the goroutines it created. Times are durations from the
// trace's start.
type Life struct {
	Goroutine
	CreatorStack []Frame `json:"creator_stack" help:"where the creator created it, innermost frame first; [] when it existed before the trace"`
	// Intervals are its states, in order.
	Intervals []Span    `json:"intervals" help:"every state it was in, in order"`
	Regions   []Region  `json:"regions" help:"the regions it ran, in the order they began"`
	Tasks     []TaskRef `json:"tasks" help:"the tasks its regions, logs, task begins and ends name, by ID"`
	Logs      []Log     `json:"logs" help:"the log messages it wrote"`
	Children  []Child   `json:"created" help:"the goroutines it created, in order"`
}

// Span is one interval of a goroutine's life in one state.
type Span struct {
	Start    time.Duration `json:"start_ns" help:"when it began, from the trace's start"`
	Wall     string        `json:"start_wall,omitempty" help:"when it began on the wall clock (UTC), where the trace has a clock snapshot"`
	Duration time.Duration `json:"duration_ns" help:"how long it lasted"`
	State    string        `json:"state" help:"running, runnable, blocked or syscall"`
	Reason   string        `json:"reason,omitempty" help:"the runtime's reason for a wait"`
	Category string        `json:"category,omitempty" help:"the wait's category, as in gotrace goroutines"`
	// Stack is the stack of the event that put it in the state.
	Stack []Frame `json:"stack" help:"the stack of the event that put it in the state: where it blocked, or what made it runnable; innermost frame first"`
	// Unblocker is the goroutine that ended a wait, -1 for none.
	Unblocker    int64   `json:"unblocker" help:"for a wait, the goroutine that made it runnable; -1 for none (the runtime, a timer, or not a wait)"`
	UnblockStack []Frame `json:"unblock_stack" help:"where the unblocker was when it did, innermost frame first"`
	Open         bool    `json:"open" help:"the trace ended in it"`
}

// Region is a region a goroutine ran.
type Region struct {
	Name  string        `json:"name" help:"the region's type"`
	Task  int64         `json:"task" help:"the task it belongs to, 0 for none"`
	Start time.Duration `json:"start_ns" help:"when it began, from the trace's start; 0 with begun_before"`
	// BegunBefore is set for a region the trace shows only the end of.
	BegunBefore bool          `json:"begun_before" help:"it began before the trace"`
	End         time.Duration `json:"end_ns" help:"when it ended; -1 while open at the end"`
}

// TaskRef is a task a goroutine worked for.
type TaskRef struct {
	ID   int64  `json:"id" help:"task ID"`
	Type string `json:"type" help:"the task's type, \"\" when it began before what was read"`
}

// Log is one log message.
type Log struct {
	At       time.Duration `json:"at_ns" help:"when, from the trace's start"`
	Task     int64         `json:"task" help:"the task it belongs to, 0 for none"`
	Category string        `json:"category" help:"its category"`
	Message  string        `json:"message" help:"the message"`
}

// Child is a goroutine created by another.
type Child struct {
	ID    int64         `json:"id" help:"its goroutine ID"`
	Name  string        `json:"name" help:"its start function"`
	At    time.Duration `json:"at_ns" help:"when it was created, from the trace's start"`
	Stack []Frame       `json:"stack" help:"where it was created, innermost frame first"`
}

// ErrNoGoroutine marks a goroutine ID (or incarnation) the trace does not
// have.
var ErrNoGoroutine = errors.New("not in the trace")

// Lives reads the generations of the trace in r in which goroutine id
// appears and returns the life of each goroutine that had the ID, in
// order, or of incarnation seq alone when seq >= 0 (0 is the first, as in
// gotrace goroutines). ix must record goroutines (IndexOptions.Actors).
func Lives(ctx context.Context, r io.ReaderAt, ix *Index, id trace.GoID, seq int) ([]Life, error) {
	rg, ok := ix.Goroutine(id)
	if !ok {
		return nil, fmt.Errorf("goroutine %d: %w", id, ErrNoGoroutine)
	}
	start := ix.Start()
	rel := func(t trace.Time) time.Duration { return time.Duration(t - start) }
	c, freq := ix.Clock()
	wall := func(t trace.Time) string {
		if c == nil {
			return ""
		}
		return WallClock(c, freq, t).Format(WallLayout)
	}

	var lives []*Life
	by := make(map[*timeline.Goroutine]*Life)
	tasks := make(map[trace.TaskID]string) // types of the open tasks begun in what was read
	open := make(map[*Life][]int)          // regions open, by index, innermost last
	tk := timeline.NewTracker()
	rows := NewRows(tk)
	life := func(g *timeline.Goroutine) *Life {
		l := by[g]
		if l == nil {
			l = &Life{Intervals: []Span{}, Regions: []Region{}, Tasks: []TaskRef{}, Logs: []Log{}, Children: []Child{}, CreatorStack: frames(g.CreatorStack)}
			by[g] = l
			lives = append(lives, l)
		}
		return l
	}
	tk.Emit = func(iv *timeline.Interval) {
		if iv.G.ID != id {
			return
		}
		l := life(iv.G)
		sp := Span{Start: rel(iv.Start), Wall: wall(iv.Start), Duration: time.Duration(iv.End - iv.Start), State: stateWord(iv.State),
			Stack: frames(iv.Stack), Unblocker: -1, UnblockStack: []Frame{}, Open: iv.Open}
		if iv.State == trace.GoWaiting {
			sp.Reason, sp.Category = iv.Reason, iv.Category.String()
		}
		if iv.Unblocker != trace.NoGoroutine {
			sp.Unblocker, sp.UnblockStack = int64(iv.Unblocker), frames(iv.UnblockStack)
		}
		l.Intervals = append(l.Intervals, sp)
	}
	tk.End = func(g *timeline.Goroutine) {
		if g.ID != id {
			return
		}
		l := life(g)
		l.Goroutine = rows.End(g)
		// N.B. The rows count from the Tracker's start, that of what was
		// read; the trace's is the index's.
		shift := time.Duration(tk.Start() - start)
		if !g.Existed {
			l.Created += shift
		}
		if l.Ended >= 0 {
			l.Ended += shift
		}
		for _, i := range open[l] {
			l.Regions[i].End = -1
		}
	}
	task := func(l *Life, t trace.TaskID) {
		if t == trace.NoTask || t == trace.BackgroundTask {
			return
		}
		for i := range l.Tasks {
			if l.Tasks[i].ID == int64(t) {
				if l.Tasks[i].Type == "" {
					l.Tasks[i].Type = tasks[t]
				}
				return
			}
		}
		l.Tasks = append(l.Tasks, TaskRef{ID: int64(t), Type: tasks[t]})
	}
	n := 0
	each := func(ev *trace.Event) bool {
		now := ev.Time()
		switch ev.Kind() {
		case trace.EventTaskBegin:
			tasks[ev.Task().ID] = ev.Task().Type
		case trace.EventStateTransition:
			if ev.Goroutine() == id {
				// Read before the Tracker: a goroutine that creates
				// one and ends at the same event is still live here.
				st := ev.StateTransition()
				if st.Resource.Kind != trace.ResourceGoroutine {
					break
				}
				if from, _ := st.Goroutine(); from == trace.GoNotExist && st.Resource.Goroutine() != id {
					if g := tk.Goroutine(id); g != nil {
						life(g).Children = append(life(g).Children, Child{ID: int64(st.Resource.Goroutine()),
							Name: timeline.StartFunc(st.Stack), At: rel(now), Stack: frames(ev.Stack())})
					}
				}
			}
		}
		tk.Event(ev)
		if ev.Goroutine() == id {
			if g := tk.Goroutine(id); g != nil {
				l := life(g)
				switch ev.Kind() {
				case trace.EventRegionBegin:
					rgn := ev.Region()
					l.Regions = append(l.Regions, Region{Name: rgn.Type, Task: int64(rgn.Task), Start: rel(now), End: -1})
					open[l] = append(open[l], len(l.Regions)-1)
					task(l, rgn.Task)
				case trace.EventRegionEnd:
					rgn := ev.Region()
					if o := open[l]; len(o) > 0 && l.Regions[o[len(o)-1]].Name == rgn.Type {
						l.Regions[o[len(o)-1]].End = rel(now)
						open[l] = o[:len(o)-1]
					} else {
						l.Regions = append(l.Regions, Region{Name: rgn.Type, Task: int64(rgn.Task), BegunBefore: true, End: rel(now)})
					}
					task(l, rgn.Task)
				case trace.EventLog:
					lg := ev.Log()
					l.Logs = append(l.Logs, Log{At: rel(now), Task: int64(lg.Task), Category: lg.Category, Message: lg.Message})
					task(l, lg.Task)
				case trace.EventTaskBegin, trace.EventTaskEnd:
					task(l, ev.Task().ID)
				}
			}
		}
		if ev.Kind() == trace.EventTaskEnd {
			// N.B. Only open tasks are kept: a long trace has many.
			delete(tasks, ev.Task().ID)
		}
		n++
		return n%4096 != 0 || ctx.Err() == nil
	}
	// N.B. One generation at a time, so that only one is in memory. Each
	// read on its own begins with the status of every goroutine, which
	// for a goroutine the Tracker follows already restates the state it
	// is in: it is left out, as the Tracker leaves out the status of a
	// read of the whole trace, which says from == to.
	if err := ix.eachGen(ctx, r, rg, tk, nil, each); err != nil {
		return nil, err
	}
	tk.Finish()
	if seq >= 0 {
		for _, l := range lives {
			if l.Incarnation == seq {
				return []Life{*l}, nil
			}
		}
		return nil, fmt.Errorf("goroutine %s: %w (ID %d named %d %s)", Goroutine{ID: int64(id), Incarnation: seq}.Label(), ErrNoGoroutine,
			id, len(lives), plural(len(lives), "goroutine", "goroutines"))
	}
	out := make([]Life, len(lives))
	for i, l := range lives {
		out[i] = *l
	}
	return out, nil
}

// eachGen calls fn with each event of the generations rg of the trace in
// r, in order, reading one generation at a time, each through
// golang.org/x/exp/trace on its own, on a goroutine of its own while fn
// runs on the caller's (see timeline.Pipe), so that one generation is in
// memory, not two; keep is as read's. The statuses that open each
// generation after the first and restate what tk knows (see restates) are
// left out. fn returning false stops it early, with no error. It returns
// ctx's error if ctx ended first, and damage as ReadGens does: fn has
// seen the generations before it.
func (ix *Index) eachGen(ctx context.Context, r io.ReaderAt, rg GenRange, tk *timeline.Tracker, keep func(*trace.Event) bool, fn func(*trace.Event) bool) error {
	err := timeline.Pipe(ctx, func(send timeline.Send) error {
		for k := rg.First; k <= rg.Last; k++ {
			quit := false
			err := ix.ReadGens(r, k, k, func(ev *trace.Event) bool {
				quit = !send(ev, k, keeps(keep, ev))
				return !quit
			})
			if quit {
				return nil
			}
			if err != nil {
				return err
			}
		}
		return nil
	}, func(ev *trace.Event, k int) bool {
		if k > rg.First && restates(tk, ev) {
			return true
		}
		return fn(ev)
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// restates reports whether ev is the status of a goroutine tk follows,
// saying the state it is in.
func restates(tk *timeline.Tracker, ev *trace.Event) bool {
	if ev.Kind() != trace.EventStateTransition {
		return false
	}
	st := ev.StateTransition()
	if st.Resource.Kind != trace.ResourceGoroutine {
		return false
	}
	from, to := st.Goroutine()
	if from != trace.GoUndetermined {
		return false
	}
	g := tk.Goroutine(st.Resource.Goroutine())
	if g == nil {
		return false
	}
	state, _ := g.State()
	return state == to
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

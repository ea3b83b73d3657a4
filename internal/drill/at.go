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

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// AtSchema names the JSON schema of the world at one instant.
const AtSchema = "gotrace.at/v1"

// World is the state of a program at one instant of its trace: what each
// P ran, and where every goroutine was. Times are durations from the
// trace's start. Each list of goroutines has the program's own first,
// then the longest in the state.
type World struct {
	At   time.Duration `json:"at_ns" help:"the instant, from the trace's start"`
	Wall string        `json:"wall,omitempty" help:"the instant on the wall clock (UTC), where the trace has a clock snapshot (Go 1.25 and later)"`
	// The generation holding the instant.
	Generation uint64        `json:"generation" help:"the generation holding the instant"`
	GenFrom    time.Duration `json:"generation_from_ns" help:"when that generation starts, from the trace's start"`
	GenTo      time.Duration `json:"generation_to_ns" help:"when it ends"`
	Lookback   int           `json:"lookback" help:"how many generations before it were read to find since when, and why, the goroutines were in the state they were in when it began"`

	Procs    []ProcAt `json:"procs" help:"every P the generation shows, with the goroutine it ran"`
	Running  []GoAt   `json:"running" help:"goroutines running"`
	Runnable []GoAt   `json:"runnable" help:"goroutines runnable, waiting for a P"`
	Blocked  []GoAt   `json:"blocked" help:"goroutines blocked"`
	Syscall  []GoAt   `json:"syscall" help:"goroutines in system calls"`
	// GC and STW are the collection and the stop-the-world pause on at
	// the instant, nil when none.
	GC  *RangeAt `json:"gc" help:"the GC mark phase on at the instant, null when none"`
	STW *RangeAt `json:"stw" help:"the stop-the-world pause on at the instant, null when none"`
}

// ProcAt is one P at the instant.
type ProcAt struct {
	ID int64 `json:"id" help:"P ID"`
	// State is running, with a goroutine, or idle.
	State     string `json:"state" help:"running (a goroutine) or idle"`
	Goroutine int64  `json:"goroutine" help:"the goroutine it ran, -1 for none"`
	Name      string `json:"name,omitempty" help:"that goroutine's start function"`
}

// GoAt is one goroutine at the instant: its state, since when, and where.
type GoAt struct {
	ID    int64  `json:"id" help:"goroutine ID"`
	Name  string `json:"name" help:"start function"`
	Kind  string `json:"kind" help:"user, runtime or tooling"`
	State string `json:"state" help:"running, runnable, blocked or syscall"`
	// Reason and Category say why it was blocked.
	Reason   string `json:"reason,omitempty" help:"the runtime's reason for a wait"`
	Category string `json:"category,omitempty" help:"the wait's category: channel, select, mutex, waitgroup, cond, network, sleep, gc, runtime, other; \"\" when unknown (blocked since before the generations read, no stack)"`
	// Since is when it entered the state; with SinceAtLeast, it was in it
	// when the earliest generation read began, so since then at least.
	Since        time.Duration `json:"since_ns" help:"when it entered the state, from the trace's start"`
	SinceAtLeast bool          `json:"since_at_least" help:"it was in the state when the earliest generation read began: since_ns is that generation's start, and it may have been so for longer; reason and category are then unknown"`
	For          time.Duration `json:"for_ns" help:"how long it had been in the state at the instant"`
	P            int64         `json:"p" help:"the P it ran on; -1 when not running, or when it ran since the generation began and shows no event of its own in it"`
	// Stack is where it entered the state, innermost frame first: where
	// it blocked, or what made it runnable.
	Stack []Frame `json:"stack" help:"the stack of the event that put it in the state, innermost frame first"`
}

// RangeAt is a GC phase or pause on at the instant.
type RangeAt struct {
	Name         string        `json:"name" help:"the runtime's name for it"`
	Since        time.Duration `json:"since_ns" help:"when it began, from the trace's start"`
	SinceAtLeast bool          `json:"since_at_least" help:"it was on when the generation began"`
	For          time.Duration `json:"for_ns" help:"how long it had been on"`
}

// Frame is one frame of a stack.
type Frame struct {
	Func string `json:"func" help:"function name"`
	File string `json:"file" help:"source file"`
	Line uint64 `json:"line" help:"line number"`
}

// frames is s, innermost frame first, without the frames of the code
// gotrace record adds to a program.
func frames[S timeline.Stack](s S) []Frame {
	out := []Frame{}
	for f := range s.Frames() {
		if !timeline.IsShimFrame(f.Func) {
			out = append(out, Frame{Func: f.Func, File: f.File, Line: f.Line})
		}
	}
	return out
}

// At reads the generation of the trace in r holding instant t (a duration
// from the trace's start) and says what was going on at t. A state a
// goroutine was already in when that generation began is looked for in
// the lookback generations before it, latest first, for when it began,
// why and where; one that began before those too is "since at least" the
// earliest generation read.
//
// The generation before t's is read on a goroutine of its own while t's
// is: the two reads do not depend on each other until the end.
func At(ctx context.Context, r io.ReaderAt, ix *Index, t time.Duration, lookback int) (*World, error) {
	abs := ix.Start() + trace.Time(t)
	k, ok, err := ix.Locate(r, abs)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("instant %v: %w, which lasts %v", t, ErrOutside, ix.Duration().Round(time.Microsecond))
	}
	var ahead chan lastRead
	if lookback > 0 && k > 0 {
		// N.B. Settled here, not on the goroutine: the index is not
		// safe for concurrent use.
		if err := ix.settleBefore(r, k-1); err != nil {
			return nil, err
		}
		ahead = make(chan lastRead, 1)
		go func() {
			ls, err := lastStates(ctx, r, ix, k-1)
			ahead <- lastRead{ls, err}
		}()
	}
	w, gs, err := atGen(ctx, r, ix, k, abs)
	var before lastRead
	if ahead != nil {
		before = <-ahead
	}
	if err != nil {
		return nil, err
	}
	pending := make(map[trace.GoID]*GoAt)
	for i := range gs {
		if gs[i].SinceAtLeast {
			pending[trace.GoID(gs[i].ID)] = &gs[i]
		}
	}
	for j := k - 1; j >= 0 && j >= k-lookback && len(pending) > 0; j-- {
		ls, err := before.states, before.err
		if j != k-1 {
			if err = ix.settleBefore(r, j); err == nil {
				ls, err = lastStates(ctx, r, ix, j)
			}
		}
		if err != nil {
			return nil, err
		}
		lookBack(ix, j, abs, ls, pending)
		w.Lookback++
	}
	w.place(gs)
	if c, freq := ix.Clock(); c != nil {
		w.Wall = WallClock(c, freq, abs).Format(WallLayout)
	}
	return w, nil
}

// atGen is At over generation k alone: the world, with the goroutines
// not yet placed in it.
func atGen(ctx context.Context, r io.ReaderAt, ix *Index, k int, abs trace.Time) (*World, []GoAt, error) {
	w := &World{At: time.Duration(abs - ix.Start()), Generation: ix.Gens[k].Num,
		Procs: []ProcAt{}, Running: []GoAt{}, Runnable: []GoAt{}, Blocked: []GoAt{}, Syscall: []GoAt{}}
	rel := func(x trace.Time) time.Duration { return time.Duration(x - ix.Start()) }
	from := ix.Gens[k].From

	tk := timeline.NewTracker()
	var ps procTable
	var gs []GoAt
	tk.Emit = func(iv *timeline.Interval) {
		// N.B. An interval the generation ended in holds to its end.
		if iv.Start > abs || abs >= iv.End && !iv.Open {
			return
		}
		g := GoAt{ID: int64(iv.G.ID), Name: iv.G.Name, Kind: timeline.KindOf(iv.G.Name).String(), P: -1}
		g.set(iv, abs, ix.Start())
		if iv.G.Existed && iv.Start == tk.Start() {
			// In it when the generation began: since then at least.
			g.SinceAtLeast, g.Since, g.For = true, rel(from), time.Duration(abs-from)
			if iv.State == trace.GoWaiting && iv.Reason == "" && len(g.Stack) == 0 {
				g.Category = "" // a status says no more than blocked
			}
		}
		if iv.State == trace.GoRunning {
			g.P = ps.get(iv.G.ID, iv.Start)
		}
		gs = append(gs, g)
	}
	var procs []bool // by ProcID: seen
	ranges := make(map[string]*rangeAt)
	n := 0
	err := ix.ReadGens(r, k, k, func(ev *trace.Event) bool {
		now := ev.Time()
		if p := ev.Proc(); p != trace.NoProc {
			// N.B. The runtime has at most 1<<10 Ps (GOMAXPROCS).
			if p < 1<<16 && int(p) >= len(procs) {
				procs = append(procs, make([]bool, int(p)+1-len(procs))...)
			}
			if p < 1<<16 {
				procs[p] = true
			}
			if g := ev.Goroutine(); g != trace.NoGoroutine {
				ps.note(g, p, now, abs)
			}
		}
		switch ev.Kind() {
		case trace.EventRangeBegin, trace.EventRangeActive, trace.EventRangeEnd:
			rangeAdd(ranges, ev, now, abs, from)
		}
		tk.Event(ev)
		n++
		return n%4096 != 0 || ctx.Err() == nil
	})
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	if err != nil {
		return nil, nil, err
	}
	// N.B. Finish closes what the generation ended in: a state begun
	// before the instant and still held at the end held at the instant.
	tk.Finish()
	w.GenFrom, w.GenTo = rel(from), rel(max(from, tk.Last()))

	onP := make(map[trace.ProcID]GoAt)
	for _, g := range gs {
		if g.State == "running" && g.P >= 0 {
			onP[trace.ProcID(g.P)] = g
		}
	}
	for id, seen := range procs {
		if !seen {
			continue
		}
		pa := ProcAt{ID: int64(id), State: "idle", Goroutine: -1}
		if g, ok := onP[trace.ProcID(id)]; ok {
			pa.State, pa.Goroutine, pa.Name = "running", g.ID, g.Name
		}
		w.Procs = append(w.Procs, pa)
	}
	for _, rg := range ranges {
		if !rg.on {
			continue
		}
		ra := &RangeAt{Name: rg.name, Since: rel(rg.since), SinceAtLeast: rg.active, For: time.Duration(abs - rg.since)}
		switch {
		case strings.HasPrefix(rg.name, "stop-the-world"):
			w.STW = ra
		case strings.HasPrefix(rg.name, "GC concurrent mark phase"):
			w.GC = ra
		}
	}
	return w, gs, nil
}

// set fills g's state from interval iv, at instant abs of a trace that
// starts at start.
func (g *GoAt) set(iv *timeline.Interval, abs, start trace.Time) {
	g.setState(iv.State, iv.Start, iv.Stack, iv.Reason, iv.Category, abs, start)
}

// setState fills g's state: state since since, entered at stack, for a
// wait with its reason and category.
func (g *GoAt) setState(state trace.GoState, since trace.Time, stack timeline.StackRef, reason string, cat timeline.Category, abs, start trace.Time) {
	g.State, g.Since, g.For, g.SinceAtLeast = stateWord(state), time.Duration(since-start), time.Duration(abs-since), false
	g.Stack = frames(stack)
	g.Reason, g.Category = "", ""
	if state == trace.GoWaiting {
		g.Reason, g.Category = reason, cat.String()
	}
}

// lastState is the state a goroutine was left in at the end of a
// generation read alone, as the Tracker would close it there.
type lastState struct {
	name  string // its start function, as the Tracker names it
	state trace.GoState
	start trace.Time // when it entered the state
	// status is set when it has been in the state since its status
	// opened the generation.
	status bool
	reason string            // why it waits, for a wait
	stack  timeline.StackRef // the stack of the event that put it in the state
}

type lastRead struct {
	states map[trace.GoID]*lastState
	err    error
}

// lastStates reads generation j on its own and gives the state each
// goroutine alive at its end was in, since when and why. It follows only
// what lookBack needs of the Tracker's life rule: each ID's latest
// incarnation and its last change of state.
func lastStates(ctx context.Context, r io.ReaderAt, ix *Index, j int) (map[trace.GoID]*lastState, error) {
	ls := make(map[trace.GoID]*lastState)
	var first trace.Time
	started := false
	n := 0
	err := ix.ReadGens(r, j, j, func(ev *trace.Event) bool {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return false
		}
		if !started {
			first, started = ev.Time(), true
		}
		if ev.Kind() != trace.EventStateTransition {
			return true
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			return true
		}
		from, to := st.Goroutine()
		if from == to {
			return true // restated, not changed
		}
		id := st.Resource.Goroutine()
		g := ls[id]
		now := ev.Time()
		switch {
		case g == nil && to == trace.GoNotExist:
			return true
		case g == nil:
			// N.B. As the Tracker: one first met through its status
			// has been in its state since the generation began.
			g = &lastState{status: from != trace.GoNotExist, start: now}
			if g.status {
				g.start = first
			}
			ls[id] = g
		default:
			g.status, g.start = false, now
		}
		if g.name == "" {
			g.name = timeline.StartFunc(st.Stack)
		}
		if to == trace.GoNotExist {
			delete(ls, id) // ended: a later goroutine with the ID is another
			return true
		}
		g.state, g.stack, g.reason = to, timeline.XStack(ev.Stack()), ""
		if to == trace.GoWaiting {
			g.reason = st.Reason
		}
		return true
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return ls, nil
}

// lookBack settles, from ls (the states at the end of generation j,
// before the one holding instant abs), the goroutines pending: in a state
// since before the generations read so far. Those it finds entering that
// state get its start, reason and stack and leave pending; the others
// are now since at least j's start.
func lookBack(ix *Index, j int, abs trace.Time, ls map[trace.GoID]*lastState, pending map[trace.GoID]*GoAt) {
	from := ix.Gens[j].From
	for id, g := range pending {
		l := ls[id]
		if l == nil {
			continue
		}
		if g.Name == "" {
			g.Name, g.Kind = l.name, timeline.KindOf(l.name).String()
		}
		if stateWord(l.state) != g.State {
			delete(pending, id) // N.B. not expected: a status says what held
			continue
		}
		if !l.status {
			var cat timeline.Category
			if l.state == trace.GoWaiting {
				cat = timeline.Classify(l.reason, l.stack)
			}
			g.setState(l.state, l.start, l.stack, l.reason, cat, abs, ix.Start())
			delete(pending, id)
			continue
		}
		g.Since, g.For = time.Duration(from-ix.Start()), time.Duration(abs-from)
		if len(g.Stack) == 0 {
			// A status with a stack, which a later one lacked.
			g.Stack = frames(l.stack)
		}
	}
}

// place puts the goroutines gs in w's lists, the program's own first, then
// the longest in their state.
func (w *World) place(gs []GoAt) {
	for _, g := range gs {
		switch g.State {
		case "running":
			w.Running = append(w.Running, g)
		case "runnable":
			w.Runnable = append(w.Runnable, g)
		case "blocked":
			w.Blocked = append(w.Blocked, g)
		case "syscall":
			w.Syscall = append(w.Syscall, g)
		}
	}
	for _, l := range [][]GoAt{w.Running, w.Runnable, w.Blocked, w.Syscall} {
		slices.SortFunc(l, func(a, b GoAt) int {
			return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(b.For, a.For), cmp.Compare(a.ID, b.ID))
		})
	}
}

// kindRank puts the program's own goroutines first.
func kindRank(kind string) int {
	if kind == timeline.User.String() {
		return 0
	}
	return 1
}

// ErrOutside marks an instant outside the trace.
var ErrOutside = errors.New("outside the trace")

// WallLayout is how wall-clock times are written.
const WallLayout = "2006-01-02T15:04:05.000000000Z07:00"

// WallClock is instant t of the trace on the wall clock (UTC), by the
// clock snapshot c of a generation of frequency freq.
func WallClock(c *decode.ClockSnapshot, freq uint64, t trace.Time) time.Time {
	wall := time.Unix(int64(c.Sec), int64(c.Nsec)).UTC()
	return wall.Add(time.Duration(t - xexpTime(c.Time, freq)))
}

// TraceTime is wall-clock time w on the trace's clock: the inverse of
// WallClock.
func TraceTime(c *decode.ClockSnapshot, freq uint64, w time.Time) trace.Time {
	wall := time.Unix(int64(c.Sec), int64(c.Nsec))
	return xexpTime(c.Time, freq) + trace.Time(w.Sub(wall))
}

// procTable holds, for each goroutine, the P of its last event before the
// instant and of its first event from the instant on: a goroutine runs on
// one P until it stops, so one of them is the P it ran on at the instant,
// if it was running. They are in a slice by ID, since the runtime hands
// out small IDs (a map took a tenth of the time), in a map past it.
type procTable struct {
	dense  []procSeen
	sparse map[trace.GoID]*procSeen
}

type procSeen struct {
	before, after int32 // P plus one; 0 for none
	at            trace.Time
}

func (t *procTable) seen(g trace.GoID) *procSeen {
	if uint64(g) < maxDenseID {
		if int(g) >= len(t.dense) {
			t.dense = append(t.dense, make([]procSeen, max(int(g)+1, 2*len(t.dense))-len(t.dense))...)
		}
		return &t.dense[g]
	}
	if t.sparse == nil {
		t.sparse = make(map[trace.GoID]*procSeen)
	}
	ps := t.sparse[g]
	if ps == nil {
		ps = &procSeen{}
		t.sparse[g] = ps
	}
	return ps
}

// note records an event of goroutine g on P p at now.
func (t *procTable) note(g trace.GoID, p trace.ProcID, now, abs trace.Time) {
	ps := t.seen(g)
	switch {
	case now < abs:
		ps.before, ps.at = int32(p)+1, now
	case ps.after == 0:
		ps.after = int32(p) + 1
	}
}

// get is the P g ran on in its running interval that began at start, -1
// when none is known.
func (t *procTable) get(g trace.GoID, start trace.Time) int64 {
	ps := t.seen(g)
	switch {
	case ps.after != 0:
		return int64(ps.after) - 1
	case ps.before != 0 && ps.at >= start:
		return int64(ps.before) - 1
	}
	return -1
}

// rangeAt is a range of the runtime's (a GC phase, a pause) as known so
// far.
type rangeAt struct {
	name   string
	since  trace.Time
	on     bool // on at the instant
	active bool // on when the generation began
}

func rangeAdd(ranges map[string]*rangeAt, ev *trace.Event, now, abs, from trace.Time) {
	r := ev.Range()
	if !strings.HasPrefix(r.Name, "stop-the-world") && !strings.HasPrefix(r.Name, "GC concurrent mark phase") {
		return
	}
	key := r.Name + "\x00" + r.Scope.String()
	rg := ranges[key]
	if rg == nil {
		rg = &rangeAt{name: r.Name}
		ranges[key] = rg
	}
	switch ev.Kind() {
	case trace.EventRangeBegin, trace.EventRangeActive:
		if now <= abs {
			rg.since, rg.on = now, true
			rg.active = ev.Kind() == trace.EventRangeActive
			if rg.active {
				rg.since = from
			}
		}
	case trace.EventRangeEnd:
		if now <= abs {
			rg.on = false
		}
	}
}

// settleBefore settles the generation before generation j, so that j's
// start is exact.
func (ix *Index) settleBefore(r io.ReaderAt, j int) error {
	if j == 0 {
		return nil
	}
	return ix.settle(r, j-1)
}

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
	// The generation holding the instant: what was read.
	Generation uint64        `json:"generation" help:"the generation holding the instant, the only one read"`
	GenFrom    time.Duration `json:"generation_from_ns" help:"when that generation starts, from the trace's start: a state held since it began is since at least then"`
	GenTo      time.Duration `json:"generation_to_ns" help:"when it ends"`

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
	Category string `json:"category,omitempty" help:"the wait's category: channel, select, mutex, waitgroup, cond, network, sleep, gc, runtime, other"`
	// Since is when it entered the state; with SinceAtLeast, it was in it
	// when the generation began, so since then at least.
	Since        time.Duration `json:"since_ns" help:"when it entered the state, from the trace's start"`
	SinceAtLeast bool          `json:"since_at_least" help:"it was in the state when its generation began: since_ns is the generation's start, and it may have been so for longer"`
	For          time.Duration `json:"for_ns" help:"how long it had been in the state at the instant"`
	P            int64         `json:"p" help:"the P it ran on, -1 when not running"`
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
func frames(s trace.Stack) []Frame {
	out := []Frame{}
	for f := range s.Frames() {
		if !timeline.IsShimFrame(f.Func) {
			out = append(out, Frame{Func: f.Func, File: f.File, Line: f.Line})
		}
	}
	return out
}

// At reads the generation of the trace in r holding instant t (a duration
// from the trace's start) and says what was going on at t. Only that
// generation is read: a state a goroutine was in when it began is "since
// at least" its start.
func At(ctx context.Context, r io.ReaderAt, ix *Index, t time.Duration) (*World, error) {
	abs := ix.Start() + trace.Time(t)
	k, ok := ix.GenAt(abs)
	if !ok {
		return nil, fmt.Errorf("%w: %v is outside the trace, which lasts %v", ErrOutside, t, ix.Duration())
	}
	w, err := atGen(ctx, r, ix, k, abs)
	if err == errBefore && k > 0 {
		// The index had the generation start at its earliest batch; the
		// one before it lasted past the instant.
		w, err = atGen(ctx, r, ix, k-1, abs)
	}
	if err != nil {
		return nil, err
	}
	if c, freq := ix.Clock(); c != nil {
		w.Wall = WallClock(c, freq, abs).Format(WallLayout)
	}
	return w, nil
}

// errBefore says that the instant comes before the generation read.
var errBefore = errors.New("instant before the generation")

// atGen is At over generation k.
func atGen(ctx context.Context, r io.ReaderAt, ix *Index, k int, abs trace.Time) (*World, error) {
	w := &World{At: time.Duration(abs - ix.Start()), Generation: ix.Gens[k].Num,
		Procs: []ProcAt{}, Running: []GoAt{}, Runnable: []GoAt{}, Blocked: []GoAt{}, Syscall: []GoAt{}}
	rel := func(x trace.Time) time.Duration { return time.Duration(x - ix.Start()) }

	tk := timeline.NewTracker()
	var ps procTable
	var gs []GoAt
	tk.Emit = func(iv *timeline.Interval) {
		// N.B. An interval the generation ended in holds to its end.
		if iv.Start > abs || abs >= iv.End && !iv.Open {
			return
		}
		g := GoAt{ID: int64(iv.G.ID), Name: iv.G.Name, Kind: timeline.KindOf(iv.G.Name).String(), State: stateWord(iv.State),
			Since: rel(iv.Start), For: time.Duration(abs - iv.Start), P: -1, Stack: frames(iv.Stack)}
		g.SinceAtLeast = iv.G.Existed && iv.Start == tk.Start()
		if iv.State == trace.GoWaiting {
			g.Reason, g.Category = iv.Reason, iv.Category.String()
		}
		if iv.State == trace.GoRunning {
			g.P = ps.get(iv.G.ID)
		}
		gs = append(gs, g)
	}
	procs := make(map[trace.ProcID]bool)
	ranges := make(map[string]*rangeAt)
	n := 0
	err := ix.ReadGens(r, k, k, func(ev *trace.Event) bool {
		now := ev.Time()
		if p := ev.Proc(); p != trace.NoProc {
			procs[p] = true
			if g := ev.Goroutine(); g != trace.NoGoroutine && now >= abs {
				// N.B. A goroutine runs on one P until it stops: the
				// P of its first event from the instant on is the one
				// it ran on at the instant, if it was running.
				ps.first(g, p)
			}
		}
		switch ev.Kind() {
		case trace.EventRangeBegin, trace.EventRangeActive, trace.EventRangeEnd:
			rangeAdd(ranges, ev, now, abs, tk)
		}
		tk.Event(ev)
		n++
		return n%4096 != 0 || ctx.Err() == nil
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	if abs < tk.Start() {
		return nil, errBefore
	}
	// N.B. Finish closes what the generation ended in: a state begun
	// before the instant and still held at the end held at the instant.
	tk.Finish()
	w.GenFrom, w.GenTo = rel(tk.Start()), rel(tk.Last())

	onP := make(map[trace.ProcID]GoAt)
	for _, g := range gs {
		switch g.State {
		case "running":
			w.Running = append(w.Running, g)
			if g.P >= 0 {
				onP[trace.ProcID(g.P)] = g
			}
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
	for id := range procs {
		pa := ProcAt{ID: int64(id), State: "idle", Goroutine: -1}
		if g, ok := onP[id]; ok {
			pa.State, pa.Goroutine, pa.Name = "running", g.ID, g.Name
		}
		w.Procs = append(w.Procs, pa)
	}
	slices.SortFunc(w.Procs, func(a, b ProcAt) int { return cmp.Compare(a.ID, b.ID) })
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
	return w, nil
}

// kindRank puts the program's own goroutines first.
func kindRank(kind string) int {
	if kind == timeline.User.String() {
		return 0
	}
	return 1
}

// ErrOutside marks an instant outside the trace.
var ErrOutside = errors.New("time outside the trace")

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

// procTable holds, for each goroutine, the P of its first event from the
// instant on: in a slice by ID, since the runtime hands out small IDs (a
// map took a tenth of the time), in a map past it.
type procTable struct {
	dense  []int32 // P plus one; 0 for none yet
	sparse map[trace.GoID]trace.ProcID
}

func (t *procTable) first(g trace.GoID, p trace.ProcID) {
	if uint64(g) < maxDenseID {
		if int(g) >= len(t.dense) {
			t.dense = append(t.dense, make([]int32, max(int(g)+1, 2*len(t.dense))-len(t.dense))...)
		}
		if t.dense[g] == 0 {
			t.dense[g] = int32(p) + 1
		}
		return
	}
	if t.sparse == nil {
		t.sparse = make(map[trace.GoID]trace.ProcID)
	}
	if _, ok := t.sparse[g]; !ok {
		t.sparse[g] = p
	}
}

// get is the P of g, -1 when none is known.
func (t *procTable) get(g trace.GoID) int64 {
	if uint64(g) < uint64(len(t.dense)) {
		return int64(t.dense[g]) - 1
	}
	if p, ok := t.sparse[g]; ok {
		return int64(p)
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

func rangeAdd(ranges map[string]*rangeAt, ev *trace.Event, now, abs trace.Time, tk *timeline.Tracker) {
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
				rg.since = tk.Start()
			}
		}
	case trace.EventRangeEnd:
		if now <= abs {
			rg.on = false
		}
	}
}

package timeline

import (
	"maps"
	"slices"
	"time"

	"github.com/gotrace-cli/gotrace/internal/order"
	"golang.org/x/exp/trace"
)

// Goroutine is one goroutine's life in the trace. A goroutine ID the
// runtime reuses after a goroutine ended starts a new Goroutine, with the
// next Seq.
type Goroutine struct {
	ID  trace.GoID
	Seq int // how many goroutines had this ID before this one

	// Name is the start function, as go tool trace names goroutines;
	// "" until a stack of the goroutine is seen.
	Name string

	// Existed is set for a goroutine that existed before the trace: its
	// life in the trace begins at the trace's start.
	Existed bool
	// N.B. The unexported flags beside Existed: a Tracker reading a
	// part holds many goroutines.
	ran     bool
	pending bool // held holds intervals begun before its first run
	cont    bool // see in

	Created trace.Time
	// Creator is the goroutine that created it (trace.NoGoroutine when
	// it existed before the trace), and CreatorStack where.
	Creator      trace.GoID
	CreatorStack StackRef

	FirstRun trace.Time // 0 until it runs
	Ended    trace.Time // 0 while it lives

	// Totals is the time spent in each state, indexed by StateIndex;
	// Blocked the time spent blocked in each Category (Other for any
	// beyond), and BlockedIn the categories it was blocked in (bit c for
	// Category c), for no time at all too.
	Totals    [NumStates]time.Duration
	Blocked   [NumCategories]time.Duration
	BlockedIn uint16

	cur  openInterval // the state it is in
	held []Interval   // closed intervals waiting for the name or the profile rule

	// in is set for a goroutine that existed before the generation a
	// part Tracker reads, cont while the interval its status opened is.
	in *inherited
}

// inherited is what a part Tracker keeps for Merge about a goroutine that
// existed before its generation: first is the interval its status opened,
// which continues the one the parts before left open, and early the
// intervals closed before it first ran in the part, whose Profiled the
// parts before decide.
type inherited struct {
	first Interval
	early []Interval
}

// The states Goroutine.Totals counts.
const (
	Running = iota
	Runnable
	Blocked
	Syscall
	NumStates
)

// StateIndex is the Totals index of state s, -1 for states not counted.
func StateIndex(s trace.GoState) int {
	switch s {
	case trace.GoRunning:
		return Running
	case trace.GoRunnable:
		return Runnable
	case trace.GoWaiting:
		return Blocked
	case trace.GoSyscall:
		return Syscall
	}
	return -1
}

// Reason is why g waits, while it does.
func (g *Goroutine) Reason() string { return g.cur.Reason }

// State is the state g is in now, and since when.
func (g *Goroutine) State() (trace.GoState, trace.Time) { return g.cur.State, g.cur.Start }

// Interval is a span of one goroutine's life in one state.
// N.B. Its small fields together: a Tracker reading a part holds many.
type Interval struct {
	G     *Goroutine
	State trace.GoState
	// Category is the kind of Reason.
	Category Category
	// Open is set for an interval the trace ended in.
	Open bool
	// Profiled is go tool trace's rule for its profiles (-pprof): a
	// goroutine's intervals count from its first run on, or all of them
	// for a goroutine that never runs in the trace.
	Profiled bool
	// Reason is the runtime's reason for a wait (and for some stops).
	Reason string
	// Start and End bound the interval. For a goroutine that existed
	// before the trace, its first interval starts at the trace's start
	// and Seen is when its status was written; otherwise Seen is Start.
	Start, Seen, End trace.Time
	// Stack is the stack of the event that put the goroutine in the
	// state: where it blocked, or where it was made runnable.
	Stack StackRef
	// Unblocker is the goroutine that ended a wait (trace.NoGoroutine if
	// none or not a wait), UnblockStack where it did.
	Unblocker    trace.GoID
	UnblockStack StackRef
}

// openInterval is the interval a goroutine is in: an Interval without
// what its end says. N.B. Not an Interval: a Tracker reading a part holds
// many goroutines.
type openInterval struct {
	State       trace.GoState
	Category    Category
	Reason      string
	Start, Seen trace.Time
	Stack       StackRef
}

// opened is iv's open part.
func opened(iv *Interval) openInterval {
	return openInterval{State: iv.State, Category: iv.Category, Reason: iv.Reason, Start: iv.Start, Seen: iv.Seen, Stack: iv.Stack}
}

// closeAt is g's open interval ended at end, not waited on by anyone yet.
func (g *Goroutine) closeAt(end trace.Time) Interval {
	c := &g.cur
	return Interval{G: g, State: c.State, Category: c.Category, Reason: c.Reason, Start: c.Start, Seen: c.Seen, End: end,
		Stack: c.Stack, Unblocker: trace.NoGoroutine}
}

// Tracker follows each goroutine through the events of a trace, in the
// order golang.org/x/exp/trace delivers them.
type Tracker struct {
	// Emit, when set, is called with each interval once it is closed and
	// its goroutine's name and Profiled are known: mostly at once, for a
	// goroutine not yet named or run when that is known. The Interval is
	// valid during the call.
	Emit func(*Interval)
	// End, when set, is called with each goroutine as it ends, and at
	// Finish with those still alive.
	End func(*Goroutine)

	gs          goTable
	closed      Interval // the interval close and Finish hand on
	start, last trace.Time
	started     bool

	// part is set for a Tracker of one generation after the first, read
	// on its own (see NewPartTracker).
	part, onlyTimes bool
	inherited       []*Goroutine // goroutines met through their status, in order
	created         []*Goroutine // goroutines created in the part
	ended           []*Goroutine // goroutines created in the part that ended in it
	// early holds the times of the part's first events, and late the
	// intervals that began at one of them: Merge may have to time them
	// anew (see fixTimes).
	early []trace.Time
	late  []Interval
	// moved are the times of the first events Merge timed anew, from
	// movedAfter on (see TimeInTrace).
	moved      []trace.Time
	movedAfter trace.Time
}

// NewTracker returns a Tracker.
func NewTracker() *Tracker {
	return &Tracker{}
}

// Goroutine is the live goroutine with the ID, nil if none.
func (t *Tracker) Goroutine(id trace.GoID) *Goroutine { return t.gs.get(id) }

// Start and Last are the times of the first and the latest event seen.
func (t *Tracker) Start() trace.Time { return t.start }
func (t *Tracker) Last() trace.Time  { return t.last }

// Event accounts for ev, an event golang.org/x/exp/trace read.
func (t *Tracker) Event(ev *trace.Event) {
	now := ev.Time()
	if !t.see(now) || ev.Kind() != trace.EventStateTransition {
		return
	}
	st := ev.StateTransition()
	if st.Resource.Kind != trace.ResourceGoroutine {
		return
	}
	from, to := st.Goroutine()
	if from == to {
		return // restated, not changed
	}
	// N.B. ev.Stack() once: each call looks the event's kind up.
	t.transition(now, st.Resource.Goroutine(), from, to, ev.Goroutine(), st.Reason, XStack(ev.Stack()), XStack(st.Stack))
}

// Take accounts for ev, an event internal/order read: the same events
// make the same timeline as through Event.
func (t *Tracker) Take(ev *order.Event) {
	now := ev.Time()
	if !t.see(now) {
		return
	}
	id, from, to, ok := ev.GoTransition()
	if !ok || from == to {
		return
	}
	reason := ""
	if to == trace.GoWaiting {
		reason = ev.TransitionReason()
	}
	t.transition(now, id, from, to, ev.Goroutine(), reason, OrderStack(ev.Stack()), OrderStack(ev.TransitionStack()))
}

// see moves the times on to an event at now, and reports whether the
// Tracker follows goroutines.
func (t *Tracker) see(now trace.Time) bool {
	if !t.started {
		t.start, t.started = now, true
	}
	t.last = max(t.last, now)
	if t.part && len(t.early) < maxEarly {
		t.early = append(t.early, now)
	}
	return !t.onlyTimes
}

// transition moves goroutine id from one state to another at now, at an
// event of goroutine by with stack stk; reason is why it waits, and
// named the stack the goroutine's start function is read from.
func (t *Tracker) transition(now trace.Time, id trace.GoID, from, to trace.GoState, by trace.GoID, reason string, stk, named StackRef) {
	g := t.gs.get(id)
	start := now
	if g == nil {
		if to == trace.GoNotExist {
			return
		}
		g = &Goroutine{ID: id, Seq: t.gs.seq(id), Creator: trace.NoGoroutine}
		t.gs.put(id, g)
		switch {
		case from == trace.GoNotExist:
			g.Created = now
			g.Creator, g.CreatorStack = by, stk
			if t.part {
				// Merge numbers it after the incarnations before.
				t.created = append(t.created, g)
			} else {
				t.gs.addSeq(id)
			}
		case t.part:
			// It continues a goroutine of the parts before: Merge
			// says which, and since when it is in this state.
			g.Seq, g.in, g.cont = -1, &inherited{}, true
			g.Existed, g.Created = true, t.start
			start = t.start
			t.inherited = append(t.inherited, g)
		default:
			t.gs.addSeq(id)
			// Its first status is written lazily: it has been in this
			// state since the trace began.
			g.Existed, g.Created = true, t.start
			start = t.start
		}
	} else {
		t.close(g, by, stk, now)
	}
	// N.B. Not from the status of a goroutine met in a part: read in
	// order, that status restates what is known and names nothing.
	if g.Name == "" && !g.cont {
		g.Name = StartFunc(named)
	}
	if to == trace.GoNotExist {
		g.Ended = now
		t.end(g)
		return
	}
	g.cur = openInterval{State: to, Start: start, Seen: now, Stack: stk}
	if to == trace.GoWaiting {
		g.cur.Reason = reason
		g.cur.Category = Classify(reason, stk)
	}
	if to == trace.GoRunning && !g.ran {
		g.ran, g.FirstRun = true, now
		if g.pending {
			// What waited for the first run does not count.
			g.resolve(false)
		}
	}
	if g.Name != "" && !g.pending && len(g.held) > 0 {
		t.flush(g)
	}
}

// close ends g's current interval at now, at an event of goroutine by
// with stack stk.
func (t *Tracker) close(g *Goroutine, by trace.GoID, stk StackRef, now trace.Time) {
	if st := g.cur.State; st == trace.GoUndetermined || st == trace.GoNotExist {
		return
	}
	// N.B. In the Tracker's own Interval: one on the stack would move
	// to the heap, as Emit is given its address.
	iv := &t.closed
	*iv = g.closeAt(now)
	if iv.State == trace.GoWaiting {
		if by != g.ID && by != trace.NoGoroutine {
			iv.Unblocker, iv.UnblockStack = by, stk
		}
	}
	if g.cont {
		// Its start, and so its length, is known to the parts before.
		g.in.first, g.cont = *iv, false
		return
	}
	g.count(iv, time.Duration(now-iv.Start))
	iv.Profiled = g.ran
	if g.in != nil && !g.ran {
		g.in.early = append(g.in.early, *iv)
		return
	}
	t.emit(g, iv, !g.ran)
}

// count adds d, iv's length or a change of it, to g's totals.
func (g *Goroutine) count(iv *Interval, d time.Duration) {
	if i := StateIndex(iv.State); i >= 0 {
		g.Totals[i] += d
	}
	if iv.State == trace.GoWaiting {
		c := min(iv.Category, Other)
		g.Blocked[c] += d
		g.BlockedIn |= 1 << c
	}
}

// emit hands iv on, or holds it while g's name or its profile rule is
// not known.
func (t *Tracker) emit(g *Goroutine, iv *Interval, pending bool) {
	if pending || g.pending || g.Name == "" && len(g.held) < maxHeld {
		g.held = append(g.held, *iv)
		g.pending = g.pending || pending
		return
	}
	t.flush(g)
	t.send(iv)
}

// send hands iv to Emit, or, in a part, keeps it for Merge if it began at
// one of the part's first events.
func (t *Tracker) send(iv *Interval) {
	if t.MayMove(iv.Start) {
		t.late = append(t.late, *iv)
		return
	}
	if t.Emit != nil {
		t.Emit(iv)
	}
}

// maxHeld bounds the intervals held for a goroutine whose name no stack
// has shown yet; past it they go on unnamed. (A goroutine that has not run
// has one or two.)
const maxHeld = 256

// resolve settles the rule for the held intervals begun before the first
// run: they count only for a goroutine that never runs.
func (g *Goroutine) resolve(count bool) {
	for i := range g.held {
		if !g.held[i].Profiled {
			g.held[i].Profiled = count
		}
	}
	g.pending = false
}

func (t *Tracker) flush(g *Goroutine) {
	for i := range g.held {
		t.send(&g.held[i])
	}
	g.held = g.held[:0]
}

// end finishes g, which has ended or outlived the trace.
func (t *Tracker) end(g *Goroutine) {
	if t.part {
		// Its incarnation number, and for one that existed before the
		// part its whole life, is Merge's to settle.
		if g.in == nil {
			if g.pending {
				g.resolve(!g.ran)
			}
			t.flush(g)
			t.ended = append(t.ended, g)
		}
		t.gs.put(g.ID, nil)
		return
	}
	if g.pending {
		g.resolve(!g.ran)
	}
	t.flush(g)
	if t.End != nil {
		t.End(g)
	}
	if g.Ended != 0 {
		t.gs.put(g.ID, nil)
	}
}

// Finish closes the intervals still open at the end of the trace (marked
// Open) and ends every goroutine still alive.
func (t *Tracker) Finish() {
	// N.B. In ID order, so that what Emit sees does not depend on the
	// map's order.
	for _, g := range t.gs.all() {
		if st := g.cur.State; st != trace.GoUndetermined && st != trace.GoNotExist {
			iv := &t.closed
			*iv = g.closeAt(t.last)
			iv.Open = true
			g.count(iv, time.Duration(t.last-iv.Start))
			iv.Profiled = g.ran
			t.emit(g, iv, !g.ran)
		}
		t.end(g)
	}
}

// goTable holds the live goroutines by ID, and counts the goroutines each
// ID has had. The small IDs the runtime hands out are kept in pages of a
// slice (a map lookup at every event cost a fifth of the tracker's time),
// a page dropped when none of its goroutines is alive, so that its size
// follows the goroutines alive and not the highest ID, which grows with
// the trace; the rest in maps. An ID's count is a bit for the first
// goroutine, and an entry in a map only for the IDs the runtime reuses.
type goTable struct {
	pages  []*goPage
	sparse map[trace.GoID]*Goroutine
	used   []uint64           // a bit for each small ID that has had a goroutine
	seqs   map[trace.GoID]int // goroutines past the first, of a small ID; all of a large one
}

type goPage struct {
	gs   [pageSize]*Goroutine
	live int
}

const (
	pageBits = 9
	pageSize = 1 << pageBits
	// maxDense bounds the IDs kept in pages.
	maxDense = 1 << 22
)

func (t *goTable) get(id trace.GoID) *Goroutine {
	if uint64(id) < maxDense {
		if i := int(id >> pageBits); i < len(t.pages) {
			if p := t.pages[i]; p != nil {
				return p.gs[id&(pageSize-1)]
			}
		}
		return nil
	}
	return t.sparse[id]
}

func (t *goTable) put(id trace.GoID, g *Goroutine) {
	if uint64(id) < maxDense {
		i := int(id >> pageBits)
		if i >= len(t.pages) {
			if g == nil {
				return
			}
			t.pages = slices.Grow(t.pages, i+1-len(t.pages))[:i+1]
		}
		p := t.pages[i]
		if p == nil {
			if g == nil {
				return
			}
			p = new(goPage)
			t.pages[i] = p
		}
		slot := &p.gs[id&(pageSize-1)]
		switch {
		case *slot == nil && g != nil:
			p.live++
		case *slot != nil && g == nil:
			if p.live--; p.live == 0 {
				t.pages[i] = nil
				return
			}
		}
		*slot = g
		return
	}
	if g == nil {
		delete(t.sparse, id)
		return
	}
	if t.sparse == nil {
		t.sparse = make(map[trace.GoID]*Goroutine)
	}
	t.sparse[id] = g
}

// seq is how many goroutines the ID has had.
func (t *goTable) seq(id trace.GoID) int {
	if uint64(id) < maxDense {
		if w := int(id >> 6); w >= len(t.used) || t.used[w]&(1<<(id&63)) == 0 {
			return 0
		}
		return 1 + t.seqs[id]
	}
	return t.seqs[id]
}

// addSeq counts one goroutine more for the ID.
func (t *goTable) addSeq(id trace.GoID) {
	if uint64(id) < maxDense {
		w := int(id >> 6)
		if w >= len(t.used) {
			t.used = slices.Grow(t.used, w+1-len(t.used))[:w+1]
		}
		if t.used[w]&(1<<(id&63)) == 0 {
			t.used[w] |= 1 << (id & 63)
			return
		}
	}
	if t.seqs == nil {
		t.seqs = make(map[trace.GoID]int)
	}
	t.seqs[id]++
}

// all lists the live goroutines in ID order.
func (t *goTable) all() []*Goroutine {
	var out []*Goroutine
	for _, p := range t.pages {
		if p == nil {
			continue
		}
		for _, g := range p.gs {
			if g != nil {
				out = append(out, g)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.sparse)) {
		out = append(out, t.sparse[id])
	}
	return out
}

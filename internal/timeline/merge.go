package timeline

import (
	"slices"
	"time"

	"golang.org/x/exp/trace"
)

// A timeline built per generation. Every goroutine that exists when a
// generation begins gets a status in it, so a Tracker can follow one
// generation read on its own (a part Tracker), and the parts' timelines
// join at generation boundaries: each goroutine's interval left open by
// the parts before continues into the first interval the part opened at
// its status. Merge does that join; its cost is the goroutines alive at
// the boundary, not the part's events.

// NewPartTracker returns a Tracker for a generation after the first, read
// on its own, to be merged (Merge) into the Tracker of the generations
// before it. Until then the Goroutines it hands to Emit are its own: their
// ID, State and intervals are right, while Seq, Name and the rest of a
// goroutine's life are settled by Merge, in place. It never calls End:
// Merge does, on the Tracker merged into.
func NewPartTracker() *Tracker {
	t := NewTracker()
	t.part = true
	return t
}

// Merge absorbs p, a part Tracker that has read the generation right after
// those t has seen, so that t is what it would be had it read p's events
// itself. It emits on t the intervals that cross the boundary and those
// whose profile rule was waiting for the parts before, and on p those p
// kept because they began at its first events.
//
// golang.org/x/exp/trace never lets time go back: reading the trace
// whole, it moves the first events of a generation that are not later
// than the last one before, which it cannot do reading the part alone.
// Merge times those events as it would (see fixTimes). It reports false,
// and changes nothing, when they are more than the part kept the times
// of: the trace must then be read in order.
func (t *Tracker) Merge(p *Tracker) bool {
	if !p.started {
		return true
	}
	if t.started {
		// 0. The part's first events as the trace read whole times
		// them.
		moved := 0
		for moved < len(p.early) && p.early[moved] < t.last+trace.Time(moved)+1 {
			moved++
		}
		if moved == maxEarly {
			return false
		}
		if moved > 0 {
			p.fixTimes(t.last, p.early[:moved])
		}
	} else {
		t.start, t.started = p.start, true
	}
	t.last = max(t.last, p.last)
	for i := range p.late {
		if p.Emit != nil {
			p.Emit(&p.late[i])
		}
	}
	p.late = nil

	// 1. The goroutines created in the part come after the incarnations
	// of their IDs before it.
	for _, g := range p.created {
		g.Seq = t.gs.seq(g.ID)
		t.gs.addSeq(g.ID)
	}

	// 2. The goroutines that existed before the part continue their
	// lives, in the order the part met them.
	for _, pg := range p.inherited {
		g := t.gs.get(pg.ID)
		if g == nil {
			// N.B. Read whole, golang.org/x/exp/trace refuses the status
			// of a goroutine it has not seen after the first generation.
			// Taken as existing since the trace began.
			g = &Goroutine{ID: pg.ID, Seq: t.gs.seq(pg.ID), Creator: trace.NoGoroutine, Existed: true, Created: t.start}
			t.gs.addSeq(pg.ID)
			g.cur = opened(&pg.in.first)
			if pg.cont {
				g.cur = pg.cur
			}
			g.cur.Start = t.start
			t.gs.put(g.ID, g)
		}
		t.absorb(g, pg)
	}

	// 3. The goroutines created in the part that live on are t's now;
	// those that ended in it end.
	for _, g := range p.created {
		if g.Ended == 0 && p.gs.get(g.ID) == g {
			t.gs.put(g.ID, g)
		}
	}
	for _, g := range p.ended {
		if t.End != nil {
			t.End(g)
		}
	}
	return true
}

// absorb continues g, alive when the part began, with pg, the part's view
// of it.
func (t *Tracker) absorb(g *Goroutine, pg *Goroutine) {
	if !pg.cont {
		// The interval open at the boundary ends where the part's first
		// one did; then come those closed before it ran in the part.
		iv := g.closeAt(pg.in.first.End)
		iv.Unblocker, iv.UnblockStack = pg.in.first.Unblocker, pg.in.first.UnblockStack
		g.count(&iv, time.Duration(iv.End-iv.Start))
		iv.Profiled = g.ran
		t.emit(g, &iv, !g.ran)
		for i := range pg.in.early {
			iv := pg.in.early[i]
			iv.G, iv.Profiled = g, g.ran
			t.emit(g, &iv, !g.ran)
		}
		if pg.cur.Start == pg.in.first.Start {
			// It ended with the interval it began the part in.
			g.cur = opened(&iv)
		} else {
			g.cur = pg.cur
		}
	}
	if g.Name == "" {
		g.Name = pg.Name
	}
	if pg.ran && !g.ran {
		g.ran, g.FirstRun = true, pg.FirstRun
		if g.pending {
			g.resolve(false)
		}
	}
	for i := range pg.held {
		iv := pg.held[i]
		iv.G = g
		t.emit(g, &iv, false)
	}
	if g.Name != "" && !g.pending && len(g.held) > 0 {
		t.flush(g)
	}
	for i, d := range pg.Totals {
		g.Totals[i] += d
	}
	for i, d := range pg.Blocked {
		g.Blocked[i] += d
	}
	g.BlockedIn |= pg.BlockedIn
	// What the part handed to Emit points at pg: it is g from now on.
	pg.Seq, pg.Name, pg.Existed, pg.Created = g.Seq, g.Name, g.Existed, g.Created
	pg.Creator, pg.CreatorStack, pg.FirstRun = g.Creator, g.CreatorStack, g.FirstRun
	pg.Totals, pg.Blocked, pg.BlockedIn = g.Totals, g.Blocked, g.BlockedIn
	pg.in, pg.held = nil, nil
	if pg.Ended != 0 {
		g.Ended = pg.Ended
		t.end(g)
	}
}

// maxEarly bounds the first events of a part whose times Merge can move.
const maxEarly = 256

// fixTimes gives the part's first events, at the times moved, the times
// golang.org/x/exp/trace gives them reading the trace whole, where the
// event before the part is at last: it never lets time go back, so the
// i-th is at last+i+1. Every event after them keeps its time (x/exp/trace
// gave each event at least a nanosecond more than the one before, read
// whole or not, and the first one not moved is where the two agree).
// What the part holds at those times is timed anew, and the totals that
// counted them are set right.
func (p *Tracker) fixTimes(last trace.Time, moved []trace.Time) {
	p.movedAfter, p.moved = last, moved
	fix := p.TimeInTrace
	// fixIv times iv anew, and its goroutine's totals with it when they
	// counted it.
	fixIv := func(iv *Interval, counted bool) {
		d := iv.End - iv.Start
		iv.Start, iv.Seen, iv.End = fix(iv.Start), fix(iv.Seen), fix(iv.End)
		if counted {
			iv.G.count(iv, time.Duration(iv.End-iv.Start)-time.Duration(d))
		}
	}
	p.start, p.last = fix(p.start), fix(p.last)
	for i := range p.late {
		fixIv(&p.late[i], true)
	}
	fixG := func(g *Goroutine) {
		g.Created, g.FirstRun, g.Ended = fix(g.Created), fix(g.FirstRun), fix(g.Ended)
		g.cur.Start, g.cur.Seen = fix(g.cur.Start), fix(g.cur.Seen)
		for i := range g.held {
			fixIv(&g.held[i], true)
		}
		if in := g.in; in != nil {
			for i := range in.early {
				fixIv(&in.early[i], true)
			}
			in.first.Start, in.first.Seen, in.first.End = fix(in.first.Start), fix(in.first.Seen), fix(in.first.End)
		}
	}
	for _, g := range p.created {
		fixG(g)
	}
	for _, g := range p.inherited {
		fixG(g)
	}
}

// MayMove reports, while the part Tracker p reads, whether Merge may time
// anew an event it read at t: one of its first events, or one no later.
func (p *Tracker) MayMove(t trace.Time) bool {
	return p.part && (len(p.early) < maxEarly || t <= p.early[maxEarly-1])
}

// TimeInTrace is the time golang.org/x/exp/trace gives, reading the trace
// whole, to an event that the part Tracker p, merged, read at t: t itself
// but for the part's first events (see Merge). For a consumer of the
// parts that keeps times of its own.
func (p *Tracker) TimeInTrace(t trace.Time) trace.Time {
	if i, ok := slices.BinarySearch(p.moved, t); ok {
		return p.movedAfter + trace.Time(i) + 1
	}
	return t
}

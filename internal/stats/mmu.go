package stats

import (
	"strings"

	"golang.org/x/exp/trace"
)

// MMUWindows are the window sizes the model reports, in nanoseconds.
var MMUWindows = [4]int64{1e6, 10e6, 100e6, 1e9}

// utilPoint is a step of the mutator utilization function: from Time on,
// the program had Util (0 to 1) of the CPU.
type utilPoint struct {
	t    int64
	util float64
}

// mmuTracker follows the events that take CPU away from the program —
// stop-the-world pauses, background mark workers, mark assists and
// incremental sweeps — and turns them into a utilization step function, the
// way go tool trace does for its MMU page with every flag set and
// utilization shared across all Ps. The function streams into one sliding
// window per size, so memory grows with the steps inside the longest
// window, not with the trace.
//
// N.B. A mark assist or sweep found already running at the start of the
// trace lowers utilization back to the start. Such news can only come in
// the first generation, so steps are held back until the second sync and
// corrected there.
type mmuTracker struct {
	ps      []int // per P: GC work in progress, > 0 means the P is lost to GC
	gcPs    int   // Ps with ps[i] > 0
	stw     int
	procs   []utilPoint // GOMAXPROCS changes during the held-back prefix (util holds n)
	nSync   int
	pending utilPoint
	havePen bool
	held    []utilPoint // steps of the first generation
	windows [len(MMUWindows)]mmuWindow
	lastT   int64
	started bool
}

func (m *mmuTracker) init() {
	for i := range m.windows {
		m.windows[i] = mmuWindow{w: MMUWindows[i], mmu: 1}
	}
}

func isGCSTW(name string) bool {
	return strings.HasPrefix(name, "stop-the-world") && strings.Contains(name, "GC")
}

// setProcs handles a GOMAXPROCS metric.
func (m *mmuTracker) setProcs(t int64, n int) {
	if n < 0 || n > 1<<20 {
		return
	}
	if len(m.ps) > n {
		for _, g := range m.ps[n:] {
			if g > 0 {
				m.gcPs--
			}
		}
		m.ps = m.ps[:n]
	}
	for len(m.ps) < n {
		m.ps = append(m.ps, 0)
	}
	if m.nSync <= 1 && (len(m.procs) == 0 || int(m.procs[len(m.procs)-1].util) != n) {
		m.procs = append(m.procs, utilPoint{t, float64(n)})
	}
	m.started = true
}

// procGC adds d to P p's GC work.
func (m *mmuTracker) procGC(p trace.ProcID, d int) {
	if p < 0 || int(p) >= len(m.ps) {
		return
	}
	was := m.ps[p] > 0
	m.ps[p] += d
	if now := m.ps[p] > 0; now != was {
		if now {
			m.gcPs++
		} else {
			m.gcPs--
		}
	}
}

// activeAtStart lowers the held-back steps by one P's share: a sweep or
// assist that was running before the trace began.
func (m *mmuTracker) activeAtStart() {
	if m.nSync > 1 {
		return
	}
	pi := 0
	lower := func(u *utilPoint) {
		for pi < len(m.procs)-1 && m.procs[pi+1].t < u.t {
			pi++
		}
		if len(m.procs) > 0 && m.procs[pi].util > 0 {
			u.util = max(0, u.util-1/m.procs[pi].util)
		}
	}
	for i := range m.held {
		lower(&m.held[i])
	}
	if m.havePen {
		lower(&m.pending)
	}
}

// sync notes a sync event; after the second the held-back steps are final.
func (m *mmuTracker) sync(n int) {
	m.nSync = n
	if n > 1 && m.held != nil {
		for _, u := range m.held {
			m.stream(u)
		}
		m.held = nil
		m.procs = nil
	}
}

// update records the utilization at time t after an event.
func (m *mmuTracker) update(t int64) {
	m.lastT = t
	if !m.started || len(m.ps) == 0 {
		return
	}
	gc := m.gcPs
	if m.stw > 0 {
		gc = len(m.ps)
	}
	m.add(utilPoint{t, 1 - float64(gc)/float64(len(m.ps))})
}

// add merges steps as go tool trace does: an unchanged value is no step,
// and at one timestamp the lowest value wins.
func (m *mmuTracker) add(u utilPoint) {
	if m.havePen {
		if u.util == m.pending.util {
			return
		}
		if u.t == m.pending.t {
			if u.util < m.pending.util {
				m.pending = u
			}
			return
		}
		m.commit(m.pending)
	}
	m.pending, m.havePen = u, true
}

// lastCommitted returns the time of the last committed step.
func (m *mmuTracker) lastCommitted() (int64, bool) {
	if n := len(m.held); n > 0 {
		return m.held[n-1].t, true
	}
	w := &m.windows[0]
	return w.last.t, w.n > 0
}

func (m *mmuTracker) commit(u utilPoint) {
	if m.nSync <= 1 {
		m.held = append(m.held, u)
		return
	}
	m.stream(u)
}

func (m *mmuTracker) stream(u utilPoint) {
	for i := range m.windows {
		m.windows[i].add(u)
	}
}

// finish ends the function at end, the time of the trace's last event, and
// returns the MMU per window.
func (m *mmuTracker) finish(end int64) [len(MMUWindows)]float64 {
	var out [len(MMUWindows)]float64
	if !m.started {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	// N.B. The closing step is committed even when utilization is
	// already 0: dropping it as "no change" would end the function at
	// its last change and cut every window after it.
	end = max(end, m.lastT)
	if m.havePen {
		m.commit(m.pending)
		m.havePen = false
	}
	if last, ok := m.lastCommitted(); !ok || end > last {
		m.commit(utilPoint{end, 0})
	}
	m.nSync = 2
	m.sync(2)
	for i := range m.windows {
		out[i] = m.windows[i].result()
	}
	return out
}

// mmuWindow finds the lowest mean of the utilization step function over
// any window of length w inside the function's span, as the steps stream
// by.
//
// The integral of a step function is piecewise linear, so the mean over
// [s, s+w] as a function of s is piecewise linear too, with corners only
// where s or s+w is a step. So the minimum is at a window that starts at a
// step or ends at one:
//  1. When a step arrives at time T, windows that start at earlier steps
//     s with s+w <= T end inside the last segment; evaluate them.
//  2. The window ending at T starts at T-w; find its value by
//     interpolating in the segment that holds T-w.
//  3. Drop steps before both the oldest unevaluated start and the segment
//     holding T-w.
type mmuWindow struct {
	w     int64
	pts   []mmuPoint
	head  int // first live point
	start int // first point whose start window is not evaluated yet
	lo    int // segment holding T-w
	mmu   float64
	seen  bool
	first int64
	last  mmuPoint
	n     int
}

type mmuPoint struct {
	t    int64
	util float64
	cum  float64 // integral of util from the first step to t
}

func (w *mmuWindow) add(u utilPoint) {
	if w.n == 0 {
		w.first = u.t
		p := mmuPoint{u.t, u.util, 0}
		w.pts = append(w.pts, p)
		w.last, w.n = p, 1
		return
	}
	if u.t < w.last.t {
		u.t = w.last.t // clamp: time never runs backwards in the function
	}
	last := w.last
	cum := last.cum + last.util*float64(u.t-last.t)
	// 1. Windows starting at earlier steps that end by now.
	for w.start < len(w.pts) && w.pts[w.start].t+w.w <= u.t {
		s := w.pts[w.start]
		e := s.t + w.w
		w.observe(last.cum + last.util*float64(e-last.t) - s.cum)
		w.start++
	}
	p := mmuPoint{u.t, u.util, cum}
	w.pts = append(w.pts, p)
	w.last = p
	w.n++
	// 2. The window ending here.
	if s := u.t - w.w; s >= w.first {
		if w.lo < w.head {
			w.lo = w.head
		}
		for w.lo+1 < len(w.pts) && w.pts[w.lo+1].t <= s {
			w.lo++
		}
		q := w.pts[w.lo]
		w.observe(cum - (q.cum + q.util*float64(s-q.t)))
	}
	// 3. Drop what no window needs.
	keep := min(w.start, w.lo)
	if keep > w.head {
		w.head = keep
	}
	if w.head > 1024 && w.head > len(w.pts)/2 {
		n := copy(w.pts, w.pts[w.head:])
		w.pts = w.pts[:n]
		w.start -= w.head
		w.lo -= w.head
		w.head = 0
	}
}

func (w *mmuWindow) observe(total float64) {
	u := total / float64(w.w)
	if !w.seen || u < w.mmu {
		w.mmu, w.seen = u, true
	}
}

// result returns the MMU. A window longer than the function's span is cut
// to the span, which leaves the mean over the whole span.
func (w *mmuWindow) result() float64 {
	if w.n == 0 {
		return 1
	}
	if !w.seen {
		span := w.last.t - w.first
		if span <= 0 {
			return 1
		}
		return clamp01(w.last.cum / float64(span))
	}
	return clamp01(w.mmu)
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

package view

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// Trace is what the model shows: the trace's span, and either its data
// read in full or its generations' summaries, from which the generations
// in view are read in full as they come into view.
type Trace struct {
	// Start and End bound the trace.
	Start, End trace.Time
	// Full is the whole trace read in full, for a trace small enough.
	Full *Data
	// Gens summarise the generations of a larger trace, in order.
	Gens []GenSummary
	// heap, gc and stw are the summaries' heap samples, GC cycles and
	// stopped worlds, all the generations' in one array each (see
	// joinParts).
	heap    []Sample
	gc, stw []Range
	// file holds the generations; header is the trace's header, which
	// makes any run of whole generations a trace of its own.
	file   io.ReaderAt
	header []byte
	// maxBytes bounds what is read in full (see readable).
	maxBytes float64
	// src is the file again, nil when there is none to read again.
	src *source
	// reading is held by whatever reads generations from file: one at
	// a time, so that the groups' pass (see groupsCmd), the generations
	// read in full and the findings never hold their generations in
	// memory at once.
	reading sync.Mutex
}

// NewTrace is the Trace of data read in full.
func NewTrace(d *Data) *Trace {
	return &Trace{Start: d.Start, End: d.End, Full: d}
}

// A window is read in full, with a window's width on either side, when
// that spans at most maxGens generations and about maxBytes of them;
// a wider one is drawn from the summaries. golang.org/x/exp/trace reads
// the generations whole, but only what touches the window is kept.
const (
	maxGens  = 2
	maxBytes = 4 << 20
)

// around is the stretch read in full for the window [from, to): the
// window and as much again on either side, within the trace.
func (t *Trace) around(from, to trace.Time) (lo, hi trace.Time) {
	w := to - from
	return max(from-min(w, from), t.Start), min(to+w, t.End)
}

// readable reports whether [lo, hi] is read in full, and from which
// generations.
func (t *Trace) readable(lo, hi trace.Time) (first, last int, ok bool) {
	first, last = t.gensIn(lo, hi+1)
	if first < 0 || last-first+1 > maxGens {
		return first, last, false
	}
	var bytes float64
	for i := first; i <= last; i++ {
		g := &t.Gens[i]
		span := float64(max(g.Last-g.Start, 1))
		in := float64(min(hi, g.Last) - max(lo, g.Start))
		bytes += float64(g.End-g.Offset) * max(in, 0) / span
	}
	return first, last, bytes <= t.maxBytes
}

// gens is generations first to last of the file as a trace of their
// own, and its size.
func (t *Trace) gens(first, last int) (io.ReaderAt, int64) {
	a, b := t.Gens[first].Offset, t.Gens[last].End
	return joined{t.header, io.NewSectionReader(t.file, a, b-a)}, int64(len(t.header)) + b - a
}

// relocate moves the offset of a *decode.Error in generations first on,
// read as a trace of their own (see gens), to the file's.
func (t *Trace) relocate(err error, first int) error {
	var de *decode.Error
	if errors.As(err, &de) && de.Offset >= format.HeaderSize {
		c := *de
		c.Offset += t.Gens[first].Offset - format.HeaderSize
		return &c
	}
	return err
}

// load reads generations first to last in full, keeping [lo, hi]. The
// generation waiting for the next one's first timestamp is read again
// from the file rather than copied.
func (t *Trace) load(first, last int, lo, hi trace.Time) (*Data, error) {
	t.reading.Lock()
	defer t.reading.Unlock()
	at, size := t.gens(first, last)
	d, err := LoadRange(io.NewSectionReader(at, 0, size), at, lo, hi)
	if err = t.relocate(err, first); err != nil {
		return d, fmt.Errorf("generations %d–%d: %w", t.Gens[first].Num, t.Gens[last].Num, err)
	}
	return d, nil
}

// loadedMsg brings the data of generations read in the background.
type loadedMsg struct {
	data        *Data
	first, last int
	lo, hi      trace.Time
	err         error
}

// need starts reading the generations the window needs in full, if it
// spans few enough and they are not read or being read already.
func (m *Model) need() tea.Cmd {
	if m.tr.Full != nil || m.loading || m.covers() {
		return nil
	}
	lo, hi := m.tr.around(m.from, m.to)
	first, last, ok := m.tr.readable(lo, hi)
	if !ok {
		return nil
	}
	m.loading = true
	m.drop()
	tr := m.tr
	return func() tea.Msg {
		d, err := tr.load(first, last, lo, hi)
		return loadedMsg{data: d, first: first, last: last, lo: lo, hi: hi, err: err}
	}
}

// drop lets the data read go before the next is read, so that the two
// are never held at once: it does not hold the window, which is drawn
// from the summaries meanwhile. What goes with it: its tasks in the tasks
// pane, the groups opened; the goroutines a search found are kept by ID
// and time (see found), the task marked on the ruler and the one whose
// critical path is drawn as copies.
func (m *Model) drop() {
	if m.data == nil {
		return
	}
	m.data, m.tasks, m.task = nil, nil, 0
	clear(m.open)
	if m.marked != nil {
		t := *m.marked
		m.marked = &t
	}
	if m.whyTask != nil {
		t := *m.whyTask
		m.whyTask = &t
	}
	m.buildLanes()
}

// covers reports whether the data read holds the window.
func (m *Model) covers() bool {
	return m.data != nil && (m.tr.Full != nil || m.lo <= m.from && m.to <= m.hi)
}

func (m *Model) loaded(msg loadedMsg) tea.Cmd {
	m.loading = false
	if msg.err != nil {
		m.status = msg.err.Error()
	}
	if msg.data != nil {
		m.first, m.last, m.lo, m.hi = msg.first, msg.last, msg.lo, msg.hi
		m.setData(msg.data)
		if m.seek != nil {
			m.sought()
		}
	}
	return m.need()
}

// fine reports whether the window is drawn from data read in full.
func (m *Model) fine() bool { return m.covers() }

// procs are the Ps the summaries saw running goroutines, by ID.
func (t *Trace) procs() []trace.ProcID {
	seen := make(map[trace.ProcID]bool)
	for i := range t.Gens {
		for p := range t.Gens[i].Busy {
			seen[p] = true
		}
	}
	ids := slices.Collect(maps.Keys(seen))
	slices.Sort(ids)
	return ids
}

// gcRanges, stwRanges and heap are what the GC band and the heap lane
// draw: from the data when the window is drawn from it, else from the
// summaries.
func (m *Model) gcRanges() (gc, stw []Range) {
	if m.drawn && m.data != nil {
		return m.data.GC, m.data.STW
	}
	return m.tr.gc, m.tr.stw
}

func (m *Model) heap() []Sample {
	if m.drawn && m.data != nil {
		return m.data.Heap
	}
	return m.tr.heap
}

// busySamples is, for each sample of the grid, the share of it that P p
// ran goroutines, by the summaries.
func (m *Model) busySamples(p trace.ProcID, gr grid) []float64 {
	busy := make([]trace.Time, gr.n)
	for i := range m.tr.Gens {
		g := &m.tr.Gens[i]
		if g.Last < gr.from || g.Start >= gr.to {
			continue
		}
		bg := g.bucketGrid()
		for b, v := range g.Busy[p] {
			if v == 0 {
				continue
			}
			// Spread the bucket's busy time over the samples it covers,
			// in proportion.
			lo, hi := bg.at(b), bg.at(b+1)
			for k := gr.index(max(lo, gr.from)); k < gr.n && gr.at(k) < hi; k++ {
				if o := min(hi, gr.at(k+1)) - max(lo, gr.at(k)); o > 0 && hi > lo {
					busy[k] += trace.Time(float64(v) * float64(o) / float64(hi-lo))
				}
			}
		}
	}
	out := make([]float64, gr.n)
	for k := range busy {
		out[k] = min(float64(busy[k])/float64(max(gr.at(k+1)-gr.at(k), 1)), 1)
	}
	return out
}

// Settle runs the model's Init command at once, as Send does.
func (m *Model) Settle() {
	m.headless()
	m.settle(m.Init())
}

// Send hands msg to the model and runs what it asks for at once, in
// this goroutine, up to the next screen: reading generations, walking a
// critical path, and the messages that brings. Commands that wait or quit are dropped. It is
// for drawing a screen without a terminal, and for tests.
func (m *Model) Send(msg tea.Msg) {
	m.headless()
	_, cmd := m.Update(msg)
	m.settle(cmd)
}

// headless readies the model to be driven by Send: the search's cursor
// does not blink, as a blink is a command that waits (half a second a
// key typed into the search, run at once).
func (m *Model) headless() {
	if st := m.input.Styles(); st.Cursor.Blink {
		st.Cursor.Blink = false
		m.input.SetStyles(st)
	}
}

func (m *Model) settle(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case loadedMsg, whyMsg, findingsMsg, groupsMsg:
		m.Send(msg)
	case tea.BatchMsg:
		for _, c := range msg {
			m.settle(c)
		}
	}
}

// gensIn are the first and last generations holding some of [from, to),
// -1 for none.
func (t *Trace) gensIn(from, to trace.Time) (first, last int) {
	first, last = -1, -1
	for i := range t.Gens {
		g := &t.Gens[i]
		if g.Last >= from && g.Start < to {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

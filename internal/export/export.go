// Package export turns an execution trace into a timeline that trace viewers
// open without a server: Perfetto's protobuf trace format (ui.perfetto.dev)
// or the Chrome JSON trace event format (ui.perfetto.dev, chrome://tracing).
//
// The timeline has one track per P, showing the goroutine running on it, and
// one per goroutine, showing its states: running, runnable, blocked (with the
// reason) and in a system call. Each goroutine has a child track for its user
// regions, logs and goroutine-scoped runtime ranges (mark assists); each P one
// for P-scoped ranges (sweeping). Global tracks hold garbage collections,
// stop-the-world pauses, the heap in use and the heap goal as counters, and
// user tasks nest as a tree of tracks. Goroutine creation and unblocking are
// flows from the creating or unblocking goroutine; CPU samples are instant
// events with their stacks.
//
// Export streams: it writes events as the trace is read, holding only the
// state of live goroutines and open slices, so memory grows with the largest
// generation, not with the file.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/gotrace-cli/gotrace/internal/order"
	tmodel "github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// Format is an output format.
type Format string

const (
	Perfetto Format = "perfetto" // Perfetto's protobuf trace format
	Chrome   Format = "chrome"   // Chrome JSON trace event format
)

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Perfetto, Chrome:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q (want perfetto or chrome)", s)
}

// Options control an export.
type Options struct {
	Format Format
	// Name names the process in the viewer, e.g. the trace file's name.
	Name string
	// From and To cut a window, as durations from the first event read.
	// To == 0 means the end. Slices that cross an edge are cut at it.
	From, To time.Duration
	// At, when not nil, reads the input at its offsets (the file the
	// export reads from its start), so that the generation waiting for
	// the next one's first timestamp is read again, not held in memory.
	At io.ReaderAt
	// Progress, when set, is called with how much of the input, in
	// bytes from its start, has been exported, as the generations read
	// a generation per worker come in.
	Progress func(read int64)
}

// Summary counts what an export wrote.
type Summary struct {
	Tracks   int // tracks declared (counter tracks included)
	Slices   int // slices begun
	Instants int // instant events (CPU samples, logs, flow sources)
	Counters int // counter values
	Flows    int // flows begun
	Samples  int // CPU samples among the instants
}

// Export reads the trace from r and writes the timeline to w. When ctx is
// done it stops and returns ctx's error; what it wrote is then incomplete.
func Export(ctx context.Context, r io.Reader, w io.Writer, opts Options) (Summary, error) {
	var em emitter
	switch opts.Format {
	case Perfetto:
		em = newPerfettoWriter(w)
	case Chrome:
		em = newChromeWriter(w)
	default:
		return Summary{}, fmt.Errorf("unknown format %q (want perfetto or chrome)", opts.Format)
	}
	name := opts.Name
	if name == "" {
		name = "Go program"
	}
	tl := newTimeline(em, name, opts)
	readErr := errInOrder
	if ra, size, ok := readerSize(r, opts.At); ok {
		readErr = tl.runParts(ctx, ra, size)
		if !errors.Is(readErr, errInOrder) {
			tl.finish(tl.last)
		}
		if errors.Is(readErr, errPartDamaged) && ctx.Err() == nil {
			readErr = damageIn(ctx, ra, size, readErr)
		}
	}
	if errors.Is(readErr, errInOrder) {
		var src *tmodel.Source
		src, readErr = tl.run(ctx, r, opts.At)
		if src == nil {
			return Summary{}, readErr // not a trace, or the old format's error
		}
	}
	// N.B. on damage the timeline is finished and closed all the same:
	// what was read before it makes a whole file.
	if err := em.close(); err != nil {
		return tl.sum, err
	}
	if err := ctx.Err(); err != nil {
		return tl.sum, err
	}
	if readErr != nil {
		return tl.sum, &DamageError{Err: readErr}
	}
	if !tl.active {
		return tl.sum, fmt.Errorf("%w: the window %v-%v is outside the trace (%v long)", ErrEmptyWindow, opts.From, opts.To, time.Duration(tl.last-tl.origin))
	}
	return tl.sum, nil
}

// ErrEmptyWindow is returned (wrapped) when a --time window holds nothing.
var ErrEmptyWindow = errors.New("nothing to export")

// DamageError reports input that could not be read to its end. The output
// is complete and well-formed up to the damage: every event read before it,
// with the slices still open closed at the last event read.
type DamageError struct{ Err error }

func (e *DamageError) Error() string { return "reading trace: " + e.Err.Error() }
func (e *DamageError) Unwrap() error { return e.Err }

// arg is a named value attached to a slice or instant.
type arg struct {
	name  string
	str   string
	num   int64
	isNum bool
}

func numArg(name string, v int64) arg { return arg{name: name, num: v, isNum: true} }
func strArg(name, v string) arg       { return arg{name: name, str: v} }

// frame is one stack frame, outermost first in a stack.
type frame struct {
	fn, file string
	line     uint64
}

// trackInfo describes a track to the emitter.
type trackInfo struct {
	uuid, parent uint64 // parent 0: the process
	name         string
	counter      bool // a counter track of bytes
	sort         int  // order among siblings, for viewers that take one
}

// event is one thing on a track, handed to the emitter.
type event struct {
	ts       int64 // nanoseconds from the first event read
	track    uint64
	name     string
	cat      string
	args     []arg
	stack    []frame
	flowsOut []uint64 // flows that start here
	flowsIn  []uint64 // flows that end here
	value    int64    // counters
}

// emitter writes one output format. Tracks are declared before their first
// event, parents before children; events come in time order.
type emitter interface {
	process(name string)
	track(t *trackInfo)
	begin(e *event)
	end(e *event)
	instant(e *event)
	counter(e *event)
	// forget says a track will have no more events, so the emitter may
	// drop what it keeps about it.
	forget(uuid uint64)
	// reset says a new generation begins: what the emitter keeps for
	// the generation before (interned names and stacks) may go.
	reset()
	close() error
}

// Track kinds: a track's uuid is an ID shifted left by kindBits, with the
// kind below, so uuids stay short varints in the protobuf output.
const (
	kindGlobal  = 1 // IDs below
	kindProc    = 2 // P tracks, by ProcID
	kindProcRng = 3 // P-scoped runtime ranges, by ProcID
	kindG       = 4 // goroutine state tracks, by GoID
	kindGAnn    = 5 // goroutine regions, logs and ranges, by GoID
	kindTask    = 6 // user tasks, by TaskID
	kindProcess = 7 // the process track itself: uuid 7

	kindBits     = 3
	processTrack = 0 // a parent of 0 means the process
)

// Global track IDs, in display order.
const (
	trackGC = iota + 1
	trackSTW
	trackHeap
	trackGoal
	trackSamples
	trackProcs
	trackGoroutines
	trackTasks
)

func uuid(kind int, id uint64) uint64 { return id<<kindBits | uint64(kind) }

func uuidKind(u uint64) int  { return int(u & (1<<kindBits - 1)) }
func uuidID(u uint64) uint64 { return u >> kindBits }

// track is a track's state in the timeline: declared yet or not, its open
// slices and, for counters, the last value.
type track struct {
	info     trackInfo
	declared bool
	open     []openSlice // open slices, innermost last
	last     int64       // counters: the latest value
	hasLast  bool
	arg      [1]arg // P tracks: the argument of the slice open on it
}

// openSlice is what the timeline keeps of an open slice: enough to write
// it again at the start of a window.
type openSlice struct {
	name, cat string
	args      []arg
}

// gstate is what the timeline keeps about a live goroutine.
type gstate struct {
	name   string
	proc   trace.ProcID // where it runs, NoProc when not running
	flowIn uint64       // a flow to end at its next slice, 0 for none
	// gt and ann are its state and annotation tracks, once asked for.
	gt, ann *track
}

// table holds values by small number in a slice, and the rest, of which
// there are few, in a map: a map lookup at every event cost the timeline
// a fifth of its time.
type table[T comparable] struct {
	dense  []T
	sparse map[uint64]T
}

// maxDense bounds the numbers kept in the slice.
const maxDense = 1 << 22

func (t *table[T]) get(id uint64) T {
	if id < uint64(len(t.dense)) {
		return t.dense[id]
	}
	return t.sparse[id]
}

// put sets the value of id; the zero value removes it.
func (t *table[T]) put(id uint64, v T) {
	var zero T
	if id < maxDense {
		if id >= uint64(len(t.dense)) {
			if v == zero {
				return
			}
			t.dense = slices.Grow(t.dense, int(id)+1-len(t.dense))[:id+1]
		}
		t.dense[id] = v
		return
	}
	if v == zero {
		delete(t.sparse, id)
		return
	}
	if t.sparse == nil {
		t.sparse = make(map[uint64]T)
	}
	t.sparse[id] = v
}

// taskInfo is what the timeline keeps about an open task.
type taskInfo struct {
	typ    string
	parent trace.TaskID
}

// timeline turns x/exp/trace events into slices, instants and counters.
type timeline struct {
	em     emitter
	name   string
	sum    Summary
	tracks map[uint64]*track
	gs     table[*gstate]
	procs  table[*track]
	lives  map[trace.GoID]uint64     // goroutines that ended with the ID, for gKey
	tasks  map[trace.TaskID]taskInfo // open tasks

	origin   trace.Time // first event read
	last     trace.Time // latest event read
	from, to trace.Time // window, absolute; to == 0: no end
	opts     Options
	started  bool // the origin is known
	active   bool // inside the window: events are written
	done     bool // past the window
	nextFlow uint64
	syncs    int // Sync events seen: one per generation, and one at the end

	ev      event     // the event being written, reused
	flowBuf [1]uint64 // flows of ev, reused
}

func newTimeline(em emitter, name string, opts Options) *timeline {
	return &timeline{
		em: em, name: name, opts: opts,
		tracks: make(map[uint64]*track),
		lives:  make(map[trace.GoID]uint64),
		tasks:  make(map[trace.TaskID]taskInfo),
	}
}

// run reads the trace in r (see the timeline package's Read: the complete generations,
// late statuses moved back, damage as an error) into the timeline, reading
// it again through at if at is not nil (see ReadAt). A nil Source means r
// is not a trace.
func (tl *timeline) run(ctx context.Context, r io.Reader, at io.ReaderAt) (*tmodel.Source, error) {
	n := 0
	var cv converter
	var rc rec
	oc := order.NewConverter()
	var oev order.Event
	src, err := tmodel.ReadAt(r, at, func(ev *trace.Event) bool {
		if n++; n%1024 == 0 && ctx.Err() != nil {
			return false
		}
		if !oc.Convert(ev, &oev) {
			cv.skip(ev.Time())
		} else if cv.convert(&oev, &rc) {
			tl.event(&rc)
		}
		return !tl.done
	})
	cv.end(&rc)
	tl.event(&rc)
	tl.finish(tl.last)
	if ctx.Err() != nil {
		return src, ctx.Err()
	}
	return src, err
}

// ns converts a trace time to the output's clock: nanoseconds from the
// first event read.
func (tl *timeline) ns(t trace.Time) int64 { return int64(t - tl.origin) }

// clock moves time to t, opening or closing the window.
func (tl *timeline) clock(t trace.Time) {
	if !tl.started {
		tl.started = true
		tl.origin = t
		tl.from = t + trace.Time(tl.opts.From)
		if tl.opts.To > 0 {
			tl.to = t + trace.Time(tl.opts.To)
		}
		tl.em.process(tl.name)
	}
	if !tl.active && t >= tl.from {
		tl.active = true
		tl.reopen(tl.from)
	}
	if tl.to != 0 && t > tl.to {
		tl.finish(tl.to)
	}
}

// sortedTracks returns the tracks in uuid order, so output is deterministic.
func (tl *timeline) sortedTracks() []*track {
	ids := slices.Sorted(maps.Keys(tl.tracks))
	out := make([]*track, len(ids))
	for i, id := range ids {
		out[i] = tl.tracks[id]
	}
	return out
}

// reopen writes, at the window's start, the slices and counter values that
// began before it.
func (tl *timeline) reopen(t trace.Time) {
	for _, tk := range tl.sortedTracks() {
		for _, o := range tk.open {
			tl.emitBegin(tk, tl.scratch(t, tk, o.name, o.cat, o.args))
		}
		if tk.hasLast {
			tl.emitCounter(tk, tl.ns(t), tk.last)
		}
	}
}

// finish closes every open slice at t and stops the export.
func (tl *timeline) finish(t trace.Time) {
	if tl.done {
		return
	}
	tl.done = true
	if !tl.active {
		return
	}
	for _, tk := range tl.sortedTracks() {
		for i := len(tk.open) - 1; i >= 0; i-- {
			tl.em.end(tl.scratch(t, tk, "", "", nil))
		}
		tk.open = nil
	}
}

// drop forgets a track that will have no more events, unless a slice is
// still open on it, so memory follows what is live, not the whole trace.
func (tl *timeline) drop(tk *track) {
	if len(tk.open) > 0 {
		return
	}
	delete(tl.tracks, tk.info.uuid)
	if tk.declared {
		tl.em.forget(tk.info.uuid)
	}
}

// get returns the track of kind and id, made on first use.
// N.B. no closure: this runs for nearly every event.
func (tl *timeline) get(kind int, id uint64) *track {
	u := uuid(kind, id)
	if tk := tl.tracks[u]; tk != nil {
		return tk
	}
	tk := &track{info: tl.describe(kind, id)}
	tk.info.uuid = u
	tl.tracks[u] = tk
	return tk
}

// globalNames names the global tracks, by ID.
var globalNames = [...]string{
	trackGC:         "GC",
	trackSTW:        "Stop the world",
	trackHeap:       "Heap in use",
	trackGoal:       "Heap goal",
	trackSamples:    "CPU samples (no goroutine)",
	trackProcs:      "Procs",
	trackGoroutines: "Goroutines",
	trackTasks:      "Tasks",
}

// describe says what the track of kind and id is: its name, parent and rank.
func (tl *timeline) describe(kind int, id uint64) trackInfo {
	n := strconv.FormatUint(id, 10)
	switch kind {
	case kindProc:
		return trackInfo{name: "P" + n, parent: uuid(kindGlobal, trackProcs), sort: int(id)}
	case kindProcRng:
		return trackInfo{name: "P" + n + " runtime", parent: uuid(kindProc, id)}
	case kindG:
		return trackInfo{name: tl.gName(trace.GoID(id & idMask)), parent: uuid(kindGlobal, trackGoroutines), sort: int(id & idMask)}
	case kindGAnn:
		return trackInfo{name: "G" + strconv.FormatUint(id&idMask, 10) + " annotations", parent: uuid(kindG, id)}
	case kindTask:
		t := tl.tasks[trace.TaskID(id)]
		p := uuid(kindGlobal, trackTasks)
		if _, ok := tl.tasks[t.parent]; ok && t.parent != trace.NoTask {
			p = uuid(kindTask, uint64(t.parent))
		}
		return trackInfo{name: "task " + n + " " + t.typ, parent: p, sort: int(id)}
	}
	return trackInfo{name: globalNames[id], counter: id == trackHeap || id == trackGoal, sort: int(id)}
}

func (tl *timeline) global(id uint64) *track { return tl.get(kindGlobal, id) }

// procTrack is P p's track, kept by number: it is asked for at many
// events.
func (tl *timeline) procTrack(p trace.ProcID) *track {
	if tk := tl.procs.get(uint64(p)); tk != nil {
		return tk
	}
	tk := tl.get(kindProc, uint64(p))
	tl.procs.put(uint64(p), tk)
	return tk
}

func (tl *timeline) procRangeTrack(p trace.ProcID) *track { return tl.get(kindProcRng, uint64(p)) }

// gTrack and gAnnTrack are the tracks of goroutine id, kept with the
// goroutine while it lives.
func (tl *timeline) gTrack(id trace.GoID) *track { return tl.gKept(id, false) }

func (tl *timeline) gAnnTrack(id trace.GoID) *track { return tl.gKept(id, true) }

// gKept is goroutine id's state track, or its annotation track, looked
// up and kept with the goroutine the first time.
func (tl *timeline) gKept(id trace.GoID, ann bool) *track {
	kind, g := kindG, tl.gs.get(uint64(id))
	if ann {
		kind = kindGAnn
	}
	if g == nil {
		return tl.get(kind, tl.gKey(id))
	}
	kept := &g.gt
	if ann {
		kept = &g.ann
	}
	if *kept == nil {
		*kept = tl.get(kind, tl.gKey(id))
	}
	return *kept
}

// gKey is the track ID of goroutine id: its ID, and above idBits how many
// goroutines had the ID before it, so that a reused ID gets tracks of its
// own.
func (tl *timeline) gKey(id trace.GoID) uint64 { return uint64(id)&idMask | tl.lives[id]<<idBits }

const (
	idBits = 40
	idMask = 1<<idBits - 1
)

func (tl *timeline) taskTrack(id trace.TaskID) *track { return tl.get(kindTask, uint64(id)) }

// gName is a goroutine's label: G12 main.worker.
func (tl *timeline) gName(id trace.GoID) string {
	s := "G" + strconv.FormatInt(int64(id), 10)
	if g := tl.gs.get(uint64(id)); g != nil && g.name != "" {
		s += " " + g.name
	}
	return s
}

// declare writes tk's descriptor, and its parents' first.
func (tl *timeline) declare(tk *track) {
	if tk.declared {
		return
	}
	if p := tk.info.parent; p != processTrack {
		if pt := tl.tracks[p]; pt != nil {
			tl.declare(pt)
		} else if uuidKind(p) == kindGlobal {
			tl.declare(tl.global(uuidID(p)))
		}
	}
	tk.declared = true
	tl.sum.Tracks++
	tl.em.track(&tk.info)
}

func (tl *timeline) emitBegin(tk *track, e *event) {
	tl.declare(tk)
	tl.sum.Slices++
	tl.em.begin(e)
}

func (tl *timeline) emitCounter(tk *track, ts, v int64) {
	tl.declare(tk)
	tl.sum.Counters++
	tl.ev = event{ts: ts, track: tk.info.uuid, value: v}
	tl.em.counter(&tl.ev)
}

// scratch fills the timeline's one event for the emitter, which does not
// keep it: writing an event allocates nothing.
func (tl *timeline) scratch(t trace.Time, tk *track, name, cat string, args []arg) *event {
	// N.B. Field by field, the ones rarely set only when set: the
	// event is on the heap, and copying a whole one costs more than all
	// the rest of writing most events.
	e := &tl.ev
	e.ts, e.track, e.value = tl.ns(t), tk.info.uuid, 0
	e.name, e.cat, e.args = name, cat, args
	if e.stack != nil || e.flowsOut != nil || e.flowsIn != nil {
		e.stack, e.flowsOut, e.flowsIn = nil, nil, nil
	}
	return e
}

// begin opens a slice on tk at t.
func (tl *timeline) begin(tk *track, t trace.Time, name, cat string, args ...arg) {
	tl.open(tk, t, name, cat, args, 0)
}

// open opens a slice on tk at t, ending flow flowIn if it is not 0.
func (tl *timeline) open(tk *track, t trace.Time, name, cat string, args []arg, flowIn uint64) {
	tk.open = append(tk.open, openSlice{name: name, cat: cat, args: args})
	if tl.active {
		e := tl.scratch(t, tk, name, cat, args)
		if flowIn != 0 {
			tl.flowBuf[0] = flowIn
			e.flowsIn = tl.flowBuf[:]
		}
		tl.emitBegin(tk, e)
	}
}

// end closes the innermost slice on tk at t.
func (tl *timeline) end(tk *track, t trace.Time) {
	if len(tk.open) == 0 {
		return
	}
	tk.open = tk.open[:len(tk.open)-1]
	if tl.active {
		tl.em.end(tl.scratch(t, tk, "", "", nil))
	}
}

// endNamed closes the innermost open slice called name on tk. Slices opened
// inside it are closed and reopened around the end, so slices stay nested.
func (tl *timeline) endNamed(tk *track, t trace.Time, name string) {
	i := len(tk.open) - 1
	for i >= 0 && tk.open[i].name != name {
		i--
	}
	if i < 0 {
		return // N.B. begun before the trace: nothing to end
	}
	inner := slices.Clone(tk.open[i+1:])
	for range len(tk.open) - i {
		tl.end(tk, t)
	}
	for _, o := range inner {
		tl.begin(tk, t, o.name, o.cat, o.args...)
	}
}

func (tl *timeline) instant(tk *track, t trace.Time, name, cat string, stack []frame, flowsOut []uint64, args ...arg) {
	if !tl.active {
		return
	}
	tl.declare(tk)
	tl.sum.Instants++
	e := tl.scratch(t, tk, name, cat, args)
	e.stack, e.flowsOut = stack, flowsOut
	tl.em.instant(e)
}

func (tl *timeline) counter(tk *track, t trace.Time, v int64) {
	if tk.hasLast && tk.last == v {
		return
	}
	tk.last, tk.hasLast = v, true
	if tl.active {
		tl.emitCounter(tk, tl.ns(t), v)
	}
}

// event takes one record in: its time is the record's, moved as
// golang.org/x/exp/trace moves the times of events it reads after a later
// one (see rec.skipped), and the window opens or closes at it.
func (tl *timeline) event(r *rec) {
	t := r.t
	if tl.started {
		// N.B. Every event after the latest read is at least a
		// nanosecond later, and so is each one the converter skipped.
		t = max(t, tl.last+trace.Time(r.skipped)+1)
	}
	if r.kind == kindEnd {
		if r.skipped > 0 {
			tl.last = max(tl.last+trace.Time(r.skipped), r.t)
		}
		return
	}
	tl.last = t
	tl.clock(t)
	if tl.done {
		return
	}
	switch r.kind {
	case trace.EventSync:
		if tl.syncs++; tl.syncs > 1 && tl.active {
			tl.em.reset()
		}
	case trace.EventStateTransition:
		tl.goTransition(r, t)
	case trace.EventRangeBegin, trace.EventRangeActive:
		tk, name := tl.rangeTrack(r)
		if n := len(tk.open); r.kind == trace.EventRangeActive && n > 0 && tk.open[n-1].name == name {
			return // still open from the previous generation
		}
		tl.begin(tk, t, name, "runtime")
	case trace.EventRangeEnd:
		tk, name := tl.rangeTrack(r)
		tl.endNamed(tk, t, name)
	case trace.EventRegionBegin:
		tl.begin(tl.gAnnTrack(r.g), t, r.name, "region", numArg("task", int64(r.id)))
	case trace.EventRegionEnd:
		tl.endNamed(tl.gAnnTrack(r.g), t, r.name)
	case trace.EventTaskBegin:
		id := trace.TaskID(r.id)
		tl.tasks[id] = taskInfo{typ: r.name, parent: trace.TaskID(r.parent)}
		tk := tl.taskTrack(id)
		tl.begin(tk, t, r.name, "task", numArg("task", int64(id)), numArg("goroutine", int64(r.g)))
	case trace.EventTaskEnd:
		id := trace.TaskID(r.id)
		if _, ok := tl.tasks[id]; ok {
			tk := tl.taskTrack(id)
			tl.end(tk, t)
			delete(tl.tasks, id)
			tl.drop(tk)
		}
	case trace.EventLog:
		tl.instant(tl.gAnnTrack(r.g), t, r.name, "log", nil, nil, strArg("message", r.str))
	case trace.EventStackSample:
		var tk *track
		switch {
		case r.g != trace.NoGoroutine:
			tk = tl.gTrack(r.g)
		case r.p != trace.NoProc:
			tk = tl.procTrack(r.p)
		default:
			tk = tl.global(trackSamples)
		}
		if tl.active {
			tl.sum.Samples++
		}
		tl.instant(tk, t, "CPU sample", "cpu", r.stack, nil)
	case trace.EventMetric:
		tl.counter(tl.global(r.parent), t, int64(r.id))
	}
}

func taskArg(id trace.TaskID) int64 {
	if id == trace.NoTask {
		return 0
	}
	return int64(id)
}

// rangeTrack picks the track of a runtime range: collections and
// stop-the-world pauses on their global tracks, the rest on the track of
// the goroutine or P they are scoped to.
func (tl *timeline) rangeTrack(r *rec) (*track, string) {
	switch {
	case len(r.name) >= len("stop-the-world") && r.name[:len("stop-the-world")] == "stop-the-world":
		return tl.global(trackSTW), r.name
	case r.name == "GC concurrent mark phase":
		return tl.global(trackGC), "GC"
	}
	switch r.scope {
	case trace.ResourceGoroutine:
		return tl.gAnnTrack(trace.GoID(r.id)), r.name
	case trace.ResourceProc:
		return tl.procRangeTrack(trace.ProcID(r.id)), r.name
	}
	return tl.global(trackGC), r.name
}

// goTransition moves a goroutine from one state to another: its state slice
// ends and the next begins, the P it runs on shows it, and a creation or an
// unblocking by another goroutine starts a flow.
func (tl *timeline) goTransition(r *rec, t trace.Time) {
	id := trace.GoID(r.id)
	from, to := r.from, r.to
	g := tl.gs.get(uint64(id))
	if from == trace.GoUndetermined && g != nil {
		// A generation read on its own states the status of a goroutine
		// the generations before knew: read whole, the status restates
		// what is known, and changes nothing.
		return
	}
	if g == nil {
		g = &gstate{proc: trace.NoProc}
		tl.gs.put(uint64(id), g)
	}
	if g.name == "" {
		g.name = r.name
	}
	gt := g.gt
	if gt == nil {
		gt = tl.gTrack(id)
	}
	if len(gt.open) > 0 {
		tl.end(gt, t)
	}
	// Whatever the goroutine does now, it no longer runs where it ran.
	// N.B. not only when from is GoRunning: a status restated as
	// GoUndetermined must not leave a P slice open under a new one.
	if g.proc != trace.NoProc {
		tl.end(tl.procTrack(g.proc), t)
		g.proc = trace.NoProc
	}

	// Creation and unblocking by another goroutine: a flow from the
	// other goroutine's track to this one's next slice.
	if by := r.g; by != trace.NoGoroutine && by != id && tl.active &&
		(from == trace.GoNotExist || from == trace.GoWaiting) && to == trace.GoRunnable {
		tl.nextFlow++
		g.flowIn = tl.nextFlow
		// N.B. the name is one of two, not the target's: interned, it
		// costs a byte; the flow's arrow shows where it goes.
		what := "unblock"
		if from == trace.GoNotExist {
			what = "go"
		}
		tl.sum.Flows++
		tl.flowBuf[0] = g.flowIn
		tl.instant(tl.gTrack(by), t, what, "flow", nil, tl.flowBuf[:])
	}

	var name string
	switch to {
	case trace.GoRunning:
		name = "running"
		if p := r.p; p != trace.NoProc {
			g.proc = p
			// N.B. named by function, not "G12 main.worker": names are
			// interned, and a name per goroutine would grow with the trace.
			name := g.name
			if name == "" {
				name = "goroutine"
			}
			pt := tl.procTrack(p)
			// N.B. A P runs one goroutine at a time: its one open
			// slice's argument has a place of its own.
			pt.arg[0] = numArg("goroutine", int64(id))
			tl.open(pt, t, name, "running", pt.arg[:], 0)
		}
	case trace.GoRunnable:
		name = "runnable"
	case trace.GoSyscall:
		name = "syscall"
	case trace.GoWaiting:
		name = r.str
	case trace.GoNotExist:
		// The goroutine is gone: forget it, and its tracks unless a slice
		// is still open on them, so memory follows the live goroutines.
		tl.gs.put(uint64(id), nil)
		for _, k := range []int{kindG, kindGAnn} {
			if tk := tl.tracks[uuid(k, tl.gKey(id))]; tk != nil {
				tl.drop(tk)
			}
		}
		tl.lives[id]++
		return
	default:
		return
	}
	tl.open(gt, t, name, "state", nil, g.flowIn)
	g.flowIn = 0
}

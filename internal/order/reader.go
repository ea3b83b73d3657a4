// Package order reads a Go execution trace (Go 1.22 and later) as a
// sequence of events in the order golang.org/x/exp/trace gives them, with
// the same times, contexts and details, for less than half its work.
//
// The wire is internal/decode's. A goroutine of the Reader's frames each
// generation (decode.Reader.Parallel with one worker) and indexes its
// tables and its batches thread by thread; the caller's side unpacks each
// thread's next event from the input's bytes as the ordering reaches it,
// so memory holds one generation as the wire has it, not a copy of its
// events. The ordering replays the runtime's scheduler, as golang.org/x/exp/trace
// does, to decide which thread's next event can happen: events carry
// sequence numbers per goroutine and proc, and a thread's event waits
// until those of other threads it depends on have happened. Ties in time
// between threads are broken exactly as golang.org/x/exp/trace breaks
// them, so the two agree event for event.
package order

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// ErrStuck marks a trace whose events cannot be ordered: no thread's next
// event can happen.
var ErrStuck = errors.New("no thread's next event can happen")

// ErrInvalid marks an event that contradicts what came before it (a state,
// a sequence number, a table ID).
var ErrInvalid = errors.New("invalid trace")

// wireEvent is a thread's next event, unpacked, its time in
// nanoseconds.
type wireEvent struct {
	typ  format.EventType
	bad  bool // names a stack or string the tables lack
	time trace.Time
	off  int64
	args [4]uint64
}

// cursor walks the event batches of one thread, in input order, unpacking
// one event at a time into cur.
type cursor struct {
	m       trace.ThreadID
	mslot   int32 // the thread's slot in sched.ms, -1 until known
	batches []rawBatch
	next    int // the next of batches to start

	b    *rawBatch  // the batch being unpacked
	pos  int        // offset of the next event to unpack in b.data
	cur  wireEvent  // the thread's next event
	time trace.Time // cur.time, the key of the frontier heap

	// Times accumulate in nanoseconds delta by delta, each delta
	// converted on its own, because that is how golang.org/x/exp/trace
	// rounds them; a batch restarts from its base time.
	lastNS trace.Time // time of the last event unpacked, 0 at a batch start
}

// Reader reads a trace's events in order. A goroutine of its own decodes
// and indexes each generation before the caller reads it: call Close to
// stop it when not reading to the end (io.EOF or an error).
type Reader struct {
	v     format.Version
	d     *genData // the generation being ordered
	tab   *tables
	s     sched
	pool  []*cursor
	heap  []slot
	ci    int // next of d.cpu
	last  trace.Time
	nargs [256]uint8
	syncs int
	done  bool
	err   error

	gens   <-chan *genData
	free   chan *genData
	quit   chan struct{}
	closed bool
}

// sample is a CPU profile sample, its time in nanoseconds.
type sample struct {
	time  trace.Time
	c     ctx
	stack uint64
	off   int64
}

// NewReader reads the trace header from r and starts decoding. Traces
// before Go 1.22 give an error wrapping decode.ErrOldFormat.
func NewReader(r io.Reader) (*Reader, error) {
	dr, err := decode.NewReader(r)
	if err != nil {
		return nil, err
	}
	dr.SetDetail(decode.Frames)
	gens := make(chan *genData)
	or := &Reader{v: dr.Version(), gens: gens, free: make(chan *genData, 2), quit: make(chan struct{})}
	p := &packer{v: or.v, gens: gens, free: or.free, quit: or.quit}
	for t := range p.timed {
		s := or.v.Spec(format.EventType(t))
		if p.timed[t] = s != nil && s.IsTimed && len(s.Args) <= 5; p.timed[t] {
			p.nargs[t] = uint8(len(s.Args))
		}
	}
	or.nargs = p.nargs
	// N.B. One worker: generations must come in order, and the point is
	// only that decoding the next one overlaps ordering this one.
	go func() {
		var err error
		defer func() {
			// A bug of the producer's must reach the caller as an
			// error, not end the program from a goroutine it cannot
			// recover on.
			if v := recover(); v != nil {
				err = fmt.Errorf("order: internal error decoding ahead: %v", v)
				select {
				case gens <- &genData{err: err}:
					close(gens)
				case <-or.quit:
				}
			}
		}()
		err = dr.Parallel(1, p.pack)
		if err == nil || err == errClosed {
			close(gens)
			return
		}
		select {
		case gens <- &genData{err: err}:
			close(gens)
		case <-or.quit:
		}
	}()
	return or, nil
}

// Close stops decoding ahead. Reading after Close gives an error; reading
// to io.EOF or an error closes the Reader without a call.
func (r *Reader) Close() error {
	if !r.closed {
		r.closed = true
		close(r.quit)
	}
	if r.err == nil {
		r.err = errClosed
	}
	return nil
}

// Next fills ev with the next event. It returns io.EOF, and nothing else,
// after the last one. Damage gives a *decode.Error with its place; an
// event that contradicts the trace before it wraps ErrInvalid, and a trace
// that cannot be ordered wraps ErrStuck. After an error, every call
// returns it again.
func (r *Reader) Next(ev *Event) error {
	if r.err != nil {
		return r.err
	}
	// 1. Events the last step made beyond the first.
	if r.s.pending() {
		*ev = r.s.out[r.s.head]
		r.s.head++
		return r.finish(ev)
	}
	// 2. At the end of a generation, the next one's Sync.
	if len(r.heap) == 0 && (r.d == nil || r.ci == len(r.d.cpu)) {
		if r.done {
			return r.fail(io.EOF)
		}
		if err := r.nextGen(ev); err != nil {
			return r.fail(err)
		}
		return r.finish(ev)
	}
	// 3. A CPU sample strictly before every thread's next event.
	if r.ci < len(r.d.cpu) && (len(r.heap) == 0 || r.d.cpu[r.ci].time < r.heap[0].time) {
		sm := &r.d.cpu[r.ci]
		r.ci++
		*ev = Event{typ: format.EvCPUSample, kind: trace.EventStackSample, time: sm.time,
			g: sm.c.g, p: sm.c.p, m: sm.c.m, off: sm.off, tab: r.tab}
		ev.args[0] = sm.stack
		return r.finish(ev)
	}
	// 4. The thread with the earliest next event nearly always can go
	// on; the step writes the event it makes straight into ev.
	r.s.dst = ev
	ok, err := r.try(0)
	if err != nil {
		return r.fail(err)
	}
	if !ok {
		// 5. Otherwise, the others by time. A sorted slice is still a
		// heap; sorting as golang.org/x/exp/trace does picks the same
		// thread among equal times.
		slices.SortFunc(r.heap, func(a, b slot) int { return cmp.Compare(a.time, b.time) })
		for i := 1; i < len(r.heap) && !ok; i++ {
			if ok, err = r.try(i); err != nil {
				return r.fail(err)
			}
		}
		if !ok {
			return r.fail(r.stuck())
		}
	}
	r.s.dst = nil
	return r.finish(ev)
}

func (r *Reader) fail(err error) error {
	r.err = err
	if !r.closed {
		r.closed = true
		close(r.quit)
	}
	return err
}

// finish fails on an event the producer found naming a stack or string
// its tables lack (golang.org/x/exp/trace fails as it hands such an event
// out, not before) and makes ev's time strictly after the previous
// event's.
func (r *Reader) finish(ev *Event) error {
	if ev.bad {
		ids := &idArgs[ev.typ]
		for k := 0; k < int(ids.nstk); k++ {
			if id := ev.args[ids.stk[k]]; !ev.tab.hasStack(id) {
				return r.fail(r.errAt(ev, fmt.Errorf("stack %d is not in the stack table: %w", id, ErrInvalid)))
			}
		}
		for k := 0; k < int(ids.nstr); k++ {
			if id := ev.args[ids.str[k]]; id != 0 {
				if _, ok := ev.tab.str(id); !ok {
					return r.fail(r.errAt(ev, fmt.Errorf("string %d is not in the string table: %w", id, ErrInvalid)))
				}
			}
		}
		return r.fail(r.errAt(ev, fmt.Errorf("names a stack or string the tables lack: %w", ErrInvalid)))
	}
	if ev.time <= r.last {
		ev.time = r.last + 1
	}
	r.last = ev.time
	return nil
}

// idArgs lists, by event type, the arguments (after dt) that are stack or
// string IDs.
var idArgs = func() (t [256]struct {
	stk, str   [2]int8
	nstk, nstr int8
}) {
	for i := range t {
		s := format.Current.Spec(format.EventType(i))
		if s == nil || !s.IsTimed {
			continue
		}
		for _, k := range s.StackArgs {
			t[i].stk[t[i].nstk] = int8(k - 1)
			t[i].nstk++
		}
		for _, k := range s.StringArgs {
			t[i].str[t[i].nstr] = int8(k - 1)
			t[i].nstr++
		}
	}
	return t
}()

func (r *Reader) errAt(ev *Event, err error) error {
	return &decode.Error{Offset: ev.off, Gen: r.tab.gen, Batch: -1, Event: r.v.EventName(ev.typ), Err: err}
}

// try lets the next event of the thread at heap[i] happen if it can.
func (r *Reader) try(i int) (bool, error) {
	c := r.heap[i].c
	w := &c.cur
	ok, err := r.s.advance(w, c.m, &c.mslot)
	if err != nil {
		return false, &decode.Error{Offset: w.off, Gen: r.tab.gen, Batch: int(c.b.bi), Event: r.v.EventName(w.typ),
			Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	}
	if !ok {
		return false, nil
	}
	more, err := r.step(c)
	if err != nil {
		return false, err
	}
	if more {
		r.heap[i].time = c.time
		heapFix(r.heap, i)
	} else {
		r.heap = heapRemove(r.heap, i)
	}
	return true, nil
}

// stuck describes the frontier when nothing can happen.
func (r *Reader) stuck() error {
	var b strings.Builder
	for i, h := range r.heap {
		c := h.c
		if i > 0 {
			b.WriteString(", ")
		}
		w := &c.cur
		fmt.Fprintf(&b, "thread %d: %s at 0x%x", c.m, r.v.EventName(w.typ), w.off)
	}
	off := int64(-1)
	if len(r.heap) > 0 {
		off = r.heap[0].c.cur.off
	}
	return &decode.Error{Offset: off, Gen: r.tab.gen, Batch: -1, Err: fmt.Errorf("%w; waiting: %s", ErrStuck, b.String())}
}

// step moves c to its thread's next event, starting the next batch when
// the current one is done. It reports false when the thread has no more,
// and an event it cannot unpack as an error.
func (r *Reader) step(c *cursor) (bool, error) {
	for c.b == nil || c.pos >= len(c.b.data) {
		if c.next >= len(c.batches) {
			return false, nil
		}
		c.b, c.pos, c.lastNS = &c.batches[c.next], 0, 0
		c.next++
	}
	b := c.b
	w := &c.cur
	w.typ, w.off = format.EventType(b.data[c.pos]), b.base+int64(c.pos)
	n := int(r.nargs[w.typ])
	if n == 0 {
		return false, r.unpackErr(c, fmt.Errorf("an event batch holds only timed events: %w", ErrInvalid))
	}
	j := c.pos + 1
	var dt uint64
	w.args = [4]uint64{}
	for k := range n {
		v, m := uvarint(b.data[j:])
		if m <= 0 {
			return false, r.unpackErr(c, fmt.Errorf("argument %d of %d: %w", k+1, n, errVarint(m)))
		}
		j += m
		if k == 0 {
			dt = v
		} else {
			w.args[k-1] = v
		}
	}
	c.pos = j
	if c.lastNS == 0 {
		c.lastNS = r.d.mul(b.ticks)
	}
	c.lastNS += r.d.mul(dt)
	w.time, c.time = c.lastNS, c.lastNS
	w.bad = !r.tab.idsOK(w)
	return true, nil
}

// unpackErr places err at c's next event.
func (r *Reader) unpackErr(c *cursor, err error) error {
	return &decode.Error{Offset: c.cur.off, Gen: r.d.num, Batch: int(c.b.bi), Event: r.v.EventName(c.cur.typ), Err: err}
}

// uvarint reads an unsigned varint from the start of b: the value and
// the bytes it took, 0 when b ends inside it, less than 0 when it
// overflows 64 bits.
func uvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return binary.Uvarint(b)
}

// errVarint says what a failed uvarint found.
func errVarint(m int) error {
	if m == 0 {
		return io.ErrUnexpectedEOF
	}
	return errors.New("varint overflows 64 bits")
}

// nextGen takes the next generation from the producer, sets up its
// threads and fills ev with its Sync event (or the final Sync at the end).
func (r *Reader) nextGen(ev *Event) error {
	if r.d != nil {
		select {
		case r.free <- r.d:
		default:
		}
		r.d = nil
	}
	d, ok := <-r.gens
	if !ok {
		r.done = true
		r.syncs++
		*ev = Event{typ: format.EvSync, kind: trace.EventSync, time: r.last, g: trace.NoGoroutine,
			p: trace.NoProc, m: trace.NoThread, off: -1}
		ev.args[0] = uint64(r.syncs)
		return nil
	}
	if d.err != nil {
		return d.err
	}
	r.d, r.ci = d, 0
	r.tab, r.s.tab, r.s.gen = d.tab, d.tab, d.num

	// Each thread with an event joins the frontier, in order of its
	// first batch.
	r.heap = r.heap[:0]
	for len(r.pool) < len(d.threads) {
		r.pool = append(r.pool, new(cursor))
	}
	for ti := range d.threads {
		th := &d.threads[ti]
		c := r.pool[ti]
		*c = cursor{m: trace.ThreadID(th.m), mslot: -1, batches: th.batches}
		more, err := r.step(c)
		if err != nil {
			return err
		}
		if more {
			r.heap = heapInsert(r.heap, slot{c.time, c})
		}
	}

	r.syncs++
	*ev = Event{typ: format.EvSync, kind: trace.EventSync, time: d.syncTime, g: trace.NoGoroutine,
		p: trace.NoProc, m: trace.NoThread, off: -1, tab: d.tab}
	ev.args[0] = uint64(r.syncs)
	return nil
}

// The frontier is a binary min-heap of threads by the time of their next
// event, the time copied next to the cursor so that sifting reads one
// array. N.B. Its operations make the same comparisons, in the same order,
// as golang.org/x/exp/trace's, so that threads with equal times come out
// in the same order; a textbook heap would break ties differently.

type slot struct {
	time trace.Time
	c    *cursor
}

func heapInsert(h []slot, s slot) []slot {
	h = append(h, s)
	heapUp(h, len(h)-1)
	return h
}

func heapFix(h []slot, i int) {
	if heapUp(h, i) == i {
		heapDown(h, i)
	}
}

// heapRemove takes out h[i] by carrying it to the root regardless of
// order and then removing the root.
func heapRemove(h []slot, i int) []slot {
	for i > 0 {
		p := (i - 1) / 2
		h[p], h[i] = h[i], h[p]
		i = p
	}
	n := len(h) - 1
	h[0], h[n] = h[n], h[0]
	h = h[:n]
	heapDown(h, 0)
	return h
}

func heapUp(h []slot, i int) int {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].time <= h[i].time {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	return i
}

func heapDown(h []slot, i int) {
	for {
		least := i
		if least >= len(h) {
			return
		}
		t := h[i].time
		if l := 2*i + 1; l < len(h) && h[l].time < t {
			least, t = l, h[l].time
		}
		if rr := 2*i + 2; rr < len(h) && h[rr].time < t {
			least = rr
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}

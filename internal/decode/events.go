package decode

import (
	"fmt"
	"unsafe"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// decode turns the framed batches of one generation, d.batches over d.buf,
// into d.g.
func (d *genDecoder) decode() (*Generation, error) {
	g := &d.g
	// N.B. Entries past the lengths still point at the last generation's
	// events and bytes: cleared, the garbage collector can free those
	// arrays when the cursor replaces them with larger ones.
	clear(g.Batches[:cap(g.Batches)])
	clear(d.items[:cap(d.items)])
	clear(d.stackEvents[:cap(d.stackEvents)])
	strs, stks := g.Strings, g.Stacks
	clear(strs)
	clear(stks)
	*g = Generation{
		Version:    d.v,
		Strings:    strs,
		Stacks:     stks,
		Types:      g.Types[:0],
		CPUSamples: g.CPUSamples[:0],
		Batches:    g.Batches[:0],
		MinTime:    ^uint64(0),
	}
	if len(d.batches) > 0 {
		g.Num, _ = d.genOf(0)
	}
	nbytes := 0
	if n := len(d.batches); n > 0 {
		nbytes = d.batches[n-1].hi - d.batches[0].lo
	}
	d.frames = d.frames[:0]
	d.stacks = d.stacks[:0]
	d.tableBatches = d.tableBatches[:0]

	// 1. In input order: batch headers, experimental batches, the end of
	// the generation; the batches whose events are to be walked become
	// items.
	items := d.items[:0]
	for bi := range d.batches {
		bf := &d.batches[bi]
		b := bf.b
		data := d.buf[bf.lo:bf.hi]
		hdr := format.EvEventBatch
		switch b.Header {
		case format.EvEndOfGeneration:
			d.eog[0] = Event{Type: format.EvEndOfGeneration, Offset: b.Offset}
			b.Events = d.eog[:]
			g.Counts[format.EvEndOfGeneration].Events++
			g.Counts[format.EvEndOfGeneration].Bytes++
			g.Events++
			g.Batches = append(g.Batches, b)
			continue
		case format.EvExperimentalBatch:
			hdr = format.EvExperimentalBatch
			g.Counts[hdr].Events++
			g.Counts[hdr].Bytes += int64(bf.hdrBytes + len(data))
			b.Data = data
			if b.Exp == format.AllocFree {
				if err := d.allocFree(g, bi, bf.lo, data); err != nil {
					return nil, err
				}
			}
			g.Batches = append(g.Batches, b)
			d.timeSpan(g, b.Time)
			continue
		}
		g.Counts[hdr].Events++
		g.Counts[hdr].Bytes += int64(bf.hdrBytes)
		d.timeSpan(g, b.Time)
		table := isTable(data)
		store := d.detail == Full || table
		if store || d.detail != Frames {
			items = append(items, item{bi: bi, lo: bf.lo, data: data, t: b.Time, table: table, store: store})
		}
		g.Batches = append(g.Batches, b)
	}
	d.items = items

	// 2. Walk the items. In Full the arrays are sized from the
	// generation's size: runtime traces have about one argument per two
	// bytes and an event per five or more; a generation that needs more
	// gets a new argument chunk (the events before it keep the old one)
	// and a grown event array.
	argCap, evCap := 0, 0
	c := &d.cur
	if d.detail == Full {
		argCap, evCap = nbytes*5/8, nbytes/5
	} else {
		// N.B. Only the tables are stored: counted first, their
		// array is made once at its size rather than grown by
		// appending, which leaves garbage as large as itself. Damage
		// stops the count short; the walk below reports it. A
		// generation with no more table bytes than the one that sized
		// the array (with a quarter to spare) is not counted.
		tableBytes := 0
		for i := range items {
			if items[i].store {
				tableBytes += len(items[i].data)
			}
		}
		if tableBytes > d.sizedBy {
			c.reset(d, g.Num, 0, 0)
			for i := range items {
				if items[i].store {
					c.walk(items[i].bi, items[i].lo, items[i].data, items[i].t, false)
				}
			}
			evCap, d.sizedBy = c.nev, tableBytes
		}
	}
	c.reset(d, g.Num, argCap, evCap)
	if err := c.walkItems(items); err != nil {
		return nil, err
	}

	// 3. Merge in input order.
	stackEvents := d.stackEvents[:0]
	for i := range items {
		it := &items[i]
		if len(it.data) > 0 {
			d.timeSpan(g, it.last)
			g.Batches[it.bi].Last = it.last
		}
		if it.store {
			g.Batches[it.bi].Events = c.events[it.e0:it.e1:it.e1]
		}
		if it.table {
			d.tableBatches = append(d.tableBatches, it.bi)
			for k := it.e0; k < it.e1; k++ {
				if c.events[k].Type == format.EvStack {
					stackEvents = append(stackEvents, &c.events[k])
				}
			}
		}
	}
	d.stackEvents = stackEvents
	for t := range c.counts {
		g.Counts[t].Events += c.counts[t].Events
		g.Counts[t].Bytes += c.counts[t].Bytes
	}
	g.Events += c.nev
	if g.MinTime > g.MaxTime {
		g.MinTime, g.MaxTime = 0, 0
	}
	if d.detail == Frames {
		g.Events = -1
	}
	// N.B. Made at the size the tables need, the first time: grown
	// entry by entry, a map of tens of thousands of strings rebuilds
	// itself many times over. Later generations reuse the maps.
	if g.Strings == nil {
		g.Strings = make(map[uint64]string, c.counts[format.EvString].Events)
		g.Stacks = make(map[uint64]*Stack, len(stackEvents))
	}
	if err := d.tables(g, stackEvents); err != nil {
		return nil, err
	}
	g.Offset = d.base
	g.End = d.base + int64(len(d.buf))
	return g, nil
}

// item is a batch whose events are walked, and where they went.
type item struct {
	bi, lo       int    // index in the generation, start of the events in the buffer
	data         []byte // the batch's events
	t            uint64 // the batch's base time
	table, store bool
	e0, e1       int    // the events, in their cursor's array
	last         uint64 // time of the last timed event
}

// cursor walks batches into arrays of its own; it only reads the Reader.
// N.B. Splitting a generation between two cursors on two goroutines was
// measured: the event stores are bound by memory, and it gained nothing.
type cursor struct {
	rd       *genDecoder
	gen      uint64
	argChunk []uint64 // the first argument chunk, reused
	args     []uint64 // the argument chunk being filled
	events   []Event
	lastData []byte // data of the last event walk read
	counts   [256]EventCount
	nev      int
	scratch  *[scratchLen]uint64 // eachEvent's arguments, frames included
	cur      Event               // the event eachEvent lends
}

// scratchLen holds the most arguments an event can have: a stack table
// entry's two and its frames, four values each. The spec's counts fit in a
// byte, so a byte indexes the array.
const scratchLen = 2 + 4*format.MaxFramesPerStack

func init() {
	if scratchLen < 256 {
		panic("decode: scratchLen must hold any argument count")
	}
}

// reset prepares c for a generation, with arrays of at least the given
// capacities.
func (c *cursor) reset(r *genDecoder, gen uint64, argCap, evCap int) {
	c.rd, c.gen, c.nev = r, gen, 0
	c.counts = [256]EventCount{}
	if cap(c.args) > cap(c.argChunk) {
		c.argChunk = c.args // the larger chunk the last generation needed
	}
	// N.B. An array too small is dropped before its successor is made,
	// so the two are not both live.
	// A quarter more than asked: generations of a trace differ in size a
	// little, and a few larger ones then reuse the arrays too.
	if cap(c.argChunk) < argCap {
		c.argChunk, c.args = nil, nil
		c.argChunk = make([]uint64, 0, argCap+argCap/4)
	}
	c.args = c.argChunk[:0]
	if cap(c.events) < evCap {
		c.events = nil
		c.events = make([]Event, 0, evCap+evCap/4)
	}
	c.events = c.events[:0]
}

// walkItems walks each item's batch, storing its events if asked.
func (c *cursor) walkItems(items []item) error {
	for i := range items {
		it := &items[i]
		it.e0 = len(c.events)
		last, err := c.walk(it.bi, it.lo, it.data, it.t, it.store)
		if err != nil {
			return err
		}
		it.e1, it.last = len(c.events), last
	}
	return nil
}

func (d *genDecoder) genOf(i int) (uint64, bool) {
	bf := &d.batches[i]
	if bf.b.Header == format.EvEndOfGeneration {
		return 0, false
	}
	j := bf.b.Offset - d.base + 1
	if bf.b.Header == format.EvExperimentalBatch {
		j++
	}
	v, _ := format.Uvarint(d.buf[j:bf.lo])
	return v, true
}

func (d *genDecoder) timeSpan(g *Generation, t uint64) {
	if t < g.MinTime {
		g.MinTime = t
	}
	if t > g.MaxTime {
		g.MaxTime = t
	}
}

// isTable reports whether a batch's events are one of the generation's
// tables, which are decoded whatever the Detail.
func isTable(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	switch format.EventType(data[0]) {
	case format.EvStrings, format.EvStacks, format.EvCPUSamples, format.EvFrequency, format.EvSync:
		return true
	}
	return false
}

// walk decodes the events of batch bi. data is buf[lo:lo+len(data)]; t is
// the batch's base time. With store, events and their arguments are
// appended to c.events and c.args; without, they are only counted. It
// returns the time of the batch's last timed event (t when none).
//
// N.B. This is the hot loop of the decoder: index arithmetic over the
// batch's bytes, one- and two-byte fast paths for uvarints, no allocation
// except amortised growth of c.events.
func (c *cursor) walk(bi, lo int, data []byte, t uint64, store bool) (uint64, error) {
	r := c.rd
	args, events := c.args, c.events
	info := &r.info
	counts := &c.counts
	base := r.base + int64(lo)
	nev := 0
	j := 0
	n := len(data)
	for j < n {
		start := j
		typ := data[j]
		inf := info[typ]
		if inf.flags&fValid == 0 {
			return 0, c.badType(bi, lo+j, typ)
		}
		j++
		a0 := len(args)
		nargs := int(inf.nargs)
		if store {
			if a0+nargs > cap(args) {
				// N.B. A new chunk, not a copy: the events so far
				// keep their arguments where they are.
				args = make([]uint64, 0, max(cap(args)/2, len(data)-start+nargs)) // every argument takes a byte or more
				a0 = 0
			}
			args = args[:a0+nargs]
		}
		var first uint64
		for k := 0; k < nargs; k++ {
			var v uint64
			if j < n && data[j] < 0x80 {
				v = uint64(data[j])
				j++
			} else if j+1 < n && data[j+1] < 0x80 {
				// Two bytes: timestamp deltas mostly are.
				v = uint64(data[j]&0x7f) | uint64(data[j+1])<<7
				j += 2
			} else {
				var m int
				v, m = format.Uvarint(data[j:])
				if m <= 0 {
					return 0, c.argErr(bi, lo, start, j, typ, k, m)
				}
				j += m
			}
			if k == 0 {
				first = v
			}
			if store {
				args[a0+k] = v
			}
		}
		var ts uint64
		if inf.flags&fTimed != 0 {
			t += first
			ts = t
		}
		if inf.flags&(fStack|fData) != 0 {
			var err error
			j, args, err = c.trailer(bi, lo, data, start, j, typ, inf, args, store)
			if err != nil {
				return 0, err
			}
		}
		if store {
			var d []byte
			if inf.flags&fData != 0 {
				d = c.lastData
			}
			events = append(events, Event{Type: format.EventType(typ), Offset: base + int64(start), Time: ts, Args: args[a0:len(args):len(args)], Data: d})
		}
		ct := &counts[typ]
		ct.Events++
		ct.Bytes += int64(j - start)
		nev++
	}
	c.nev += nev
	c.args, c.events = args, events
	return t, nil
}

// eachEvent decodes the events of batch bi one at a time into c.cur and
// calls fn with each; data, lo and t are as for walk. Nothing is counted or
// kept.
//
// N.B. This is the hot loop of a full read: it is walk without the stores
// into growing arrays and without the counts, with the arguments in a fixed
// array that a byte indexes (no bounds checks) and Data reset only after an
// event that had it.
func (c *cursor) eachEvent(bi, lo int, data []byte, t uint64, fn func(*Event) error) error {
	r := c.rd
	if c.scratch == nil {
		c.scratch = new([scratchLen]uint64)
	}
	a := c.scratch
	info := &r.info
	ev := &c.cur
	ev.Data = nil
	ev.Args = a[:0:0] // its pointer stays: see setLen below
	hadData := false
	base := r.base + int64(lo)
	j := 0
	n := len(data)
	for j < n {
		start := j
		typ := data[j]
		inf := info[typ]
		if inf.flags&fValid == 0 {
			return c.badType(bi, lo+j, typ)
		}
		j++
		nargs := int(inf.nargs)
		// N.B. Uvarint fast paths like walk's, written out again: a
		// helper does not inline, and calling one costs a tenth.
		if j+nargs*format.MaxVarintLen <= n {
			// Every argument is inside the batch whatever its
			// length: no checks against its end.
			for k := 0; k < nargs; k++ {
				var v uint64
				if b := data[j]; b < 0x80 {
					v = uint64(b)
					j++
				} else if b1 := data[j+1]; b1 < 0x80 {
					v = uint64(b&0x7f) | uint64(b1)<<7
					j += 2
				} else {
					var m int
					v, m = format.Uvarint(data[j:])
					if m <= 0 {
						return c.argErr(bi, lo, start, j, typ, k, m)
					}
					j += m
				}
				a[uint8(k)] = v
			}
		} else {
			// The last events of the batch: seldom, so plainly.
			for k := 0; k < nargs; k++ {
				v, m := format.Uvarint(data[j:])
				if m <= 0 {
					return c.argErr(bi, lo, start, j, typ, k, m)
				}
				a[uint8(k)] = v
				j += m
			}
		}
		ev.Time = 0
		if inf.flags&fTimed != 0 {
			t += a[0]
			ev.Time = t
		}
		if inf.flags&(fStack|fData) != 0 {
			var args []uint64
			var err error
			j, args, err = c.trailer(bi, lo, data, start, j, typ, inf, a[:nargs:scratchLen], true)
			if err != nil {
				return err
			}
			if inf.flags&fData != 0 {
				ev.Data = c.lastData
				hadData = true
			}
			ev.Args = args
		} else {
			// N.B. Only the length changes: args is the start of
			// a, as ev.Args already is. Storing the slice would
			// store its pointer too, and a pointer store costs a
			// write barrier call while the garbage collector
			// marks, which measured a tenth of the loop's time
			// in a short-lived process.
			setLen(&ev.Args, nargs)
		}
		ev.Type = format.EventType(typ)
		ev.Offset = base + int64(start)
		if err := fn(ev); err != nil {
			return err
		}
		if hadData {
			ev.Data, hadData = nil, false
		}
	}
	return nil
}

// setLen sets the length and capacity of *s to n without storing its
// pointer; n must be within the array *s points at.
func setLen(s *[]uint64, n int) {
	h := (*struct {
		p        unsafe.Pointer
		len, cap int
	})(unsafe.Pointer(s))
	h.len, h.cap = n, n
}

// trailer reads the frames of a stack table entry or the data of an event
// that has it. For data, the slice is left in c.lastData.
func (c *cursor) trailer(bi, lo int, data []byte, start, j int, typ byte, inf evInfo, args []uint64, store bool) (int, []uint64, error) {
	r := c.rd
	name := r.names[typ]
	at := func(j int) int64 { return r.base + int64(lo+j) }
	if inf.flags&fStack != 0 {
		// The frame count is argument 1; recover it without storage.
		nframes := argValue(data, start, 1)
		if nframes > format.MaxFramesPerStack {
			return 0, nil, &Error{Offset: at(start), Gen: c.gen, Batch: bi, Event: name,
				Err: fmt.Errorf("%d frames, want at most %d: %w", nframes, format.MaxFramesPerStack, ErrCorrupt)}
		}
		for f := 0; f < int(nframes)*4; f++ {
			v, m := format.Uvarint(data[j:])
			if m <= 0 {
				what := fmt.Sprintf("frame %d of %d: %s", f/4, nframes, format.FrameFields()[f%4])
				return 0, nil, c.varintErr(bi, at(j), name, what, m)
			}
			j += m
			if store {
				args = append(args, v)
			}
		}
	}
	if inf.flags&fData != 0 {
		l, m := format.Uvarint(data[j:])
		if m <= 0 {
			return 0, nil, c.varintErr(bi, at(j), name, "data length", m)
		}
		j += m
		if l > uint64(len(data)-j) {
			return 0, nil, &Error{Offset: at(start), Gen: c.gen, Batch: bi, Event: name,
				Err: fmt.Errorf("data length %d, batch ends after %d: %w", l, len(data)-j, ErrCorrupt)}
		}
		if l > format.MaxDataSize {
			return 0, nil, &Error{Offset: at(start), Gen: c.gen, Batch: bi, Event: name,
				Err: fmt.Errorf("data length %d exceeds the maximum %d: %w", l, format.MaxDataSize, ErrCorrupt)}
		}
		c.lastData = data[j : j+int(l) : j+int(l)]
		j += int(l)
	}
	return j, args, nil
}

// argValue re-reads argument k of the event starting at data[start], which
// was read whole before.
func argValue(data []byte, start, k int) uint64 {
	j := start + 1
	var v uint64
	for i := 0; i <= k; i++ {
		var m int
		v, m = format.Uvarint(data[j:])
		j += m
	}
	return v
}

func (c *cursor) badType(bi, i int, typ byte) error {
	r := c.rd
	what := "unknown event type"
	if r.info[typ].flags&fFrame != 0 {
		what = "batch framing event inside a batch"
	}
	return &Error{Offset: r.base + int64(i), Gen: c.gen, Batch: bi,
		Err: fmt.Errorf("%s %d (%s) in %v: %w", what, typ, r.names[typ], r.v, ErrCorrupt)}
}

func (c *cursor) argErr(bi, lo, start, j int, typ byte, k, m int) error {
	r := c.rd
	name := r.names[typ]
	s := r.v.Spec(format.EventType(typ))
	if m == 0 {
		return &Error{Offset: r.base + int64(lo+start), Gen: c.gen, Batch: bi, Event: name,
			Err: fmt.Errorf("want %d args, batch ends after %d: %w", len(s.Args), k, ErrCorrupt)}
	}
	return c.varintErr(bi, r.base+int64(lo+j), name, "arg "+s.Args[k], m)
}

func (c *cursor) varintErr(bi int, off int64, name, what string, m int) error {
	if m == 0 {
		return &Error{Offset: off, Gen: c.gen, Batch: bi, Event: name,
			Err: fmt.Errorf("%s: batch ends inside the uvarint: %w", what, ErrCorrupt)}
	}
	return &Error{Offset: off, Gen: c.gen, Batch: bi, Event: name,
		Err: fmt.Errorf("%s: uvarint overflows 64 bits: %w", what, ErrCorrupt)}
}

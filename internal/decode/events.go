package decode

import (
	"fmt"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// decode turns the framed batches of one generation into r.g.
func (r *Reader) decode() (*Generation, error) {
	g := &r.g
	strs, stks := g.Strings, g.Stacks
	if strs == nil {
		strs = make(map[uint64]string)
		stks = make(map[uint64]*Stack)
	}
	clear(strs)
	clear(stks)
	*g = Generation{
		Version:    r.v,
		Strings:    strs,
		Stacks:     stks,
		Types:      g.Types[:0],
		CPUSamples: g.CPUSamples[:0],
		Batches:    g.Batches[:0],
		MinTime:    ^uint64(0),
	}
	if len(r.batches) > 0 {
		g.Num, _ = r.genOf(0)
	}
	// Size the arrays from the generation's size. Runtime traces have
	// about one argument per two bytes and an event per five or more;
	// a generation that needs more gets a new argument chunk (the events
	// before it keep the old one) and a grown event array.
	nbytes := 0
	if n := len(r.batches); n > 0 {
		nbytes = r.batches[n-1].hi - r.batches[0].lo
	}
	if r.detail == Full && cap(r.argChunk) < nbytes*5/8 {
		r.argChunk = make([]uint64, 0, nbytes*5/8)
	}
	if r.detail == Full && cap(r.events) < nbytes/5 {
		r.events = make([]Event, 0, nbytes/5)
	}
	r.args = r.argChunk[:0]
	r.events = r.events[:0]
	r.frames = r.frames[:0]
	r.stacks = r.stacks[:0]

	var stackEvents []int // indexes into r.events of Stack entries
	r.tableBatches = r.tableBatches[:0]
	for bi := range r.batches {
		bf := &r.batches[bi]
		b := bf.b
		data := r.buf[bf.lo:bf.hi]
		hdr := format.EvEventBatch
		switch b.Header {
		case format.EvEndOfGeneration:
			r.events = append(r.events, Event{Type: format.EvEndOfGeneration, Offset: b.Offset})
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
				if err := r.allocFree(g, bi, bf.lo, data); err != nil {
					return nil, err
				}
			}
			g.Batches = append(g.Batches, b)
			r.timeSpan(g, b.Time)
			continue
		}
		g.Counts[hdr].Events++
		g.Counts[hdr].Bytes += int64(bf.hdrBytes)
		r.timeSpan(g, b.Time)
		table := isTable(data)
		store := r.detail == Full || table
		if !store && r.detail == Frames {
			g.Batches = append(g.Batches, b)
			continue
		}
		e0 := len(r.events)
		last, err := r.walk(g, bi, bf.lo, data, b.Time, store)
		if err != nil {
			return nil, err
		}
		if len(data) > 0 {
			r.timeSpan(g, last)
		}
		if table {
			r.tableBatches = append(r.tableBatches, len(g.Batches))
			for k := e0; k < len(r.events); k++ {
				if r.events[k].Type == format.EvStack {
					stackEvents = append(stackEvents, k)
				}
			}
		}
		if store {
			b.Events = r.events[e0:len(r.events):len(r.events)]
		}
		g.Batches = append(g.Batches, b)
	}
	if g.MinTime > g.MaxTime {
		g.MinTime, g.MaxTime = 0, 0
	}
	if r.detail == Frames {
		g.Events = -1
	}
	// Batches were appended while r.events may have grown; point each at
	// the final backing array.
	k := 0
	for i := range g.Batches {
		n := len(g.Batches[i].Events)
		if n > 0 || g.Batches[i].Header == format.EvEndOfGeneration {
			if g.Batches[i].Header == format.EvEndOfGeneration {
				n = 1
			}
			g.Batches[i].Events = r.events[k : k+n : k+n]
			k += n
		}
	}
	if err := r.tables(g, stackEvents); err != nil {
		return nil, err
	}
	return g, nil
}

func (r *Reader) genOf(i int) (uint64, bool) {
	bf := &r.batches[i]
	if bf.b.Header == format.EvEndOfGeneration {
		return 0, false
	}
	j := bf.b.Offset - r.base + 1
	if bf.b.Header == format.EvExperimentalBatch {
		j++
	}
	v, _ := format.Uvarint(r.buf[j:bf.lo])
	return v, true
}

func (r *Reader) timeSpan(g *Generation, t uint64) {
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

// walk decodes the events of one batch. data is buf[lo:lo+len(data)]; t is
// the batch's base time. With store, events and their arguments are
// appended to r.events and r.args; without, they are only counted. It
// returns the time of the batch's last timed event (t when none).
//
// N.B. This is the hot loop of the decoder: index arithmetic over the
// batch's bytes, a one-byte fast path for uvarints, no allocation except
// amortised growth of r.events.
func (r *Reader) walk(g *Generation, bi, lo int, data []byte, t uint64, store bool) (uint64, error) {
	args, events := r.args, r.events
	info := &r.info
	counts := &g.Counts
	base := r.base + int64(lo)
	nev := 0
	j := 0
	n := len(data)
	for j < n {
		start := j
		typ := data[j]
		inf := info[typ]
		if inf.flags&fValid == 0 {
			return 0, r.badType(g, bi, lo+j, typ)
		}
		j++
		a0 := len(args)
		nargs := int(inf.nargs)
		if store {
			if a0+nargs > cap(args) {
				// N.B. A new chunk, not a copy: the events so far
				// keep their arguments where they are.
				args = make([]uint64, 0, max(cap(args)/2, 4*(len(data)-start)+nargs))
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
					return 0, r.argErr(g, bi, lo, data, start, j, typ, k, m)
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
			j, args, err = r.trailer(g, bi, lo, data, start, j, typ, inf, args, a0, store)
			if err != nil {
				return 0, err
			}
		}
		if store {
			var d []byte
			if inf.flags&fData != 0 {
				d = r.lastData
			}
			events = append(events, Event{Type: format.EventType(typ), Offset: base + int64(start), Time: ts, Args: args[a0:len(args):len(args)], Data: d})
		}
		c := &counts[typ]
		c.Events++
		c.Bytes += int64(j - start)
		nev++
	}
	g.Events += nev
	r.args, r.events = args, events
	return t, nil
}

// trailer reads the frames of a stack table entry or the data of an event
// that has it. For data, the slice is left in r.lastData.
func (r *Reader) trailer(g *Generation, bi, lo int, data []byte, start, j int, typ byte, inf evInfo, args []uint64, a0 int, store bool) (int, []uint64, error) {
	name := r.names[typ]
	at := func(j int) int64 { return r.base + int64(lo+j) }
	if inf.flags&fStack != 0 {
		// The frame count is argument 1; recover it without storage.
		nframes, err := r.argValue(data, start, 1)
		if err != nil {
			return 0, nil, err
		}
		if nframes > format.MaxFramesPerStack {
			return 0, nil, r.fail(&Error{Offset: at(start), Gen: g.Num, Batch: bi, Event: name,
				Err: fmt.Errorf("%d frames, want at most %d: %w", nframes, format.MaxFramesPerStack, ErrCorrupt)})
		}
		for f := 0; f < int(nframes)*4; f++ {
			v, m := format.Uvarint(data[j:])
			if m <= 0 {
				what := fmt.Sprintf("frame %d of %d: %s", f/4, nframes, format.FrameFields()[f%4])
				return 0, nil, r.varintErr(g, bi, at(j), name, what, m)
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
			return 0, nil, r.varintErr(g, bi, at(j), name, "data length", m)
		}
		j += m
		if l > uint64(len(data)-j) {
			return 0, nil, r.fail(&Error{Offset: at(start), Gen: g.Num, Batch: bi, Event: name,
				Err: fmt.Errorf("data length %d, batch ends after %d: %w", l, len(data)-j, ErrCorrupt)})
		}
		if l > format.MaxDataSize {
			return 0, nil, r.fail(&Error{Offset: at(start), Gen: g.Num, Batch: bi, Event: name,
				Err: fmt.Errorf("data length %d exceeds the maximum %d: %w", l, format.MaxDataSize, ErrCorrupt)})
		}
		r.lastData = data[j : j+int(l) : j+int(l)]
		j += int(l)
	}
	return j, args, nil
}

// argValue re-reads argument k of the event starting at data[start].
func (r *Reader) argValue(data []byte, start, k int) (uint64, error) {
	j := start + 1
	var v uint64
	for i := 0; i <= k; i++ {
		var m int
		v, m = format.Uvarint(data[j:])
		j += m
	}
	return v, nil
}

func (r *Reader) badType(g *Generation, bi, i int, typ byte) error {
	what := "unknown event type"
	if r.info[typ].flags&fFrame != 0 {
		what = "batch framing event inside a batch"
	}
	return r.fail(&Error{Offset: r.base + int64(i), Gen: g.Num, Batch: bi,
		Err: fmt.Errorf("%s %d (%s) in %v: %w", what, typ, r.names[typ], r.v, ErrCorrupt)})
}

func (r *Reader) argErr(g *Generation, bi, lo int, data []byte, start, j int, typ byte, k, m int) error {
	name := r.names[typ]
	s := r.v.Spec(format.EventType(typ))
	if m == 0 {
		return r.fail(&Error{Offset: r.base + int64(lo+start), Gen: g.Num, Batch: bi, Event: name,
			Err: fmt.Errorf("want %d args, batch ends after %d: %w", len(s.Args), k, ErrCorrupt)})
	}
	return r.varintErr(g, bi, r.base+int64(lo+j), name, "arg "+s.Args[k], m)
}

func (r *Reader) varintErr(g *Generation, bi int, off int64, name, what string, m int) error {
	if m == 0 {
		return r.fail(&Error{Offset: off, Gen: g.Num, Batch: bi, Event: name,
			Err: fmt.Errorf("%s: batch ends inside the uvarint: %w", what, ErrCorrupt)})
	}
	return r.fail(&Error{Offset: off, Gen: g.Num, Batch: bi, Event: name,
		Err: fmt.Errorf("%s: uvarint overflows 64 bits: %w", what, ErrCorrupt)})
}

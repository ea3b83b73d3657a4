package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// Detail says how much of each generation Next decodes.
type Detail int

const (
	// Full decodes every event with its arguments.
	Full Detail = iota
	// Counts decodes the tables (frequency, clock, strings, stacks, CPU
	// samples, types) and walks every other event only to count it and
	// follow its timestamps: Batch.Events is empty for batches that are
	// not tables, while Events, Counts, MinTime and MaxTime are complete.
	Counts
	// Frames decodes the tables and only frames the other batches: Events
	// is -1 (not counted), Counts covers the table batches alone, and
	// MaxTime is the latest batch base time. It reads as fast as the
	// input arrives.
	Frames
)

// EventReader reads the events of a generation's batches: a *Reader for
// the generation its Next returned last, a *GenReader for the one Parallel
// hands over. Code that reads events through it works with both.
type EventReader interface {
	BatchEvents(g *Generation, i int) ([]Event, error)
	EachEvent(g *Generation, i int, fn func(*Event) error) error
}

// BatchEvents returns the events of batch i of g, the generation Next last
// returned. With Full detail, or for a table batch, they are
// g.Batches[i].Events; otherwise they are decoded now into an array that the
// next call reuses, so a generation can be read batch by batch without
// holding all its events at once.
func (r *Reader) BatchEvents(g *Generation, i int) ([]Event, error) {
	if g != &r.gd.g || r.err != nil || i < 0 || i >= len(g.Batches) || i >= len(r.gd.batches) {
		return nil, fmt.Errorf("decode: BatchEvents(%d) of a generation that is not the current one", i)
	}
	evs, err := r.gd.batchEvents(i)
	if err != nil {
		return nil, r.fail(err)
	}
	return evs, nil
}

// EachEvent calls fn with each event of batch i of g, the generation Next
// last returned, in order, and stops at the first error fn returns. Events
// are decoded one at a time into the same storage, so the *Event and its
// Args and Data are valid only during the call: this is the way to read
// every event of a large trace at the speed of the bare walk, whatever the
// Detail. Damage gives an *Error, and the Reader then stops as Next would
// have.
func (r *Reader) EachEvent(g *Generation, i int, fn func(*Event) error) error {
	if g != &r.gd.g || r.err != nil || i < 0 || i >= len(g.Batches) || i >= len(r.gd.batches) {
		return fmt.Errorf("decode: EachEvent(%d) of a generation that is not the current one", i)
	}
	err := r.gd.eachEvent(i, fn)
	if _, ok := err.(*Error); ok {
		return r.fail(err)
	}
	return err
}

// batchEvents is BatchEvents for a batch of the decoder's generation.
func (d *genDecoder) batchEvents(i int) ([]Event, error) {
	b := &d.g.Batches[i]
	if b.Events != nil || b.Header != format.EvEventBatch {
		return b.Events, nil
	}
	bf := &d.batches[i]
	data := d.buf[bf.lo:bf.hi]
	c := &d.batchCur
	c.reset(d, d.g.Num, len(data), 0) // N.B. every argument takes a byte or more
	if _, err := c.walk(i, bf.lo, data, b.Time, true); err != nil {
		return nil, err
	}
	return c.events, nil
}

// eachEvent is EachEvent for a batch of the decoder's generation.
func (d *genDecoder) eachEvent(i int, fn func(*Event) error) error {
	b := &d.g.Batches[i]
	if b.Events != nil || b.Header != format.EvEventBatch {
		for j := range b.Events {
			if err := fn(&b.Events[j]); err != nil {
				return err
			}
		}
		return nil
	}
	bf := &d.batches[i]
	c := &d.batchCur
	c.rd, c.gen = d, d.g.Num
	return c.eachEvent(i, bf.lo, d.buf[bf.lo:bf.hi], b.Time, fn)
}

// Sizes of the read buffer.
const (
	minBuffer = 256 << 10 // first allocation
	minRead   = 64 << 10  // never ask the reader for less than this
	maxRead   = 1 << 20   // nor for more than this past what is needed

	// firstBuffer is the most the buffer grows to at once for an input
	// of known size, before any generation was seen.
	firstBuffer = 32 << 20
	maxHeader   = 2 + 4*format.MaxVarintLen
)

// event flags in the compact per-version table.
const (
	fValid = 1 << iota
	fTimed
	fStack
	fData
	fFrame // batch framing events: never valid inside a batch
)

type evInfo struct {
	nargs uint8
	flags uint8
}

// Reader reads a trace one generation at a time.
type Reader struct {
	r io.Reader
	evTable
	detail Detail

	// buf[pos:end] is input read but not yet returned in a generation;
	// base is the input offset of buf[0].
	buf      []byte
	pos, end int
	base     int64
	rerr     error // the first error from r, io.EOF included

	fr     Framer   // cuts the input into generations
	src    frameSrc // the buffer, as fr reads it
	err    error    // sticky: damage found, or io.EOF
	double bool     // fill doubles the buffer when it grows
	hint   int64    // bytes the input had left past the header, when known and not used yet

	// file is the input when it is a regular file, nil otherwise;
	// origin is the file offset of input offset 0.
	file   *os.File
	origin int64
	mapped bool // buf is part of a mapping of file (Parallel): never pooled

	gd genDecoder // frame fills its batches; Next decodes with it
}

// evTable is what the decoder knows of each event type of the trace's
// version, indexed by the type byte.
type evTable struct {
	v     format.Version
	names [256]string
	info  [256]evInfo
}

// genDecoder decodes one framed generation: batches over buf, the
// generation's bytes, whose first byte is at input offset base. It holds
// the generation and the arrays it reuses from one generation to the next.
type genDecoder struct {
	*evTable
	detail  Detail
	buf     []byte
	base    int64
	batches []batchFrame

	g            Generation
	frames       []Frame
	stacks       []Stack
	tableBatches []int    // indexes of the generation's table batches
	items        []item   // batches whose events are walked
	stackEvents  []*Event // the generation's stack table entries
	eog          [1]Event // the in-band end of generation

	sizedBy  int    // table bytes of the generation that sized cur's event array
	cur      cursor // decode walks events into this
	batchCur cursor // BatchEvents and EachEvent decode into this
}

// batchFrame is a batch found while framing: its header and the buffer
// range of its content.
type batchFrame struct {
	b        Batch
	lo, hi   int
	hdrBytes int
}

// NewReader reads and checks the header. Traces in the older Go 1.11–1.21
// format give an error wrapping ErrOldFormat. Errors are *Error.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{r: r}
	rd.gd.evTable = &rd.evTable
	if a, ok := arrayPool.Get().(*arrays); ok {
		rd.buf, rd.gd.cur.events, rd.gd.cur.argChunk = a.buf, a.events, a.args
	}
	rd.fill(format.HeaderSize)
	if rd.end == 0 {
		if rd.rerr != nil && rd.rerr != io.EOF {
			return nil, &Error{Offset: 0, Batch: -1, Err: rd.rerr}
		}
		return nil, &Error{Offset: 0, Batch: -1, Err: ErrEmpty}
	}
	if rd.end < format.HeaderSize {
		if rd.rerr != nil && rd.rerr != io.EOF {
			return nil, &Error{Offset: int64(rd.end), Batch: -1, Err: rd.rerr}
		}
		if h := rd.buf[:rd.end]; !bytes.HasPrefix(h, []byte("go 1.")) && !bytes.HasPrefix([]byte("go 1."), h) {
			return nil, &Error{Offset: 0, Batch: -1, Err: format.ErrNotTrace}
		}
		return nil, &Error{Offset: int64(rd.end), Batch: -1,
			Err: fmt.Errorf("want a %d-byte header, input ends after %d: %w", format.HeaderSize, rd.end, io.ErrUnexpectedEOF)}
	}
	v, err := format.ParseHeader(rd.buf[:format.HeaderSize])
	if err != nil {
		return nil, &Error{Offset: 0, Batch: -1, Err: err}
	}
	if v.IsV1() {
		return nil, &Error{Offset: 0, Batch: -1, Err: fmt.Errorf("%v: %w", v, ErrOldFormat)}
	}
	rd.v = v
	rd.pos = format.HeaderSize
	rd.src.r = rd
	rd.fr = Framer{src: &rd.src, v: v, off: format.HeaderSize}
	rd.hint = remaining(r)
	if f, ok := r.(*os.File); ok && rd.hint > 0 {
		if off, err := f.Seek(0, io.SeekCurrent); err == nil {
			rd.file, rd.origin = f, off-int64(rd.end)
		}
	}
	for t := range 256 {
		s := v.Spec(format.EventType(t))
		if s == nil {
			rd.names[t] = v.EventName(format.EventType(t))
			continue
		}
		rd.names[t] = s.Name
		inf := evInfo{nargs: uint8(len(s.Args)), flags: fValid}
		if s.IsTimed {
			inf.flags |= fTimed
		}
		if s.IsStack {
			inf.flags |= fStack
		}
		if s.HasData {
			inf.flags |= fData
		}
		switch format.EventType(t) {
		case format.EvEventBatch, format.EvExperimentalBatch, format.EvEndOfGeneration:
			inf.flags = fFrame
		}
		rd.info[t] = inf
	}
	return rd, nil
}

// Version returns the trace's format version.
func (r *Reader) Version() format.Version { return r.v }

// SetDetail says how much Next decodes from now on; Full is the default.
func (r *Reader) SetDetail(d Detail) { r.detail = d }

// Offset returns the number of input bytes consumed: the end of the last
// generation Next returned (the header's end before the first).
func (r *Reader) Offset() int64 { return r.base + int64(r.pos) }

// Raw returns the bytes of the generation Next returned last, from its first
// batch to its end; they are valid until the next call to Next.
func (r *Reader) Raw() []byte { return r.gd.buf }

// fill reads until buf holds at least n bytes (buf[:n]) or the input ends.
func (r *Reader) fill(n int) {
	empty := 0
	for r.end < n && r.rerr == nil {
		if cap(r.buf)-r.end < minRead || cap(r.buf) < n {
			// N.B. A quarter more than needed, not twice the old size:
			// the buffer ends near the largest generation's size, and
			// the old and new arrays held at once while copying stay
			// small, which keeps the heap (and the garbage collector's
			// goal, twice the heap) close to one generation. Parallel
			// doubles instead: see frameAll.
			grow := cap(r.buf) / 4
			if r.double {
				grow = cap(r.buf)
			}
			c := max(cap(r.buf)+grow, n+n/4+minRead, minBuffer)
			if r.hint > 0 {
				// N.B. Once, when the input's size is known:
				// as large as the rest of it, up to
				// firstBuffer, so that the first generation
				// does not grow the buffer through a chain of
				// copies, which leaves garbage as large as
				// itself. Reads stop a little past what is
				// needed (below), so the pages a generation
				// does not reach are never touched.
				c = max(c, int(min(r.hint+int64(r.end), firstBuffer)))
				r.hint = 0
			}
			nb := make([]byte, c)
			copy(nb, r.buf[:r.end])
			r.buf = nb
		}
		// N.B. Reading no further than needed (and a little more)
		// keeps the bytes after a generation few, so Parallel moves
		// little, and leaves the pages of a large buffer's tail
		// untouched until a generation needs them.
		r.buf = r.buf[:cap(r.buf)]
		p := r.buf[r.end:min(len(r.buf), max(n, r.end)+maxRead)]
		m, err := r.r.Read(p)
		if m < 0 || m > len(p) {
			err = fmt.Errorf("reader returned %d bytes for a %d-byte buffer", m, len(p))
			m = 0
		}
		r.end += m
		if err != nil {
			r.rerr = err
		}
		if m == 0 && err == nil {
			// A reader that keeps returning nothing would spin here.
			if empty++; empty == 100 {
				r.rerr = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
}

// fail records err as the Reader's sticky error and returns it.
func (r *Reader) fail(err error) error {
	r.err = err
	r.release()
	return err
}

// arrays are the large backing arrays a Reader reuses from one generation
// to the next. When a Reader is done they go to a pool for the next one,
// so reading many traces in one process does not pay for fresh memory
// each time.
type arrays struct {
	buf    []byte
	events []Event
	args   []uint64
}

var arrayPool sync.Pool

// release returns the Reader's arrays to the pool. The Reader never reads
// again, and the last Generation it returned is no longer valid.
func (r *Reader) release() {
	if r.mapped {
		r.buf = nil // Parallel unmaps it
	}
	if r.buf == nil {
		return
	}
	c := &r.gd.cur
	if cap(c.args) > cap(c.argChunk) {
		c.argChunk = c.args
	}
	clear(c.events[:cap(c.events)]) // drop references into the old input
	arrayPool.Put(&arrays{buf: r.buf[:0], events: c.events[:0], args: c.argChunk[:0]})
	r.buf = nil
	r.gd = genDecoder{evTable: &r.evTable}
	r.base += int64(r.pos) // Offset stays put
	r.pos, r.end = 0, 0
}

// Next returns the next generation. It returns io.EOF, and nothing else,
// at a clean end of the input; damage gives an *Error once every complete
// generation before it was returned. The Generation is valid until the next
// call to Next.
func (r *Reader) Next() (*Generation, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.compact()
	end, err := r.frame()
	if err != nil {
		return nil, err
	}
	if end < 0 {
		return nil, r.fail(io.EOF)
	}
	r.gd.detail, r.gd.buf, r.gd.base = r.detail, r.buf[:end], r.base
	g, err := r.gd.decode()
	if err != nil {
		return nil, r.fail(err)
	}
	r.pos = end
	return g, nil
}

// compact drops the bytes of the generation Next returned last, so the
// next one starts at buf[0], where frame wants it.
func (r *Reader) compact() {
	if r.pos > 0 {
		copy(r.buf, r.buf[r.pos:r.end])
		r.base += int64(r.pos)
		r.end -= r.pos
		r.pos = 0
	}
}

// frame finds the batches of the next generation with the Reader's Framer,
// reading its bytes into the buffer. It returns the buffer index where the
// generation ends, or -1 at a clean end of input.
func (r *Reader) frame() (int, error) {
	r.gd.batches = r.gd.batches[:0]
	r.src.i = 0 // N.B. buf[0] is at input offset base, the Framer's offset
	sp, err := r.fr.Next(r.addBatch)
	if err == io.EOF {
		return -1, nil
	}
	if err != nil {
		return 0, r.fail(err)
	}
	return int(sp.End - r.base), nil
}

// addBatch keeps a batch the Framer found.
func (r *Reader) addBatch(fb *FramedBatch) {
	i := int(fb.Offset - r.base)
	bf := batchFrame{
		b:  Batch{Offset: fb.Offset, Size: fb.Size, Header: fb.Header, M: fb.M, Time: fb.Time, Last: fb.Time, Exp: fb.Exp},
		lo: i + fb.Len, hi: i + fb.Len + fb.Size, hdrBytes: fb.Len,
	}
	if fb.Header == format.EvEndOfGeneration {
		bf.lo, bf.hdrBytes = i, 0
	}
	r.gd.batches = append(r.gd.batches, bf)
}

// frameSrc is the Reader's buffer as its Framer reads it: buf[i] is the
// byte at the Framer's offset.
type frameSrc struct {
	r *Reader
	i int
}

func (s *frameSrc) Peek(n int) ([]byte, error) {
	r := s.r
	r.fill(s.i + n)
	p := r.buf[s.i:min(r.end, s.i+n)]
	if len(p) < n {
		return p, r.rerr
	}
	return p, nil
}

func (s *frameSrc) Discard(n int) (int, error) {
	r := s.r
	r.fill(s.i + n)
	d := min(n, r.end-s.i)
	s.i += d
	if d < n {
		return d, r.rerr
	}
	return d, nil
}

// IsTruncated reports whether err says the input ended too soon.
func IsTruncated(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }

// remaining returns how many bytes r has left to read when it can tell
// (a regular file, or a reader with a Len method such as bytes.Reader),
// else 0.
func remaining(r io.Reader) int64 {
	switch x := r.(type) {
	case interface{ Len() int }:
		return int64(x.Len())
	case *os.File:
		fi, err := x.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		off, err := x.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0
		}
		return max(fi.Size()-off, 0)
	}
	return 0
}

package timeline

import (
	"bytes"
	"errors"
	"io"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// Source is a trace as golang.org/x/exp/trace is to read it: the header
// and every complete generation of the input, in order, with the late
// status batches of each moved back to where its next generation begins
// (see Restamps). It reads one generation ahead: of the generation
// waiting for the next one's first timestamp it keeps a copy of the bytes
// from its first batch with no thread on (the only batches that may move),
// and hands out those before it while the decoder still holds them.
//
// It ends at the last complete generation: damage after it is not passed
// on but kept, for Err. A trace in the Go 1.11–1.21 format passes through
// as it is.
type Source struct {
	in  *teeReader
	dr  *decode.Reader
	out []io.Reader // bytes ready to be read, in order
	// pending is the last generation read, waiting for the next one's
	// first timestamp.
	pending *genBytes
	err     error // damage, once found
	done    bool
	// split splits large batches as Part does, for golang.org/x/exp/trace
	// to read them in about their size.
	split bool
	// at, when not nil, reads the input at its offsets: the generation
	// waiting for the next is read from it again instead of copied.
	at io.ReaderAt

	// Emitted lists the generations handed out so far: number and
	// offset in the input.
	emitted []GenRef
	// Restamped counts the batches moved back and Shifted the ticks
	// they moved, in total.
	Restamped int
	Shifted   uint64
}

// GenRef names a generation by its number and first byte.
type GenRef struct {
	Num    uint64
	Offset int64
}

// genBytes is what a generation waiting for the next one's first
// timestamp still has to hand out: the input from its first candidate for
// restamping to its end, with the cuts of its large batches there.
type genBytes struct {
	ref    GenRef
	tail   io.ReaderAt // the input from from to end, at its offsets
	from   int64
	end    int64
	min    uint64 // its first timestamp, in ticks
	late   []candidate
	splits []cut
}

// NewSource reads the trace's header from r. A header that is not a trace's
// gives an *decode.Error.
func NewSource(r io.Reader) (*Source, error) {
	// N.B. What the decoder reads is kept only until it has read the
	// header: an old-format trace is passed on as it is.
	t := &teeReader{r: r}
	dr, err := decode.NewReader(t)
	if err != nil {
		if errors.Is(err, decode.ErrOldFormat) {
			// golang.org/x/exp/trace reads it as it is.
			s := &Source{done: true, in: t}
			s.out = []io.Reader{bytes.NewReader(t.raw)}
			return s, nil
		}
		return nil, err
	}
	t.raw, t.off = nil, true
	dr.SetDetail(decode.Counts)
	s := &Source{in: t, dr: dr}
	s.out = []io.Reader{bytes.NewReader(format.AppendHeader(nil, dr.Version()))}
	return s, nil
}

// Read gives the trace's bytes as x/exp/trace is to read them.
func (s *Source) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		for len(s.out) == 0 {
			if s.done {
				if s.dr == nil {
					// The old format: the rest of the input as it is.
					return s.in.r.Read(p)
				}
				return 0, io.EOF
			}
			s.advance()
		}
		n, err := s.out[0].Read(p)
		if err != nil && err != io.EOF {
			// The input, read again at an offset.
			return n, err
		}
		if err != nil {
			s.out[0] = nil
			s.out = s.out[1:]
		}
		if n > 0 {
			return n, nil
		}
	}
}

// Err is the damage found after the last complete generation, nil when
// the input ended cleanly (or has not been read to its end).
func (s *Source) Err() error { return s.err }

// Version is the trace's format version; zero for the old format.
func (s *Source) Version() format.Version {
	if s.dr == nil {
		return 0
	}
	return s.dr.Version()
}

// Generations lists the generations handed out so far.
func (s *Source) Generations() []GenRef { return s.emitted }

func (s *Source) advance() {
	g, err := s.dr.Next()
	var splits []cut
	if err == nil && s.split {
		splits, err = s.splits(g)
	}
	if err == nil {
		s.generation(g, splits)
		return
	}
	if err != io.EOF {
		s.err = err
	}
	s.emit(s.pending, 0)
	s.pending, s.done = nil, true
}

// splits lists the cuts of g's large batches.
func (s *Source) splits(g *decode.Generation) ([]cut, error) {
	var out []cut
	for i := range g.Batches {
		c, ok, err := findCut(s.dr, g, i)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// generation queues what of g can go now and keeps the rest pending.
func (s *Source) generation(g *decode.Generation, splits []cut) {
	cur := &genBytes{ref: GenRef{g.Num, g.Offset}, min: g.MinTime, end: g.End}
	// Every batch with no thread may be late; which ones are is known
	// once the next generation's first timestamp is.
	cur.late = candidates(g)
	cur.from = g.End
	if len(cur.late) > 0 {
		cur.from = cur.late[0].off
	}
	raw := s.dr.Raw()
	head := splits
	for len(head) > 0 && head[len(head)-1].hdr >= cur.from {
		head = head[:len(head)-1]
	}
	cur.splits = splits[len(head):]
	cur.tail = s.at
	if s.at == nil {
		// N.B. A copy: the decoder reuses its buffer for the next
		// generation, which this one waits for.
		cur.tail = bytesAt{bytes.Clone(raw[cur.from-g.Offset:]), cur.from}
	}
	if p := s.pending; p != nil {
		s.emit(p, cur.min)
	}
	// What comes before the first candidate never changes: it goes out
	// from the decoder's buffer, which it leaves alone until every byte
	// queued is read.
	s.out = append(s.out, spliced(bytesAt{raw, g.Offset}, g.Offset, cur.from, head)...)
	s.pending = cur
}

// emit queues g's bytes with its batches later than next moved back.
func (s *Source) emit(g *genBytes, next uint64) {
	if g == nil {
		return
	}
	s.emitted = append(s.emitted, g.ref)
	var cuts []cut
	splits := g.splits
	for _, c := range g.late {
		r, ok := c.restamp(next)
		if !ok {
			continue
		}
		s.Restamped++
		s.Shifted += r.Shift
		for len(splits) > 0 && splits[0].hdr < r.Offset {
			cuts, splits = append(cuts, splits[0]), splits[1:]
		}
		split := len(splits) > 0 && splits[0].hdr == r.Offset
		var sc cut
		if split {
			sc, splits = splits[0], splits[1:]
		}
		cuts = append(cuts, restamped(sc, split, r))
	}
	cuts = append(cuts, splits...)
	s.out = append(s.out, spliced(g.tail, g.from, g.end, cuts)...)
}

// bytesAt reads b as the input from offset base on.
type bytesAt struct {
	b    []byte
	base int64
}

func (r bytesAt) ReadAt(p []byte, off int64) (int, error) {
	off -= r.base
	if off < 0 || off > int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// teeReader keeps what the decoder reads until off is set.
type teeReader struct {
	r   io.Reader
	raw []byte
	off bool
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if !t.off {
		t.raw = append(t.raw, p[:n]...)
	}
	return n, err
}

// Len is how many bytes of the input are left unread, when it says (0
// when it does not): the decoder sizes its buffer by it.
func (t *teeReader) Len() int {
	if l, ok := t.r.(interface{ Len() int }); ok {
		return l.Len()
	}
	return 0
}

// Copy writes to w the trace in r as a Source gives it: the complete
// generations, late status batches moved back, so that any reader of
// traces (go tool trace too) sees the times gotrace does. It returns the
// Source, for its counts and its Err.
func Copy(w io.Writer, r io.Reader) (*Source, error) {
	src, err := NewSource(r)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, src); err != nil {
		return src, err
	}
	return src, nil
}

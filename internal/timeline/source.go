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
// (see Restamps). It reads one generation ahead, so it holds about two
// generations in memory.
//
// It ends at the last complete generation: damage after it is not passed
// on but kept, for Err. A trace in the Go 1.11–1.21 format passes through
// as it is.
type Source struct {
	in  *teeReader
	dr  *decode.Reader
	out [][]byte // bytes ready to be read, in order
	// pending is the last generation read, waiting for the next one's
	// first timestamp.
	pending *genBytes
	err     error // damage, once found
	done    bool

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

// genBytes is one generation's bytes and its candidates for restamping.
type genBytes struct {
	ref  GenRef
	data []byte // the input from ref.Offset on
	min  uint64 // its first timestamp, in ticks
	late []candidate
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
			s.out = [][]byte{t.raw}
			return s, nil
		}
		return nil, err
	}
	t.raw, t.off = nil, true
	dr.SetDetail(decode.Counts)
	s := &Source{in: t, dr: dr}
	s.out = [][]byte{format.AppendHeader(nil, dr.Version())}
	return s, nil
}

// Read gives the trace's bytes as x/exp/trace is to read them.
func (s *Source) Read(p []byte) (int, error) {
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
	n := copy(p, s.out[0])
	if s.out[0] = s.out[0][n:]; len(s.out[0]) == 0 {
		s.out = s.out[1:]
	}
	return n, nil
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
	if err != nil {
		if err != io.EOF {
			s.err = err
		}
		s.emit(s.pending, 0)
		s.pending, s.done = nil, true
		return
	}
	cur := &genBytes{ref: GenRef{g.Num, g.Offset}, min: g.MinTime}
	// Every batch with no thread may be late; which ones are is known
	// once the next generation's first timestamp is.
	cur.late = candidates(g)
	// N.B. A copy: the decoder reuses its buffer for the next
	// generation, which this one waits for.
	cur.data = bytes.Clone(s.dr.Raw())
	if p := s.pending; p != nil {
		s.emit(p, cur.min)
	}
	s.pending = cur
}

// emit queues g's bytes with its batches later than next moved back.
func (s *Source) emit(g *genBytes, next uint64) {
	if g == nil {
		return
	}
	s.emitted = append(s.emitted, g.ref)
	pos := g.ref.Offset
	at := func(off int64) int64 { return off - g.ref.Offset }
	for _, c := range g.late {
		r, ok := c.restamp(next)
		if !ok {
			continue
		}
		s.Restamped++
		s.Shifted += r.Shift
		s.out = append(s.out, g.data[at(pos):at(r.Offset)], r.Header())
		pos = r.Data
	}
	s.out = append(s.out, g.data[at(pos):])
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

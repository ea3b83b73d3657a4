// Package bench measures how fast gotrace and its peers read execution
// traces. It holds the bare walk, the floor every decoder is compared with,
// the in-process loops the harness runs one per subprocess, and the tools to
// cut a trace into a valid prefix of whole generations.
//
// The harness itself is cmd/benchall, run by `make bench`.
package bench

import (
	"fmt"
	"io"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// window is a sliding view over a stream: bytes [off, end) of buf are read
// but not yet consumed; base is the stream offset of buf[0]. It is the
// source the scanner's decode.Framer reads: a consumed batch stays in buf
// until the next Peek, so the scanner hands it over in place.
type window struct {
	r    io.Reader
	buf  []byte
	off  int
	end  int
	base int64
	eof  bool
	err  error
}

// windowSize is how much the scanner reads at a time. Batches are at most
// format.MaxBatchSize, so the window always holds a whole one.
const windowSize = 1 << 20

func newWindow(r io.Reader) *window {
	return &window{r: r, buf: make([]byte, windowSize+format.MaxBatchSize+64)}
}

// ensure makes at least n unconsumed bytes available if the stream has them
// and reports whether it does.
func (w *window) ensure(n int) bool {
	if w.end-w.off >= n {
		return true
	}
	if w.eof {
		return false
	}
	if w.off > 0 {
		copy(w.buf, w.buf[w.off:w.end])
		w.base += int64(w.off)
		w.end -= w.off
		w.off = 0
	}
	for w.end-w.off < n && !w.eof {
		m, err := w.r.Read(w.buf[w.end:])
		w.end += m
		if err == io.EOF {
			w.eof = true
		} else if err != nil {
			w.eof, w.err = true, err
		}
	}
	return w.end-w.off >= n
}

// readErr is why fewer bytes than asked for are there: the read error, or
// io.EOF at the end of the stream.
func (w *window) readErr() error {
	if w.err != nil {
		return w.err
	}
	return io.EOF
}

// Peek is decode.FrameSource's: the next n bytes, fewer with the error
// that stopped it.
func (w *window) Peek(n int) ([]byte, error) {
	if w.ensure(n) {
		return w.buf[w.off : w.off+n], nil
	}
	return w.buf[w.off:w.end], w.readErr()
}

// Discard is decode.FrameSource's: it consumes n bytes, or as many as
// there are with the error that stopped it.
func (w *window) Discard(n int) (int, error) {
	if w.ensure(n) {
		w.off += n
		return n, nil
	}
	m := w.end - w.off
	w.off = w.end
	return m, w.readErr()
}

// BatchKind tells what a top-level item of a trace is.
type BatchKind uint8

const (
	EventBatch        BatchKind = iota // EvEventBatch: events of one M
	ExperimentalBatch                  // EvExperimentalBatch: experiment-defined bytes
	EndOfGeneration                    // EvEndOfGeneration (Go 1.26): a lone byte
)

// Batch is one top-level item of a trace, as the scanner frames it. Data
// and Raw point into the scanner's buffer and are valid until the function
// it was handed to returns.
type Batch struct {
	Kind   BatchKind
	Index  int // in its generation, from 0
	Exp    format.Experiment
	Gen    uint64 // 0 for an EndOfGeneration
	M      uint64
	Time   uint64
	Offset int64  // stream offset of the batch's first byte
	Data   []byte // the batch's events (or experiment data)
	Raw    []byte // the whole batch, header included
}

// Scanner frames a trace into generations and batches without looking
// inside the batches, by decode's framing rule (decode.Framer): every
// reader of the wire agrees on where generations end and where the damage
// is. It reads through a fixed window, so its memory does not depend on
// the input. Errors are *decode.Error.
type Scanner struct {
	w       *window
	f       *decode.Framer
	version format.Version
	gens    int // generations framed so far
}

// NewScanner reads and checks the header.
func NewScanner(r io.Reader) (*Scanner, error) {
	w := newWindow(r)
	if p, err := w.Peek(format.HeaderSize); len(p) < format.HeaderSize {
		if err == io.EOF {
			err = fmt.Errorf("header: want %d bytes, input ends after %d: %w", format.HeaderSize, len(p), io.ErrUnexpectedEOF)
		}
		return nil, &decode.Error{Offset: int64(len(p)), Batch: -1, Err: err}
	}
	v, err := format.ParseHeader(w.buf[:format.HeaderSize])
	if err != nil {
		return nil, &decode.Error{Offset: 0, Batch: -1, Err: err}
	}
	if !v.IsV2() {
		return nil, &decode.Error{Offset: 0, Batch: -1, Err: fmt.Errorf("%v uses the old trace format, which the walk does not read: %w", v, decode.ErrOldFormat)}
	}
	w.off = format.HeaderSize
	return &Scanner{w: w, f: decode.NewFramer(w, v, format.HeaderSize), version: v}, nil
}

// Version is the version named in the header.
func (s *Scanner) Version() format.Version { return s.version }

// Generations is how many generations were framed so far.
func (s *Scanner) Generations() int { return s.gens }

// Header returns the 16 header bytes for v.
func Header(v format.Version) []byte { return format.AppendHeader(nil, v) }

// NextGen frames the next generation and calls fn with each of its batches
// in order; after fn returns an error it calls it no more, and NextGen
// returns that error, the earliest, once the generation is framed. It
// returns io.EOF after the last generation.
func (s *Scanner) NextGen(fn func(*Batch) error) (decode.Span, error) {
	var b Batch
	var ferr error
	span, err := s.f.Next(func(fb *decode.FramedBatch) {
		if ferr != nil {
			return
		}
		// N.B. the Framer has just consumed the batch: its bytes end at
		// the window's offset and stay there until the next Peek.
		n := fb.Len + fb.Size
		raw := s.w.buf[s.w.off-n : s.w.off]
		b = Batch{Index: b.Index, Exp: fb.Exp, Gen: fb.Gen, M: fb.M, Time: fb.Time, Offset: fb.Offset, Data: raw[fb.Len:], Raw: raw}
		switch fb.Header {
		case format.EvEndOfGeneration:
			b.Kind = EndOfGeneration
		case format.EvExperimentalBatch:
			b.Kind = ExperimentalBatch
		default:
			b.Kind = EventBatch
		}
		ferr = fn(&b)
		b.Index++
	})
	if ferr != nil {
		return span, ferr
	}
	if err != nil {
		return span, err
	}
	s.gens++
	return span, nil
}

// Counts is what a pass over a trace saw.
type Counts struct {
	Bytes       int64 `json:"bytes"`
	Generations int   `json:"generations"`
	Batches     int64 `json:"batches"`
	Events      int64 `json:"events"`
	LargestGen  int64 `json:"largest_gen"` // bytes of the biggest generation
}

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

	"github.com/gotrace-cli/gotrace/internal/format"
)

// window is a sliding view over a stream: bytes [off, end) of buf are read
// but not yet consumed; base is the stream offset of buf[0].
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

// pos is the stream offset of the next unconsumed byte.
func (w *window) pos() int64 { return w.base + int64(w.off) }

// BatchKind tells what a top-level item of a trace is.
type BatchKind uint8

const (
	EventBatch        BatchKind = iota // EvEventBatch: events of one M
	ExperimentalBatch                  // EvExperimentalBatch: experiment-defined bytes
	EndOfGeneration                    // EvEndOfGeneration (Go 1.26): a lone byte
)

// Batch is one top-level item of a trace, as the scanner frames it. Data
// and Raw point into the scanner's buffer and are valid until the next call
// to Next.
type Batch struct {
	Kind   BatchKind
	NewGen bool // the first batch of a generation
	Exp    format.Experiment
	Gen    uint64
	M      uint64
	Time   uint64
	Offset int64  // stream offset of the batch's first byte
	Data   []byte // the batch's events (or experiment data)
	Raw    []byte // the whole batch, header included
}

// Scanner frames a trace into batches without looking inside them. It reads
// through a fixed window, so its memory does not depend on the input.
type Scanner struct {
	w       *window
	version format.Version
	err     error
	gens    int    // generations seen so far
	lastGen uint64 // generation of the last batch
}

// NewScanner reads and checks the header.
func NewScanner(r io.Reader) (*Scanner, error) {
	w := newWindow(r)
	if !w.ensure(format.HeaderSize) {
		if w.err != nil {
			return nil, w.err
		}
		return nil, fmt.Errorf("byte 0x0: header: %w", io.ErrUnexpectedEOF)
	}
	v, err := format.ParseHeader(w.buf[:format.HeaderSize])
	if err != nil {
		return nil, fmt.Errorf("byte 0x0: %w", err)
	}
	if !v.IsV2() {
		return nil, fmt.Errorf("byte 0x0: %v uses the old trace format, which the walk does not read", v)
	}
	w.off = format.HeaderSize
	return &Scanner{w: w, version: v, lastGen: ^uint64(0)}, nil
}

// Version is the version named in the header.
func (s *Scanner) Version() format.Version { return s.version }

// Generations is how many generations the batches so far belong to. The
// runtime writes generations one after another, so a change of the
// generation number in a batch header starts a new one.
func (s *Scanner) Generations() int { return s.gens }

// Header returns the 16 header bytes for v.
func Header(v format.Version) []byte { return format.AppendHeader(nil, v) }

// Next returns the next batch, or io.EOF after the last one.
func (s *Scanner) Next() (*Batch, error) {
	if s.err != nil {
		return nil, s.err
	}
	b, err := s.next()
	if err != nil {
		s.err = err
	}
	return b, err
}

// maxBatchHeader is the most bytes a batch header takes: type, experiment,
// four uvarints.
const maxBatchHeader = 2 + 4*format.MaxVarintLen

func (s *Scanner) next() (*Batch, error) {
	w := s.w
	if !w.ensure(1) {
		if w.err != nil {
			return nil, w.err
		}
		return nil, io.EOF
	}
	start := w.pos()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("byte 0x%x: "+format, append([]any{start}, args...)...)
	}
	w.ensure(maxBatchHeader)
	p := w.buf[w.off:w.end]
	b := &Batch{Offset: start}
	i := 1
	switch t := format.EventType(p[0]); {
	case t == format.EvEndOfGeneration && s.version >= format.Go126:
		b.Kind = EndOfGeneration
		b.Raw = p[:1]
		w.off++
		return b, nil
	case t == format.EvEventBatch:
		b.Kind = EventBatch
	case t == format.EvExperimentalBatch && s.version.HasExperiments():
		if len(p) < 2 {
			return nil, fail("experimental batch: %w", io.ErrUnexpectedEOF)
		}
		b.Kind, b.Exp = ExperimentalBatch, format.Experiment(p[1])
		i = 2
	default:
		return nil, fail("want a batch, have event type %d", t)
	}
	var hdr [4]uint64
	for k := range hdr {
		v, n := format.Uvarint(p[i:])
		if n <= 0 {
			if n == 0 {
				return nil, fail("batch header: %w", io.ErrUnexpectedEOF)
			}
			return nil, fail("batch header: varint overflows 64 bits")
		}
		hdr[k] = v
		i += n
	}
	b.Gen, b.M, b.Time = hdr[0], hdr[1], hdr[2]
	if b.Gen != s.lastGen {
		s.lastGen, b.NewGen = b.Gen, true
		s.gens++
	}
	size := hdr[3]
	if size > format.MaxBatchSize {
		return nil, fail("batch size %d exceeds the maximum %d", size, format.MaxBatchSize)
	}
	if !w.ensure(i + int(size)) {
		if w.err != nil {
			return nil, w.err
		}
		return nil, fail("batch of %d bytes: %w", size, io.ErrUnexpectedEOF)
	}
	p = w.buf[w.off:w.end]
	b.Data = p[i : i+int(size)]
	b.Raw = p[:i+int(size)]
	w.off += i + int(size)
	return b, nil
}

// Counts is what a pass over a trace saw.
type Counts struct {
	Bytes       int64 `json:"bytes"`
	Generations int   `json:"generations"`
	Batches     int64 `json:"batches"`
	Events      int64 `json:"events"`
	LargestGen  int64 `json:"largest_gen"` // bytes of the biggest generation
}

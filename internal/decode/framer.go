package decode

import (
	"fmt"
	"io"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// FrameSource is the input a Framer reads: a *bufio.Reader is one.
// Peek returns the next n bytes without consuming them, fewer with the
// error that stopped it (io.EOF at the end of the input); Discard consumes
// n bytes and says how many it could.
type FrameSource interface {
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// Framer cuts the body of a trace (what follows the header) into
// generations by its batch headers alone: the one rule every reader of the
// wire follows, so that all agree on which generations are complete and
// where the damage is. Reader frames with it before decoding; a reader that
// only needs the generations' bounds frames with it over a *bufio.Reader.
//
// The rule:
//
//  1. A generation is batches of one generation number. Go 1.26 and later
//     end it in band, with EndOfGeneration; before, the first batch of the
//     next generation (its number plus one) ends it, and so does the end of
//     the input.
//  2. A batch of any other generation is damage at that batch, in the
//     generation being framed, which is then not complete: a generation
//     number that jumps or goes backwards, or (Go 1.26) a batch of the next
//     generation before the EndOfGeneration.
//  3. A generation follows the one before it by one; the first may have any
//     number but 0.
//  4. Each batch header is read, and its size checked against
//     format.MaxBatchSize, before its bytes are; and a generation holds at
//     most MaxBatches(n) batches in its first n bytes, which bounds what a
//     reader keeps per batch by the input's size.
//  5. Before Go 1.26, bytes that cannot begin a batch end the generation
//     before them (as golang.org/x/exp/trace reads it); the damage is
//     reported by the next call.
type Framer struct {
	src FrameSource
	v   format.Version
	off int64 // input offset of the next byte

	last    uint64 // number of the last generation framed
	started bool   // a generation was framed

	// The generation being framed.
	gen     uint64 // its number, 0 before its first batch
	start   int64  // input offset of its first byte
	batches int    // batches so far
}

// FramedBatch is one batch a Framer found.
type FramedBatch struct {
	Offset int64            // input offset of the header's first byte
	Header format.EventType // EvEventBatch, EvExperimentalBatch or EvEndOfGeneration
	Exp    format.Experiment
	Gen    uint64 // 0 for an EndOfGeneration
	M      uint64 // format.NoThread for an EndOfGeneration
	Time   uint64
	Size   int // bytes of content, header excluded
	Len    int // bytes of header
}

// Span is the place of one generation in the input.
type Span struct {
	Gen        uint64
	Offset     int64 // its first byte
	End        int64 // the byte after its last
	NumBatches int   // its batches, an in-band EndOfGeneration included
}

// Limits of rule 4: any generation may hold freeBatches batches; past that,
// one per bytesPerBatch bytes. The runtime flushes a batch when its buffer
// (64 KiB) is full, and once per thread at the end of a generation (or when
// the thread exits), so real traces stay far inside. Readers keep a few
// hundred bytes per batch, golang.org/x/exp/trace most (some 800): the bound
// keeps that to about 13 MB, or six times the generation's bytes.
const (
	freeBatches   = 1 << 14
	bytesPerBatch = 128
)

// MaxBatches is the most batches a generation holds in its first n bytes
// (counted to the end of the last batch's header).
func MaxBatches(n int64) int { return int(max(freeBatches, n/bytesPerBatch)) }

// NewFramer returns a Framer for the body of a trace of version v, read
// from src, whose first byte is at input offset off.
func NewFramer(src FrameSource, v format.Version, off int64) *Framer {
	return &Framer{src: src, v: v, off: off}
}

// Offset returns the input offset of the next byte the Framer reads: the end
// of the last generation Next returned, or where the damage it reported is.
func (f *Framer) Offset() int64 { return f.off }

// Next frames the next generation, consuming its bytes from the source,
// and calls batch (when not nil) with each of its batches in order. It
// returns io.EOF, and nothing else, at a clean end of the input; damage
// gives an *Error whose Batch counts the batches framed before it.
func (f *Framer) Next(batch func(*FramedBatch)) (Span, error) {
	f.gen, f.start, f.batches = 0, f.off, 0
	var b FramedBatch
	for {
		p, err := f.src.Peek(1)
		if len(p) == 0 {
			if err != io.EOF {
				return Span{}, f.errAt(f.off, f.batches, "", err)
			}
			if f.batches == 0 {
				return Span{}, io.EOF
			}
			if f.v >= format.Go126 {
				return Span{}, f.errAt(f.off, -1, "", fmt.Errorf("generation has no EndOfGeneration, input ends: %w", io.ErrUnexpectedEOF))
			}
			return f.end(), nil
		}
		typ := format.EventType(p[0])
		switch {
		case typ == format.EvEndOfGeneration && f.v >= format.Go126:
			if f.batches == 0 {
				return Span{}, &Error{Offset: f.off, Batch: -1, Event: "EndOfGeneration", Err: fmt.Errorf("end of a generation that has no batches: %w", ErrCorrupt)}
			}
			b = FramedBatch{Offset: f.off, Header: typ, M: format.NoThread, Len: 1}
			f.src.Discard(1) // N.B. peeked: it is there
			f.off++
			f.batches++
			if batch != nil {
				batch(&b)
			}
			return f.end(), nil
		case typ == format.EvEventBatch || typ == format.EvExperimentalBatch && f.v.HasExperiments():
		case f.batches > 0 && f.v < format.Go126:
			return f.end(), nil // rule 5
		default:
			what := "want a batch header (EventBatch"
			if f.v.HasExperiments() {
				what += ", ExperimentalBatch"
			}
			if f.v >= format.Go126 {
				what += ", EndOfGeneration"
			}
			return Span{}, f.errAt(f.off, f.batches, "", fmt.Errorf("%s), have byte 0x%02x (%s): %w", what, byte(typ), f.v.EventName(typ), ErrCorrupt))
		}
		b, size, ended, err := f.header(typ)
		if err == nil && !ended {
			ended, err = f.follow(&b)
		}
		if err != nil {
			return Span{}, err
		}
		if ended {
			return f.end(), nil
		}
		if size > format.MaxBatchSize {
			return Span{}, f.errAt(f.off+int64(b.Len), f.batches, f.v.EventName(typ), fmt.Errorf("size %d exceeds the maximum batch size %d: %w", size, format.MaxBatchSize, ErrCorrupt))
		}
		b.Size = int(size)
		n := b.Len + b.Size
		if d, err := f.src.Discard(n); d < n {
			if err != io.EOF {
				return Span{}, f.errAt(f.off+int64(d), f.batches, f.v.EventName(typ), err)
			}
			return Span{}, f.errAt(f.off, f.batches, f.v.EventName(typ), fmt.Errorf("want %d bytes of batch, input ends after %d: %w", b.Size, max(d-b.Len, 0), io.ErrUnexpectedEOF))
		}
		f.off += int64(n)
		f.batches++
		if batch != nil {
			batch(&b)
		}
	}
}

// header reads the header of the batch of type typ at the Framer's offset,
// without consuming it, and the size it gives. ended says that, by rule 5,
// the generation framed so far ends before it.
func (f *Framer) header(typ format.EventType) (b FramedBatch, size uint64, ended bool, err error) {
	name := f.v.EventName(typ)
	hdr, rerr := f.src.Peek(maxHeader)
	// trunc is a header the input ends inside, after have fields.
	trunc := func(field string, have int) error {
		at := f.off + int64(len(hdr))
		if rerr != io.EOF {
			return f.errAt(at, f.batches, name, rerr)
		}
		return f.errAt(at, f.batches, name, fmt.Errorf("want header field %s, input ends after %d of 4 fields: %w", field, have, io.ErrUnexpectedEOF))
	}
	j := 1
	b = FramedBatch{Offset: f.off, Header: typ, Exp: format.NoExperiment}
	if typ == format.EvExperimentalBatch {
		if j >= len(hdr) {
			return b, 0, false, trunc("exp", 0)
		}
		b.Exp = format.Experiment(hdr[j])
		j++
	}
	var vals [4]uint64
	fields := [4]string{"gen", "m", "time", "size"}
	for k := range vals {
		v, n := format.Uvarint(hdr[j:])
		if n == 0 && k == 0 && f.batches > 0 && f.v < format.Go126 {
			return b, 0, true, nil // rule 5
		}
		if n == 0 {
			if len(hdr[j:]) >= format.MaxVarintLen {
				return b, 0, false, f.errAt(f.off+int64(j), f.batches, name, fmt.Errorf("%s: uvarint longer than %d bytes: %w", fields[k], format.MaxVarintLen, ErrCorrupt))
			}
			return b, 0, false, trunc(fields[k], k)
		}
		if n < 0 {
			return b, 0, false, f.errAt(f.off+int64(j), f.batches, name, fmt.Errorf("%s: uvarint overflows 64 bits: %w", fields[k], ErrCorrupt))
		}
		vals[k] = v
		j += n
	}
	b.Gen, b.M, b.Time, b.Len = vals[0], vals[1], vals[2], j
	return b, vals[3], false, nil
}

// follow applies rules 1 to 4 to batch b: ended says the generation framed
// so far ends before it.
func (f *Framer) follow(b *FramedBatch) (ended bool, err error) {
	name := f.v.EventName(b.Header)
	if f.batches == 0 {
		if b.Gen == 0 {
			return false, &Error{Offset: f.off, Batch: 0, Event: name, Err: fmt.Errorf("generation number 0 is never written: %w", ErrCorrupt)}
		}
		if f.started && b.Gen != f.last+1 {
			return false, &Error{Offset: f.off, Gen: b.Gen, Batch: 0, Event: name, Err: fmt.Errorf("generation %d follows generation %d, want %d: %w", b.Gen, f.last, f.last+1, ErrCorrupt)}
		}
		f.gen = b.Gen
	} else if b.Gen != f.gen {
		if f.v < format.Go126 && b.Gen == f.gen+1 {
			return true, nil
		}
		want := fmt.Sprintf("want %d or the next, %d", f.gen, f.gen+1)
		if f.v >= format.Go126 {
			want = fmt.Sprintf("want %d until its EndOfGeneration", f.gen)
		}
		return false, f.errAt(f.off, f.batches, name, fmt.Errorf("batch of generation %d inside generation %d, %s: %w", b.Gen, f.gen, want, ErrCorrupt))
	}
	if n := f.off + int64(b.Len) - f.start; f.batches >= MaxBatches(n) {
		return false, f.errAt(f.off, f.batches, name, fmt.Errorf("%d batches in the generation's first %d bytes; at most %d (or one per %d bytes, if more) are allowed: %w",
			f.batches+1, n, freeBatches, bytesPerBatch, ErrCorrupt))
	}
	return false, nil
}

// end closes the generation framed so far.
func (f *Framer) end() Span {
	f.last, f.started = f.gen, true
	return Span{Gen: f.gen, Offset: f.start, End: f.off, NumBatches: f.batches}
}

// errAt is damage at input offset off in the generation being framed (the
// one after the last framed, before its first batch says otherwise).
func (f *Framer) errAt(off int64, batch int, event string, err error) error {
	gen := f.gen
	if gen == 0 {
		gen = f.last + 1
	}
	return &Error{Offset: off, Gen: gen, Batch: batch, Event: event, Err: err}
}

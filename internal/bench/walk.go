package bench

import (
	"fmt"
	"io"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// Walk is the floor for any decoder: it frames every batch and reads every
// argument of every event (the frames of stack entries and the data of
// strings included) without keeping any of it. Experimental batches are
// framed and skipped, since their contents are defined by the experiment.
//
// Events counts every event inside a batch, table entries included, plus
// each in-band EndOfGeneration: the events go tool trace -d=wire lists,
// batch headers excluded. That is the number this package quotes per second
// for every reader.
func Walk(r io.Reader) (Counts, error) {
	s, err := NewScanner(r)
	if err != nil {
		return Counts{}, err
	}
	specs := s.Version().Specs()
	c := Counts{Bytes: format.HeaderSize}
	batch := func(b *Batch) error {
		if b.Kind == EndOfGeneration {
			c.Events++
			return nil
		}
		c.Batches++
		if b.Kind != EventBatch {
			return nil
		}
		n, at, err := walkEvents(specs, b.Data)
		c.Events += n
		if err != nil {
			start := b.Offset + int64(len(b.Raw)-len(b.Data))
			return &decode.Error{Offset: start + int64(at), Gen: b.Gen, Batch: b.Index, Err: err}
		}
		return nil
	}
	for {
		span, err := s.NextGen(batch)
		if err == io.EOF {
			c.Generations = s.Generations()
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.Bytes += span.End - span.Offset
		c.LargestGen = max(c.LargestGen, span.End-span.Offset)
	}
}

// walkEvents reads the events of one batch and returns how many there were
// and, with an error, where in p the event it is about begins.
func walkEvents(specs *[256]format.EventSpec, p []byte) (int64, int, error) {
	var n int64
	for i := 0; i < len(p); {
		at := i
		spec := &specs[p[i]]
		if spec.Name == "" {
			return n, at, fmt.Errorf("unknown event type %d: %w", p[i], decode.ErrCorrupt)
		}
		i++
		nargs := len(spec.Args)
		for k := 0; k < nargs; k++ {
			// N.B. most arguments fit in one byte; the loop reads those
			// without a call.
			var v uint64
			if i < len(p) && p[i] < 0x80 {
				v = uint64(p[i])
				i++
			} else {
				var m int
				v, m = format.Uvarint(p[i:])
				if m <= 0 {
					return n, at, fmt.Errorf("%s: want %d args, batch ends after %d: %w", spec.Name, nargs, k, decode.ErrCorrupt)
				}
				i += m
			}
			if spec.IsStack && k == 1 {
				if v > format.MaxFramesPerStack {
					return n, at, fmt.Errorf("%s: %d frames exceed the maximum %d: %w", spec.Name, v, format.MaxFramesPerStack, decode.ErrCorrupt)
				}
				nargs += 4 * int(v)
			}
		}
		if spec.HasData {
			v, m := format.Uvarint(p[i:])
			if m <= 0 || v > uint64(len(p)-i-m) {
				return n, at, fmt.Errorf("%s: data length runs past the batch: %w", spec.Name, decode.ErrCorrupt)
			}
			i += m + int(v)
		}
		n++
	}
	return n, len(p), nil
}

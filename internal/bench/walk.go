package bench

import (
	"fmt"
	"io"

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
	var genBytes int64
	for {
		b, err := s.Next()
		if err == io.EOF {
			c.Generations = s.Generations()
			c.LargestGen = max(c.LargestGen, genBytes)
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.Bytes += int64(len(b.Raw))
		if b.NewGen {
			c.LargestGen = max(c.LargestGen, genBytes)
			genBytes = 0
		}
		genBytes += int64(len(b.Raw))
		if b.Kind == EndOfGeneration {
			c.Events++
			continue
		}
		c.Batches++
		if b.Kind != EventBatch {
			continue
		}
		n, err := walkEvents(specs, b.Data)
		c.Events += n
		if err != nil {
			return c, fmt.Errorf("byte 0x%x (gen %d): %w", b.Offset+int64(len(b.Raw)-len(b.Data)), b.Gen, err)
		}
	}
}

// walkEvents reads the events of one batch and returns how many there were.
func walkEvents(specs *[256]format.EventSpec, p []byte) (int64, error) {
	var n int64
	for i := 0; i < len(p); {
		at := i
		spec := &specs[p[i]]
		if spec.Name == "" {
			return n, fmt.Errorf("+%d: unknown event type %d", at, p[i])
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
					return n, fmt.Errorf("+%d: %s: want %d args, input ends after %d", at, spec.Name, nargs, k)
				}
				i += m
			}
			if spec.IsStack && k == 1 {
				if v > format.MaxFramesPerStack {
					return n, fmt.Errorf("+%d: %s: %d frames exceed the maximum %d", at, spec.Name, v, format.MaxFramesPerStack)
				}
				nargs += 4 * int(v)
			}
		}
		if spec.HasData {
			v, m := format.Uvarint(p[i:])
			if m <= 0 || v > uint64(len(p)-i-m) {
				return n, fmt.Errorf("+%d: %s: data length runs past the batch", at, spec.Name)
			}
			i += m + int(v)
		}
		n++
	}
	return n, nil
}

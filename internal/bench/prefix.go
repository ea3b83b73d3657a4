package bench

import (
	"fmt"
	"io"
)

// WritePrefix copies the header and the first gens generations of the trace
// in r to w: a valid, shorter trace that ends at a generation boundary. It
// returns what it copied. Asking for more generations than the trace has
// copies it whole.
func WritePrefix(w io.Writer, r io.Reader, gens int) (Counts, error) {
	if gens < 1 {
		return Counts{}, fmt.Errorf("prefix: want at least 1 generation, have %d", gens)
	}
	s, err := NewScanner(r)
	if err != nil {
		return Counts{}, err
	}
	if _, err := w.Write(Header(s.Version())); err != nil {
		return Counts{}, err
	}
	c := Counts{Bytes: int64(len(Header(s.Version())))}
	batch := func(b *Batch) error {
		if b.Kind != EndOfGeneration {
			c.Batches++
		}
		_, err := w.Write(b.Raw)
		return err
	}
	for c.Generations < gens {
		span, err := s.NextGen(batch)
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.Generations++
		c.Bytes += span.End - span.Offset
	}
	return c, nil
}

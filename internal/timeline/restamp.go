// Package timeline is what every analysis of gotrace stands on: the bytes
// of a trace made fit for golang.org/x/exp/trace (late status batches
// restamped, its panics turned into damage errors), and the goroutine
// model read from its events: one block-reason classifier, one naming of
// goroutines, one rule for a goroutine's life.
package timeline

import (
	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// When a generation ends, the runtime writes the status of every goroutine
// that did not run in it, in batches with no thread (M), stamped when they
// are written. On a loaded machine with many goroutines that is long after
// the next generation's first events. golang.org/x/exp/trace never lets
// time go backwards, so it moves every event of the next generation that is
// earlier than those statuses to a nanosecond after the one before, and the
// durations across that window come out wrong.
//
// Those statuses say what held when the generation ended. Restamping gives
// them that time: their batch is moved back so that its last event comes
// just before the next generation's first batch.

// Restamp is a batch whose header is written anew with an earlier base
// time; the events after the header are unchanged.
type Restamp struct {
	// Offset is where the batch's header begins, Data where its events
	// begin and End where they end, as offsets in the input.
	Offset, Data, End int64
	// Shift is how many ticks the base time moves back.
	Shift        uint64
	Gen, M, Base uint64 // the header's numbers, Base already moved
}

// Header is r's new batch header, as long as the one it replaces.
func (r Restamp) Header() []byte {
	return BatchHeader(r.Gen, r.M, r.Base, uint64(r.End-r.Data), int(r.Data-r.Offset))
}

// BatchHeader encodes an EventBatch header of width bytes: the runtime
// pads the numbers of the headers it writes, and a header written anew at
// the same width keeps every offset after it where it was. A width too
// small for the numbers gives the shortest header.
func BatchHeader(gen, m, base, size uint64, width int) []byte {
	vals := [4]uint64{gen, m, base, size}
	var n [4]int
	extra := width - 1
	for i, v := range vals {
		n[i] = len(format.AppendUvarint(nil, v))
		extra -= n[i]
	}
	// The padding goes to the base time first, then the size.
	for _, i := range []int{2, 3, 0, 1} {
		d := max(min(extra, format.MaxVarintLen-n[i]), 0)
		n[i] += d
		extra -= d
	}
	b := make([]byte, 0, 1+4*format.MaxVarintLen)
	b = append(b, byte(format.EvEventBatch))
	for i, v := range vals {
		b = format.AppendUvarintN(b, v, n[i])
	}
	return b
}

// Restamps lists the batches of g, in input order, that must move back so
// that no event of g is later than next, the first timestamp of the
// generation after g (in ticks; 0 when g is the last). g must have been
// read with a detail that walks events (decode.Counts or decode.Full), so
// that each batch's Last is known.
func Restamps(g *decode.Generation, next uint64) []Restamp {
	var out []Restamp
	for _, c := range candidates(g) {
		if r, ok := c.restamp(next); ok {
			out = append(out, r)
		}
	}
	return out
}

// candidate is a batch of g written by no thread: it may be late.
type candidate struct {
	off, data, end  int64
	gen, base, last uint64
}

func candidates(g *decode.Generation) []candidate {
	var out []candidate
	for i := range g.Batches {
		b := &g.Batches[i]
		if b.Header != format.EvEventBatch || b.M != format.NoThread {
			continue
		}
		end := g.End
		if i+1 < len(g.Batches) {
			end = g.Batches[i+1].Offset
		}
		out = append(out, candidate{off: b.Offset, data: end - int64(b.Size), end: end, gen: g.Num, base: b.Time, last: b.Last})
	}
	return out
}

// restamp moves c back so that its last event is a tick before next, if
// it is not already earlier. A batch that would need a base below zero
// starts at zero.
func (c candidate) restamp(next uint64) (Restamp, bool) {
	if next == 0 || c.last < next {
		return Restamp{}, false
	}
	shift := min(c.last-(next-1), c.base)
	if shift == 0 {
		return Restamp{}, false
	}
	return Restamp{Offset: c.off, Data: c.data, End: c.end, Shift: shift,
		Gen: c.gen, M: format.NoThread, Base: c.base - shift}, true
}

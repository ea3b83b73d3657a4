package reftest

import (
	"bytes"
	"io"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// LateBatches counts, from the wire, the batches with no thread whose last
// event is at or after the next generation's first timestamp: the statuses
// the runtime wrote after the next generation began.
func LateBatches(data []byte) (int, error) {
	dr, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	dr.SetDetail(decode.Counts)
	var lasts [][]uint64
	var mins []uint64
	for {
		g, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		var l []uint64
		for _, b := range g.Batches {
			if b.Header == format.EvEventBatch && b.M == format.NoThread {
				l = append(l, b.Last)
			}
		}
		lasts, mins = append(lasts, l), append(mins, g.MinTime)
	}
	n := 0
	for i := 0; i+1 < len(mins); i++ {
		for _, l := range lasts[i] {
			if l >= mins[i+1] {
				n++
			}
		}
	}
	return n, nil
}

// MovedEvents reads r with golang.org/x/exp/trace and counts its events and
// those it had to move: it sets an event that is not later than the one
// before to a nanosecond after it.
func MovedEvents(r io.Reader) (n, moved int, err error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return 0, 0, err
	}
	var prev trace.Time
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			return n, moved, nil
		}
		if err != nil {
			return n, moved, err
		}
		if n > 0 && ev.Time() == prev+1 && ev.Kind() != trace.EventSync {
			moved++
		}
		prev = ev.Time()
		n++
	}
}

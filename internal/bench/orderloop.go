package bench

import (
	"bufio"
	"io"

	"github.com/gotrace-cli/gotrace/internal/order"
	"golang.org/x/exp/trace"
)

// OrderLoop reads every event with gotrace's own ordered reader,
// internal/order, which gives golang.org/x/exp/trace's events in its
// order, and returns how many it delivered. It looks at what XExpLoop
// looks at (kind and time), so the two loops do the same work and count
// the same events.
func OrderLoop(r io.Reader) (int64, error) {
	or, err := order.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return 0, err
	}
	var ev order.Event
	var n int64
	var last trace.Time
	for {
		err := or.Next(&ev)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if ev.Kind() != trace.EventBad {
			n++
		}
		if t := ev.Time(); t > last {
			last = t
		}
	}
}

package bench

import (
	"bufio"
	"io"

	"golang.org/x/exp/trace"
)

// XExpLoop reads every event with golang.org/x/exp/trace, the reference
// parser, and returns how many it delivered. It looks at each event's kind
// and time so the loop does what any consumer would at least do.
func XExpLoop(r io.Reader) (int64, error) {
	tr, err := trace.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return 0, err
	}
	var n int64
	var last trace.Time
	for {
		ev, err := tr.ReadEvent()
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

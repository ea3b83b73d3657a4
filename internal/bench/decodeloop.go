package bench

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
)

// DecodeLoop is gotrace's full decode with the output thrown away: every
// generation through decode.Reader.Next with every event held, touching
// every event (type, time, arguments, data) and every table entry (strings,
// stack frames, CPU samples), as any consumer of the decoder at least
// would. It returns the number of events the decoder counted.
func DecodeLoop(r io.Reader) (int64, error) {
	return eachGeneration(r, decode.Full, touchBatches)
}

// DecodeBatchesLoop is the full decode one batch at a time: the tables
// with each generation, the other events decoded by Reader.BatchEvents
// when asked for, so only one batch's events are held at once.
func DecodeBatchesLoop(r io.Reader) (int64, error) {
	return eachGeneration(r, decode.Counts, touchBatches)
}

// touchBatches reads every event of g through Reader.BatchEvents, which
// hands over the events Next kept (Full detail) or decodes a batch now.
func touchBatches(dr *decode.Reader, g *decode.Generation) (uint64, int64, error) {
	var sink uint64
	var seen int64
	for i := range g.Batches {
		evs, err := dr.BatchEvents(g, i)
		if err != nil {
			return sink, seen, err
		}
		sink += touchEvents(evs)
		seen += int64(len(evs))
	}
	return sink, seen, nil
}

// DecodeEachLoop is the full decode one event at a time: the tables with
// each generation, the other events handed over by Reader.EachEvent, which
// holds only the current one.
func DecodeEachLoop(r io.Reader) (int64, error) {
	return eachGeneration(r, decode.Frames, func(dr *decode.Reader, g *decode.Generation) (uint64, int64, error) {
		return eachEvent(dr, g)
	})
}

// eachEvent reads every event of g through EachEvent and returns what it
// summed and how many events it read.
func eachEvent(er decode.EventReader, g *decode.Generation) (uint64, int64, error) {
	var sink uint64
	var seen int64
	for i := range g.Batches {
		err := er.EachEvent(g, i, func(ev *decode.Event) error {
			sink += touchEvent(ev)
			seen++
			return nil
		})
		if err != nil {
			return sink, seen, err
		}
	}
	return sink, seen, nil
}

// eachGeneration reads every generation at detail d, hands it to fn, then
// touches its tables. fn returns what it summed and how many events it
// read. eachGeneration returns the number of events: the decoder's count
// where the detail keeps one, else the events fn read.
func eachGeneration(r io.Reader, d decode.Detail, fn func(*decode.Reader, *decode.Generation) (uint64, int64, error)) (int64, error) {
	dr, err := decode.NewReader(r)
	if err != nil {
		return 0, err
	}
	dr.SetDetail(d)
	var events int64
	var sink uint64
	for {
		g, err := dr.Next()
		if err == io.EOF {
			touched = sink
			return events, nil
		}
		if err != nil {
			return events, err
		}
		s, seen, err := fn(dr, g)
		if err != nil {
			return events, err
		}
		if g.Events >= 0 {
			events += int64(g.Events)
		} else {
			events += seen
		}
		sink += s + touchTables(g)
	}
}

// touchEvents reads every field of every event.
func touchEvents(evs []decode.Event) uint64 {
	var sink uint64
	for j := range evs {
		sink += touchEvent(&evs[j])
	}
	return sink
}

// touchEvent reads every field of one event.
func touchEvent(ev *decode.Event) uint64 {
	sum := uint64(ev.Type) + ev.Time + uint64(len(ev.Data))
	for _, a := range ev.Args {
		sum += a
	}
	return sum
}

// touchTables reads every entry of a generation's tables.
func touchTables(g *decode.Generation) uint64 {
	var sink uint64
	for _, s := range g.Strings {
		sink += uint64(len(s))
	}
	for _, st := range g.Stacks {
		for _, f := range st.Frames {
			sink += f.PC + f.Line + uint64(len(f.Func)+len(f.File))
		}
	}
	for _, s := range g.CPUSamples {
		sink += s.Time + s.Stack
	}
	return sink
}

// TracedSpan is how long the tracer ran, from the trace itself: the first
// timestamp to the last, over every generation. The record overhead
// comparison uses it as the traced program's running time, since
// gotrace record's own wall time also holds building the program.
func TracedSpan(r io.Reader) (time.Duration, error) {
	dr, err := decode.NewReader(r)
	if err != nil {
		return 0, err
	}
	dr.SetDetail(decode.Counts)
	var span time.Duration
	var last uint64 // MaxTime of the previous generation
	for n := 0; ; n++ {
		g, err := dr.Next()
		if err == io.EOF {
			if n == 0 {
				return 0, errors.New("trace has no generations")
			}
			return span, nil
		}
		if err != nil {
			return 0, err
		}
		if g.Frequency == 0 {
			return 0, errors.New("generation has no frequency")
		}
		// N.B. generations share one clock: the gap between one's
		// last timestamp and the next one's first counts too.
		from := g.MinTime
		if n > 0 && last < from {
			from = last
		}
		if g.MaxTime > from {
			span += time.Duration(decode.TicksToNanos(g.MaxTime-from, g.Frequency))
		}
		last = g.MaxTime
	}
}

// touched keeps the loops' reads from being optimised away.
//
//lint:ignore U1000 written, never read: a sink for the compiler
var touched uint64

// DecodeParallelLoop is the full decode on every core: Reader.Parallel
// decodes generations at once, each worker reading its generation's events
// through EachEvent, and the tables with each generation.
func DecodeParallelLoop(r io.Reader) (int64, error) {
	dr, err := decode.NewReader(r)
	if err != nil {
		return 0, err
	}
	dr.SetDetail(decode.Frames)
	var mu sync.Mutex
	var events int64
	var sink uint64
	err = dr.Parallel(0, func(gr *decode.GenReader, g *decode.Generation) error {
		s, seen, err := eachEvent(gr, g)
		s += touchTables(g)
		mu.Lock()
		events += seen
		sink += s
		mu.Unlock()
		return err
	})
	touched = sink
	return events, err
}

package bench

import (
	"bufio"
	"io"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// Overlap is how far a trace's generations overlap in time, from the wire.
type Overlap struct {
	Generations int `json:"generations"`
	// NoThreadBatches are batches written by no thread (format.NoThread):
	// the goroutine and P statuses the runtime writes at a generation
	// switch, among others.
	NoThreadBatches int `json:"no_thread_batches"`
	// LateBatches are the no-thread batches whose last event is at or
	// after the next generation's first time: the generations overlap.
	LateBatches int `json:"late_batches"`
	// LateGenerations are the generations with at least one late batch.
	LateGenerations int `json:"late_generations"`
}

// MeasureOverlap reads a trace with the decoder and counts its no-thread
// batches that end at or after the next generation begins.
func MeasureOverlap(r io.Reader) (Overlap, error) {
	dr, err := decode.NewReader(r)
	if err != nil {
		return Overlap{}, err
	}
	// N.B. Counts follows every event's time, so Batch.Last is the last
	// event's; Frames would leave it at the batch's base time.
	dr.SetDetail(decode.Counts)
	var o Overlap
	var prev []uint64 // the previous generation's no-thread batches' Last
	for {
		g, err := dr.Next()
		if err == io.EOF {
			return o, nil
		}
		if err != nil {
			return o, err
		}
		o.Generations++
		late := 0
		for _, last := range prev {
			if last >= g.MinTime {
				late++
			}
		}
		o.LateBatches += late
		if late > 0 {
			o.LateGenerations++
		}
		prev = prev[:0]
		for i := range g.Batches {
			b := &g.Batches[i]
			if b.M == format.NoThread && b.Header != format.EvEndOfGeneration {
				o.NoThreadBatches++
				prev = append(prev, b.Last)
			}
		}
	}
}

// XExpShape is what golang.org/x/exp/trace delivers for a trace, read
// in order as every consumer of it reads.
type XExpShape struct {
	Events int64 `json:"events"`
	// Moved are the events x/exp/trace set to 1 ns after the event before
	// because they were not later: out of order on the wire.
	Moved int64 `json:"moved"`
	// Created are goroutines created during the trace; Existing those
	// alive when it began; PeakAlive the most alive at once.
	Created   int64 `json:"created"`
	Existing  int64 `json:"existing"`
	PeakAlive int64 `json:"peak_alive"`
}

// MeasureXExp reads every event with golang.org/x/exp/trace and counts the
// events it moved and the goroutines it saw come and go.
func MeasureXExp(r io.Reader) (XExpShape, error) {
	tr, err := trace.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return XExpShape{}, err
	}
	var s XExpShape
	var last trace.Time
	var alive int64
	seen := map[trace.GoID]struct{}{} // goroutines alive
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		k := ev.Kind()
		if k == trace.EventBad {
			continue
		}
		t := ev.Time()
		// N.B. the trace clock's ticks are tens of nanoseconds, so a real
		// step of exactly 1 ns is not one; sync events are exempt, as
		// they are stamped with the generation's time.
		if s.Events > 0 && t == last+1 && k != trace.EventSync {
			s.Moved++
		}
		if t > last {
			last = t
		}
		s.Events++
		if k != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		_, known := seen[id]
		switch {
		case to == trace.GoNotExist:
			if known {
				delete(seen, id)
				alive--
			}
		case known:
		case from == trace.GoNotExist:
			s.Created++
			seen[id] = struct{}{}
			alive++
		default:
			// N.B. a goroutine from before the trace has its first status
			// written lazily; it was alive all along, so the peak so far
			// was one higher too.
			s.Existing++
			seen[id] = struct{}{}
			alive++
			s.PeakAlive++
		}
		s.PeakAlive = max(s.PeakAlive, alive)
	}
}

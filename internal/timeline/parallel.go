package timeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/order"
	"golang.org/x/exp/trace"
)

// ErrInOrder says a trace is to be read in order, with Read, rather than a
// generation at a time (ReadParts): it is damaged, in the old format, or
// golang.org/x/exp/trace would time the first events of a generation read
// on its own otherwise than reading the trace whole.
var ErrInOrder = errors.New("trace to be read in order")

// ErrOverlap, wrapped with ErrInOrder, says ReadParts found no damage but
// generations that overlap more than Merge can mend: there is nothing for
// a reading in order to find wrong.
var ErrOverlap = errors.New("generations overlap")

// PartFunc prepares the Tracker of part i (generation i+1 of the trace),
// on the goroutine that reads it, before it reads: it sets the Tracker's
// Emit and returns what else to do with each event after the Tracker has
// seen it, or nil. The parts are read with internal/order (Tracker.Take);
// the Event is valid only during the call.
type PartFunc func(i int, tk *Tracker) func(*order.Event)

// ReadParts reads the v2 trace in r, size bytes long, a generation at a
// time on up to workers goroutines, each with a Tracker of its own (part 0
// a Tracker, the others part Trackers), and merges the parts in order into
// part 0's, which it returns unfinished: Finish is the caller's, as after
// reading with Read. Its Start and Last are the trace's. At most one part
// more than there are workers is in memory at a time.
//
// Any error wraps ErrInOrder, or is ctx's: the caller then reads the trace
// with Read, which says what the damage is and where. What the parts have
// emitted by then is to be thrown away.
func ReadParts(ctx context.Context, r io.ReaderAt, size int64, workers int, part PartFunc) (*Tracker, error) {
	hdr := make([]byte, format.HeaderSize)
	if n, _ := r.ReadAt(hdr, 0); n < len(hdr) {
		return nil, fmt.Errorf("%w: no header", ErrInOrder)
	}
	v, err := format.ParseHeader(hdr)
	if err != nil || !v.IsV2() {
		return nil, fmt.Errorf("%w: not a trace in the v2 format", ErrInOrder)
	}
	var base *Tracker
	err = EachPart(ctx, r, size, v, workers, func(ctx context.Context, i int, s GenSpan) partResult {
		return readPart(ctx, r, hdr, i, s, part)
	}, func(res partResult) error {
		switch {
		case res.err != nil:
			return res.err
		case base == nil:
			base = res.tk
		case !base.Merge(res.tk):
			return fmt.Errorf("%w: %w: generation at byte %#x begins before the one before it ends", ErrInOrder, ErrOverlap, res.off)
		}
		return nil
	})
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil && !errors.Is(err, ErrInOrder):
		return nil, fmt.Errorf("%w: %w", ErrInOrder, err)
	case err != nil:
		return nil, err
	case base == nil:
		return nil, fmt.Errorf("%w: no generations", ErrInOrder)
	}
	// N.B. Read alone, each generation ends with a Sync that, read whole,
	// only the last one has: x/exp/trace times it at the last event's
	// time, and then, as it never lets time stand still, a nanosecond
	// after it.
	base.last++
	return base, nil
}

type partResult struct {
	tk  *Tracker
	off int64
	err error
}

// readPart reads one generation with a Tracker of its own.
func readPart(ctx context.Context, r io.ReaderAt, hdr []byte, i int, s GenSpan, part PartFunc) (res partResult) {
	res.off = s.Off
	p, err := PreparePart(r, hdr, s, nil)
	if err != nil {
		return partResult{err: fmt.Errorf("%w: %w", ErrInOrder, err)}
	}
	tk := NewTracker()
	if i > 0 {
		tk = NewPartTracker()
	}
	fn := part(i, tk)
	defer func() {
		if e := recover(); e != nil {
			if !PanicInXExp() {
				panic(e) // a bug of gotrace's own, not damage
			}
			res = partResult{err: fmt.Errorf("%w: reading events failed: %v", ErrInOrder, e)}
		}
	}()
	tr, err := order.NewReader(p.Reader(r, hdr))
	if err != nil {
		return partResult{err: fmt.Errorf("%w: %w", ErrInOrder, err)}
	}
	defer tr.Close()
	syncs, n := 0, 0
	var ev order.Event
	for {
		err = tr.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			return partResult{err: fmt.Errorf("%w: %w", ErrInOrder, err)}
		}
		if ev.Kind() == trace.EventSync {
			if syncs++; syncs > 1 {
				continue // the part's end, not the trace's (see ReadParts)
			}
		}
		tk.Take(&ev)
		if fn != nil {
			fn(&ev)
		}
		if n++; n&4095 == 0 && ctx.Err() != nil {
			return partResult{err: ctx.Err()}
		}
	}
	res.tk = tk
	return res
}

// OnlyTimes makes t follow the times of the events alone, not the
// goroutines: for a reader of the parts that needs only what each event
// says and the trace's Start and Last.
func (t *Tracker) OnlyTimes() { t.onlyTimes = true }

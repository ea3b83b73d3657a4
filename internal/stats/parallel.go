package stats

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/order"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// partResult is one analysed part: its Analyzer and its wire numbers.
type partResult struct {
	a   *Analyzer
	w   wireResult
	err error
}

// boundMargin is added to a generation's last timestamp on the wire to be
// sure of the bound NewPartAnalyzer needs.
const boundMargin = trace.Time(time.Millisecond)

// nanos converts ticks to golang.org/x/exp/trace's nanoseconds, as it does.
func nanos(ticks, freq uint64) trace.Time {
	if freq == 0 {
		return 0
	}
	return trace.Time(float64(ticks) * (1.0 / (float64(freq) / 1e9)))
}

// partsPass analyses the v2 trace in r, size bytes long with header hdr,
// one generation per part (see part.go), on up to opts.workers()
// goroutines, and absorbs the parts in order into the first. Each part's
// worker first counts its generation's wire footprint and tables with the
// decoder, which gives the next part its bound, then reads it with
// golang.org/x/exp/trace. At most one part more than there are workers is
// in memory at a time.
//
// It returns an error for any damage, without saying more: the ordered
// passes tell what and where. It returns a nil Analyzer for a trace without
// generations.
func partsPass(ctx context.Context, r io.ReaderAt, size int64, v format.Version, hdr []byte, opts Options, prog *progress) (*Analyzer, wireResult, error) {
	// N.B. Each part's bound goes to the next, which its worker may
	// start before this one's has sent it.
	var mu sync.Mutex
	bounds := make(map[int]chan trace.Time)
	boundOf := func(i int) chan trace.Time {
		mu.Lock()
		defer mu.Unlock()
		c := bounds[i]
		if c == nil {
			c = make(chan trace.Time, 1)
			bounds[i] = c
		}
		return c
	}
	var base *Analyzer
	var w wireResult
	w.version = v
	err := timeline.EachPart(ctx, r, size, v, opts.workers(), func(ctx context.Context, i int, s timeline.GenSpan) partResult {
		var prev <-chan trace.Time
		if i > 0 {
			prev = boundOf(i - 1)
		}
		return runPart(ctx, r, hdr, s, prev, boundOf(i), opts, prog)
	}, func(res partResult) error {
		if res.err != nil {
			return res.err
		}
		w.gens = append(w.gens, res.w.gens...)
		w.foot = append(w.foot, res.w.foot...)
		w.batches = append(w.batches, res.w.batches...)
		w.restamped += res.w.restamped
		if base == nil {
			base = res.a
		} else {
			base.Absorb(res.a)
		}
		return nil
	})
	if err != nil {
		return nil, w, err
	}
	return base, w, nil
}

// runPart counts and analyses one generation. It sends its bound on bound
// first thing, and waits for prev's before the events.
func runPart(ctx context.Context, r io.ReaderAt, hdr []byte, s timeline.GenSpan, prev <-chan trace.Time, bound chan<- trace.Time, opts Options, prog *progress) partResult {
	var w wireResult
	p, err := timeline.PreparePart(r, hdr, s, func(g *decode.Generation) {
		w.add(g)
		w.gens[0].Offset = ByteCount(s.Off) // not where it is in the part
	})
	if err != nil {
		bound <- 0 // nothing comes after a failed part
		return partResult{err: err}
	}
	w.restamped = p.Restamped
	b := nanos(p.MaxTime, p.Frequency) + boundMargin
	bound <- b

	a := NewAnalyzer(opts)
	if prev != nil {
		select {
		case b = <-prev:
		case <-ctx.Done():
			return partResult{err: ctx.Err()}
		}
		a = NewPartAnalyzer(opts, b)
	}
	feed := p.Reader(r, hdr)
	if prog != nil {
		feed = prog.reader(feed)
	}
	return partResult{a: a, w: w, err: readInto(ctx, feed, a)}
}

// readInto feeds every event of the trace in r to a, in this goroutine,
// read by gotrace's own reader (internal/order), which orders the events
// as golang.org/x/exp/trace does for a fraction of its work.
func readInto(ctx context.Context, r io.Reader, a *Analyzer) error {
	or, err := order.NewReader(r)
	if err != nil {
		return err
	}
	defer or.Close()
	var ev order.Event
	for n := 1; ; n++ {
		if err := or.Next(&ev); err != nil {
			if err == io.EOF {
				return ctx.Err()
			}
			return err
		}
		a.Add(&ev)
		if n&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

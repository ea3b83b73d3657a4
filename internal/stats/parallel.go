package stats

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
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

// readInto feeds every event of the trace in r to a, in this goroutine.
func readInto(ctx context.Context, r io.Reader, a *Analyzer) (err error) {
	defer func() {
		// N.B. A damaged trace can make golang.org/x/exp/trace panic
		// where an event's stack is read; the ordered pass says where.
		if p := recover(); p != nil {
			if !timeline.PanicInXExp() {
				panic(p) // a bug of gotrace's own, not damage
			}
			err = fmt.Errorf("reading events failed: %v", p)
		}
	}()
	n := 0
	err = eachXExpEvent(r, func(ev *trace.Event) bool {
		a.Add(ev)
		n++
		return n&4095 != 0 || ctx.Err() == nil
	})
	if err == nil {
		err = ctx.Err()
	}
	return err
}

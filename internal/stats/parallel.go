package stats

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// genSpan is the byte range of one generation in the file, with the
// first batch time (in ticks) of it and of the generation after it (0 for
// the last): the statuses written late at its end are moved back to that
// (see timeline.Restamps).
type genSpan struct {
	off, end  int64
	min, next uint64
}

// frame reads the batch headers of the v2 trace body in r, which begins at
// byte off of the file, and sends the range of each generation on spans. It
// frames by the decoder's rule, so it finds the generations and the damage
// the decoder does, at the same byte; it only skips over batch contents:
// the generations' own decoders check them.
func frame(ctx context.Context, r io.Reader, off int64, v format.Version, spans chan<- genSpan) error {
	fr := decode.NewFramer(bufio.NewReaderSize(r, 64<<10), v, off)
	var minTime uint64
	first := func(b *decode.FramedBatch) {
		if b.Header != format.EvEndOfGeneration && (minTime == 0 || b.Time < minTime) {
			minTime = b.Time
		}
	}
	for {
		minTime = 0
		s, err := fr.Next(first)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case spans <- genSpan{off: s.Offset, end: s.End, min: minTime}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	spans := make(chan genSpan, 16)
	framed := make(chan error, 1)
	go func() {
		defer close(spans)
		body := io.NewSectionReader(r, format.HeaderSize, size-format.HeaderSize)
		err := frame(ctx, body, format.HeaderSize, v, spans)
		if err != nil {
			cancel() // damaged: the ordered passes read it again anyway
		}
		framed <- err
	}()

	type job struct {
		span  genSpan
		prev  <-chan trace.Time // the part before's bound, nil for the first
		bound chan<- trace.Time // this part's, for the next
		out   chan<- partResult
	}
	workers := opts.workers()
	jobs := make(chan job)
	queue := make(chan chan partResult, workers+1) // results, in trace order
	slots := make(chan struct{}, workers+1)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.out <- runPart(ctx, r, hdr, j.span, j.prev, j.bound, opts, prog)
			}
		}()
	}
	go func() {
		defer close(queue)
		defer close(jobs)
		var prev <-chan trace.Time
		// dispatch starts the part at s once the generation after it is
		// framed, whose first time it needs.
		dispatch := func(s genSpan) bool {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for range spans {
				}
				return false
			}
			out := make(chan partResult, 1)
			bound := make(chan trace.Time, 1)
			queue <- out
			jobs <- job{s, prev, bound, out}
			prev = bound
			return true
		}
		var last *genSpan
		for s := range spans {
			if last != nil {
				last.next = s.min
				if !dispatch(*last) {
					return
				}
			}
			last = &s
		}
		if last != nil {
			dispatch(*last)
		}
	}()

	var base *Analyzer
	var w wireResult
	w.version = v
	var err error
	for out := range queue {
		res := <-out
		<-slots
		switch {
		case err != nil:
		case res.err != nil:
			err = res.err
			cancel()
		default:
			w.gens = append(w.gens, res.w.gens...)
			w.foot = append(w.foot, res.w.foot...)
			w.batches = append(w.batches, res.w.batches...)
			w.restamped += res.w.restamped
			if base == nil {
				base = res.a
			} else {
				base.Absorb(res.a)
			}
		}
	}
	wg.Wait()
	if ferr := <-framed; err == nil {
		err = ferr
	}
	if err != nil {
		return nil, w, err
	}
	return base, w, nil
}

// runPart counts and analyses one generation. It sends its bound on bound
// first thing, and waits for prev's before the events.
func runPart(ctx context.Context, r io.ReaderAt, hdr []byte, s genSpan, prev <-chan trace.Time, bound chan<- trace.Time, opts Options, prog *progress) partResult {
	n := s.end - s.off
	in := &sizedReader{io.MultiReader(bytes.NewReader(hdr), io.NewSectionReader(r, s.off, n)), int64(len(hdr)) + n}
	w, b, cuts, err := countPart(in, s)
	bound <- b // 0 after a failure: nothing comes after a failed part
	if err != nil {
		return partResult{err: err}
	}

	a := NewAnalyzer(opts)
	if prev != nil {
		select {
		case b = <-prev:
		case <-ctx.Done():
			return partResult{err: ctx.Err()}
		}
		a = NewPartAnalyzer(opts, b)
	}
	feed := splitBatches(r, hdr, s, cuts)
	if prog != nil {
		feed = prog.reader(feed)
	}
	return partResult{a: a, w: w, err: readInto(ctx, feed, a)}
}

// countPart reads the one generation in r, at s, with the decoder and
// returns its wire numbers, the bound for the part after it, and where to
// split its batches (see splitBatches).
func countPart(r io.Reader, s genSpan) (wireResult, trace.Time, []cut, error) {
	var w wireResult
	dr, err := decode.NewReader(r)
	if err != nil {
		return w, 0, nil, err
	}
	dr.SetDetail(decode.Counts)
	g, err := dr.Next()
	if err != nil {
		return w, 0, nil, err
	}
	w.add(g)
	w.gens[0].Offset = ByteCount(s.off) // not where it is in the part
	// Offsets in the part less delta are offsets in the file.
	delta := int64(format.HeaderSize) - s.off
	late := timeline.Restamps(g, s.next)
	w.restamped += len(late)
	var cuts []cut
	maxTime := uint64(0)
	for i := range g.Batches {
		b := &g.Batches[i]
		var shift uint64
		if len(late) > 0 && late[0].Offset == b.Offset {
			shift, late = late[0].Shift, late[1:]
		}
		maxTime = max(maxTime, b.Last-shift)
		c, ok, err := findCut(dr, g, i)
		if err != nil {
			return w, 0, nil, err
		}
		switch {
		case ok:
			c.base, c.base2 = c.base-shift, c.base2-shift
		case shift > 0:
			// Only the header changes.
			end := g.End
			if i+1 < len(g.Batches) {
				end = g.Batches[i+1].Offset
			}
			c = cut{hdr: b.Offset, data: end - int64(b.Size), at: -1, end: end, gen: g.Num, m: b.M, base: b.Time - shift}
			ok = true
		}
		if ok {
			c.hdr, c.data, c.end = c.hdr-delta, c.data-delta, c.end-delta
			if c.at >= 0 {
				c.at -= delta
			}
			cuts = append(cuts, c)
		}
	}
	b := nanos(maxTime, g.Frequency) + boundMargin
	if _, err := dr.Next(); err != io.EOF {
		return w, 0, nil, fmt.Errorf("byte %#x: more than one generation", s.off)
	}
	return w, b, cuts, nil
}

// golang.org/x/exp/trace copies each batch into a bytes.Buffer grown to its
// size, then reads once more to see the end: when the allocation, rounded
// up to its size class, leaves less than bytes.MinRead to spare, the
// buffer is reallocated at twice its size. So a generation of full 64 KiB
// batches takes twice its size in memory, for as long as it is read, and
// two generations read at once take four times one. Split in two at an
// event, each piece with room to spare, a batch takes about its size.
//
// The split is exact: the second batch has the same generation and thread,
// and its base time is the time of the last timed event before the split,
// which is what the first event after it counts from.

// cut is where to split a batch, or, with at < 0, a batch whose header
// is written anew with base, its events as they are.
type cut struct {
	hdr, data, at, end int64 // offsets: the batch's header, its events, the split, its end
	gen, m             uint64
	base, base2        uint64 // the base times of the two batches
}

// Bounds of the split: the first batch takes between 32 KiB and 40 KiB
// less bytes.MinRead (a large allocation is rounded up to 8 KiB pages), the
// second at least 16 KiB (the small size classes there are few).
const (
	cutMin  = 32<<10 + 1
	cutMax  = 40<<10 - bytes.MinRead
	restMin = 16 << 10
)

// sizeClasses are the runtime's allocation size classes from 16 KiB to
// 32 KiB.
var sizeClasses = [...]int{16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// spare is how much an allocation of n bytes has left once rounded up to
// its size class, for n of 16 KiB or more.
func spare(n int) int {
	if n > 32<<10 {
		return (n+8191)&^8191 - n
	}
	for _, c := range sizeClasses {
		if n <= c {
			return c - n
		}
	}
	return 0
}

var errCut = errors.New("cut found")

// findCut finds where to split batch i of g, if it needs splitting.
func findCut(dr *decode.Reader, g *decode.Generation, i int) (cut, bool, error) {
	b := &g.Batches[i]
	if b.Header != format.EvEventBatch || b.Events != nil || b.Size <= cutMin || spare(b.Size) >= bytes.MinRead {
		return cut{}, false, nil // not a batch of events, or one that costs its size
	}
	c := cut{hdr: b.Offset, data: -1, gen: g.Num, m: b.M, base: b.Time}
	last := b.Time
	found := false
	err := dr.EachEvent(g, i, func(ev *decode.Event) error {
		if c.data < 0 {
			// N.B. The runtime pads the header's numbers: where the
			// events begin is where the first one is.
			c.data = ev.Offset
			c.end = c.data + int64(b.Size)
		}
		x := int(ev.Offset - c.data)
		if x > cutMax {
			return errCut // no cut with room to spare on both sides
		}
		if x >= cutMin && b.Size-x >= restMin && spare(b.Size-x) >= bytes.MinRead {
			c.at, c.base2, found = ev.Offset, last, true
			return errCut
		}
		if ev.Time != 0 {
			last = ev.Time
		}
		return nil
	})
	if err != nil && err != errCut {
		return cut{}, false, err
	}
	return c, found, nil
}

// splitBatches is the generation at s, after the header hdr, as
// golang.org/x/exp/trace is to read it: with the batches at cuts split.
func splitBatches(r io.ReaderAt, hdr []byte, s genSpan, cuts []cut) io.Reader {
	parts := []io.Reader{bytes.NewReader(hdr)}
	pos := s.off
	var hdrs []byte
	batch := func(gen, m, base uint64, size int64) io.Reader {
		start := len(hdrs)
		hdrs = append(hdrs, byte(format.EvEventBatch))
		for _, v := range []uint64{gen, m, base, uint64(size)} {
			hdrs = format.AppendUvarint(hdrs, v)
		}
		return bytes.NewReader(hdrs[start:len(hdrs):len(hdrs)])
	}
	for _, c := range cuts {
		if c.at < 0 {
			// Restamped, not split.
			parts = append(parts,
				io.NewSectionReader(r, pos, c.hdr-pos),
				bytes.NewReader(timeline.BatchHeader(c.gen, c.m, c.base, uint64(c.end-c.data), int(c.data-c.hdr))))
			pos = c.data
			continue
		}
		parts = append(parts,
			io.NewSectionReader(r, pos, c.hdr-pos),
			batch(c.gen, c.m, c.base, c.at-c.data),
			io.NewSectionReader(r, c.data, c.at-c.data),
			batch(c.gen, c.m, c.base2, c.end-c.at),
			io.NewSectionReader(r, c.at, c.end-c.at))
		pos = c.end
	}
	parts = append(parts, io.NewSectionReader(r, pos, s.end-pos))
	return io.MultiReader(parts...)
}

// sizedReader is a reader that says how much it has left, so the decoder
// can size its buffer once.
type sizedReader struct {
	r    io.Reader
	left int64
}

func (r *sizedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}

func (r *sizedReader) Len() int { return int(r.left) }

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

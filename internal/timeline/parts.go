package timeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// Parts. The generations of a trace can be read apart: the file header
// followed by the bytes of one generation is a valid trace, which
// golang.org/x/exp/trace reads as if the trace began there. The functions
// here find the generations of a file and give each one's bytes as
// x/exp/trace is to read them on its own: late status batches moved back
// as Source moves them, and large batches split so that reading them
// costs about their size.

// GenSpan is the byte range of one generation in the file, with the
// first batch time (in ticks) of it and of the generation after it (0 for
// the last): the statuses written late at its end are moved back to that
// (see Restamps).
type GenSpan struct {
	Off, End  int64
	Min, Next uint64
}

// FrameGenerations reads the batch headers of the v2 trace body in r,
// which begins at byte off of the file, and sends the range of each
// generation on spans. It frames by the decoder's rule, so it finds the
// generations and the damage the decoder does, at the same byte; it only
// skips over batch contents: the generations' own decoders check them.
func FrameGenerations(ctx context.Context, r io.Reader, off int64, v format.Version, spans chan<- GenSpan) error {
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
		case spans <- GenSpan{Off: s.Offset, End: s.End, Min: minTime}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Framed frames the v2 trace of version v in r, size bytes long, and
// returns its complete generations and the damage after them, if any.
func Framed(ctx context.Context, r io.ReaderAt, size int64, v format.Version) ([]GenSpan, error) {
	spans := make(chan GenSpan, 16)
	framed := make(chan error, 1)
	go func() {
		defer close(spans)
		body := io.NewSectionReader(r, format.HeaderSize, size-format.HeaderSize)
		framed <- FrameGenerations(ctx, body, format.HeaderSize, v, spans)
	}()
	var out []GenSpan
	for s := range spans {
		out = append(out, s)
	}
	return out, <-framed
}

// EachPart runs run on each generation of the v2 trace in r, size bytes
// long, of version v, on up to workers goroutines, and hands the results
// to merge in trace order, on the caller's goroutine. A generation's run
// starts once the generation after it is framed, so that its span has
// Next; at most one result more than there are workers waits for merge.
//
// The first error, of the framing (damage: a *decode.Error), of merge or
// ctx's, stops it and is returned; run is then called with a done ctx for
// what was already dispatched, and its results are dropped.
func EachPart[R any](ctx context.Context, r io.ReaderAt, size int64, v format.Version, workers int,
	run func(ctx context.Context, i int, s GenSpan) R, merge func(R) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	spans := make(chan GenSpan, 16)
	framed := make(chan error, 1)
	go func() {
		defer close(spans)
		body := io.NewSectionReader(r, format.HeaderSize, size-format.HeaderSize)
		err := FrameGenerations(ctx, body, format.HeaderSize, v, spans)
		if err != nil {
			cancel()
		}
		framed <- err
	}()

	type job struct {
		i    int
		span GenSpan
		out  chan<- R
	}
	workers = max(workers, 1)
	jobs := make(chan job)
	queue := make(chan chan R, workers+1) // results, in trace order
	slots := make(chan struct{}, workers+1)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.out <- run(ctx, j.i, j.span)
			}
		}()
	}
	go func() {
		defer close(queue)
		defer close(jobs)
		i := 0
		dispatch := func(s GenSpan) bool {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for range spans {
				}
				return false
			}
			out := make(chan R, 1)
			queue <- out
			jobs <- job{i, s, out}
			i++
			return true
		}
		var last *GenSpan
		for s := range spans {
			if last != nil {
				last.Next = s.Min
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

	var err error
	for out := range queue {
		res := <-out
		<-slots
		if err == nil {
			if err = merge(res); err != nil {
				cancel()
			}
		}
	}
	wg.Wait()
	if ferr := <-framed; ferr != nil && !errors.Is(ferr, context.Canceled) {
		// N.B. Before merge's: the parts fail when framing does.
		return ferr
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// Part is one generation prepared to be read on its own.
type Part struct {
	Span GenSpan
	// Restamped counts its batches moved back; MaxTime is its latest
	// timestamp once they are, in ticks of Frequency per second.
	Restamped          int
	MaxTime, Frequency uint64
	cuts               []cut
}

// PreparePart reads the generation at s of the file in r, whose header is
// hdr, with the decoder (at decode.Counts), hands it to see if see is not
// nil, and returns it prepared. Its offsets in what see is given are those
// of the part (header, then the generation), not of the file.
func PreparePart(r io.ReaderAt, hdr []byte, s GenSpan, see func(*decode.Generation)) (*Part, error) {
	n := s.End - s.Off
	in := &SizedReader{io.MultiReader(bytes.NewReader(hdr), io.NewSectionReader(r, s.Off, n)), int64(len(hdr)) + n}
	dr, err := decode.NewReader(in)
	if err != nil {
		return nil, err
	}
	dr.SetDetail(decode.Counts)
	g, err := dr.Next()
	if err != nil {
		return nil, err
	}
	if see != nil {
		see(g)
	}
	p := &Part{Span: s, Frequency: g.Frequency}
	// Offsets in the part less delta are offsets in the file.
	delta := int64(len(hdr)) - s.Off
	late := Restamps(g, s.Next)
	p.Restamped = len(late)
	for i := range g.Batches {
		b := &g.Batches[i]
		c, ok, err := findCut(dr, g, i)
		if err != nil {
			return nil, err
		}
		var shift uint64
		if len(late) > 0 && late[0].Offset == b.Offset {
			shift = late[0].Shift
			c, ok, late = restamped(c, ok, late[0]), true, late[1:]
		}
		p.MaxTime = max(p.MaxTime, b.Last-shift)
		if ok {
			c.hdr, c.data, c.end = c.hdr-delta, c.data-delta, c.end-delta
			if c.at >= 0 {
				c.at -= delta
			}
			p.cuts = append(p.cuts, c)
		}
	}
	if _, err := dr.Next(); err != io.EOF {
		return nil, fmt.Errorf("byte %#x: more than one generation", s.Off)
	}
	return p, nil
}

// Reader is the part as golang.org/x/exp/trace is to read it: hdr, then
// the generation from the file in r with its late batches moved back and
// its large batches split.
//
// It says how many bytes it holds (SizedReader), so that a decoder reading
// it sizes its buffer once, not through a chain of copies that leaves
// garbage as large as the generation for each part.
func (p *Part) Reader(r io.ReaderAt, hdr []byte) io.Reader {
	parts := append([]io.Reader{bytes.NewReader(hdr)}, spliced(r, p.Span.Off, p.Span.End, p.cuts)...)
	var n int64
	for _, x := range parts {
		n += x.(interface{ Size() int64 }).Size() // N.B. section and bytes readers
	}
	return &SizedReader{io.MultiReader(parts...), n}
}

// spliced is the input from from to to, read at those offsets in r, with
// cuts, in order and all within it, applied: headers written anew, large
// batches split.
func spliced(r io.ReaderAt, from, to int64, cuts []cut) []io.Reader {
	var parts []io.Reader
	pos := from
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
				bytes.NewReader(BatchHeader(c.gen, c.m, c.base, uint64(c.end-c.data), int(c.data-c.hdr))))
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
	return append(parts, io.NewSectionReader(r, pos, to-pos))
}

// SizedReader is a reader that says how much it has left, so that a
// reader of it can size its buffer once.
type SizedReader struct {
	R    io.Reader
	Left int64
}

func (r *SizedReader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	r.Left -= int64(n)
	return n, err
}

// Len is how many bytes are left.
func (r *SizedReader) Len() int { return int(r.Left) }

// golang.org/x/exp/trace copies each batch into a bytes.Buffer grown to its
// size, then reads once more to see the end: when the allocation, rounded
// up to its size class, leaves less than bytes.MinRead to spare, the
// buffer is reallocated at twice its size. So a generation of full 64 KiB
// batches takes twice its size in memory, for as long as it is read, and
// two generations read at once take four times one. Split in two at an
// event early in it, a batch takes about its size: the second piece, most
// of it, with room to spare, the first small enough that its doubling
// costs a kilobyte or so. An early split also costs little to find, as the
// events are walked from the batch's start up to it.
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

// Bounds of the split: batches of splitMin bytes or less are left whole;
// the first batch of a split takes more than bytes.MinRead and at most
// cutMax, the second at least 16 KiB (the small size classes there are
// few). A large allocation is rounded up to 8 KiB pages, so the second
// lacks room to spare only where it ends less than bytes.MinRead short of
// a page: one offset in 16, and the events up to cutMax pass many others.
const (
	splitMin = 32<<10 + 1
	cutMin   = bytes.MinRead + 1
	cutMax   = 8 << 10
	restMin  = 16 << 10
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

// restamped is the cut of a batch moved back by r: c, its split if ok,
// with both base times moved back, or else one that writes its header anew.
func restamped(c cut, ok bool, r Restamp) cut {
	if ok {
		c.base, c.base2 = c.base-r.Shift, c.base2-r.Shift
		return c
	}
	return cut{hdr: r.Offset, data: r.Data, at: -1, end: r.End, gen: r.Gen, m: r.M, base: r.Base}
}

var errCut = errors.New("cut found")

// findCut finds where to split batch i of g, if it needs splitting.
func findCut(dr *decode.Reader, g *decode.Generation, i int) (cut, bool, error) {
	b := &g.Batches[i]
	if b.Header != format.EvEventBatch || b.Events != nil || b.Size <= splitMin || spare(b.Size) >= bytes.MinRead {
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

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
	"golang.org/x/exp/trace"
)

// genSpan is the byte range of one generation in the file.
type genSpan struct{ off, end int64 }

// frame reads the batch headers of the v2 trace body in r, which begins at
// byte off of the file, and sends the range of each generation on spans. It
// only skips over batch contents: the generations' own decoders check them.
func frame(ctx context.Context, r io.Reader, off int64, v format.Version, spans chan<- genSpan) error {
	br := bufio.NewReaderSize(r, 64<<10)
	pos := off
	start, gen := int64(-1), uint64(0)
	send := func(end int64) error {
		select {
		case spans <- genSpan{start, end}:
		case <-ctx.Done():
			return ctx.Err()
		}
		start = -1
		return nil
	}
	bad := func(at int64, what string) error { return fmt.Errorf("byte %#x: %s", at, what) }
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			if start < 0 {
				return nil
			}
			if v >= format.Go126 {
				return bad(pos, "generation has no EndOfGeneration")
			}
			return send(pos)
		}
		if err != nil {
			return err
		}
		typ := format.EventType(b)
		switch {
		case typ == format.EvEndOfGeneration && v >= format.Go126:
			if start < 0 {
				return bad(pos, "end of a generation that has no batches")
			}
			pos++
			if err := send(pos); err != nil {
				return err
			}
			continue
		case typ == format.EvEventBatch || typ == format.EvExperimentalBatch && v.HasExperiments():
		default:
			return bad(pos, fmt.Sprintf("want a batch header, have byte %#02x", b))
		}
		n := int64(1)
		if typ == format.EvExperimentalBatch {
			if _, err := br.ReadByte(); err != nil {
				return bad(pos, "batch header cut short")
			}
			n++
		}
		var vals [4]uint64 // gen, m, time, size
		for k := range vals {
			x, m, err := readUvarint(br)
			if err != nil {
				return bad(pos, "batch header: "+err.Error())
			}
			vals[k], n = x, n+m
		}
		if vals[3] > format.MaxBatchSize {
			return bad(pos, "batch size past the maximum")
		}
		if start >= 0 && vals[0] != gen {
			if err := send(pos); err != nil {
				return err
			}
		}
		if start < 0 {
			start, gen = pos, vals[0]
		}
		if d, err := br.Discard(int(vals[3])); err != nil {
			return bad(pos+n+int64(d), "batch cut short")
		}
		pos += n + int64(vals[3])
	}
}

// readUvarint reads one uvarint and says how many bytes it took.
func readUvarint(br *bufio.Reader) (uint64, int64, error) {
	var x uint64
	for i := range format.MaxVarintLen {
		b, err := br.ReadByte()
		if err != nil {
			return 0, 0, io.ErrUnexpectedEOF
		}
		if b < 0x80 {
			if i == format.MaxVarintLen-1 && b > 1 {
				break
			}
			return x | uint64(b)<<(7*i), int64(i + 1), nil
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, 0, errors.New("uvarint overflows 64 bits")
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
		framed <- frame(ctx, body, format.HeaderSize, v, spans)
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
		for s := range spans {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for range spans {
				}
				return
			}
			out := make(chan partResult, 1)
			bound := make(chan trace.Time, 1)
			queue <- out
			jobs <- job{s, prev, bound, out}
			prev = bound
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
	part := func() io.Reader {
		n := s.end - s.off
		return &sizedReader{io.MultiReader(bytes.NewReader(hdr), io.NewSectionReader(r, s.off, n)), int64(len(hdr)) + n}
	}
	w, b, err := countPart(part(), s)
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
	in := part()
	if prog != nil {
		in = prog.reader(in)
	}
	return partResult{a: a, w: w, err: readInto(ctx, in, a)}
}

// countPart reads the one generation in r, at s, with the decoder and
// returns its wire numbers and the bound for the part after it.
func countPart(r io.Reader, s genSpan) (wireResult, trace.Time, error) {
	var w wireResult
	dr, err := decode.NewReader(r)
	if err != nil {
		return w, 0, err
	}
	dr.SetDetail(decode.Counts)
	g, err := dr.Next()
	if err != nil {
		return w, 0, err
	}
	w.add(g)
	w.gens[0].Offset = ByteCount(s.off) // not where it is in the part
	b := nanos(g.MaxTime, g.Frequency) + boundMargin
	if _, err := dr.Next(); err != io.EOF {
		return w, 0, fmt.Errorf("byte %#x: more than one generation", s.off)
	}
	return w, b, nil
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
func readInto(ctx context.Context, r io.Reader, a *Analyzer) error {
	n := 0
	err := eachXExpEvent(r, func(ev *trace.Event) bool {
		a.Add(ev)
		n++
		return n&4095 != 0 || ctx.Err() == nil
	})
	if err == nil {
		err = ctx.Err()
	}
	return err
}

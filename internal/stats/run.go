package stats

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/order"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// ErrDamaged marks an error from Compute that still came with a model: the
// trace is damaged, and the model holds every complete generation.
var ErrDamaged = timeline.ErrDamaged

// Compute analyses the trace in r, size bytes long, named name in errors.
//
// A v2 trace is read a generation at a time, as many at once as
// Options.Workers says: the project's decoder counts the generation's wire
// footprint and tables, then internal/order reads its events in the order
// golang.org/x/exp/trace gives them (see part.go). Each worker keeps one
// generation in memory. An older trace, and a damaged one, are read in one
// ordered pass by golang.org/x/exp/trace, its events converted
// (order.Converter), the decoder's pass beside it on the other core.
//
// A damaged trace gives a model of the complete generations before the
// damage, with Model.Damage filled in, and an error wrapping ErrDamaged. A
// trace that cannot be read at all gives a nil model.
func Compute(ctx context.Context, name string, r io.ReaderAt, size int64, opts Options) (*Model, error) {
	hdr := make([]byte, format.HeaderSize)
	if n, _ := r.ReadAt(hdr, 0); n < len(hdr) {
		// N.B. In the decoder's words, as every command says it: empty,
		// not a trace, or a header cut short.
		_, err := decode.NewReader(io.NewSectionReader(r, 0, size))
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v, err := format.ParseHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("%s: byte 0x0: %w", name, err)
	}

	var prog *progress
	if opts.Progress != nil {
		prog = &progress{total: size, f: opts.Progress}
	}

	// 1. Each generation a part of its own (see part.go), as many at
	// once as there are workers.
	partsFailed := false
	if v.IsV2() && !opts.ordered {
		a, w, err := partsPass(ctx, r, size, v, hdr, opts, prog)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil && a != nil {
			m := a.Finalize()
			w.fill(m)
			finish(ctx, m, name, v, r, size, size, opts)
			return m, nil
		}
		if opts.partsOnly {
			return nil, fmt.Errorf("%s: in parts: %w", name, cmp.Or(err, errors.New("no generations")))
		}
		// A damaged trace, or one without generations: the ordered
		// passes below find out how much of it is whole, and say what
		// is wrong as a reading in order does.
		partsFailed = err != nil
		if prog != nil {
			prog = &progress{total: size, f: opts.Progress}
		}
	}

	// 2. In order. The wire pass, on the other core.
	wireDone := make(chan wireResult, 1)
	if v.IsV2() {
		go func() { wireDone <- wirePass(ctx, io.NewSectionReader(r, 0, size)) }()
	} else {
		wireDone <- wireResult{}
	}

	// The event pass, over the trace with its late statuses moved back.
	// After the parts found damage, it only finds where the damage is
	// (the complete generations are analysed in parts after it); it
	// analyses too when there are no parts, or none found damage.
	a := NewAnalyzer(opts)
	var in io.Reader = io.NewSectionReader(r, 0, size)
	if prog != nil {
		in = prog.reader(in)
	}
	var src *timeline.Source
	if !partsFailed {
		if src, err = timeline.NewSource(bufio.NewReaderSize(in, bufSize(in, 256<<10))); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	var syncs int
	var evErr error
	if partsFailed {
		syncs, evErr = locatePass(ctx, in, r, size)
		src = nil
	} else {
		// N.B. The source gives no more bytes than the trace has.
		syncs, evErr = eventPass(ctx, &timeline.SizedReader{R: src, Left: size}, a)
		if evErr != nil {
			evErr = src.Damage(syncs, evErr)
		} else {
			evErr = src.Err() // damage the decoder alone does not see
		}
	}
	w := <-wireDone
	if src != nil {
		w.restamped = src.Restamped
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// 3. Damage: analyse again the prefix that holds every generation both
	// passes read completely. Each generation prefix is a valid trace.
	var damage error
	if evErr != nil || w.err != nil {
		damage = cmp.Or(w.err, evErr)
		if !v.IsV2() {
			return nil, fmt.Errorf("%s: %w", name, evErr)
		}
		good := len(w.gens)
		if evErr != nil {
			// x/exp/trace emits a sync before each generation; the
			// generations before the last sync it delivered are whole.
			good = min(good, max(syncs-1, 0))
		}
		end := int64(format.HeaderSize)
		if good > 0 {
			end = int64(w.gens[good-1].Offset + w.gens[good-1].Bytes)
		}
		w.keep(good)
		a = NewAnalyzer(opts)
		if good > 0 {
			if a, w.restamped, err = analysePrefix(ctx, r, end, v, hdr, opts); err != nil {
				return nil, fmt.Errorf("%s: %w", name, damage)
			}
		}
		m := a.Finalize()
		m.Damage = Damage{Damaged: true, Error: fmt.Sprintf("%s: %v", name, damage), LostBytes: ByteCount(size - end)}
		if size > 0 {
			m.Damage.LostPercent = 100 * float64(size-end) / float64(size)
		}
		w.fill(m)
		finish(ctx, m, name, v, r, size, end, opts)
		return m, fmt.Errorf("%w: %s: %v", ErrDamaged, name, damage)
	}
	if partsFailed {
		// The parts failed where a reading in order finds no damage:
		// the analysis is the reading in order's.
		a = NewAnalyzer(opts)
		src, err := timeline.NewSource(bufio.NewReaderSize(io.NewSectionReader(r, 0, size), bufSize(in, 256<<10)))
		if err == nil {
			_, err = eventPass(ctx, &timeline.SizedReader{R: src, Left: size}, a)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	m := a.Finalize()
	w.fill(m)
	finish(ctx, m, name, v, r, size, size, opts)
	return m, nil
}

// analysePrefix analyses the first end bytes of the trace in r, its
// complete generations before damage, a trace of their own: a generation
// at a time when they are in the v2 format and each reads on its own,
// else in order. It returns the analysis and the late status batches it
// moved back.
func analysePrefix(ctx context.Context, r io.ReaderAt, end int64, v format.Version, hdr []byte, opts Options) (*Analyzer, int, error) {
	if v.IsV2() {
		a, w, err := partsPass(ctx, io.NewSectionReader(r, 0, end), end, v, hdr, opts, nil)
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		if err == nil && a != nil {
			return a, w.restamped, nil
		}
	}
	a := NewAnalyzer(opts)
	src, err := timeline.NewSource(io.NewSectionReader(r, 0, end))
	if err == nil {
		_, err = eventPass(ctx, &timeline.SizedReader{R: src, Left: end}, a)
	}
	if err != nil {
		return nil, 0, err
	}
	return a, src.Restamped, nil
}

// locatePass reads every event of the trace in in, in order, and analyses
// none: it finds where damage ends the reading, as the event pass would
// find it (see timeline.Locate; r, size bytes long, is read again if need
// be). It returns the sync events read and the damage.
func locatePass(ctx context.Context, in io.Reader, r io.ReaderAt, size int64) (syncs int, err error) {
	return timeline.Locate(ctx, bufio.NewReaderSize(in, bufSize(in, 256<<10)), r, func() io.Reader {
		in := io.NewSectionReader(r, 0, size)
		return bufio.NewReaderSize(in, bufSize(in, 256<<10))
	})
}

// ComputeFile is Compute over the trace file at path, named by its path.
func ComputeFile(ctx context.Context, path string, opts Options) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Compute(ctx, path, f, fi.Size(), opts)
}

// finish completes m, the model of the trace in r, whose first end bytes
// hold the complete generations read.
func finish(ctx context.Context, m *Model, name string, v format.Version, r io.ReaderAt, size, end int64, opts Options) {
	m.File = name
	m.Overview.Version = v.String()
	m.Overview.FileBytes = ByteCount(size)
	if slices.ContainsFunc(m.Overview.PerGeneration, func(g Generation) bool { return g.Types > 0 }) {
		m.Heap.Allocs = allocPass(ctx, io.NewSectionReader(r, 0, end), cmp.Or(opts.Top, DefaultTop), opts.counts)
	}
	m.Findings.Ranked = rank(m)
}

// eventPass feeds every event of r to a: read on a goroutine of its own
// while this one analyses (see timeline.Pipe; an ending task crosses
// without its stack, which the analysis does not read, and which
// TestPartsMatchOrdered would see, as the passes in parts keep every
// stack). It returns the number of sync events delivered and the error
// that ended reading, nil at a clean end.
func eventPass(ctx context.Context, r io.Reader, a *Analyzer) (syncs int, err error) {
	conv := order.NewConverter()
	var oev order.Event
	err = timeline.Pipe(ctx, func(send timeline.Send) error {
		return eachXExpEvent(r, func(ev *trace.Event) bool { return send(ev, 0, false) })
	}, func(ev *trace.Event, _ int) bool {
		if ev.Kind() == trace.EventSync {
			syncs++
		}
		if conv.Convert(ev, &oev) {
			a.Add(&oev)
		}
		return true
	})
	return syncs, err
}

// eachXExpEvent reads the trace in r with golang.org/x/exp/trace and calls
// fn with each event, in order, until fn returns false.
func eachXExpEvent(r io.Reader, fn func(*trace.Event) bool) (err error) {
	defer func() {
		// N.B. golang.org/x/exp/trace is not ours; a panic in it on
		// malformed input must still end as an error.
		if p := recover(); p != nil {
			err = fmt.Errorf("golang.org/x/exp/trace: %v", p)
		}
	}()
	tr, err := trace.NewReader(bufio.NewReaderSize(r, bufSize(r, 256<<10)))
	if err != nil {
		return err
	}
	// N.B. One event for the whole loop: fn gets its address, and one
	// declared in the loop would be a new allocation each time round.
	var ev trace.Event
	for {
		if ev, err = tr.ReadEvent(); err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !fn(&ev) {
			return nil
		}
	}
}

// bufSize is n, or less for a reader that says it holds less, so that a
// small trace is read with a small buffer. A section reader is taken to be
// read from its start.
func bufSize(r io.Reader, n int) int {
	switch r := r.(type) {
	case interface{ Len() int }:
		return min(n, r.Len())
	case interface{ Size() int64 }:
		return int(min(int64(n), r.Size()))
	}
	return n
}

// wireResult is what the decoder says about a trace: per generation rows
// and the footprint, merged over every complete generation.
type wireResult struct {
	gens    []Generation
	foot    [][256]decode.EventCount // per generation, for keep
	batches []int
	err     error
	version format.Version
	// restamped counts the late status batches moved back.
	restamped int
}

// wirePass reads r with the decoder, counting only.
func wirePass(ctx context.Context, r io.Reader) wireResult {
	var w wireResult
	dr, err := decode.NewReader(bufio.NewReaderSize(r, bufSize(r, 1<<20)))
	if err != nil {
		w.err = err
		return w
	}
	w.version = dr.Version()
	dr.SetDetail(decode.Counts)
	for ctx.Err() == nil {
		g, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.err = err
			break
		}
		w.add(g)
	}
	return w
}

// add accounts for one generation.
func (w *wireResult) add(g *decode.Generation) {
	row := genRow(g)
	w.addRow(row, g.Counts, row.Batches)
}

// tableEvents are the event types that make up a generation's tables
// (strings, stacks, CPU samples) rather than events of the program.
var tableEvents = []format.EventType{format.EvStrings, format.EvString, format.EvStacks, format.EvStack, format.EvCPUSamples, format.EvCPUSample}

// wireCounts is g's batches, EndOfGeneration markers excluded, and its
// events on the wire, batch headers, table entries and the end marker
// excluded.
func wireCounts(g *decode.Generation) (batches, events int) {
	batches = len(g.Batches)
	if n := len(g.Batches); n > 0 && g.Batches[n-1].Header == format.EvEndOfGeneration {
		batches--
	}
	events = g.Events - int(g.Counts[format.EvEndOfGeneration].Events)
	for _, t := range tableEvents {
		events -= int(g.Counts[t].Events)
	}
	return batches, events
}

// addRow accounts for one generation's row, footprint and batches.
func (w *wireResult) addRow(row Generation, foot [256]decode.EventCount, batches int) {
	w.gens = append(w.gens, row)
	w.foot = append(w.foot, foot)
	w.batches = append(w.batches, batches)
}

// genRow is the per-generation table's row for g.
func genRow(g *decode.Generation) Generation {
	batches, events := wireCounts(g)
	return Generation{
		Num:        g.Num,
		Offset:     ByteCount(g.Offset),
		Bytes:      ByteCount(g.End - g.Offset),
		Duration:   Duration(g.Duration()),
		Batches:    batches,
		Events:     events,
		Stacks:     len(g.Stacks),
		Strings:    len(g.Strings),
		Types:      len(g.Types),
		CPUSamples: len(g.CPUSamples),
	}
}

// keep drops every generation after the first n.
func (w *wireResult) keep(n int) {
	n = min(n, len(w.gens))
	w.gens, w.foot, w.batches = w.gens[:n], w.foot[:n], w.batches[:n]
}

// fill puts the wire numbers into m.
func (w *wireResult) fill(m *Model) {
	o := &m.Overview
	if len(w.gens) == 0 {
		return
	}
	o.Generations = len(w.gens)
	o.PerGeneration = slices.Clone(w.gens)
	var total [256]decode.EventCount
	for _, f := range w.foot {
		for t := range f {
			total[t].Events += f[t].Events
			total[t].Bytes += f[t].Bytes
		}
	}
	o.Restamped = w.restamped
	o.Batches, o.WireEvents = 0, 0
	for i, g := range w.gens {
		o.Batches += w.batches[i]
		o.WireEvents += int64(g.Events)
	}
	o.Footprint = []EventBytes{}
	v := w.version
	for t, c := range total {
		if c.Events == 0 && c.Bytes == 0 {
			continue
		}
		o.Footprint = append(o.Footprint, EventBytes{Type: v.EventName(format.EventType(t)), Count: c.Events, Bytes: ByteCount(c.Bytes)})
	}
	slices.SortFunc(o.Footprint, func(x, y EventBytes) int {
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(x.Type, y.Type))
	})
}

// progress reports the bytes read through its readers, from any number of
// goroutines, every progressStep.
type progress struct {
	mu          sync.Mutex
	done, total int64
	next        int64
	f           func(done, total int64)
}

const progressStep = 4 << 20

func (p *progress) reader(r io.Reader) io.Reader { return &progressReader{r, p} }

func (p *progress) add(n int64, end bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.done >= p.next || end {
		p.next = p.done + progressStep
		// N.B. Parts read a header each, and split batches take a
		// header more: a little more than the file in all.
		p.f(min(p.done, p.total), p.total)
	}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(int64(n), err != nil)
	return n, err
}

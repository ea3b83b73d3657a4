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

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// ErrDamaged marks an error from Compute that still came with a model: the
// trace is damaged, and the model holds every complete generation.
var ErrDamaged = errors.New("trace damaged")

// Compute analyses the trace in r, size bytes long, named name in errors.
//
// Two passes run at once, one per core: golang.org/x/exp/trace reads the
// events in order and validates them (the only heavy pass, itself split
// into reading and analysis), while the project's decoder counts the wire
// footprint and the per-generation tables. Each keeps one generation in
// memory at a time.
//
// A damaged trace gives a model of the complete generations before the
// damage, with Model.Damage filled in, and an error wrapping ErrDamaged. A
// trace that cannot be read at all gives a nil model.
func Compute(ctx context.Context, name string, r io.ReaderAt, size int64, opts Options) (*Model, error) {
	hdr := make([]byte, format.HeaderSize)
	if n, err := r.ReadAt(hdr, 0); n < len(hdr) {
		if size == 0 {
			return nil, fmt.Errorf("%s: empty input, want a trace header", name)
		}
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%s: byte 0x0: header: %w", name, err)
	}
	v, err := format.ParseHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("%s: byte 0x0: %w", name, err)
	}

	// 1. The wire pass, on the other core.
	wireDone := make(chan wireResult, 1)
	if v.IsV2() {
		go func() { wireDone <- wirePass(ctx, io.NewSectionReader(r, 0, size)) }()
	} else {
		wireDone <- wireResult{}
	}

	// 2. The event pass.
	a := NewAnalyzer(opts)
	var in io.Reader = io.NewSectionReader(r, 0, size)
	if opts.Progress != nil {
		in = &progressReader{r: in, total: size, f: opts.Progress}
	}
	syncs, evErr := eventPass(ctx, in, a)
	w := <-wireDone
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
			if _, err := eventPass(ctx, io.NewSectionReader(r, 0, end), a); err != nil {
				return nil, fmt.Errorf("%s: %w", name, damage)
			}
		}
		m := a.Finalize()
		m.Damage = Damage{Damaged: true, Error: fmt.Sprintf("%s: %v", name, damage), LostBytes: ByteCount(size - end)}
		if size > 0 {
			m.Damage.LostPercent = 100 * float64(size-end) / float64(size)
		}
		w.fill(m)
		finish(m, name, v, size)
		return m, fmt.Errorf("%w: %s: %v", ErrDamaged, name, damage)
	}
	m := a.Finalize()
	w.fill(m)
	finish(m, name, v, size)
	return m, nil
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

func finish(m *Model, name string, v format.Version, size int64) {
	m.File = name
	m.Overview.Version = v.String()
	m.Overview.FileBytes = ByteCount(size)
}

// eventPass feeds every event of r to a. A reader goroutine decodes events
// into chunks while this one analyses the previous chunk. It returns the
// number of sync events delivered and the error that ended reading, nil at
// a clean end.
func eventPass(ctx context.Context, r io.Reader, a *Analyzer) (syncs int, err error) {
	const chunk = 4096
	full := make(chan []trace.Event, 3)
	free := make(chan []trace.Event, 4)
	for range 4 {
		free <- make([]trace.Event, 0, chunk)
	}
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(full)
		errc <- readEvents(r, full, free, stop)
	}()
	defer func() {
		close(stop)
		for range full {
		}
	}()
	for evs := range full {
		for i := range evs {
			if evs[i].Kind() == trace.EventSync {
				syncs++
			}
			a.Add(&evs[i])
		}
		free <- evs[:0]
		if ctx.Err() != nil {
			return syncs, ctx.Err()
		}
	}
	return syncs, <-errc
}

func readEvents(r io.Reader, full, free chan []trace.Event, stop chan struct{}) (err error) {
	defer func() {
		// N.B. golang.org/x/exp/trace is not ours; a panic in it on
		// malformed input must still end as an error.
		if p := recover(); p != nil {
			err = fmt.Errorf("golang.org/x/exp/trace: %v", p)
		}
	}()
	tr, err := trace.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return err
	}
	var buf []trace.Event
	select {
	case buf = <-free:
	case <-stop:
		return nil
	}
	for {
		ev, err := tr.ReadEvent()
		if err == nil {
			buf = append(buf, ev)
			if len(buf) < cap(buf) {
				continue
			}
		}
		if len(buf) > 0 {
			select {
			case full <- buf:
			case <-stop:
				return nil
			}
			select {
			case buf = <-free:
			case <-stop:
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// wireResult is what the decoder says about a trace: per generation rows
// and the footprint, merged over every complete generation.
type wireResult struct {
	gens    []Generation
	foot    [][256]decode.EventCount // per generation, for keep
	batches []int
	err     error
	version format.Version
}

// wirePass reads r with the decoder, counting only.
func wirePass(ctx context.Context, r io.Reader) wireResult {
	var w wireResult
	dr, err := decode.NewReader(bufio.NewReaderSize(r, 1<<20))
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
	row := Generation{
		Num:        g.Num,
		Offset:     ByteCount(g.Offset),
		Bytes:      ByteCount(g.End - g.Offset),
		Duration:   Duration(g.Duration()),
		Batches:    len(g.Batches),
		Events:     g.Events,
		Stacks:     len(g.Stacks),
		Strings:    len(g.Strings),
		Types:      len(g.Types),
		CPUSamples: len(g.CPUSamples),
	}
	w.gens = append(w.gens, row)
	w.foot = append(w.foot, g.Counts)
	w.batches = append(w.batches, len(g.Batches))
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

// progressReader reports the bytes read through it every progressStep.
type progressReader struct {
	r           io.Reader
	done, total int64
	next        int64
	f           func(done, total int64)
}

const progressStep = 4 << 20

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.done >= p.next || err != nil {
		p.next = p.done + progressStep
		p.f(p.done, p.total)
	}
	return n, err
}

package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"sync"

	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/order"
	tmodel "github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// rec is what the timeline takes from one event (internal/order's, in
// golang.org/x/exp/trace's order): the events it draws nothing from are
// left out, and counted.
type rec struct {
	t trace.Time
	// skipped counts the events left out since the record before. Each
	// of them moved time on by at least a nanosecond: the timeline needs
	// that to time an event as x/exp/trace times it reading the trace
	// whole when the record comes from a generation read on its own.
	skipped  uint32
	kind     trace.EventKind // or kindEnd
	from, to trace.GoState
	scope    trace.ResourceKind // ranges: what they are scoped to
	g        trace.GoID         // the goroutine the event is on
	p        trace.ProcID       // the P the event is on
	// id is, by kind: the goroutine that changes state, the task, the
	// range's goroutine or P, the region's task, the metric's value.
	id uint64
	// parent is a task's parent, a metric's track.
	parent uint64
	// name is, by kind: the start function of the goroutine's stack (when
	// the converter does not know it yet), the range's name, the region's
	// or task's type, the log's category.
	name string
	// str is a wait's slice name (blocked, and the reason) or a log's
	// message.
	str   string
	stack []frame // a CPU sample's, outermost first
}

// kindEnd marks the record that ends what a converter read: its skipped
// events, the latest at t, move the trace's last time on.
const kindEnd trace.EventKind = 1<<16 - 1

// converter turns events into records, on the goroutine that reads them.
type converter struct {
	skipped uint32
	lastT   trace.Time // the latest event skipped
	// named holds the goroutines whose start function a record has
	// carried since they were created or the converter began.
	named table[bool]
	waits map[string]string // slice names by wait reason
}

// waitName is the name of the slice of a wait for reason.
func (c *converter) waitName(reason string) string {
	if reason == "" {
		return "blocked"
	}
	name, ok := c.waits[reason]
	if !ok {
		if c.waits == nil {
			c.waits = make(map[string]string)
		}
		name = "blocked: " + reason
		c.waits[reason] = name
	}
	return name
}

// convert fills r from ev and reports whether the timeline takes it.
func (c *converter) convert(ev *order.Event, r *rec) bool {
	kind := ev.Kind()
	switch kind {
	case trace.EventSync, trace.EventStateTransition, trace.EventRangeBegin, trace.EventRangeActive,
		trace.EventRangeEnd, trace.EventRegionBegin, trace.EventRegionEnd, trace.EventTaskBegin,
		trace.EventTaskEnd, trace.EventLog, trace.EventStackSample, trace.EventMetric:
	default:
		c.skip(ev.Time())
		return false
	}
	// N.B. Field by field: r is in a chunk on the heap, where copying a
	// whole record costs more than the rest of converting most events.
	r.t, r.skipped, r.kind, r.g, r.p = ev.Time(), c.skipped, kind, ev.Goroutine(), ev.Proc()
	r.from, r.to, r.scope, r.id, r.parent = 0, 0, 0, 0, 0
	if r.name != "" || r.str != "" || r.stack != nil {
		r.name, r.str, r.stack = "", "", nil
	}
	ok := true
	switch kind {
	case trace.EventSync:
	case trace.EventStateTransition:
		ok = c.transition(ev, r)
	case trace.EventRangeBegin, trace.EventRangeActive, trace.EventRangeEnd:
		rg := ev.Range()
		r.name, r.scope = rg.Name, rg.Scope.Kind
		switch rg.Scope.Kind {
		case trace.ResourceGoroutine, trace.ResourceProc:
			r.id = uint64(rg.Scope.ID)
		}
	case trace.EventRegionBegin, trace.EventRegionEnd:
		if ok = r.g != trace.NoGoroutine; ok {
			rg := ev.Region()
			r.name, r.id = rg.Type, uint64(taskArg(rg.Task))
		}
	case trace.EventTaskBegin, trace.EventTaskEnd:
		task := ev.Task()
		r.id, r.name, r.parent = uint64(task.ID), task.Type, uint64(task.Parent)
	case trace.EventLog:
		if ok = r.g != trace.NoGoroutine; ok {
			l := ev.Log()
			r.name, r.str = l.Category, l.Message
			if r.name == "" {
				r.name = "log"
			}
		}
	case trace.EventStackSample:
		for f := range ev.Stack().Frames() {
			r.stack = append(r.stack, frame{fn: f.Func, file: f.File, line: f.Line})
		}
		slices.Reverse(r.stack) // outermost first
	case trace.EventMetric:
		m := ev.Metric()
		ok = m.Value.Kind() == trace.ValueUint64
		switch {
		case !ok:
		case m.Name == "/memory/classes/heap/objects:bytes":
			r.id, r.parent = m.Value.Uint64(), trackHeap
		case m.Name == "/gc/heap/goal:bytes":
			r.id, r.parent = m.Value.Uint64(), trackGoal
		default:
			ok = false
		}
	default:
		ok = false
	}
	if !ok {
		c.skip(r.t)
		return false
	}
	c.skipped = 0
	return true
}

// skip counts an event at t that the timeline takes nothing from.
func (c *converter) skip(t trace.Time) {
	c.skipped++
	c.lastT = t
}

// transition fills r from a goroutine's state transition, unless it is
// not one or changes nothing.
func (c *converter) transition(ev *order.Event, r *rec) bool {
	id, from, to, ok := ev.GoTransition()
	if !ok || from == to {
		return false
	}
	r.from, r.to, r.id = from, to, uint64(id)
	if to == trace.GoWaiting {
		r.str = c.waitName(ev.TransitionReason())
	}
	if to == trace.GoNotExist {
		c.named.put(uint64(id), false)
		return true
	}
	if !c.named.get(uint64(id)) {
		r.name = tmodel.StartFunc(ev.TransitionStack())
		// N.B. Not from a status, which the timeline may take as a
		// restatement, and then not for the goroutine's name.
		if r.name != "" && from != trace.GoUndetermined {
			c.named.put(uint64(id), true)
		}
	}
	return true
}

// end fills r with the end of what was read: the events skipped since the
// last record.
func (c *converter) end(r *rec) {
	*r = rec{kind: kindEnd, skipped: c.skipped, t: c.lastT}
	c.skipped = 0
}

// chunkSize is how many records go from a part to the timeline at once.
const chunkSize = 1024

// chunk is a part's records handed to the timeline, or the error that
// stopped the part.
type chunk struct {
	recs []rec
	err  error
}

// runParts reads the v2 trace in r, size bytes long, a generation per
// worker (timeline.EachPart), and feeds the timeline the records of each
// part in trace order as they come. A part read on its own differs from
// the trace read whole only in the statuses that begin it and the times
// of its first events, which the timeline mends (see goTransition and
// event). It returns errInOrder, having fed the timeline nothing, when the
// trace is to be read in order: not in the v2 format, or damaged where
// framing the generations finds it. Damage found inside a generation stops
// the timeline after what came before it, and the caller reads the trace
// in order for the error that says where it is.
func (tl *timeline) runParts(ctx context.Context, r io.ReaderAt, size int64) error {
	hdr := make([]byte, format.HeaderSize)
	if n, _ := r.ReadAt(hdr, 0); n < len(hdr) {
		return errInOrder
	}
	v, err := format.ParseHeader(hdr)
	if err != nil || !v.IsV2() {
		return errInOrder
	}
	// N.B. The generations are framed first, before anything is written,
	// so that damage there is left to the ordered pass; the framer skips
	// over the batches, which costs little beside reading them.
	spans, err := frameGenerations(ctx, r, size, v)
	gens := len(spans)
	if err != nil || gens == 0 {
		return errInOrder
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(runtime.GOMAXPROCS(0), 1)
	feeds := make([]chan chunk, gens)
	for i := range feeds {
		feeds[i] = make(chan chunk, 4)
	}
	free := make(chan []rec, 4*(workers+2))
	// Each generation is prepared once, by its part or by the part
	// before it, which decodes it first (see readPart).
	prepared := make([]func() (*tmodel.Part, error), gens)
	for i := range prepared {
		s := spans[i]
		if i+1 < gens {
			s.Next = spans[i+1].Min // N.B. as EachPart sets it
		}
		prepared[i] = sync.OnceValues(func() (*tmodel.Part, error) { return tmodel.PreparePart(r, hdr, s, nil) })
	}
	done := make(chan error, 1)
	go func() {
		done <- tmodel.EachPart(ctx, r, size, v, workers, func(ctx context.Context, i int, s tmodel.GenSpan) error {
			if i >= gens {
				return errInOrder // N.B. the file grew
			}
			next := func() (*tmodel.Part, error) { return nil, nil }
			if i+1 < gens {
				next = prepared[i+1]
			}
			err := readPart(ctx, r, hdr, i, s, prepared[i], next, feeds[i], free)
			close(feeds[i])
			return err
		}, func(err error) error { return err })
	}()

	// next is the next chunk of part i; once EachPart has returned, the
	// parts it did not start have nothing.
	var eachErr error
	finished := false
	next := func(i int) (chunk, bool) {
		if !finished {
			select {
			case c, ok := <-feeds[i]:
				return c, ok
			case eachErr = <-done:
				finished = true
			}
		}
		select {
		case c, ok := <-feeds[i]:
			return c, ok
		default:
			return chunk{}, false
		}
	}
	var partErr error
	i := 0
	for ; i < gens && partErr == nil && !tl.done && ctx.Err() == nil; i++ {
		for {
			c, ok := next(i)
			if !ok {
				break
			}
			for j := range c.recs {
				tl.event(&c.recs[j])
			}
			if c.err != nil {
				partErr = c.err
				break
			}
			select {
			case free <- c.recs[:0]:
			default:
			}
			if tl.done {
				break
			}
		}
		if partErr == nil && tl.opts.Progress != nil {
			tl.opts.Progress(spans[i].End)
		}
	}
	cancel()
	if !finished {
		eachErr = <-done
	}
	switch {
	case partErr != nil:
		return partErr
	case tl.done:
		return nil
	case eachErr != nil && !errors.Is(eachErr, context.Canceled):
		return fmt.Errorf("%w: %w", errPartDamaged, eachErr)
	case i < gens:
		return fmt.Errorf("%w: %d of %d generations read", errPartDamaged, i, gens)
	}
	return nil
}

// errInOrder says the trace is to be read in order (see runParts).
var errInOrder = errors.New("trace to be read in order")

// errPartDamaged says a part found damage inside its generation.
var errPartDamaged = errors.New("damage inside a generation")

// frameGenerations frames the whole v2 trace in r and returns its
// generations.
func frameGenerations(ctx context.Context, r io.ReaderAt, size int64, v format.Version) ([]tmodel.GenSpan, error) {
	spans := make(chan tmodel.GenSpan, 16)
	errc := make(chan error, 1)
	go func() {
		defer close(spans)
		body := io.NewSectionReader(r, format.HeaderSize, size-format.HeaderSize)
		errc <- tmodel.FrameGenerations(ctx, body, format.HeaderSize, v, spans)
	}()
	var out []tmodel.GenSpan
	for s := range spans {
		out = append(out, s)
	}
	return out, <-errc
}

// readPart reads generation i, at s, with internal/order and sends
// its records on feed, in chunks taken from free when it has one. prepare
// prepares it, next the generation after it (nil for the last).
//
// Read in order, the trace ends at the last generation before damage the
// decoder finds: that one's closing Sync is the trace's, and its late
// statuses stay where they were written, as the last generation's do. So
// the part first decodes the generation after it, and when that is
// damaged reads its own as the last.
func readPart(ctx context.Context, r io.ReaderAt, hdr []byte, i int, s tmodel.GenSpan, prepare, next func() (*tmodel.Part, error), feed chan<- chunk, free chan []rec) (err error) {
	send := func(c chunk) bool {
		select {
		case feed <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	fail := func(e error) error {
		send(chunk{err: fmt.Errorf("%w: %w", errPartDamaged, e)})
		return e
	}
	defer func() {
		if e := recover(); e != nil {
			if !tmodel.PanicInXExp() {
				panic(e) // a bug of gotrace's own, not damage
			}
			err = fail(fmt.Errorf("reading events failed: %v", e))
		}
	}()
	// unread is damage found before the generation's events are read:
	// read in order, the trace ends before it. The generation before
	// ended it (see above); the first has only the Sync that ends every
	// trace, which x/exp/trace times a nanosecond after nothing.
	unread := func(e error) error {
		var recs []rec
		if i == 0 {
			recs = []rec{{kind: trace.EventSync, t: 1}}
		}
		send(chunk{recs: recs, err: fmt.Errorf("%w: %w", errPartDamaged, e)})
		return e
	}
	np, err := next()
	last := np == nil
	p, perr := prepare()
	if err != nil {
		// N.B. Prepared again, its late statuses left where they are.
		last, s.Next = true, 0
		p, perr = tmodel.PreparePart(r, hdr, s, nil)
	}
	if perr != nil {
		return unread(perr)
	}
	tr, err := order.NewReader(p.Reader(r, hdr))
	if err != nil {
		return unread(err)
	}
	defer tr.Close()
	var cv converter
	buf := func() []rec {
		select {
		case b := <-free:
			return b
		default:
			return make([]rec, 0, chunkSize)
		}
	}
	recs := buf()
	syncs := 0
	var ev order.Event
	for {
		err := tr.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(recs) > 0 && !send(chunk{recs: recs}) {
				return ctx.Err()
			}
			return fail(err)
		}
		if ev.Kind() == trace.EventSync {
			if syncs++; syncs > 1 && !last {
				continue // the part's end, not the trace's
			}
		}
		// N.B. The record's place in the chunk as it is: convert
		// writes every field of one it keeps.
		recs = recs[:len(recs)+1]
		if !cv.convert(&ev, &recs[len(recs)-1]) {
			recs = recs[:len(recs)-1]
			continue
		}
		if len(recs) == chunkSize {
			if !send(chunk{recs: recs}) {
				return ctx.Err()
			}
			recs = buf()
		}
	}
	recs = append(recs, rec{})
	cv.end(&recs[len(recs)-1])
	if !send(chunk{recs: recs}) {
		return ctx.Err()
	}
	return nil
}

// readerSize returns the input as something to read at offsets and its
// size, if it is one: a regular file, or bytes in memory.
func readerSize(r io.Reader, at io.ReaderAt) (io.ReaderAt, int64, bool) {
	if at == nil {
		at, _ = r.(io.ReaderAt)
	}
	switch x := at.(type) {
	case interface{ Size() int64 }:
		return at, x.Size(), true
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := x.Stat(); err == nil && fi.Mode().IsRegular() {
			return at, fi.Size(), true
		}
	}
	return nil, 0, false
}

// damageIn reads the trace in r, size bytes long, in order for the error
// that says where its damage is, as the ordered pass would have said it;
// err, what a part found, if that pass finds none.
func damageIn(ctx context.Context, r io.ReaderAt, size int64, err error) error {
	in := func() io.Reader { return io.NewSectionReader(r, 0, size) }
	if _, derr := tmodel.Locate(ctx, in(), r, in); derr != nil {
		return derr
	}
	return err
}

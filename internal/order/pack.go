package order

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// bigArg in a packed argument says the value did not fit 32 bits and is
// the thread's next entry in big.
const bigArg = ^uint32(0)

// genData is one generation decoded and packed, ready to be ordered: its
// tables, its threads' batches, its samples.
//
// N.B. Packed at about thirteen bytes an event, against some six on the
// wire: holding a generation's events this way costs less than decoding
// them twice, and the producer keeps only one generation ahead. The
// events live in chunks that are reused from one generation to the next,
// so that packing makes no garbage.
type genData struct {
	num      uint64
	tab      *tables
	ns       float64 // nanoseconds per tick
	syncTime trace.Time
	threads  []thread
	typs     arena[format.EventType]
	offs     arena[uint16]
	args     arena[uint32]
	big      []uint64 // the arguments that did not fit 32 bits, in input order
	cpu      []sample
	err      error // instead of a generation: how the input ends
}

// thread is one thread's batches in input order.
type thread struct {
	m       uint64
	batches []packedBatch
}

// packedBatch is one batch's events, packed. Each event's arguments
// begin with its time: nanoseconds after the event before (after 0 for
// the first), or bigArg and the time itself in big.
type packedBatch struct {
	typs []format.EventType
	offs []uint16 // offset after the batch's first event (a batch is at most 64 KiB)
	args []uint32 // time, then wire arguments after dt, end to end; bigArg escapes to big
	blo  int32    // the batch's first entry in big
	bi   int32    // index in the decoded generation, for errors
	bad  int32    // index of the first event naming a stack or string the tables lack, -1 when none
	base int64    // input offset of the first event
}

// arena hands out room in chunks that live as long as the arena and are
// reused after reset.
type arena[T any] struct {
	chunks [][]T
	ci     int // chunk in use
	used   int // elements used in it
}

// Chunks grow from firstChunk to chunkLen elements, so that a small trace
// does not pay for a large one's room.
const (
	firstChunk = 1 << 14
	chunkLen   = 1 << 20
)

// reserve returns an empty slice with room for n elements; commit says
// how many were used.
func (a *arena[T]) reserve(n int) []T {
	if a.ci < len(a.chunks) && a.used+n <= len(a.chunks[a.ci]) {
		return a.chunks[a.ci][a.used : a.used : a.used+n]
	}
	if a.ci < len(a.chunks) {
		a.ci++
	}
	a.used = 0
	if a.ci == len(a.chunks) || len(a.chunks[a.ci]) < n {
		size := chunkLen
		if a.ci < 3 {
			size = firstChunk << (2 * a.ci)
		}
		a.chunks = append(a.chunks[:a.ci], make([]T, max(size, n)))
	}
	return a.chunks[a.ci][:0:n]
}

func (a *arena[T]) commit(n int) { a.used += n }

func (a *arena[T]) reset() { a.ci, a.used = 0, 0 }

func (d *genData) mul(t uint64) trace.Time { return trace.Time(float64(t) * d.ns) }

// packer is the producer's state: it runs inside decode.Reader.Parallel,
// one generation at a time, and hands each packed generation over gens.
type packer struct {
	v     format.Version
	timed [256]bool
	nargs [256]uint8
	pcs   idTable
	mIdx  idTable
	gens  chan<- *genData
	free  chan *genData // generations the consumer is done with, for reuse
	quit  <-chan struct{}

	// While packing one batch.
	d    *genData
	bi   int
	num  uint64
	base int64                     // input offset of the batch's first event, -1 before it
	each func(*decode.Event) error // event, made once
	typs []format.EventType
	offs []uint16
	args []uint32
	bad  int32
	// Times accumulate in nanoseconds delta by delta, each delta
	// converted on its own, because that is how golang.org/x/exp/trace
	// rounds them; a batch restarts from its base time.
	ticks  uint64     // the batch's base time
	lastNS trace.Time // time of the last event, 0 at the batch start
	outNS  trace.Time // time the consumer will have reached
}

var errClosed = errors.New("order: reader closed")

// pack packs generation g and hands it over; it blocks until the consumer
// takes it, so the producer runs at most one generation ahead.
func (p *packer) pack(gr *decode.GenReader, g *decode.Generation) error {
	var d *genData
	select {
	case d = <-p.free:
	default:
		d = new(genData)
	}
	if err := p.fill(d, gr, g); err != nil {
		return err
	}
	select {
	case p.gens <- d:
		return nil
	case <-p.quit:
		return errClosed
	}
}

func (p *packer) fill(d *genData, gr *decode.GenReader, g *decode.Generation) error {
	*d = genData{num: g.Num, threads: d.threads[:0], typs: d.typs, offs: d.offs,
		args: d.args, big: d.big[:0], cpu: d.cpu[:0]}
	d.typs.reset()
	d.offs.reset()
	d.args.reset()
	if g.Frequency == 0 {
		return &decode.Error{Offset: g.Offset, Gen: g.Num, Batch: -1, Err: fmt.Errorf("generation has no frequency: %w", ErrInvalid)}
	}
	if g.Clock == nil && p.v >= format.Go125 {
		return &decode.Error{Offset: g.Offset, Gen: g.Num, Batch: -1, Err: fmt.Errorf("generation has no clock snapshot: %w", ErrInvalid)}
	}
	// N.B. The same expression as golang.org/x/exp/trace's, so that the
	// same float comes out.
	d.ns = 1.0 / (float64(g.Frequency) / 1e9)
	if err := p.checkTables(g); err != nil {
		return err
	}
	tab, err := buildTables(g, &p.pcs)
	if err != nil {
		return &decode.Error{Offset: g.Offset, Gen: g.Num, Batch: -1, Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	}
	tab.syncInfo(g, d.mul)
	d.tab = tab

	// 1. Group the event batches by thread, threads in order of first
	// batch, and find the earliest batch time (a batch at time 0
	// restarts the search, as golang.org/x/exp/trace's does).
	var minTicks uint64
	p.mIdx.reset()
	p.d, p.num = d, g.Num
	for bi := range g.Batches {
		b := &g.Batches[bi]
		if b.Header == format.EvEndOfGeneration {
			continue
		}
		if minTicks == 0 || b.Time < minTicks {
			minTicks = b.Time
		}
		if b.Header != format.EvEventBatch || b.Events != nil {
			// Experimental and table batches (decode hands the
			// latter's events over at this detail).
			continue
		}
		ti, ok := p.mIdx.get(b.M)
		if !ok {
			ti = int32(len(d.threads))
			p.mIdx.put(b.M, ti)
			if len(d.threads) < cap(d.threads) {
				d.threads = d.threads[:ti+1]
				d.threads[ti].m, d.threads[ti].batches = b.M, d.threads[ti].batches[:0]
			} else {
				d.threads = append(d.threads, thread{m: b.M})
			}
		}
		// Every event takes two bytes or more (type and time), every
		// argument one or more.
		p.typs, p.offs, p.args = d.typs.reserve(b.Size/2+1), d.offs.reserve(b.Size/2+1), d.args.reserve(b.Size+1)
		p.bi, p.base, p.bad = bi, -1, -1
		p.ticks, p.lastNS, p.outNS = b.Time, 0, 0
		blo := len(d.big)
		if err := gr.EachEvent(g, bi, p.each); err != nil {
			return err
		}
		d.typs.commit(len(p.typs))
		d.offs.commit(len(p.offs))
		d.args.commit(len(p.args))
		pb := packedBatch{typs: p.typs, offs: p.offs, args: p.args, blo: int32(blo), bi: int32(bi), bad: p.bad, base: p.base}
		th := &d.threads[ti]
		th.batches = append(th.batches, pb)
	}
	d.syncTime = d.mul(minTicks)

	// 2. Samples by time; sorted as golang.org/x/exp/trace sorts them,
	// equal times stay in its order.
	for _, s := range g.CPUSamples {
		gid := trace.GoID(s.G)
		if s.G == 0 {
			gid = trace.NoGoroutine
		}
		d.cpu = append(d.cpu, sample{time: d.mul(s.Time), c: ctx{g: gid, p: trace.ProcID(s.P), m: trace.ThreadID(s.M)}, stack: s.Stack, off: -1})
	}
	slices.SortFunc(d.cpu, func(a, b sample) int { return cmp.Compare(a.time, b.time) })
	return nil
}

// checkTables holds g's table batches to what golang.org/x/exp/trace
// accepts in them, which is less than decode takes: a batch of strings,
// stacks or samples holds nothing else, a sync batch only the frequency
// and the clock snapshot, each once in the generation; and from Go 1.25 a
// batch that begins with a frequency, lacking the sync header, is an
// event batch, and a frequency there is no timed event.
func (p *packer) checkTables(g *decode.Generation) error {
	nfreq, nclock := 0, 0
	for bi := range g.Batches {
		b := &g.Batches[bi]
		if b.Header != format.EvEventBatch || len(b.Events) == 0 {
			continue
		}
		first := b.Events[0].Type
		for k := range b.Events {
			ev := &b.Events[k]
			ok := false
			switch first {
			case format.EvStrings:
				ok = ev.Type == format.EvString || k == 0
			case format.EvStacks:
				ok = ev.Type == format.EvStack || k == 0
			case format.EvCPUSamples:
				ok = ev.Type == format.EvCPUSample || k == 0
			case format.EvSync:
				ok = ev.Type == format.EvFrequency || ev.Type == format.EvClockSnapshot || k == 0
			case format.EvFrequency:
				ok = ev.Type == format.EvFrequency && p.v < format.Go125
			}
			switch ev.Type {
			case format.EvFrequency:
				nfreq++
				ok = ok && nfreq == 1
			case format.EvClockSnapshot:
				nclock++
				ok = ok && nclock == 1
			}
			if !ok {
				return &decode.Error{Offset: ev.Offset, Gen: g.Num, Batch: bi, Event: p.v.EventName(ev.Type),
					Err: fmt.Errorf("not allowed here in a %s table batch: %w", p.v.EventName(first), ErrInvalid)}
			}
		}
	}
	return nil
}

// event packs one event of the batch being packed.
func (p *packer) event(ev *decode.Event) error {
	if !p.timed[ev.Type] || len(ev.Args) != int(p.nargs[ev.Type]) {
		return &decode.Error{Offset: ev.Offset, Gen: p.num, Batch: p.bi, Event: p.v.EventName(ev.Type),
			Err: fmt.Errorf("an event batch holds only timed events: %w", ErrInvalid)}
	}
	if p.base < 0 {
		p.base = ev.Offset
	}
	d := p.d
	if p.bad < 0 && !d.tab.idsOK(ev) {
		p.bad = int32(len(p.typs))
	}
	p.typs = append(p.typs, ev.Type)
	p.offs = append(p.offs, uint16(ev.Offset-p.base))
	if p.lastNS == 0 {
		p.lastNS = d.mul(p.ticks)
	}
	p.lastNS += d.mul(ev.Args[0])
	if dt := p.lastNS - p.outNS; dt >= 0 && dt < trace.Time(bigArg) {
		p.args = append(p.args, uint32(dt))
	} else {
		d.big = append(d.big, uint64(p.lastNS))
		p.args = append(p.args, bigArg)
	}
	p.outNS = p.lastNS
	for _, v := range ev.Args[1:] {
		if v >= uint64(bigArg) {
			d.big = append(d.big, v)
			p.args = append(p.args, bigArg)
			continue
		}
		p.args = append(p.args, uint32(v))
	}
	return nil
}

// idsOK reports whether every stack and string ev names is in the tables.
// golang.org/x/exp/trace checks this as it hands an event out, so a
// failure is only marked here and reported in turn.
func (t *tables) idsOK(ev *decode.Event) bool {
	ids := &idArgs[ev.Type]
	for k := 0; k < int(ids.nstk); k++ {
		if !t.hasStack(ev.Args[ids.stk[k]+1]) {
			return false
		}
	}
	for k := 0; k < int(ids.nstr); k++ {
		if _, ok := t.str(ev.Args[ids.str[k]+1]); !ok {
			return false
		}
	}
	return true
}

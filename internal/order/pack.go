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

// genData is one generation framed and indexed, ready to be ordered: its
// tables, its threads' batches, its samples.
//
// N.B. The batches' events stay as the input holds them (about six bytes
// an event), in the decoder's buffer, and are unpacked one at a time as
// the ordering reaches them, as golang.org/x/exp/trace does: a copy of a
// generation's events in any form that is quicker to read takes twice its
// wire size or more, and a command reading two generations at once then
// no longer fits its memory. The producer hands the generation over and
// waits until the consumer is done with it, for the buffer is reused.
type genData struct {
	num      uint64
	tab      *tables
	ns       float64 // nanoseconds per tick
	syncTime trace.Time
	threads  []thread
	cpu      []sample
	err      error // instead of a generation: how the input ends
}

// thread is one thread's batches in input order.
type thread struct {
	m       uint64
	batches []rawBatch
}

// rawBatch is one event batch as the input holds it.
type rawBatch struct {
	data  []byte // the events, after the header
	base  int64  // input offset of data
	bi    int32  // index in the decoded generation, for errors
	ticks uint64 // base time
}

func (d *genData) mul(t uint64) trace.Time { return trace.Time(float64(t) * d.ns) }

// packer is the producer's state: it runs inside decode.Reader.Parallel,
// one generation at a time, and hands each indexed generation over gens.
type packer struct {
	v     format.Version
	timed [256]bool
	nargs [256]uint8
	pcs   idTable
	mIdx  idTable
	gens  chan<- *genData
	free  chan *genData // the generation the consumer is done with
	spare *genData      // that generation, to fill again
	quit  <-chan struct{}
}

var errClosed = errors.New("order: reader closed")

// pack indexes generation g and hands it over, then waits until the
// consumer is done with it: its events are read where the decoder holds
// them, so the producer never runs ahead.
func (p *packer) pack(gr *decode.GenReader, g *decode.Generation) error {
	d := p.spare
	if d == nil {
		d = new(genData)
	}
	if err := p.fill(d, gr, g); err != nil {
		return err
	}
	// N.B. The tables are d's now: the decoder's copy need not wait
	// with the generation's bytes until the consumer is done.
	gr.DropTables(g)
	select {
	case p.gens <- d:
	case <-p.quit:
		return errClosed
	}
	select {
	case p.spare = <-p.free:
		return nil
	case <-p.quit:
		return errClosed
	}
}

func (p *packer) fill(d *genData, gr *decode.GenReader, g *decode.Generation) error {
	*d = genData{num: g.Num, threads: d.threads[:0], cpu: d.cpu[:0]}
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
		data, base, err := gr.BatchData(g, bi)
		if err != nil {
			return err
		}
		th := &d.threads[ti]
		th.batches = append(th.batches, rawBatch{data: data, base: base, bi: int32(bi), ticks: b.Time})
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

// idsOK reports whether every stack and string w names is in the tables.
// golang.org/x/exp/trace checks this as it hands an event out, so a
// failure is only marked as the event is unpacked and reported in turn.
func (t *tables) idsOK(w *wireEvent) bool {
	ids := &idArgs[w.typ]
	for k := 0; k < int(ids.nstk); k++ {
		if !t.hasStack(w.args[ids.stk[k]]) {
			return false
		}
	}
	for k := 0; k < int(ids.nstr); k++ {
		if _, ok := t.str(w.args[ids.str[k]]); !ok {
			return false
		}
	}
	return true
}

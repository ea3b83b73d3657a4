package view

import (
	"cmp"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// GenSummary is what a pass over the wire says about one generation,
// without golang.org/x/exp/trace: enough to draw a view of the whole trace
// before any of it is read in full.
type GenSummary struct {
	Num         uint64
	Offset, End int64 // its bytes in the file: [Offset, End)
	// Start and Last are its first and last event's times.
	Start, Last trace.Time
	// GC holds the collector's cycles and STW the stopped worlds, as
	// far as they fall in the generation.
	GC, STW []Range
	// Heap samples the heap in use.
	Heap []Sample
	// Busy is, for each P, the time a goroutine ran on it in each of
	// the buckets of Width nanoseconds from Start on.
	Busy  map[trace.ProcID][]trace.Time
	Width trace.Time
}

// summaryBuckets is about how finely a GenSummary keeps the Ps' busy
// time: a few times the columns a generation takes on the widest screen
// that shows the whole of a trace of a few generations.
const summaryBuckets = 256

// bucketGrid is the grid of s's buckets.
func (s *GenSummary) bucketGrid() grid {
	n := 0
	for _, b := range s.Busy {
		n = len(b)
	}
	return grid{from: s.Start, to: s.Start + s.Width*trace.Time(max(n, 1)), n: max(n, 1)}
}

// addBusy adds [from, to) to P p's buckets.
func (s *GenSummary) addBusy(p trace.ProcID, from, to trace.Time) {
	if to <= from || from < s.Start {
		from = max(from, s.Start)
		if to <= from {
			return
		}
	}
	b := s.Busy[p]
	last := int((to - 1 - s.Start) / s.Width)
	if last >= len(b) {
		b = append(b, make([]trace.Time, last+1-len(b))...)
		s.Busy[p] = b
	}
	for i := int((from - s.Start) / s.Width); i <= last; i++ {
		lo, hi := s.Start+trace.Time(i)*s.Width, s.Start+trace.Time(i+1)*s.Width
		b[i] += min(hi, to) - max(lo, from)
	}
}

// clock converts ticks of one generation's clock.
type clock float64

func newClock(freq uint64) clock {
	if freq == 0 {
		return 0
	}
	return clock(1e9 / float64(freq))
}

func (c clock) time(ticks uint64) trace.Time { return trace.Time(float64(ticks) * float64(c)) }

// Summarize reads the trace in f with the decoder alone, a generation
// per core, and summarises each generation. It returns the summaries of
// the complete generations before any damage, and the damage.
func Summarize(f *os.File) ([]GenSummary, error) {
	dr, err := decode.NewReader(f)
	if err != nil {
		return nil, err
	}
	dr.SetDetail(decode.Frames)
	var mu sync.Mutex
	var out []GenSummary
	err = dr.Parallel(0, func(gr *decode.GenReader, g *decode.Generation) error {
		s, err := summarize(gr, g)
		if err != nil {
			return err
		}
		mu.Lock()
		out = append(out, s)
		mu.Unlock()
		return nil
	})
	// N.B. Parallel calls fn in any order; generations are numbered in
	// the order they are written.
	slices.SortFunc(out, func(a, b GenSummary) int { return cmp.Compare(a.Offset, b.Offset) })
	if err == io.EOF {
		err = nil
	}
	return out, err
}

// mState is what a thread does, as its batches tell in order.
type mState struct {
	p       int64 // the P it holds, -1 for none
	running bool  // a goroutine of its runs on the P
	since   trace.Time
	stw     trace.Time // when the world it stopped stopped, 0 if not
}

// The status values of ProcStatus and GoStatus events.
const (
	procRunning = 1
	goRunning   = 2
)

// summarize reads one generation's events, thread by thread.
func summarize(gr *decode.GenReader, g *decode.Generation) (GenSummary, error) {
	s := GenSummary{Num: g.Num, Offset: g.Offset, End: g.End, Busy: make(map[trace.ProcID][]trace.Time)}
	clk := newClock(g.Frequency)
	// 1. The time span the batches begin in sizes the buckets; events
	// after the last batch's start add buckets.
	var lo, hi uint64
	for i := range g.Batches {
		b := &g.Batches[i]
		if b.Header != format.EvEventBatch {
			continue
		}
		if lo == 0 || b.Time < lo {
			lo = b.Time
		}
		hi = max(hi, b.Time)
	}
	s.Start = clk.time(lo)
	s.Width = max((clk.time(hi)-s.Start)/summaryBuckets, trace.Time(time.Microsecond))
	var last uint64
	// The collector's events come from any thread: gc_seq orders them.
	type gcEvent struct {
		seq   uint64
		t     trace.Time
		begin bool
	}
	var gcs []gcEvent
	ms := make(map[uint64]*mState)
	// 2. Every event, each thread's batches in order.
	for i := range g.Batches {
		b := &g.Batches[i]
		if b.Header != format.EvEventBatch {
			continue
		}
		m := ms[b.M]
		if m == nil {
			m = &mState{p: -1}
			ms[b.M] = m
		}
		stop := func(t trace.Time) {
			if m.running && m.p >= 0 {
				s.addBusy(trace.ProcID(m.p), m.since, t)
			}
			m.running = false
		}
		err := gr.EachEvent(g, i, func(ev *decode.Event) error {
			last = max(last, ev.Time)
			arg := func(k int) uint64 {
				if k < len(ev.Args) {
					return ev.Args[k]
				}
				return 0
			}
			switch ev.Type {
			case format.EvProcStart:
				stop(clk.time(ev.Time))
				m.p = int64(arg(1))
			case format.EvProcStatus:
				if arg(2) == procRunning && b.M != format.NoThread {
					m.p = int64(arg(1))
				}
			case format.EvProcStop:
				stop(clk.time(ev.Time))
				m.p = -1
			case format.EvGoStart, format.EvGoSyscallEnd:
				if !m.running {
					m.running, m.since = true, clk.time(ev.Time)
				}
			case format.EvGoStatus, format.EvGoStatusStack:
				if arg(3) == goRunning && arg(2) == b.M && !m.running {
					m.running, m.since = true, clk.time(ev.Time)
				}
			case format.EvGoStop, format.EvGoBlock, format.EvGoDestroy, format.EvGoSyscallBegin:
				stop(clk.time(ev.Time))
			case format.EvGoSyscallEndBlocked:
				stop(clk.time(ev.Time))
				m.p = -1
			case format.EvGCActive:
				gcs = append(gcs, gcEvent{arg(1), -1, true})
			case format.EvGCBegin:
				gcs = append(gcs, gcEvent{arg(1), clk.time(ev.Time), true})
			case format.EvGCEnd:
				gcs = append(gcs, gcEvent{arg(1), clk.time(ev.Time), false})
			case format.EvSTWBegin:
				m.stw = clk.time(ev.Time)
			case format.EvSTWEnd:
				from := s.Start
				if m.stw != 0 {
					from = m.stw
				}
				s.STW = append(s.STW, Range{Name: stwPrefix, Start: from, End: clk.time(ev.Time)})
				m.stw = 0
			case format.EvHeapAlloc:
				s.Heap = append(s.Heap, Sample{T: clk.time(ev.Time), Value: arg(1)})
			}
			return nil
		})
		if err != nil {
			return s, err
		}
	}
	// 3. What the generation ended in.
	s.Last = clk.time(last)
	for _, m := range ms {
		if m.running && m.p >= 0 {
			s.addBusy(trace.ProcID(m.p), m.since, s.Last)
		}
		if m.stw != 0 {
			s.STW = append(s.STW, Range{Name: stwPrefix, Start: m.stw, End: s.Last})
		}
	}
	slices.SortFunc(gcs, func(a, b gcEvent) int { return cmp.Compare(a.seq, b.seq) })
	open, since := false, s.Start
	for _, e := range gcs {
		switch {
		case e.begin:
			open, since = true, max(e.t, s.Start)
		default:
			s.GC = append(s.GC, Range{Name: gcMark, Start: since, End: e.t})
			open, since = false, s.Start
		}
	}
	if open {
		s.GC = append(s.GC, Range{Name: gcMark, Start: since, End: s.Last})
	}
	byStart := func(a, b Range) int { return cmp.Compare(a.Start, b.Start) }
	slices.SortFunc(s.GC, byStart)
	slices.SortFunc(s.STW, byStart)
	slices.SortStableFunc(s.Heap, func(a, b Sample) int { return cmp.Compare(a.T, b.T) })
	// Every P's buckets reach as far.
	n := int((s.Last-s.Start)/s.Width) + 1
	for p, b := range s.Busy {
		if len(b) < n {
			s.Busy[p] = append(b, make([]trace.Time, n-len(b))...)
		}
	}
	return s, nil
}

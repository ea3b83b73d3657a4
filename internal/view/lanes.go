package view

import (
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// class is what one sample of a lane shows: a goroutine state (a wait by
// its category), a P's goroutine group, a collector phase.
type class uint8

const (
	clNone class = iota
	clRunning
	clRunnable
	clSyscall
	clBlocked  // + the timeline.Category
	numClasses = clBlocked + class(timeline.NumCategories)
)

// classOf is the class of a goroutine interval.
func classOf(iv *Span) class {
	switch iv.State {
	case trace.GoRunning:
		return clRunning
	case trace.GoRunnable:
		return clRunnable
	case trace.GoSyscall:
		return clSyscall
	case trace.GoWaiting:
		return clBlocked + class(iv.Category)
	}
	return clNone
}

// className is how the legend and the status line name c.
func className(c class) string {
	switch c {
	case clRunning:
		return "running"
	case clRunnable:
		return "runnable"
	case clSyscall:
		return "syscall"
	case clNone:
		return "not alive"
	}
	return "blocked: " + timeline.Category(c-clBlocked).String()
}

// grid maps n samples onto the window [from, to): sample i covers
// [at(i), at(i+1)).
type grid struct {
	from, to trace.Time
	n        int
}

func (g grid) at(i int) trace.Time {
	return g.from + trace.Time(float64(g.to-g.from)*float64(i)/float64(g.n))
}

// index is the sample holding t, clamped to the grid.
func (g grid) index(t trace.Time) int {
	if t <= g.from {
		return 0
	}
	i := int(float64(t-g.from) * float64(g.n) / float64(g.to-g.from))
	return min(i, g.n-1)
}

// spread adds, for each sample, how much of [start, end) falls in it to
// acc[sample][c].
func (g grid) spread(start, end trace.Time, c class, acc [][numClasses]trace.Time) {
	start, end = max(start, g.from), min(end, g.to)
	if start >= end {
		return
	}
	for i := g.index(start); i < g.n; i++ {
		lo, hi := max(start, g.at(i)), min(end, g.at(i+1))
		if lo >= end {
			break
		}
		if hi > lo {
			acc[i][c] += hi - lo
		}
	}
}

// first is the index of the first interval of ivs that ends after t.
func first(ivs []Span, t trace.Time) int {
	lo, hi := 0, len(ivs)
	for lo < hi {
		m := (lo + hi) / 2
		if ivs[m].End <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// goroutineTime adds the time of g's intervals in each sample to acc.
func (gr grid) goroutineTime(g *Goroutine, acc [][numClasses]trace.Time) {
	for i := first(g.Intervals, gr.from); i < len(g.Intervals); i++ {
		iv := &g.Intervals[i]
		if iv.Start >= gr.to {
			break
		}
		gr.spread(iv.Start, iv.End, classOf(iv), acc)
	}
}

// dominant is the class with the most time in each sample, clNone for a
// sample with none.
func dominant(acc [][numClasses]trace.Time) []class {
	out := make([]class, len(acc))
	for i := range acc {
		var best trace.Time
		for c := clRunning; c < numClasses; c++ {
			if acc[i][c] > best {
				best, out[i] = acc[i][c], c
			}
		}
	}
	return out
}

// goroutineSamples is the lane of goroutines gs on the grid: each
// sample's state is the one they spent most time in.
func (gr grid) goroutineSamples(gs []*Goroutine) []class {
	acc := make([][numClasses]trace.Time, gr.n)
	for _, g := range gs {
		gr.goroutineTime(g, acc)
	}
	return dominant(acc)
}

// procSamples is, for each sample, the goroutine that ran longest on p
// in it, nil for none.
func (gr grid) procSamples(p *Proc) []*Goroutine {
	out := make([]*Goroutine, gr.n)
	best := make([]trace.Time, gr.n)
	lo, hi := 0, len(p.Runs)
	for lo < hi { // the first run ending after the window's start
		m := (lo + hi) / 2
		if p.Runs[m].End <= gr.from {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for _, r := range p.Runs[lo:] {
		if r.Start >= gr.to {
			break
		}
		start, end := max(r.Start, gr.from), min(r.End, gr.to)
		for i := gr.index(start); i < gr.n; i++ {
			a, b := max(start, gr.at(i)), min(end, gr.at(i+1))
			if a >= end {
				break
			}
			if b-a > best[i] {
				best[i], out[i] = b-a, r.G
			}
		}
	}
	return out
}

// gcSamples is the GC band on the grid: clRunning where the world was
// stopped for most of a sample, clRunnable where the collector marked or
// stopped the world for less, clNone where it did neither. (The band
// draws these two classes in colours and glyphs of its own.)
func (gr grid) gcSamples(mark, stw []Range) []class {
	acc := make([][numClasses]trace.Time, gr.n)
	for _, r := range mark {
		gr.spread(r.Start, r.End, clRunnable, acc)
	}
	for _, r := range stw {
		gr.spread(r.Start, r.End, clRunning, acc)
	}
	out := make([]class, gr.n)
	for i := range acc {
		width := gr.at(i+1) - gr.at(i)
		switch {
		case 2*acc[i][clRunning] > width:
			out[i] = clRunning
		case acc[i][clRunning] > 0 || acc[i][clRunnable] > 0:
			out[i] = clRunnable
		}
	}
	return out
}

// heapSamples is the most heap in use during each sample: the value
// it began with or any written in it; 0 before the first.
func (gr grid) heapSamples(hs []Sample) []uint64 {
	out := make([]uint64, gr.n)
	j := 0
	var cur uint64
	for ; j < len(hs) && hs[j].T < gr.from; j++ {
		cur = hs[j].Value
	}
	for i := range out {
		end := gr.at(i + 1)
		peak := cur
		for ; j < len(hs) && hs[j].T < end; j++ {
			cur = hs[j].Value
			peak = max(peak, cur)
		}
		out[i] = peak
	}
	return out
}

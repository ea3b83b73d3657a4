package pprof

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/exp/trace"
)

// regionSpan is a region read with x/exp/trace: its name, goroutine and
// times from the first event.
type regionSpan struct {
	name       string
	g          trace.GoID
	start, end time.Duration
}

// regionSpans lists every region of a trace, pairing begins and ends on each
// goroutine.
func regionSpans(t *testing.T, file string) []regionSpan {
	t.Helper()
	evs := events(t, file)
	first := evs[0].Time()
	open := make(map[trace.GoID][]trace.Event)
	var out []regionSpan
	for _, ev := range evs {
		switch ev.Kind() {
		case trace.EventRegionBegin:
			open[ev.Goroutine()] = append(open[ev.Goroutine()], ev)
		case trace.EventRegionEnd:
			st := open[ev.Goroutine()]
			b := st[len(st)-1]
			open[ev.Goroutine()] = st[:len(st)-1]
			out = append(out, regionSpan{b.Region().Type, ev.Goroutine(), time.Duration(b.Time() - first), time.Duration(ev.Time() - first)})
		}
	}
	return out
}

// TestGoroutineFilter: filtering by each root function in turn counts every
// goroutine exactly once, so the filtered totals add up to the whole.
func TestGoroutineFilter(t *testing.T) {
	f, err := os.Open(annotated)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := summarize(context.Background(), f, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	names := make(map[string]bool)
	for _, g := range sum.gs {
		if g.name == "" {
			t.Fatalf("a goroutine with no root function: %+v", g)
		}
		names[g.name] = true
	}
	if len(names) < 5 {
		t.Fatalf("%d root functions, want several: %v", len(names), names)
	}
	for _, typ := range []Type{Sched, Block, Syscall, CPU} {
		all := build(t, annotated, typ, Filter{})
		var n, d int64
		for name := range names {
			p := build(t, annotated, typ, Filter{Goroutine: name})
			n += total(p, 0)
			d += total(p, 1)
		}
		if n != total(all, 0) || d != total(all, 1) || d == 0 {
			t.Errorf("%s: the goroutine filters add up to %d, %v; the whole is %d, %v", typ, n, time.Duration(d), total(all, 0), time.Duration(total(all, 1)))
		}
	}
	// The channel workers are the only goroutines that run item regions.
	p := build(t, annotated, Region, Filter{Goroutine: "main.channels.func1"})
	want := regionTimes(t, annotated)
	if got := sumWhere(p, "region", "item"); got != want["item"] || total(p, 1) != got {
		t.Errorf("regions of main.channels.func1: item %v of %v, want only item, %v", time.Duration(got), time.Duration(total(p, 1)), time.Duration(want["item"]))
	}
}

// TestRegionAndTaskFilter: a region filter keeps exactly the time inside
// those regions, a task filter the time inside its tasks' regions.
func TestRegionAndTaskFilter(t *testing.T) {
	want := regionTimes(t, annotated)
	for _, name := range []string{"compute", "channels", "locks", "network", "files", "alloc", "item"} {
		p := build(t, annotated, Region, Filter{Region: name})
		if got := sumWhere(p, "region", name); got != want[name] || total(p, 1) != got {
			t.Errorf("--region %s: %v of it in %v, want all of %v", name, time.Duration(got), time.Duration(total(p, 1)), time.Duration(want[name]))
		}
	}
	// Every region but idle belongs to the job task (the workers open their
	// item regions with the job's context); the worker tasks hold none.
	job := build(t, annotated, Region, Filter{Task: "job"})
	for name, d := range want {
		got := sumWhere(job, "region", name)
		if name == "idle" && got != 0 || name != "idle" && got != d {
			t.Errorf("--task job: region %s %v, want %v", name, time.Duration(got), time.Duration(d))
		}
	}
	f, err := os.Open(annotated)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = Build(context.Background(), f, Block, Filter{Task: "worker"})
	if want := `nothing matches: no region of a task "worker" in the trace`; !errors.Is(err, ErrNoMatch) || err.Error() != want {
		t.Errorf("--task worker: err %v, want %q (worker tasks hold no regions)", err, want)
	}

	// A region filter counts a goroutine's time inside its regions: the
	// same as filtering by that goroutine and the region's time window.
	var locks regionSpan
	for _, r := range regionSpans(t, annotated) {
		if r.name == "locks" {
			locks = r
		}
	}
	for _, typ := range []Type{Block, Sched, CPU} {
		byRegion := build(t, annotated, typ, Filter{Region: "locks"})
		byWindow := build(t, annotated, typ, Filter{Goroutine: "main.main", From: locks.start, To: locks.end})
		if total(byRegion, 1) != total(byWindow, 1) {
			t.Errorf("%s: --region locks %v, the main goroutine during it %v", typ, time.Duration(total(byRegion, 1)), time.Duration(total(byWindow, 1)))
		}
	}
	if total(build(t, annotated, Block, Filter{Region: "locks"}), 1) == 0 {
		t.Error("no blocking in the locks region")
	}
}

// TestTimeFilter: two windows that meet count what the whole does, and a
// window counts exactly the part of each region inside it.
func TestTimeFilter(t *testing.T) {
	spans := regionSpans(t, annotated)
	full := build(t, annotated, Region, Filter{})
	for _, cut := range []time.Duration{50 * time.Millisecond, 1100 * time.Millisecond, 2 * time.Second} {
		for _, typ := range []Type{Sched, Block, Net, Syscall, Region, Task} {
			all := total(build(t, annotated, typ, Filter{}), 1)
			before := total(build(t, annotated, typ, Filter{To: cut}), 1)
			after := total(build(t, annotated, typ, Filter{From: cut}), 1)
			if before+after != all {
				t.Errorf("%s: 0-%v %v + %v- %v != %v", typ, cut, time.Duration(before), cut, time.Duration(after), time.Duration(all))
			}
		}
		var want int64
		for _, r := range spans {
			if r.end > cut {
				want += int64(r.end - max(r.start, cut))
			}
		}
		if got := total(build(t, annotated, Region, Filter{From: cut}), 1); got != want || got >= total(full, 1) {
			t.Errorf("regions from %v: %v, want %v", cut, time.Duration(got), time.Duration(want))
		}
	}
}

// TestGoroutineFilterInParts: a profile of goroutine waits filtered by
// goroutine alone, read a generation per core, is the one read in order,
// stack for stack, and so is the message for a name no goroutine has: on
// a trace of every kind of wait, on traces of many goroutines and of
// overlapping generations, and on one cut short (read in order then), and
// for a goroutine whose intervals come before its name (read in order
// then too).
func TestGoroutineFilterInParts(t *testing.T) {
	flight, err := os.ReadFile("../../testdata/traces/flight.trace")
	if err != nil {
		t.Fatal(err)
	}
	ins := map[string][]byte{"flight.trace cut short": flight[:len(flight)*2/3]}
	names := []string{"annotated.trace", "flight.trace", "goroutines10k.trace", "pull.trace"}
	if testing.Short() {
		// N.B. Under the race detector (make test runs it -short), the
		// parts' concurrency is the same on fewer and smaller traces:
		// all of them took it half a minute.
		names = []string{"annotated.trace", "pull.trace"}
	}
	for _, name := range names {
		data, err := os.ReadFile("../../testdata/traces/" + name)
		if err != nil {
			t.Fatal(err)
		}
		ins[name] = data
	}
	for name, data := range ins {
		whole := data
		if name == "flight.trace cut short" {
			whole = flight // N.B. the names of the whole trace
		}
		sum, err := summarize(context.Background(), bytes.NewReader(whole), Filter{})
		if err != nil {
			t.Fatal(err)
		}
		count := make(map[string]int)
		for _, g := range sum.gs {
			count[g.name]++
		}
		// The commonest start function and the rarest, and one no
		// goroutine has.
		names := slices.Sorted(maps.Keys(count))
		slices.SortStableFunc(names, func(a, b string) int { return count[b] - count[a] })
		picks := []string{names[0], names[len(names)-1], "main.nosuchfunc"}
		if name == "pull.trace" {
			// N.B. Its intervals are handed on before it is named: it
			// switches to an iter.Pull coroutine hundreds of times first.
			picks = append(picks, "main.main")
		}
		types := []Type{Sched, Block}
		if name == "annotated.trace" {
			types = append(types, Net, Syscall)
		}
		if testing.Short() {
			types = types[:1]
		}
		for _, typ := range types {
			for _, g := range picks {
				f := Filter{Goroutine: g}
				if !InParts(typ, f) {
					t.Fatalf("%s, %s: not read in parts", typ, g)
				}
				parts, perr := Build(context.Background(), bytes.NewReader(data), typ, f)
				ordered, oerr := Build(context.Background(), struct{ io.ReadSeeker }{bytes.NewReader(data)}, typ, f)
				if fmt.Sprint(perr) != fmt.Sprint(oerr) {
					t.Errorf("%s, %s, %s: in parts %v, in order %v", name, typ, g, perr, oerr)
					continue
				}
				if parts == nil || ordered == nil {
					if parts != ordered {
						t.Errorf("%s, %s, %s: a profile only one way", name, typ, g)
					}
					continue
				}
				if p, o := byStack(parts), byStack(ordered); !maps.Equal(p, o) || parts.DurationNanos != ordered.DurationNanos {
					t.Errorf("%s, %s, %s: in parts %v, in order %v", name, typ, g, p, o)
				}
			}
		}
	}
}

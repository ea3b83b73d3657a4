package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// bruteMMU evaluates every window that starts or ends at a step.
func bruteMMU(pts []utilPoint, w int64) float64 {
	first, last := pts[0].t, pts[len(pts)-1].t
	if w > last-first {
		w = last - first
	}
	integral := func(x int64) float64 { // from first to x
		var s float64
		for i := 0; i+1 < len(pts); i++ {
			a, b := pts[i].t, pts[i+1].t
			if x <= a {
				break
			}
			s += pts[i].util * float64(min(b, x)-a)
		}
		return s
	}
	best := math.Inf(1)
	try := func(s int64) {
		if s < first || s+w > last {
			return
		}
		best = min(best, (integral(s+w)-integral(s))/float64(w))
	}
	for _, p := range pts {
		try(p.t)
		try(p.t - w)
	}
	return best
}

func streamMMU(pts []utilPoint, w int64) float64 {
	mw := mmuWindow{w: w, mmu: 1}
	for _, p := range pts {
		mw.add(p)
	}
	return mw.result()
}

func TestMMUWindowByHand(t *testing.T) {
	// Full utilization, a 1ms hole at 10ms, full again, end at 20ms.
	pts := []utilPoint{{0, 1}, {10e6, 0}, {11e6, 1}, {20e6, 0}}
	for _, c := range []struct {
		w    int64
		want float64
	}{
		{1e6, 0},           // a window inside the hole
		{2e6, 0.5},         // half of it in the hole
		{10e6, 0.9},        // the hole and 9ms around it
		{100e6, 19.0 / 20}, // cut to the 20ms trace: its mean
	} {
		if got := streamMMU(pts, c.w); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("MMU(%dns) = %v, want %v", c.w, got, c.want)
		}
	}
}

func TestMMUWindowMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		n := 2 + r.IntN(60)
		pts := make([]utilPoint, n)
		tm := int64(0)
		for j := range pts {
			pts[j] = utilPoint{tm, float64(r.IntN(5)) / 4}
			tm += 1 + r.Int64N(3000)
		}
		for _, w := range []int64{1, 100, 1000, 5000, 50000, 1 << 40} {
			got, want := streamMMU(pts, w), bruteMMU(pts, w)
			if math.Abs(got-want) > 1e-9 {
				t.Fatalf("case %d, window %d: streamed %v, brute force %v", i, w, got, want)
			}
		}
	}
}

// TestMMUFromTrace checks the whole path: a 2ms GC stop-the-world pause in
// a 20ms trace with two Ps.
func TestMMUFromTrace(t *testing.T) {
	e := format.NewEncoder(format.Go122)
	e.Batch(1, 0, 0, func(b *format.Encoder) {
		b.Event(format.EvProcStatus, []uint64{1, 0, 1}, nil)
		b.Event(format.EvGoStatus, []uint64{1, 1, 0, 2}, nil)
		b.Event(format.EvProcsChange, []uint64{8, 2, 0}, nil) // t=10µs
		b.Event(format.EvSTWBegin, []uint64{990, 1, 0}, nil)  // t=1ms
		b.Event(format.EvSTWEnd, []uint64{2000}, nil)         // t=3ms
		b.Event(format.EvProcStop, []uint64{17000}, nil)      // t=20ms
	})
	data := finishTrace(t, e, 1e6, "GC mark termination") // one tick is 1µs
	m, err := computeBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if m.GC.STW.Count != 1 || m.GC.STW.Total != 2e6 {
		t.Fatalf("stw = %+v, want one 2ms pause", m.GC.STW)
	}
	// The utilization function runs from the GOMAXPROCS event (10µs) to
	// the closing sync (20ms + 1ns).
	span := 20e6 + 1 - 10e3
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"1ms", m.GC.MMU.W1ms, 0},
		{"10ms", m.GC.MMU.W10ms, 0.8},
		{"100ms", m.GC.MMU.W100ms, (span - 2e6) / span},
		{"1s", m.GC.MMU.W1s, (span - 2e6) / span},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("MMU %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestMMUMarkWorker runs a dedicated mark worker twice for 1ms on the only
// P of a 20ms trace. Each run takes the P from the program once: the
// worst 10ms window holds both runs.
func TestMMUMarkWorker(t *testing.T) {
	e := format.NewEncoder(format.Go122)
	e.Batch(1, 0, 0, func(b *format.Encoder) {
		b.Event(format.EvProcStatus, []uint64{1, 0, 1}, nil)
		b.Event(format.EvGoStatus, []uint64{0, 1, 0, 2}, nil)          // g1 running
		b.Event(format.EvGoStatus, []uint64{0, 2, ^uint64(0), 4}, nil) // g2 waiting
		b.Event(format.EvProcsChange, []uint64{9, 1, 0}, nil)          // t=10µs
		// First run of the worker: 1ms to 2ms.
		b.Event(format.EvGoUnblock, []uint64{989, 2, 1, 0}, nil) // t=999
		b.Event(format.EvGoBlock, []uint64{1, 1, 0}, nil)        // t=1000
		b.Event(format.EvGoStart, []uint64{0, 2, 2}, nil)
		b.Event(format.EvGoLabel, []uint64{0, 2}, nil)
		b.Event(format.EvGoUnblock, []uint64{999, 1, 1, 0}, nil) // t=1999
		b.Event(format.EvGoBlock, []uint64{1, 1, 0}, nil)        // t=2000
		b.Event(format.EvGoStart, []uint64{0, 1, 2}, nil)
		// Second run: 5ms to 6ms.
		b.Event(format.EvGoUnblock, []uint64{2999, 2, 3, 0}, nil) // t=4999
		b.Event(format.EvGoBlock, []uint64{1, 1, 0}, nil)         // t=5000
		b.Event(format.EvGoStart, []uint64{0, 2, 4}, nil)
		b.Event(format.EvGoLabel, []uint64{0, 2}, nil)
		b.Event(format.EvGoUnblock, []uint64{999, 1, 3, 0}, nil) // t=5999
		b.Event(format.EvGoBlock, []uint64{1, 1, 0}, nil)        // t=6000
		b.Event(format.EvGoStart, []uint64{0, 1, 4}, nil)
		b.Event(format.EvGoBlock, []uint64{14000, 1, 0}, nil) // t=20ms
		b.Event(format.EvProcStop, []uint64{0}, nil)
	})
	data := finishTrace(t, e, 1e6, "chan receive", "GC (dedicated)") // one tick is 1µs
	m, err := computeBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	span := 20e6 + 1 - 10e3
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"1ms", m.GC.MMU.W1ms, 0},
		{"10ms", m.GC.MMU.W10ms, 0.8},
		{"1s", m.GC.MMU.W1s, (span - 2e6) / span},
	} {
		// golang.org/x/exp/trace may move an event by a nanosecond or
		// two to keep each thread's events in order.
		if math.Abs(c.got-c.want) > 1e-5 {
			t.Errorf("MMU %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

package reftest

import "github.com/gotrace-cli/gotrace/internal/format"

// LifeTrace is a one-generation Go 1.22 trace with known answers. One
// tick is one nanosecond; golang.org/x/exp/trace places the status events
// just after the opening sync, and the closing sync one tick after the
// last event.
//
//	t=1    the trace begins (its opening sync)
//	t=3    g1 running, since the trace began: it existed before
//	t=10   g1 creates g2
//	t=20   g1 blocks on a channel receive
//	t=50   g2 starts: it waited 40ns from creation
//	t=100  g2 unblocks g1: g1 was blocked 80ns
//	t=200  g2 exits after running 150ns
//	t=300  g1 runs: it waited 200ns for a P
//	t=400  g1 is preempted
//	t=450  g1 runs again after 50ns
//	t=500  g1 blocks on a channel receive for good
//	t=1000 the P stops
//	t=1001 the trace ends
func LifeTrace() ([]byte, error) {
	e := format.NewEncoder(format.Go122)
	e.Batch(1, 0, 0, func(b *format.Encoder) {
		b.Event(format.EvProcStatus, []uint64{1, 0, 1}, nil)
		b.Event(format.EvGoStatus, []uint64{1, 1, 0, 2}, nil)
		b.Event(format.EvGoCreate, []uint64{8, 2, 0, 0}, nil)
		b.Event(format.EvGoBlock, []uint64{10, 1, 0}, nil)
		b.Event(format.EvGoStart, []uint64{30, 2, 1}, nil)
		b.Event(format.EvGoUnblock, []uint64{50, 1, 1, 0}, nil)
		b.Event(format.EvGoDestroy, []uint64{100}, nil)
		b.Event(format.EvGoStart, []uint64{100, 1, 2}, nil)
		b.Event(format.EvGoStop, []uint64{100, 2, 0}, nil)
		b.Event(format.EvGoStart, []uint64{50, 1, 3}, nil)
		b.Event(format.EvGoBlock, []uint64{50, 1, 0}, nil)
		b.Event(format.EvProcStop, []uint64{500}, nil)
	})
	Tables(e, 1e9, "chan receive", "preempted")
	return e.Bytes()
}

// Tables appends the tables every generation needs: the frequency, an
// empty stack table, and strs as strings 1, 2, ...
func Tables(e *format.Encoder, freq uint64, strs ...string) {
	e.Batch(1, format.NoThread, 0, func(b *format.Encoder) {
		b.Event(format.EvFrequency, []uint64{freq}, nil)
	})
	e.Batch(1, format.NoThread, 0, func(b *format.Encoder) {
		b.Event(format.EvStacks, nil, nil)
	})
	e.Batch(1, format.NoThread, 0, func(b *format.Encoder) {
		b.Event(format.EvStrings, nil, nil)
		for i, str := range strs {
			b.Event(format.EvString, []uint64{uint64(i + 1)}, []byte(str))
		}
	})
}

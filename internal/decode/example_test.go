package decode_test

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// A reader hands out one generation at a time; string and stack arguments
// resolve through the generation's tables.
func ExampleReader() {
	e := format.NewEncoder(format.Go123)
	e.Batch(1, format.NoThread, 100, func(b *format.Encoder) {
		b.Event(format.EvFrequency, []uint64{1e9}, nil)
	})
	e.Batch(1, format.NoThread, 101, func(b *format.Encoder) {
		b.Event(format.EvStrings, nil, nil)
		b.Event(format.EvString, []uint64{1}, []byte("chan receive"))
		b.Event(format.EvString, []uint64{2}, []byte("main.main"))
	})
	e.Batch(1, format.NoThread, 102, func(b *format.Encoder) {
		b.Event(format.EvStacks, nil, nil)
		b.Event(format.EvStack, []uint64{7, 1, 0x401000, 2, 0, 12}, nil)
	})
	e.Batch(1, 3, 200, func(b *format.Encoder) {
		b.Event(format.EvGoBlock, []uint64{50, 1, 7}, nil) // dt, reason, stack
	})
	data, _ := e.Bytes()

	r, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		g, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("gen %d: %d batches, %d events, %v\n", g.Num, len(g.Batches), g.Events, g.Duration())
		ev := &g.Batches[3].Events[0]
		id, _ := g.Arg(ev, "reason_string")
		reason, _ := g.ArgText(ev, 1)
		stack, _ := g.ArgText(ev, 2)
		fmt.Printf("%s at %d ticks: reason %d %q, stack %s\n", r.Version().EventName(ev.Type), ev.Time, id, reason, stack)
	}
	// Output:
	// gen 1: 4 batches, 7 events, 150ns
	// GoBlock at 250 ticks: reason 1 "chan receive", stack main.main
}

// Parallel decodes generations on every core at once; the function runs
// concurrently for different generations, so it keeps its results per
// generation.
func ExampleReader_Parallel() {
	e := format.NewEncoder(format.Go123)
	for gen := uint64(1); gen <= 3; gen++ {
		e.Batch(gen, format.NoThread, 100*gen, func(b *format.Encoder) {
			b.Event(format.EvFrequency, []uint64{1e9}, nil)
		})
		e.Batch(gen, 3, 100*gen+1, func(b *format.Encoder) {
			for range gen {
				b.Event(format.EvGoBlock, []uint64{10, 0, 0}, nil) // dt, reason, stack
			}
		})
	}
	data, _ := e.Bytes()

	r, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		fmt.Println(err)
		return
	}
	r.SetDetail(decode.Frames) // the events are read below, one at a time
	var mu sync.Mutex
	blocks := map[uint64]int{}
	err = r.Parallel(0, func(gr *decode.GenReader, g *decode.Generation) error {
		n := 0
		for i := range g.Batches {
			err := gr.EachEvent(g, i, func(ev *decode.Event) error {
				if ev.Type == format.EvGoBlock {
					n++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		mu.Lock()
		blocks[g.Num] = n
		mu.Unlock()
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(blocks)
	// Output:
	// map[1:1 2:2 3:3]
}

func ExampleTicksToNanos() {
	fmt.Println(decode.TicksToNanos(15625000, 15625000)) // one second of 64ns ticks
	fmt.Println(decode.TicksToNanos(1<<63, 1))           // saturates
	// Output:
	// 1000000000
	// 9223372036854775807
}

// Command demo writes a small execution trace with a little of everything
// a trace holds: goroutines passing work over channels, a user task with
// regions and a log message, garbage collections, a timer sleep that spans
// a generation boundary, and CPU samples.
//
//	go run ./testdata/progs/demo testdata/traces/demo.trace
//
// Without an argument it only does the work, for a tracer outside it:
//
//	gotrace record --cpu ./testdata/progs/demo
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	switch len(os.Args) {
	case 1:
		work()
		return
	case 2:
	default:
		fmt.Fprintln(os.Stderr, "usage: demo [OUT.trace]")
		os.Exit(2)
	}
	if err := record(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func record(file string) error {
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	// CPU samples reach the execution trace only while a CPU profile runs.
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		return err
	}
	if err := trace.Start(out); err != nil {
		return err
	}
	work()
	trace.Stop()
	pprof.StopCPUProfile()
	return out.Close()
}

var sink [][]byte

func work() {
	ctx, task := trace.NewTask(context.Background(), "demo")
	defer task.End()

	trace.WithRegion(ctx, "pipeline", func() { pipeline(ctx) })
	trace.WithRegion(ctx, "garbage", func() {
		for i := range 200 {
			sink = append(sink, make([]byte, 32<<10))
			if i%25 == 24 {
				sink = nil
			}
		}
		runtime.GC()
	})
	// The runtime starts a new generation about once a second: sleeping
	// past that makes the trace hold more than one.
	trace.WithRegion(ctx, "sleep", func() { time.Sleep(1100 * time.Millisecond) })
	trace.WithRegion(ctx, "spin", func() { spin(150 * time.Millisecond) })
	trace.Log(ctx, "phase", "done")
}

// pipeline sends numbers through a stage of workers and collects them.
func pipeline(ctx context.Context) {
	in := make(chan int)
	out := make(chan int)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				trace.WithRegion(ctx, "square", func() {
					spin(200 * time.Microsecond)
					out <- v * v
				})
			}
		}()
	}
	go func() {
		for i := range 30 {
			in <- i
		}
		close(in)
		wg.Wait()
		close(out)
	}()
	sum := 0
	for v := range out {
		sum += v
	}
	trace.Logf(ctx, "sum", "%d", sum)
}

// spin burns CPU so the profiler takes samples.
func spin(d time.Duration) {
	x := 0
	for start := time.Now(); time.Since(start) < d; {
		for i := range 10000 {
			x += i * i
		}
	}
	if x == 42 {
		fmt.Println()
	}
}

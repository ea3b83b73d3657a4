// Command annotated writes a small execution trace that exercises what the
// trace-to-profile and trace-to-timeline conversions read: user tasks and
// nested regions, channel, mutex, select and cond blocking, network waits,
// system calls, garbage collections and CPU samples.
//
//	go run -trimpath ./testdata/progs/annotated testdata/traces/annotated.trace
//
// -trimpath keeps the machine's paths out of the stacks in the trace.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: annotated OUT.trace")
		os.Exit(2)
	}
	out, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// CPU samples reach the execution trace only while a CPU profile runs.
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := trace.Start(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	work()
	trace.Stop()
	pprof.StopCPUProfile()
	if err := out.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var sink [][]byte

func work() {
	ctx, task := trace.NewTask(context.Background(), "job")
	defer task.End()

	trace.WithRegion(ctx, "compute", func() { spin(60 * time.Millisecond) })
	trace.WithRegion(ctx, "channels", func() { channels(ctx) })
	// The runtime starts a new generation about every second: pausing makes
	// the trace span several, so it can be split.
	idle()
	trace.WithRegion(ctx, "locks", locks)
	idle()
	trace.WithRegion(ctx, "network", network)
	trace.WithRegion(ctx, "files", files)
	trace.WithRegion(ctx, "alloc", func() {
		for i := range 400 {
			sink = append(sink, make([]byte, 64<<10))
			if i%20 == 19 {
				sink = nil // garbage: the allocation pace triggers collections
			}
		}
	})
	trace.Log(ctx, "phase", "done")
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

func channels(ctx context.Context) {
	ch := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, t := trace.NewTask(ctx, "worker")
			defer t.End()
			for v := range ch {
				trace.WithRegion(ctx, "item", func() { spin(time.Duration(v+w) * 100 * time.Microsecond) })
			}
		}()
	}
	for i := range 40 {
		ch <- i % 5
	}
	close(ch)
	go func() {
		time.Sleep(2 * time.Millisecond)
		close(done)
	}()
	tick := time.NewTicker(500 * time.Microsecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
		}
	}
	wg.Wait()
}

func locks() {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	ready := false
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			for !ready {
				cond.Wait()
			}
			mu.Unlock()
			for range 10 {
				mu.Lock()
				spin(50 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Millisecond)
	mu.Lock()
	ready = true
	cond.Broadcast()
	mu.Unlock()
	wg.Wait()
}

func network() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 512)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			time.Sleep(200 * time.Microsecond)
			c.Write(buf[:n])
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	buf := make([]byte, 512)
	for range 10 {
		c.Write(buf)
		io.ReadFull(c, buf)
	}
}

func files() {
	f, err := os.CreateTemp("", "annotated")
	if err != nil {
		panic(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 32<<10)
	for range 20 {
		f.Write(block)
		f.Sync()
	}
}

func idle() {
	trace.WithRegion(context.Background(), "idle", func() { time.Sleep(1100 * time.Millisecond) })
}

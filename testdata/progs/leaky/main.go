// Command leaky writes a small execution trace for gotrace stats and check:
// goroutines left blocked on a channel (leak suspects), lock contention, a
// select, network waits over loopback TCP, sleeps, system calls, garbage
// collections, a task with regions and logs, and CPU samples.
//
//	go run -trimpath ./testdata/progs/leaky testdata/traces/leaky.trace
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: leaky OUT.trace")
		os.Exit(2)
	}
	if err := record(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "leaky:", err)
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
	err = work()
	trace.Stop()
	pprof.StopCPUProfile()
	return cmp.Or(err, out.Close())
}

var (
	sink    [][]byte
	forever = make(chan int) // nobody ever sends: receivers leak
)

func work() error {
	ctx, task := trace.NewTask(context.Background(), "request")
	defer task.End()

	// Leak suspects: three goroutines wait for a value that never comes.
	for range 3 {
		go func() { <-forever }()
	}

	var err error
	trace.WithRegion(ctx, "network", func() { err = network(ctx) })
	trace.WithRegion(ctx, "contention", func() { contention() })
	trace.WithRegion(ctx, "garbage", func() {
		for i := range 100 {
			sink = append(sink, make([]byte, 64<<10))
			if i%50 == 0 {
				sink = nil
			}
		}
		runtime.GC()
	})
	trace.WithRegion(ctx, "spin", func() { spin(20 * time.Millisecond) })
	trace.WithRegion(ctx, "sleep", func() { time.Sleep(20 * time.Millisecond) })
	trace.Log(ctx, "phase", "done")
	return err
}

// network echoes messages over loopback TCP, so goroutines wait on the
// network poller.
func network(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(c, c)
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	buf := make([]byte, 4)
	for i := range 20 {
		trace.Logf(ctx, "rpc", "call %d", i)
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	c.Close()
	return <-done
}

// contention makes goroutines queue for a lock and wait in a select.
func contention() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				mu.Lock()
				spin(200 * time.Microsecond)
				mu.Unlock()
				select {
				case <-tick:
				case <-time.After(100 * time.Microsecond):
				}
			}
		}()
	}
	wg.Wait()
}

func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

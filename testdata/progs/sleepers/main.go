// Command sleepers is a busy service in miniature: thousands of goroutines
// that mostly sleep, a few that keep the CPUs busy, and short-lived
// goroutines created all the time. At each generation switch the runtime
// writes the status of every goroutine that did not run, and on loaded CPUs
// that takes long, so the generations of its trace overlap in time.
//
//	go run ./testdata/progs/sleepers [-g 10000] [-d 2.5s] OUT.trace
//
// Without a file it only does the work, for a tracer outside it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("g", 10000, "sleeping goroutines")
	busy := flag.Int("busy", 4, "goroutines that keep the CPUs busy")
	d := flag.Duration("d", 2500*time.Millisecond, "how long to run")
	flag.Parse()
	if flag.NArg() > 1 {
		fmt.Fprintln(os.Stderr, "usage: sleepers [-g N] [-busy N] [-d D] [OUT.trace]")
		os.Exit(2)
	}
	if flag.NArg() == 1 {
		out, err := os.Create(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "sleepers:", err)
			os.Exit(1)
		}
		if err := trace.Start(out); err != nil {
			fmt.Fprintln(os.Stderr, "sleepers:", err)
			os.Exit(1)
		}
		defer func() {
			trace.Stop()
			if err := out.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "sleepers:", err)
				os.Exit(1)
			}
		}()
	}
	run(*n, *busy, *d)
}

var sink atomic.Uint64

func run(n, busy int, d time.Duration) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go sleeper(&wg, stop, time.Duration(5+i%200)*time.Millisecond)
	}
	for range busy {
		wg.Add(1)
		go spin(&wg, stop)
	}
	wg.Add(1)
	go spawner(&wg, stop)
	time.Sleep(d)
	close(stop)
	wg.Wait()
}

// sleeper wakes now and then, does a little work and sleeps again.
func sleeper(wg *sync.WaitGroup, stop <-chan struct{}, every time.Duration) {
	defer wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			sink.Add(work(200))
		}
	}
}

// spin keeps a CPU busy, yielding only when preempted.
func spin(wg *sync.WaitGroup, stop <-chan struct{}) {
	defer wg.Done()
	for {
		select {
		case <-stop:
			return
		default:
			sink.Add(work(100000))
		}
	}
}

// spawner starts short-lived request goroutines.
func spawner(wg *sync.WaitGroup, stop <-chan struct{}) {
	defer wg.Done()
	var reqs sync.WaitGroup
	defer reqs.Wait()
	for {
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Microsecond):
			reqs.Add(1)
			go func() {
				defer reqs.Done()
				sink.Add(work(1000))
			}()
		}
	}
}

func work(n int) uint64 {
	x := uint64(1)
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}

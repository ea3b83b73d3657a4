// Command requests serves requests the way many services do: each request
// is a runtime/trace task of type "request", whose handler hands the work
// to a pool of workers over a channel and waits for the answer on another.
// The workers hold one sync.Mutex while they compute, so they queue on it,
// and each writes its result to the null device before it answers. A
// request's time is mostly its worker waiting for the lock: gotrace why
// --slowest request shows that.
//
//	gotrace record --cpu --build-flags '-trimpath' -o testdata/traces/requests.trace ./testdata/progs/requests
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/trace"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// job is one request's work, and where its answer goes.
type job struct {
	ctx   context.Context
	seed  uint64
	reply chan uint64
}

var (
	mu    sync.Mutex // held while a worker computes
	total uint64
)

func main() {
	n := flag.Int("n", 48, "requests to serve")
	clients := flag.Int("clients", 10, "requests in flight at once")
	workers := flag.Int("workers", 8, "worker goroutines")
	flag.Parse()
	if *n < 1 || *clients < 1 || *workers < 1 {
		fmt.Fprintln(os.Stderr, "requests: -n, -clients and -workers must be positive")
		os.Exit(2)
	}
	jobs := make(chan job)
	var pool sync.WaitGroup
	for range *workers {
		pool.Add(1)
		go func() {
			defer pool.Done()
			worker(jobs)
		}()
	}
	next := make(chan int)
	var served sync.WaitGroup
	for range *clients {
		served.Add(1)
		go func() {
			defer served.Done()
			for i := range next {
				handle(context.Background(), jobs, i)
			}
		}()
	}
	for i := range *n {
		next <- i
	}
	close(next)
	served.Wait()
	close(jobs)
	pool.Wait()
	fmt.Println("served", *n, "requests; checksum", total)
}

// handle serves request i: it parses, queues the work and waits for it.
func handle(ctx context.Context, jobs chan<- job, i int) {
	ctx, task := trace.NewTask(ctx, "request")
	defer task.End()
	var seed uint64
	trace.WithRegion(ctx, "parse", func() {
		seed = parse(strconv.Itoa(i))
	})
	j := job{ctx: ctx, seed: seed, reply: make(chan uint64, 1)}
	jobs <- j
	sum := <-j.reply
	trace.Logf(ctx, "status", "200 %x", sum&0xff)
}

func parse(s string) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range []byte(s) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// worker takes jobs until there are none: it computes under the lock, then
// makes a system call (a write), then answers.
func worker(jobs <-chan job) {
	null, err := syscall.Open(os.DevNull, syscall.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "requests:", err)
		os.Exit(1)
	}
	defer syscall.Close(null)
	var buf [4096]byte
	for j := range jobs {
		var sum uint64
		trace.WithRegion(j.ctx, "compute", func() {
			mu.Lock()
			sum = compute(j.seed, 2*time.Millisecond)
			total += sum
			mu.Unlock()
		})
		if _, err := syscall.Write(null, buf[:]); err != nil {
			fmt.Fprintln(os.Stderr, "requests:", err)
			os.Exit(1)
		}
		j.reply <- sum
	}
}

// compute burns CPU for about d.
func compute(h uint64, d time.Duration) uint64 {
	for start := time.Now(); time.Since(start) < d; {
		for i := range 1000 {
			h = (h ^ uint64(i)) * 1099511628211
		}
	}
	return h
}

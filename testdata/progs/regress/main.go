// Command regress serves a fixed batch of requests, and can serve them
// with one regression injected, so that gotrace diff has a change to find:
//
//	-inject lock   store holds the shared lock while it computes the
//	               checksum, not only while it adds it: a lock held longer
//	               in the hot path
//	-inject alloc  encode allocates a fresh buffer on each pass of its
//	               loop instead of reusing one: an extra allocation in a loop
//	-inject leak   lookup stops waiting for the goroutine it starts, which
//	               stays blocked on its send: a goroutine leaked per request
//
// The work is the same count of requests whatever is injected, so the
// counts a trace holds (goroutines created, tasks, regions) stay the same.
//
//	gotrace record ./testdata/progs/regress -- -inject lock
package main

import (
	"context"
	"flag"
	"fmt"
	"iter"
	"os"
	"runtime/trace"
	"sync"
)

var inject string

// store is the state every request updates under one lock.
var store struct {
	mu  sync.Mutex
	sum uint64
	n   int
}

func main() {
	requests := flag.Int("requests", 600, "requests to serve")
	workers := flag.Int("workers", 4, "goroutines serving them")
	flag.StringVar(&inject, "inject", "", "the regression to inject: lock, alloc or leak")
	flag.Parse()
	switch inject {
	case "", "lock", "alloc", "leak":
	default:
		fmt.Fprintf(os.Stderr, "regress: -inject %q: want lock, alloc or leak\n", inject)
		os.Exit(2)
	}

	queue := make(chan int)
	wg := pool(*workers, queue, serve)
	for id := range *requests {
		queue <- id
	}
	close(queue)
	wg.Wait()
	fmt.Printf("%d requests, checksum %x\n", store.n, store.sum)
}

// pool starts n goroutines that each run work on what queue brings. It
// is generic, so its goroutines' start function carries a shape in its
// name, which differs between Go releases.
func pool[T any](n int, queue <-chan T, work func(T, *[]byte)) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 4096)
			for item := range queue {
				work(item, &buf)
			}
		}()
	}
	return &wg
}

// serve handles one request as a task of its own.
func serve(id int, buf *[]byte) {
	ctx, task := trace.NewTask(context.Background(), "request")
	handle(ctx, id, buf)
	task.End()
}

// handle serves one request: a lookup, an encoding, an update of the store.
func handle(ctx context.Context, id int, buf *[]byte) {
	var v uint64
	trace.WithRegion(ctx, "lookup", func() { v = lookup(id) })
	trace.WithRegion(ctx, "encode", func() { *buf = encode(*buf, v) })
	trace.WithRegion(ctx, "store", func() { update(*buf) })
}

// lookup asks a goroutine of its own for the request's value and waits for
// the answer; with -inject leak it computes the value itself and no one
// ever receives the goroutine's answer. The goroutine is started in the
// body of a range-over-func loop, a closure Go 1.26 and Go 1.27 name
// differently.
func lookup(id int) uint64 {
	answer := make(chan uint64)
	for seed := range seeds(id) {
		go func() {
			answer <- mix(seed, 2000)
		}()
	}
	if inject == "leak" {
		return mix(uint64(id), 2000)
	}
	return <-answer
}

// seeds yields the seed of request id.
func seeds(id int) iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		yield(uint64(id))
	}
}

// encode writes v into buf 64 times over, reusing buf; with -inject alloc
// each pass allocates a buffer of its own.
func encode(buf []byte, v uint64) []byte {
	for i := range 64 {
		if inject == "alloc" {
			buf = make([]byte, 0, 1024)
		}
		buf = buf[:0]
		for j := range 64 {
			buf = append(buf, byte(v>>(j%8*8))^byte(i))
		}
	}
	return buf
}

// update adds the checksum of buf to the store; with -inject lock the
// checksum is computed with the lock held.
func update(buf []byte) {
	if inject == "lock" {
		store.mu.Lock()
		store.sum += checksum(buf)
		store.n++
		store.mu.Unlock()
		return
	}
	c := checksum(buf)
	store.mu.Lock()
	store.sum += c
	store.n++
	store.mu.Unlock()
}

// checksum hashes buf over and over: about 100µs of CPU.
func checksum(buf []byte) uint64 {
	h := uint64(14695981039346656037)
	for range 1200 {
		for _, b := range buf {
			h = (h ^ uint64(b)) * 1099511628211
		}
	}
	return h
}

// mix stirs seed rounds times.
func mix(seed uint64, rounds int) uint64 {
	for i := range rounds {
		seed = (seed ^ uint64(i)) * 0x9e3779b97f4a7c15
	}
	return seed
}

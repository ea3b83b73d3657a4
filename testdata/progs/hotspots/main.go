// Command hotspots is the program make demo records: a small service with
// three problems a trace shows.
//
//   - A hot lock: handle holds one global sync.Mutex while it computes, so
//     the 8 goroutines serving requests wait on it most of the time.
//   - Garbage: render builds and drops maps and strings for every report,
//     so the garbage collector runs all the time.
//   - A leak: fetch gives up after a timeout, leaving the goroutine it
//     started blocked forever on an unbuffered send.
//
// It runs for -d (1s by default) and stops by itself.
//
//	gotrace record --cpu ./testdata/progs/hotspots
package main

import (
	"flag"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	mu    sync.Mutex // guards total, and every request's computation
	total uint64
)

// handle serves one request, computing its checksum under the global lock:
// every request waits for all the ones before it.
func handle(id int) uint64 {
	mu.Lock()
	defer mu.Unlock()
	sum := checksum(uint64(id))
	total += sum
	return sum
}

// checksum burns about 200µs of CPU.
func checksum(seed uint64) uint64 {
	h := uint64(14695981039346656037) ^ seed
	for i := range 180000 {
		h = (h ^ uint64(i)) * 1099511628211
	}
	return h
}

// render builds an index of a report's lines, uses it once and drops it:
// short-lived garbage on every call.
func render(report int) int {
	index := make(map[string]int)
	var lines []string
	for i := range 200 {
		line := "report " + strconv.Itoa(report) + " line " + strconv.Itoa(i)
		index[line] = i
		lines = append(lines, line)
	}
	n := 0
	for _, l := range lines {
		n += index[l] + len(l)
	}
	return n
}

type result struct{ body string }

// slowCall stands for a call to a backend; every third call is slow.
func slowCall(id int) result {
	delay := 2 * time.Millisecond
	if id%3 == 2 {
		delay = 50 * time.Millisecond
	}
	time.Sleep(delay)
	return result{body: "ok " + strconv.Itoa(id)}
}

// fetch gives up after timeout, but the goroutine it started still sends
// its result on an unbuffered channel nobody reads any more: it leaks.
func fetch(id int, timeout time.Duration) (result, bool) {
	ch := make(chan result)
	go func() {
		ch <- slowCall(id)
	}()
	select {
	case r := <-ch:
		return r, true
	case <-time.After(timeout):
		return result{}, false
	}
}

// counts of what got done, for the line the program prints at the end.
var requests, reports, fetches, timeouts atomic.Int64

func main() {
	d := flag.Duration("d", time.Second, "how long the service runs")
	flag.Parse()
	deadline := time.Now().Add(*d)

	var wg sync.WaitGroup
	wg.Add(8 + 2 + 1)
	for i := range 8 {
		go serve(&wg, i, deadline)
	}
	for i := range 2 {
		go report(&wg, i, deadline)
	}
	go fetchAll(&wg)
	wg.Wait()
	fmt.Printf("%d requests, %d reports, %d fetches (%d timed out) in %v\n",
		requests.Load(), reports.Load(), fetches.Load(), timeouts.Load(), *d)
}

// serve handles requests until the deadline.
func serve(wg *sync.WaitGroup, worker int, deadline time.Time) {
	defer wg.Done()
	for n := 0; n < 100_000 && time.Now().Before(deadline); n++ {
		handle(worker*100_000 + n)
		requests.Add(1)
	}
}

// report renders reports until the deadline.
func report(wg *sync.WaitGroup, worker int, deadline time.Time) {
	defer wg.Done()
	for n := 0; n < 1_000_000 && time.Now().Before(deadline); n++ {
		render(worker*1_000_000 + n)
		reports.Add(1)
	}
}

// fetchAll makes nine calls through fetch; the slow ones time out.
func fetchAll(wg *sync.WaitGroup) {
	defer wg.Done()
	for id := range 9 {
		fetches.Add(1)
		if _, ok := fetch(id, 20*time.Millisecond); !ok {
			timeouts.Add(1)
		}
	}
}

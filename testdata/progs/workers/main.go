// Command workers is a worker pool with two problems: each job builds and
// throws away short-lived maps and slices, so the garbage collector runs
// all the time, and its fetch helper leaks a goroutine every time a call
// outlives its timeout (the goroutine stays blocked on an unbuffered send
// that nobody receives). It runs for -d and stops by itself.
//
//	gotrace record --cpu ./testdata/progs/workers -- -d 1s
package main

import (
	"flag"
	"fmt"
	"strconv"
	"sync"
	"time"
)

const poolSize = 4

type job struct {
	id   int
	keys int
}

type worker struct {
	id   int
	done int
	sum  int
}

// process builds an index of the job's keys and a list of its records,
// uses them once and drops them: garbage on every call.
func (w *worker) process(j job) {
	index := make(map[string]int)
	var records [][]byte
	for k := range j.keys {
		key := "job-" + strconv.Itoa(j.id) + "-key-" + strconv.Itoa(k)
		index[key] = k
		records = append(records, []byte(key))
	}
	for _, r := range records {
		w.sum += index[string(r)] + len(r)
	}
	w.done++
}

func (w *worker) run(jobs <-chan job, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		w.process(j)
	}
}

type result struct {
	id   int
	body string
}

// slowCall stands for a call to a backend; every third call is slow.
func slowCall(id int) result {
	delay := 2 * time.Millisecond
	if id%3 == 2 {
		delay = 60 * time.Millisecond
	}
	time.Sleep(delay)
	return result{id: id, body: "ok " + strconv.Itoa(id)}
}

// fetch gives up after timeout, but the goroutine it started still sends
// its result on an unbuffered channel that nobody reads any more: it
// stays blocked forever.
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

type fetchCounts struct{ fetched, timedOut int }

// fetchAll makes nine calls through fetch; the slow ones time out.
func fetchAll(done chan<- fetchCounts) {
	var c fetchCounts
	for id := range 9 {
		if _, ok := fetch(id, 20*time.Millisecond); ok {
			c.fetched++
		} else {
			c.timedOut++
		}
	}
	done <- c
}

func main() {
	d := flag.Duration("d", time.Second, "how long the pool works")
	flag.Parse()

	jobs := make(chan job)
	workers := make([]*worker, poolSize)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = &worker{id: i}
		wg.Add(1)
		go workers[i].run(jobs, &wg)
	}

	// The fetches: a few time out, each leaving a goroutine behind.
	fetchDone := make(chan fetchCounts)
	go fetchAll(fetchDone)

	deadline := time.Now().Add(*d)
	for id := 0; id < 10_000_000 && time.Now().Before(deadline); id++ {
		jobs <- job{id: id, keys: 200}
	}
	close(jobs)
	wg.Wait()
	fc := <-fetchDone

	done := 0
	for _, w := range workers {
		done += w.done
	}
	fmt.Printf("%d jobs in %v; %d fetches, %d timed out\n", done, *d, fc.fetched, fc.timedOut)
}

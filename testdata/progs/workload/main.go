// Command workload is a fixed amount of CPU and scheduler work, for
// measuring what recording costs: gotrace record runs it as it is, and
// with -trace FILE it traces itself with runtime/trace.Start and Stop
// written into main by hand, the baseline gotrace is compared with.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/trace"
	"sync"
)

func main() {
	traceFile := flag.String("trace", "", "trace to `FILE` with runtime/trace")
	items := flag.Int("items", 400000, "items through the pipeline")
	stages := flag.Int("stages", 6, "pipeline stages, each a goroutine pool")
	work := flag.Int("work", 400, "CPU work per item per stage")
	flag.Parse()
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			log.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			log.Fatal(err)
		}
		defer func() {
			trace.Stop()
			if err := f.Close(); err != nil {
				log.Fatal(err)
			}
		}()
	}
	fmt.Println(run(*items, *stages, *work))
}

// run pushes items through a pipeline of stages connected by unbuffered
// channels; every stage has four workers that mix each value with some CPU
// work. Unbuffered hand-offs make the scheduler switch goroutines for
// every item at every stage.
func run(items, stages, work int) uint64 {
	src := make(chan uint64)
	go func() {
		for i := range items {
			src <- uint64(i)
		}
		close(src)
	}()
	var last <-chan uint64 = src
	for range stages {
		in, out := last, make(chan uint64)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for v := range in {
					out <- mix(v, work)
				}
			}()
		}
		go func() { wg.Wait(); close(out) }()
		last = out
	}
	var sum uint64
	for v := range last {
		sum += v
	}
	return sum
}

// mix is CPU work: n rounds of xorshift.
func mix(v uint64, n int) uint64 {
	v |= 1
	for range n {
		v ^= v << 13
		v ^= v >> 7
		v ^= v << 17
	}
	return v
}

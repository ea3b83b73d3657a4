// Command mutexwait has four workers take turns on one sync.Mutex, each
// holding it three times for 150ms while it sleeps inside a region
// "hold", under a task "batch" that main begins. Midway through any hold,
// the worker holding the lock is asleep and every other worker that has
// not finished is blocked on the mutex; the lock's hand-over makes the
// next holder runnable by the one before. It runs for about 1.8s, so its
// trace has two or three generations.
//
//	gotrace record --build-flags '-trimpath' -o testdata/drill/mutexwait.trace ./testdata/progs/mutexwait
package main

import (
	"context"
	"runtime/trace"
	"sync"
	"time"
)

const (
	workers = 4
	rounds  = 3
	hold    = 150 * time.Millisecond
)

func main() {
	ctx, task := trace.NewTask(context.Background(), "batch")
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go worker(ctx, i, &mu, &wg)
	}
	wg.Wait()
	task.End()
}

func worker(ctx context.Context, id int, mu *sync.Mutex, wg *sync.WaitGroup) {
	defer wg.Done()
	for round := range rounds {
		mu.Lock()
		trace.WithRegion(ctx, "hold", func() {
			trace.Logf(ctx, "worker", "%d round %d", id, round)
			time.Sleep(hold)
		})
		mu.Unlock()
	}
}

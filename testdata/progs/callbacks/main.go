// Command callbacks has C threads call into Go: each callback runs on a
// goroutine the runtime makes for the thread (created in a system call) and
// ends when the callback returns, so goroutine IDs are reused by later
// callbacks. Its trace exercises goroutines that begin in a syscall and
// goroutine IDs used more than once.
//
//	gotrace record ./testdata/progs/callbacks
package main

/*
#include <pthread.h>
#include <stdint.h>

extern void goCallback(int);

static void* worker(void* arg) {
	int n = (int)(intptr_t)arg;
	for (int i = 0; i < 20; i++) {
		goCallback(n);
	}
	return 0;
}

// spawn runs n threads that call back into Go, one after the other, so
// the goroutine IDs of the callbacks are reused.
static void spawn(int n) {
	for (int i = 0; i < n; i++) {
		pthread_t t;
		pthread_create(&t, 0, worker, (void*)(intptr_t)i);
		pthread_join(t, 0);
	}
}
*/
import "C"

import (
	"fmt"
	"sync"
	"time"
)

var (
	mu    sync.Mutex
	calls = map[int]int{}
)

//export goCallback
func goCallback(n C.int) {
	mu.Lock()
	calls[int(n)]++
	mu.Unlock()
	time.Sleep(100 * time.Microsecond)
}

func main() {
	done := make(chan struct{})
	go func() {
		// A Go goroutine busy beside the callbacks.
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	C.spawn(10)
	close(done)
	total := 0
	for _, c := range calls {
		total += c
	}
	fmt.Println("callbacks:", total)
}

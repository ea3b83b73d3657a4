// Command allocfree writes a small execution trace meant to be run with
// GODEBUG=traceallocfree=1, so it carries the AllocFree experiment: span,
// heap object and goroutine stack events, the type table and the heap
// parameters in experimental batches.
//
//	GODEBUG=traceallocfree=1 go run ./testdata/progs/allocfree testdata/traces/allocfree.trace
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
)

type node struct {
	next *node
	val  [4]int
}

var keep []*node

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: allocfree OUT.trace")
		os.Exit(2)
	}
	out, err := os.Create(os.Args[1])
	if err == nil {
		err = trace.Start(out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "allocfree:", err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var list *node
			for i := range 300 {
				list = &node{next: list, val: [4]int{g, i}}
				if i%100 == 99 {
					keep = append(keep, list)
					list = nil
				}
			}
		}()
	}
	wg.Wait()
	keep = nil
	runtime.GC()
	trace.Stop()
	if err := out.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "allocfree:", err)
		os.Exit(1)
	}
}

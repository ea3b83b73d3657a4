// Command pull walks sequences with iter.Pull, which runs each sequence on
// a coroutine: the goroutines switch to one another directly, without the
// scheduler, so its trace exercises those switches.
//
//	gotrace record ./testdata/progs/pull
package main

import (
	"fmt"
	"iter"
)

// squares yields the first n squares.
func squares(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i * i) {
				return
			}
		}
	}
}

// zip pulls from two sequences in step.
func zip(a, b iter.Seq[int]) int {
	next1, stop1 := iter.Pull(a)
	defer stop1()
	next2, stop2 := iter.Pull(b)
	defer stop2()
	sum := 0
	for {
		x, ok1 := next1()
		y, ok2 := next2()
		if !ok1 || !ok2 {
			return sum
		}
		sum += x + y
	}
}

func main() {
	total := 0
	for i := range 100 {
		total += zip(squares(100+i), squares(150))
	}
	fmt.Println("total:", total)
}

// Package mathlib is a library, not a command: gotrace record refuses to run
// it, and gotrace record --test records its tests.
package mathlib

import "sync"

// SumSquares adds the squares of 1..n, split over workers goroutines.
func SumSquares(n, workers int) int {
	var wg sync.WaitGroup
	parts := make([]int, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w + 1; i <= n; i += workers {
				parts[w] += i * i
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, p := range parts {
		total += p
	}
	return total
}

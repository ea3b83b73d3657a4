// Package work is the CPU- and scheduler-heavy workload of the record
// overhead benchmark, shared by the program gotrace records
// (testdata/progs/overhead) and the same program tracing itself by hand
// (testdata/progs/overhead-manual), so the two run identical code.
package work

import (
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"sync"
	"time"
)

// Run does a fixed amount of work and returns how long it took: jobs flow
// from a producer through a pool of workers to a collector over channels,
// each job hashes a block, updates a mutex-guarded table and, every few
// jobs, fans out to short-lived goroutines.
func Run(jobs int) (time.Duration, uint64) {
	start := time.Now()
	workers := 4 * runtime.GOMAXPROCS(0)
	in := make(chan uint64, 16)
	out := make(chan [32]byte, 16)
	var mu sync.Mutex
	table := make(map[uint64]uint64)

	go func() {
		for i := range jobs {
			in <- uint64(i)
		}
		close(in)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var block [1024]byte
			for j := range in {
				binary.LittleEndian.PutUint64(block[:], j)
				sum := sha256.Sum256(block[:])
				for range 8 {
					sum = sha256.Sum256(sum[:])
				}
				mu.Lock()
				table[j%4096] += uint64(sum[0])
				mu.Unlock()
				if j%64 == 0 {
					fanOut(sum)
				}
				out <- sum
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	var check uint64
	for sum := range out {
		check += uint64(sum[1])
	}
	return time.Since(start), check
}

// fanOut hashes in eight goroutines that live for one job.
func fanOut(seed [32]byte) {
	var wg sync.WaitGroup
	for k := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := seed
			s[0] ^= byte(k)
			for range 4 {
				s = sha256.Sum256(s[:])
			}
		}()
	}
	wg.Wait()
}

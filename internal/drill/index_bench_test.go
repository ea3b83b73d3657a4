package drill

import (
	"context"
	"os"
	"testing"
)

// stressTrace is the generated benchmark trace (make bench writes it).
const stressTrace = "../../testdata/bench/stress.trace"

func openStress(b *testing.B) (*os.File, int64) {
	f, err := os.Open(stressTrace)
	if err != nil {
		b.Skipf("no benchmark trace: %v", err)
	}
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f, fi.Size()
}

func BenchmarkIndexFrames(b *testing.B) {
	f, size := openStress(b)
	for b.Loop() {
		ix, err := BuildIndex(f, size, IndexOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(ix.Gens)), "gens")
	}
}

func BenchmarkIndexActors(b *testing.B) {
	f, size := openStress(b)
	for b.Loop() {
		ix, err := BuildIndex(f, size, IndexOptions{Actors: true})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(ix.NumGoroutineIDs()), "goids")
	}
}

// BenchmarkAtMiddle is gotrace at in the middle of the stress trace: the
// index, then the one generation read.
func BenchmarkAtMiddle(b *testing.B) {
	f, size := openStress(b)
	for b.Loop() {
		ix, err := BuildIndex(f, size, IndexOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := At(context.Background(), f, ix, ix.Duration()/2); err != nil {
			b.Fatal(err)
		}
	}
}

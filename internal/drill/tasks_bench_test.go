package drill

import (
	"context"
	"testing"
)

// benchTask is a task of the stress trace that lies within one generation.
const benchTask = 100000

// BenchmarkTaskByID is gotrace tasks FILE ID on the stress trace: the
// index, then the generations the task appears in.
func BenchmarkTaskByID(b *testing.B) {
	f, size := openStress(b)
	for b.Loop() {
		ix, err := BuildIndex(f, size, IndexOptions{Actors: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := TaskByID(context.Background(), TraceFile{R: f, Size: size, Index: ix}, benchTask); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWhyTask is gotrace why --task ID on the stress trace: the index,
// then the task's generations twice, to find it and to walk its path.
func BenchmarkWhyTask(b *testing.B) {
	f, size := openStress(b)
	for b.Loop() {
		ix, err := BuildIndex(f, size, IndexOptions{Actors: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := WhyTask(context.Background(), TraceFile{R: f, Size: size, Index: ix}, WhyQuery{Task: benchTask}); err != nil {
			b.Fatal(err)
		}
	}
}

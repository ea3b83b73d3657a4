package view

import (
	"os"
	"path/filepath"
	"testing"
)

// stressTrace is the large trace make bench generates (git-ignored).
var stressTrace = filepath.Join("..", "..", "testdata", "bench", "stress.trace")

func BenchmarkSummarize(b *testing.B) {
	f, err := os.Open(stressTrace)
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	for b.Loop() {
		f.Seek(0, 0)
		if _, err := Summarize(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadGen1(b *testing.B) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "bench", "stress-gen1.trace"))
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	for b.Loop() {
		f.Seek(0, 0)
		if _, err := Load(f); err != nil {
			b.Fatal(err)
		}
	}
}

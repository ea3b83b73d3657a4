package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// bigGens is a trace of n generations of about size bytes each, larger in
// all than what NewReader reads first, so that Parallel maps the rest of a
// file that holds it.
func bigGens(t testing.TB, n, size int) []byte {
	return encode(t, format.Go123, func(e *format.Encoder) {
		for gen := uint64(1); gen <= uint64(n); gen++ {
			goodGen(e, gen)
			// Batches of about 36 KB, under the maximum batch size.
			for m := uint64(0); m < uint64(max(1, size/(36<<10))); m++ {
				e.Batch(gen, m, 30, func(b *format.Encoder) {
					for k := 0; k < 9000; k++ {
						b.Event(format.EvGoBlock, []uint64{uint64(k % 300), 1, 1}, nil)
					}
				})
			}
		}
	})
}

// writeTrace writes junk bytes of prefix, then data, to a file and returns
// it open, positioned after the junk.
func writeTrace(t testing.TB, prefix int, data []byte) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "trace")
	if err := os.WriteFile(name, append(bytes.Repeat([]byte{0xee}, prefix), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Seek(int64(prefix), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestParallelFile reads traces from files, where Parallel maps the rest
// of the input rather than reading it, the trace at the file's start and
// after other bytes: generations, events, tables, errors and Offset are
// those of a loop over Next, whole and cut short.
func TestParallelFile(t *testing.T) {
	data := bigGens(t, 7, 150<<10)
	if len(data) < 4*minBuffer {
		t.Fatalf("trace of %d bytes, want more than %d", len(data), 4*minBuffer)
	}
	r, err := NewReader(writeTrace(t, 1000, data))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Parallel(2, func(*GenReader, *Generation) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if r.mapped != (runtime.GOOS == "linux") {
		t.Fatalf("input mapped: %v, want %v on %s", r.mapped, !r.mapped, runtime.GOOS)
	}
	cuts := []int{len(data), len(data) - len(data)/3, len(data) - len(data)/7, minBuffer + 1, len(data) - 1}
	for i, n := range cuts {
		// The trace at the file's start, and after other bytes.
		prefix := 5000 * (i % 2)
		buf := data[:n]
		want, order, woff, werr := readSequential(t, buf, Frames, true)
		for _, workers := range []int{1, 2} {
			where := fmt.Sprintf("%d bytes after %d, %d workers", n, prefix, workers)
			got, off, err := readParallel(t, writeTrace(t, prefix, buf), Frames, true, workers)
			if fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Fatalf("%s: error %v, want %v", where, err, werr)
			}
			if off != woff {
				t.Fatalf("%s: Offset %d after Parallel, %d after Next", where, off, woff)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d generations, want %d", where, len(got), len(want))
			}
			for _, g := range order {
				if !bytes.Equal(got[g], want[g]) {
					t.Fatalf("%s: generation %d differs", where, g)
				}
			}
		}
	}
}

// TestParallelFileAfterNext maps the file from where a loop over Next
// stopped: the generations after it are those Next reads.
func TestParallelFileAfterNext(t *testing.T) {
	// N.B. Large enough that Next leaves some of the file unread.
	data := bigGens(t, 6, 500<<10)
	want, _, _, err := readSequential(t, data, Frames, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(writeTrace(t, 3000, data))
	if err != nil {
		t.Fatal(err)
	}
	r.SetDetail(Frames)
	for n := uint64(1); n <= 2; n++ {
		if g, err := r.Next(); err != nil || g.Num != n {
			t.Fatalf("Next: generation %v, %v, want %d", g, err, n)
		}
	}
	var mu sync.Mutex
	var seen []uint64
	err = r.Parallel(2, func(gr *GenReader, g *Generation) error {
		text, err := renderGen(gr, g, true)
		if err != nil {
			return err
		}
		if !bytes.Equal(text, want[g.Num]) {
			return fmt.Errorf("generation %d differs", g.Num)
		}
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, g.Num)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	if !slices.Equal(seen, []uint64{3, 4, 5, 6}) {
		t.Fatalf("Parallel after Next read generations %v, want 3 to 6", seen)
	}
	if r.mapped != (runtime.GOOS == "linux") {
		t.Fatalf("input mapped: %v on %s", r.mapped, runtime.GOOS)
	}
	if off := r.Offset(); off != int64(len(data)) {
		t.Fatalf("Offset %d after Parallel, want %d", off, len(data))
	}
}

// TestParallelFileShrinks cuts the file while Parallel reads it: what is
// gone gives an error that says so, not a crash.
func TestParallelFileShrinks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Parallel maps files on linux only")
	}
	data := bigGens(t, 6, 200<<10)
	// The first page past the first generation: a generation's bytes
	// past it are gone.
	cut := (generationEnds(t, data)[0] + pageSize) &^ (pageSize - 1)
	f := writeTrace(t, 0, data)
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r.SetDetail(Frames)
	var gens []uint64
	err = r.Parallel(1, func(gr *GenReader, g *Generation) error {
		gens = append(gens, g.Num)
		if g.Num == 1 {
			// N.B. One worker: the next generation is framed only
			// once this call returns, from bytes no longer there.
			if err := os.Truncate(f.Name(), cut); err != nil {
				return err
			}
		}
		_, _, err := eachEvent(gr, g)
		return err
	})
	if !errors.Is(err, errShrank) || !IsTruncated(err) {
		t.Fatalf("Parallel after the file shrank: %v, want %v", err, errShrank)
	}
	var de *Error
	if !errors.As(err, &de) || de.Offset < cut || de.Offset >= int64(len(data)) || de.Gen != 2 {
		t.Fatalf("error %v: want an *Error in generation 2 past the new end %#x", err, cut)
	}
	t.Log(err)
	if len(gens) != 1 {
		t.Fatalf("generations %v handed over, want [1]", gens)
	}
}

// eachEvent reads every event of g.
func eachEvent(er EventReader, g *Generation) (int, uint64, error) {
	n, sum := 0, uint64(0)
	for i := range g.Batches {
		err := er.EachEvent(g, i, func(ev *Event) error {
			n++
			sum += ev.Time + uint64(len(ev.Args)+len(ev.Data))
			return nil
		})
		if err != nil {
			return n, sum, err
		}
	}
	return n, sum, nil
}

package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// renderGen renders g in the wire form, with the events er reads from each
// batch (every one of them, through EachEvent or BatchEvents), followed by
// its tables, so two readings of a generation compare as text.
func renderGen(er EventReader, g *Generation, each bool) ([]byte, error) {
	var out []byte
	for i := range g.Batches {
		b := g.Batches[i]
		if each {
			var kept []Event
			err := er.EachEvent(g, i, func(ev *Event) error {
				c := *ev
				c.Args = slices.Clone(ev.Args)
				if ev.Data != nil {
					c.Data = append([]byte{}, ev.Data...)
				}
				kept = append(kept, c)
				return nil
			})
			if err != nil {
				return out, err
			}
			b.Events = kept
		} else {
			evs, err := er.BatchEvents(g, i)
			if err != nil {
				return out, err
			}
			b.Events = evs
		}
		out = appendWire(out, &Generation{Version: g.Version, Num: g.Num, Batches: []Batch{b}})
	}
	return appendTables(out, g), nil
}

// appendTables renders a generation's tables and framing, sorted where
// they are maps.
func appendTables(out []byte, g *Generation) []byte {
	out = fmt.Appendf(out, "gen %d [%d,%d) freq %d events %d time %d-%d batches %d\n",
		g.Num, g.Offset, g.End, g.Frequency, g.Events, g.MinTime, g.MaxTime, len(g.Batches))
	if g.Clock != nil {
		out = fmt.Appendf(out, "clock %+v\n", *g.Clock)
	}
	if g.AllocFreeInfo != nil {
		out = fmt.Appendf(out, "allocfree %+v\n", *g.AllocFreeInfo)
	}
	var lines []string
	for id, s := range g.Strings {
		lines = append(lines, fmt.Sprintf("string %d %q", id, s))
	}
	for id, st := range g.Stacks {
		lines = append(lines, fmt.Sprintf("stack %d %q %+v", id, st.Summary(), st.Frames))
	}
	sort.Strings(lines)
	for _, l := range lines {
		out = append(out, l...)
		out = append(out, '\n')
	}
	for _, t := range g.Types {
		out = fmt.Appendf(out, "type %+v\n", t)
	}
	for _, s := range g.CPUSamples {
		out = fmt.Appendf(out, "sample %+v\n", s)
	}
	for t, c := range g.Counts {
		if c.Events != 0 {
			out = fmt.Appendf(out, "count %d %+v\n", t, c)
		}
	}
	return out
}

// readSequential reads data with a loop over Next at detail d, rendering
// every generation; it returns the renderings by generation number, the
// order they came in, the Reader's Offset at the end and the error that
// ended the loop (nil at a clean end).
func readSequential(t testing.TB, data []byte, d Detail, each bool) (map[uint64][]byte, []uint64, int64, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, 0, err
	}
	r.SetDetail(d)
	got := map[uint64][]byte{}
	var order []uint64
	for {
		g, err := r.Next()
		if err == io.EOF {
			return got, order, r.Offset(), nil
		}
		if err != nil {
			return got, order, r.Offset(), err
		}
		text, err := renderGen(r, g, each)
		if err != nil {
			return got, order, r.Offset(), err
		}
		got[g.Num] = text
		order = append(order, g.Num)
	}
}

// readParallel is readSequential through Reader.Parallel, without the
// order.
func readParallel(t testing.TB, in io.Reader, d Detail, each bool, workers int) (map[uint64][]byte, int64, error) {
	t.Helper()
	r, err := NewReader(in)
	if err != nil {
		return nil, 0, err
	}
	r.SetDetail(d)
	var mu sync.Mutex
	got := map[uint64][]byte{}
	err = r.Parallel(workers, func(gr *GenReader, g *Generation) error {
		text, err := renderGen(gr, g, each)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[g.Num]; dup {
			return fmt.Errorf("generation %d handed over twice", g.Num)
		}
		got[g.Num] = text
		return nil
	})
	if _, again := r.Next(); err == nil && again != io.EOF || err != nil && again != err {
		t.Fatalf("Next after Parallel returned %v, want %v", again, err)
	}
	return got, r.Offset(), err
}

// manyGens is a trace of n small generations, so that several workers
// have work at once.
func manyGens(t testing.TB, n int) []byte {
	return encode(t, format.Go123, func(e *format.Encoder) {
		for gen := uint64(1); gen <= uint64(n); gen++ {
			goodGen(e, gen)
		}
	})
}

// parallelCorpus is every trace the Parallel tests read: the Go tree's
// trace tests, the committed real traces, this package's fixtures and
// traces of many generations. With -short (under the race detector) the
// real traces past 200 kB are left out: they hold no shape the others
// lack, only more of it.
func parallelCorpus(t *testing.T) map[string][]byte {
	corpus := map[string][]byte{
		"many-go123": manyGens(t, 17),
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "traces", "*.trace"))
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, file := range append(peerTests(t), fixtures...) {
		data, _ := assembleTest(t, file)
		corpus[filepath.Base(file)] = data
	}
	for _, file := range files {
		data := fixture(t, filepath.Base(file))
		if testing.Short() && len(data) > 200e3 {
			continue
		}
		corpus[filepath.Base(file)] = data
	}
	return corpus
}

// TestParallel reads every trace of the corpus through Parallel, with each
// Detail, EachEvent and BatchEvents, and one to three workers: the
// generations, their events and tables, and the error are those of a loop
// over Next.
func TestParallel(t *testing.T) {
	for name, data := range parallelCorpus(t) {
		for _, d := range []Detail{Full, Counts, Frames} {
			for _, each := range []bool{false, true} {
				want, order, woff, werr := readSequential(t, data, d, each)
				for _, workers := range []int{1, 2, 3} {
					got, off, err := readParallel(t, bytes.NewReader(data), d, each, workers)
					where := fmt.Sprintf("%s: detail %d, each %v, %d workers", name, d, each, workers)
					if fmt.Sprint(err) != fmt.Sprint(werr) {
						t.Fatalf("%s: error %v, want %v", where, err, werr)
					}
					if off != woff {
						t.Fatalf("%s: Offset %d after Parallel, %d after Next", where, off, woff)
					}
					if err != nil {
						checkErr(t, err, len(data))
					}
					for _, n := range order {
						if !bytes.Equal(got[n], want[n]) {
							t.Fatalf("%s: generation %d differs:\n%s\nwant:\n%s", where, n, got[n], want[n])
						}
					}
					// Damage that Next finds (it walks every event
					// unless the detail is Frames) stops Parallel at
					// the same generation; damage that only reading
					// a batch's events finds may let later ones
					// through, read concurrently.
					if len(got) != len(want) && (d != Frames || werr == nil) {
						t.Fatalf("%s: %d generations, want %d", where, len(got), len(want))
					}
				}
			}
		}
	}
}

// TestParallelDamage cuts and flips a trace of many generations: Parallel
// reports the error a loop over Next reports, after every generation
// before the damage, and with Full detail no generation after it.
func TestParallelDamage(t *testing.T) {
	data := manyGens(t, 9)
	step := 1
	if testing.Short() {
		step = 5
	}
	check := func(what string, buf []byte) {
		for _, d := range []Detail{Full, Frames} {
			want, order, woff, werr := readSequential(t, buf, d, true)
			got, off, err := readParallel(t, bytes.NewReader(buf), d, true, 2)
			if fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Fatalf("%s, detail %d: error %v, want %v", what, d, err, werr)
			}
			if off != woff {
				t.Fatalf("%s, detail %d: Offset %d after Parallel, %d after Next", what, d, off, woff)
			}
			for _, n := range order {
				if !bytes.Equal(got[n], want[n]) {
					t.Fatalf("%s, detail %d: generation %d missing or different", what, d, n)
				}
			}
			if d == Full && len(got) != len(want) {
				t.Fatalf("%s, detail %d: %d generations delivered, want %d", what, d, len(got), len(want))
			}
		}
	}
	for n := format.HeaderSize; n < len(data); n += step {
		check(fmt.Sprintf("cut at %d", n), data[:n])
	}
	buf := make([]byte, len(data))
	for i := format.HeaderSize; i < len(data); i += step {
		for _, x := range []byte{0xff, 0x80} {
			copy(buf, data)
			buf[i] ^= x
			check(fmt.Sprintf("byte %d ^ %#x", i, x), buf)
		}
	}
}

// TestParallelFnError stops at the generation whose function fails: the
// error is that one, every generation before it was read in full.
func TestParallelFnError(t *testing.T) {
	data := manyGens(t, 12)
	boom := errors.New("boom")
	for _, workers := range []int{1, 2, 4} {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var done []uint64
		err = r.Parallel(workers, func(gr *GenReader, g *Generation) error {
			if g.Num == 5 {
				return fmt.Errorf("gen %d: %w", g.Num, boom)
			}
			if _, err := renderGen(gr, g, true); err != nil {
				return err
			}
			mu.Lock()
			done = append(done, g.Num)
			mu.Unlock()
			return nil
		})
		if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "gen 5:") {
			t.Fatalf("%d workers: got %v, want generation 5's error", workers, err)
		}
		for n := uint64(1); n < 5; n++ {
			if !slices.Contains(done, n) {
				t.Fatalf("%d workers: generation %d not read before the error (read %v)", workers, n, done)
			}
		}
		if _, again := r.Next(); again != err {
			t.Fatalf("Next after Parallel: %v, want %v", again, err)
		}
	}
}

// TestParallelAfterNext hands over the generations Next did not return
// yet, and lends nothing past the call of fn.
func TestParallelAfterNext(t *testing.T) {
	data := manyGens(t, 6)
	want, _, _, err := readSequential(t, data, Full, false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(iotest.HalfReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.Next()
	if err != nil || g.Num != 1 {
		t.Fatalf("Next: generation %v, %v", g, err)
	}
	var mu sync.Mutex
	var seen []uint64
	var kept *GenReader
	var keptGen *Generation
	err = r.Parallel(2, func(gr *GenReader, g *Generation) error {
		text, err := renderGen(gr, g, false)
		if err != nil {
			return err
		}
		if !bytes.Equal(text, want[g.Num]) {
			return fmt.Errorf("generation %d differs:\n%s\nwant:\n%s", g.Num, text, want[g.Num])
		}
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, g.Num)
		kept, keptGen = gr, g
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	if !slices.Equal(seen, []uint64{2, 3, 4, 5, 6}) {
		t.Fatalf("Parallel after Next read generations %v, want 2 to 6", seen)
	}
	if err := kept.EachEvent(keptGen, 0, func(*Event) error { return nil }); err == nil {
		t.Fatal("EachEvent after the call returned: no error")
	}
	if _, err := kept.BatchEvents(keptGen, 0); err == nil {
		t.Fatal("BatchEvents after the call returned: no error")
	}
	if err := r.Parallel(2, func(*GenReader, *Generation) error { return errors.New("called") }); err != nil {
		t.Fatalf("Parallel at the end: %v, want nil", err)
	}
}

// TestParallelReadError passes on the underlying reader's error after the
// generations before it.
func TestParallelReadError(t *testing.T) {
	data := manyGens(t, 6)
	ends := generationEnds(t, data)
	boom := errors.New("disk on fire")
	for _, cut := range []int64{ends[2], ends[2] + 5} {
		in := func() io.Reader { return io.MultiReader(bytes.NewReader(data[:cut]), iotest.ErrReader(boom)) }
		got, _, err := readParallel(t, in(), Frames, true, 2)
		if !errors.Is(err, boom) {
			t.Fatalf("cut at %d: got %v, want the reader's error", cut, err)
		}
		checkErr(t, err, len(data))
		_, want, werr := decodeAll(t, in())
		if fmt.Sprint(err) != fmt.Sprint(werr) || len(got) != len(want) {
			t.Fatalf("cut at %d: %d generations, then %v; Next: %d, then %v", cut, len(got), err, len(want), werr)
		}
	}
}

// TestParallelPanic passes a panic in fn on to the caller of Parallel.
func TestParallelPanic(t *testing.T) {
	r, err := NewReader(bytes.NewReader(manyGens(t, 8)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if v := recover(); v != "gen 3" {
			t.Fatalf("recovered %v, want fn's panic", v)
		}
		if _, err := r.Next(); err == nil || err == io.EOF {
			t.Fatalf("Next after a panic: %v, want an error", err)
		}
	}()
	r.Parallel(2, func(gr *GenReader, g *Generation) error {
		if g.Num == 3 {
			panic("gen 3")
		}
		return nil
	})
	t.Fatal("Parallel returned")
}

// TestDropTables drops each generation's tables once it is rendered: the
// batches' bytes stay as they were, the tables are gone, and every
// generation after it still reads as a loop over Next reads it.
func TestDropTables(t *testing.T) {
	for name, data := range parallelCorpus(t) {
		want, _, _, werr := readSequential(t, data, Frames, false)
		for _, workers := range []int{1, 2} {
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			r.SetDetail(Frames)
			var mu sync.Mutex
			got := map[uint64][]byte{}
			err = r.Parallel(workers, func(gr *GenReader, g *Generation) error {
				text, err := renderGen(gr, g, false)
				if err != nil {
					return err
				}
				var before [][]byte
				for i := range g.Batches {
					b, _, err := gr.BatchData(g, i)
					if err != nil {
						return err
					}
					before = append(before, slices.Clone(b))
				}
				tables := slices.Clone(gr.d.tableBatches)
				gr.DropTables(g)
				if g.Strings != nil || g.Stacks != nil {
					return fmt.Errorf("generation %d: tables kept", g.Num)
				}
				for i := range g.Batches {
					b, _, err := gr.BatchData(g, i)
					if err != nil {
						return err
					}
					if !bytes.Equal(b, before[i]) {
						return fmt.Errorf("generation %d, batch %d: bytes changed", g.Num, i)
					}
					if slices.Contains(tables, i) && (g.Batches[i].Events == nil || len(g.Batches[i].Events) > 0) {
						return fmt.Errorf("generation %d, batch %d: table events kept, or no longer a table", g.Num, i)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				got[g.Num] = text
				return nil
			})
			if fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Fatalf("%s, %d workers: error %v, want %v", name, workers, err, werr)
			}
			if len(got) != len(want) {
				t.Fatalf("%s, %d workers: %d generations, want %d", name, workers, len(got), len(want))
			}
			for n, w := range want {
				if !bytes.Equal(got[n], w) {
					t.Fatalf("%s, %d workers: generation %d differs after the one before dropped its tables:\n%s\nwant:\n%s", name, workers, n, got[n], w)
				}
			}
		}
	}
}

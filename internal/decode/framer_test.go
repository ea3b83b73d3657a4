package decode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// frameAll frames data's body with a Framer over a *bufio.Reader, as a
// reader that only skips batch contents does.
func frameAll(t testing.TB, data []byte, v format.Version) (spans []Span, err error) {
	t.Helper()
	fr := NewFramer(bufio.NewReaderSize(bytes.NewReader(data[format.HeaderSize:]), 64<<10), v, format.HeaderSize)
	for {
		s, err := fr.Next(nil)
		if err == io.EOF {
			return spans, nil
		}
		if err != nil {
			return spans, err
		}
		spans = append(spans, s)
	}
}

// batchOffsets lists the header offset of every batch of an undamaged
// trace, with the number of the generation it is in (0 for an
// EndOfGeneration).
func batchOffsets(t testing.TB, data []byte) (offs []int64, gens []uint64) {
	t.Helper()
	v, err := format.ParseHeader(data[:format.HeaderSize])
	if err != nil {
		t.Fatal(err)
	}
	fr := NewFramer(bufio.NewReader(bytes.NewReader(data[format.HeaderSize:])), v, format.HeaderSize)
	for {
		_, err := fr.Next(func(b *FramedBatch) {
			offs = append(offs, b.Offset)
			gens = append(gens, b.Gen)
		})
		if err == io.EOF {
			return offs, gens
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// threeGens is a Go 1.23 trace of three generations; before Go 1.26 only
// the next generation's first batch ends one.
func threeGens(t testing.TB) []byte {
	return encode(t, format.Go123, func(e *format.Encoder) {
		for g := uint64(1); g <= 3; g++ {
			goodGen(e, g)
		}
	})
}

// TestFramerAgrees checks that a Framer over a *bufio.Reader and a Reader
// find the same generations and the same damage, at the same byte, in real
// traces cut short everywhere and with every bit of each batch header's
// generation flipped.
func TestFramerAgrees(t *testing.T) {
	inputs := map[string][]byte{
		"annotated": fixture(t, "annotated.trace"),
		"demo":      fixture(t, "demo.trace"),
		"go1.23":    threeGens(t),
	}
	for name, data := range inputs {
		var cases [][]byte
		for n := format.HeaderSize; n <= len(data); n += max(1, len(data)/97) {
			cases = append(cases, data[:n])
		}
		offs, bgens := batchOffsets(t, data)
		for i, off := range offs {
			if bgens[i] == 0 {
				continue // an EndOfGeneration has no generation field
			}
			for bit := range 8 {
				c := bytes.Clone(data)
				c[off+1] ^= 1 << bit // the generation's first byte
				cases = append(cases, c)
			}
		}
		cases = append(cases, append(bytes.Clone(data), "\x00garbage"...))
		for i, c := range cases {
			gens, rerr := readAll(t, c)
			v, _ := format.ParseHeader(c[:format.HeaderSize])
			spans, ferr := frameAll(t, c, v)
			if fmt.Sprint(rerr) != fmt.Sprint(ferr) {
				t.Fatalf("%s case %d: Reader says %v, Framer %v", name, i, rerr, ferr)
			}
			if len(spans) != len(gens) {
				t.Fatalf("%s case %d: Reader delivers %d generations, Framer %d", name, i, len(gens), len(spans))
			}
			for k, s := range spans {
				if s.Gen != gens[k] {
					t.Fatalf("%s case %d: generation %d is %d for the Reader, %d for the Framer", name, i, k, gens[k], s.Gen)
				}
			}
		}
	}
}

// TestGenerationFlip flips one bit of the generation number of each batch
// of a real trace: the damage is that batch, and no generation from the
// one it is in on is delivered as complete (before Go 1.26, nor the one
// before it when the batch was to begin the next).
func TestGenerationFlip(t *testing.T) {
	for name, data := range map[string][]byte{
		"annotated": fixture(t, "annotated.trace"),
		"go1.23":    threeGens(t),
	} {
		v, _ := format.ParseHeader(data[:format.HeaderSize])
		offs, bgens := batchOffsets(t, data)
		for i, off := range offs {
			if i == 0 || bgens[i] == 0 {
				// N.B. A trace may begin with any generation (a flight
				// recording does), so the first batch's number is
				// checked by the second; an EndOfGeneration has none.
				continue
			}
			first := bgens[i-1] != bgens[i]
			for bit := range 7 { // bit 7 makes a longer varint: other damage
				c := bytes.Clone(data)
				c[off+1] ^= 1 << bit
				g := uint64(c[off+1])
				// N.B. Before Go 1.26 nothing tells the first batch of the
				// next generation from a batch flipped to its number, nor
				// a first batch flipped back into the generation before.
				if v < format.Go126 && (g == bgens[i]+1 || first && g == bgens[i]-1) {
					continue
				}
				gens, err := readAll(t, c)
				var de *Error
				if !errors.As(err, &de) || de.Offset != off {
					t.Fatalf("%s: generation %d→%d in the batch at %#x: error %v, want damage at that byte", name, bgens[i], g, off, err)
				}
				want := int(bgens[i] - 1)
				if v < format.Go126 && first {
					want-- // the generation before had not ended yet
				}
				if len(gens) != want {
					t.Fatalf("%s: generation %d→%d in the batch at %#x: %d generations delivered, want %d", name, bgens[i], g, off, len(gens), want)
				}
			}
		}
	}
}

// TestGenerationOrder pins the messages for batches out of order.
func TestGenerationOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    format.Version
		fill func(e *format.Encoder)
		gens int
		want string
	}{
		{"backwards before 1.26", format.Go123, func(e *format.Encoder) {
			goodGen(e, 1)
			goodGen(e, 2)
			goodGen(e, 1)
		}, 1, "(gen 2, batch 4): EventBatch: batch of generation 1 inside generation 2, want 2 or the next, 3: corrupt trace"},
		{"next generation before the end, 1.26", format.Go126, func(e *format.Encoder) {
			goodGen(e, 1)
			goodGen(e, 2)
			e.Event(format.EvEndOfGeneration, nil, nil)
		}, 0, "(gen 1, batch 4): EventBatch: batch of generation 2 inside generation 1, want 1 until its EndOfGeneration: corrupt trace"},
		{"jump after the end, 1.26", format.Go126, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Event(format.EvEndOfGeneration, nil, nil)
			goodGen(e, 3)
			e.Event(format.EvEndOfGeneration, nil, nil)
		}, 1, "(gen 3, batch 0): EventBatch: generation 3 follows generation 1, want 2: corrupt trace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.v, tc.fill)
			gens, err := readAll(t, data)
			if len(gens) != tc.gens || err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("%d generations, error %v; want %d, and an error saying %q", len(gens), err, tc.gens, tc.want)
			}
		})
	}
}

// manyBatches is a Go 1.26 trace of one generation of n batches and its
// end: with size 0 batches of no events, else experimental batches of size
// bytes of data.
func manyBatches(n, size int) []byte {
	b := format.AppendHeader(nil, format.Go126)
	data := make([]byte, size)
	for m := range n {
		if size == 0 {
			b = append(b, byte(format.EvEventBatch))
		} else {
			b = append(b, byte(format.EvExperimentalBatch), 7)
		}
		for _, x := range []uint64{1, uint64(m), 0, uint64(size)} {
			b = format.AppendUvarint(b, x)
		}
		b = append(b, data...)
	}
	return append(b, byte(format.EvEndOfGeneration))
}

// TestManyBatches checks the bound on batches per generation: 16384 of any
// size, and past that one per 128 bytes; the batch past the bound is damage
// at its byte, found before the rest of the input is read.
func TestManyBatches(t *testing.T) {
	ok := func(data []byte) {
		t.Helper()
		if gens, err := readAll(t, data); err != nil || len(gens) != 1 {
			t.Fatalf("%d generations, %v; want one", len(gens), err)
		}
	}
	ok(manyBatches(freeBatches, 0))
	ok(manyBatches(freeBatches+5000, bytesPerBatch))

	data := manyBatches(freeBatches+1, 0)
	_, err := readAll(t, data)
	var de *Error
	want := int64(format.HeaderSize + 5*128 + 6*(freeBatches-128)) // m ≥ 128 takes two bytes
	if !errors.As(err, &de) || de.Offset != want || de.Batch != freeBatches {
		t.Fatalf("error %v, want one at byte %#x, batch %d", err, want, freeBatches)
	}
	if _, ferr := frameAll(t, data, format.Go126); fmt.Sprint(ferr) != err.Error() {
		t.Fatalf("Framer says %v, Reader %v", ferr, err)
	}

	// A million batches: the Reader stops at the bound, having read
	// little more than the bytes before it.
	big := manyBatches(1e6, 0)
	br := bytes.NewReader(big)
	r, err := NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	r.SetDetail(Frames)
	if _, err := r.Next(); !errors.As(err, &de) || de.Batch != freeBatches {
		t.Fatalf("error %v, want one at batch %d", err, freeBatches)
	}
	if read, limit := len(big)-br.Len(), 7*freeBatches+2*maxRead; read > limit {
		t.Fatalf("read %d bytes of %d before the error, want at most %d", read, len(big), limit)
	}
}

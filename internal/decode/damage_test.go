package decode

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// readAll decodes data and checks the contract every input must keep: no
// panic, io.EOF or a *Error whose offset is inside the input, and
// generations that tile the input from the header on.
func readAll(t testing.TB, data []byte) (gens []uint64, err error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		checkErr(t, err, len(data))
		return nil, err
	}
	off := int64(format.HeaderSize)
	for {
		g, err := r.Next()
		if err == io.EOF {
			if off != int64(len(data)) || r.Offset() != off {
				t.Fatalf("clean end at byte %d (Offset %d) of %d", off, r.Offset(), len(data))
			}
			return gens, nil
		}
		if err != nil {
			checkErr(t, err, len(data))
			if r.Offset() != off {
				t.Fatalf("Offset() = %d after an error, want %d (the end of the last generation)", r.Offset(), off)
			}
			if _, again := r.Next(); again != err {
				t.Fatalf("Next after an error returned %v, want the same error", again)
			}
			return gens, err
		}
		if g.Offset != off || g.End <= g.Offset || g.End > int64(len(data)) {
			t.Fatalf("generation %d spans [%d, %d), want it to start at %d inside %d bytes", g.Num, g.Offset, g.End, off, len(data))
		}
		off = g.End
		gens = append(gens, g.Num)
	}
}

func checkErr(t testing.TB, err error, size int) {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *decode.Error", err, err)
	}
	if de.Offset < 0 || de.Offset > int64(size) {
		t.Fatalf("error offset %d outside the %d-byte input: %v", de.Offset, size, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || msg != strings.ToLower(msg[:1])+msg[1:] {
		t.Fatalf("error is not one lower-case line: %q", msg)
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "traces", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestTruncate cuts a real trace at every offset: every generation that
// ends before the cut is delivered, then an error that says the input
// ended (or, at a generation boundary before Go 1.26, a clean end).
func TestTruncate(t *testing.T) {
	data := fixture(t, "allocfree.trace")
	full, err := readAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	ends := generationEnds(t, data)
	for n := 0; n < len(data); n++ {
		gens, err := readAll(t, data[:n])
		if n == format.HeaderSize {
			if err != nil || len(gens) != 0 {
				t.Fatalf("header only: %d generations, %v; want none and a clean end", len(gens), err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("cut at %d: no error", n)
		}
		if n > format.HeaderSize && !IsTruncated(err) {
			t.Fatalf("cut at %d: %v does not wrap io.ErrUnexpectedEOF", n, err)
		}
		complete := 0
		for _, e := range ends {
			if e <= int64(n) {
				complete++
			}
		}
		if len(gens) != complete {
			t.Fatalf("cut at %d: %d generations delivered, want %d of %v", n, len(gens), complete, full)
		}
	}
}

func generationEnds(t testing.TB, data []byte) []int64 {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var ends []int64
	for {
		g, err := r.Next()
		if err != nil {
			return ends
		}
		ends = append(ends, g.End)
	}
}

// TestFlip flips every byte of a small trace in turn: decoding never
// panics and ends in io.EOF or a *Error inside the input. Each byte gets
// one of three flips in turn (all its bits, the varint continuation bit,
// the lowest bit); FuzzDecode tries the rest.
func TestFlip(t *testing.T) {
	data := fixture(t, "demo.trace")
	step := 1
	if testing.Short() {
		step = 7
	}
	flips := []byte{0xff, 0x80, 0x01}
	buf := make([]byte, len(data))
	for i := format.HeaderSize; i < len(data); i += step {
		copy(buf, data)
		buf[i] ^= flips[i%len(flips)]
		readAll(t, buf)
	}
}

// TestSlowReaders reads through readers that return one byte, or half of
// what was asked, at a time: the result is the same.
func TestSlowReaders(t *testing.T) {
	data := fixture(t, "demo.trace")
	want, _, err := decodeAll(t, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{
		"OneByteReader": iotest.OneByteReader(bytes.NewReader(data)),
		"HalfReader":    iotest.HalfReader(bytes.NewReader(data)),
		"DataErrReader": iotest.DataErrReader(bytes.NewReader(data)),
	} {
		got, _, err := decodeAll(t, r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Fatalf("%s: decoded differently", name)
		}
	}
}

// TestReadError passes on an error from the underlying reader, with its
// place, after the generations read before it.
func TestReadError(t *testing.T) {
	data := fixture(t, "demo.trace")
	ends := generationEnds(t, data)
	boom := errors.New("disk on fire")
	r, err := NewReader(io.MultiReader(bytes.NewReader(data[:ends[0]+5]), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first generation: %v", err)
	}
	_, err = r.Next()
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
	checkErr(t, err, len(data))
}

func encode(t testing.TB, v format.Version, fill func(e *format.Encoder)) []byte {
	t.Helper()
	e := format.NewEncoder(v)
	fill(e)
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// goodGen writes a minimal, well-framed generation.
func goodGen(e *format.Encoder, gen uint64) {
	e.Batch(gen, format.NoThread, 10, func(b *format.Encoder) {
		b.Event(format.EvFrequency, []uint64{1e9}, nil)
	})
	e.Batch(gen, format.NoThread, 11, func(b *format.Encoder) {
		b.Event(format.EvStrings, nil, nil)
		b.Event(format.EvString, []uint64{1}, []byte("main.main"))
	})
	e.Batch(gen, format.NoThread, 12, func(b *format.Encoder) {
		b.Event(format.EvStacks, nil, nil)
		b.Event(format.EvStack, []uint64{1, 1, 0x401000, 1, 1, 7}, nil)
	})
	e.Batch(gen, 3, 20, func(b *format.Encoder) {
		b.Event(format.EvProcStatus, []uint64{1, 0, 1}, nil)
		b.Event(format.EvGoStatus, []uint64{2, 1, 3, 2}, nil)
		b.Event(format.EvGoBlock, []uint64{5, 1, 1}, nil)
	})
}

// TestDamage builds broken traces with the Encoder and checks what the
// error says and that good generations before the damage are delivered.
func TestDamage(t *testing.T) {
	v := format.Go123
	for _, tc := range []struct {
		name  string
		data  []byte
		gens  int    // generations delivered before the error
		want  string // in the error
		trunc bool   // wraps io.ErrUnexpectedEOF
	}{
		{"empty", nil, 0, "empty input", false},
		{"not a trace", []byte("PK\x03\x04 definitely a zip file"), 0, "not a Go execution trace", false},
		{"short header", []byte("go 1.2"), 0, "input ends after 6", true},
		{"v1", format.AppendHeader(nil, format.Go119), 0, "gotrace stats, check, diff, pprof, export, goroutines, tasks, why and view read it", false},
		{"unknown version", append([]byte("go 1.99 trace"), 0, 0, 0), 0, "unknown trace version go 1.99, want go 1.22, 1.23, 1.25 or 1.26", false},
		{"header only", format.AppendHeader(nil, v), 0, "", false},
		{"hostile batch size", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Raw(byte(format.EvEventBatch))
			for _, x := range []uint64{2, 1, 5, 1 << 60} {
				e.Raw(format.AppendUvarint(nil, x)...)
			}
		}), 1, "size 1152921504606846976 exceeds the maximum batch size 65536", false},
		{"hostile string length", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Batch(2, format.NoThread, 1, func(b *format.Encoder) {
				b.Event(format.EvStrings, nil, nil)
				b.Raw(byte(format.EvString), 1)
				b.Raw(format.AppendUvarint(nil, 1<<60)...)
				b.Raw('x')
			})
		}), 1, "String: data length 1152921504606846976, batch ends after 1", false},
		{"too many frames", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Batch(2, format.NoThread, 1, func(b *format.Encoder) {
				b.Event(format.EvStacks, nil, nil)
				b.Raw(byte(format.EvStack), 1, 0xff, 0x7f)
			})
		}), 1, "Stack: 16383 frames, want at most 128", false},
		{"unknown event type", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Batch(2, 1, 1, func(b *format.Encoder) { b.Raw(100) })
		}), 1, "unknown event type 100", false},
		{"batch inside a batch", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Batch(2, 1, 1, func(b *format.Encoder) { b.Raw(byte(format.EvEventBatch)) })
		}), 1, "batch framing event inside a batch", false},
		{"event overruns its batch", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Batch(2, 1, 1, func(b *format.Encoder) { b.Raw(byte(format.EvGoStart), 1) })
		}), 1, "GoStart: want 3 args, batch ends after 1", false},
		{"varint overflow", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Batch(2, 1, 1, func(b *format.Encoder) {
				b.Raw(byte(format.EvGoStart))
				b.Raw(bytes.Repeat([]byte{0xff}, 11)...)
			})
		}), 1, "GoStart: arg dt: uvarint overflows 64 bits", false},
		{"trailing garbage", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Raw([]byte("\x00garbage")...)
		}), 1, "(gen 2, batch 0): want a batch header", false},
		{"truncated batch", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			goodGen(e, 2)
		})[:0], 0, "", false},
		{"generation zero", encode(t, v, func(e *format.Encoder) { goodGen(e, 0) }), 0, "generation number 0", false},
		{"generation skipped", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			goodGen(e, 3)
		}), 0, "byte 0x6a (gen 1, batch 4): EventBatch: batch of generation 3 inside generation 1, want 1 or the next, 2", false},
		{"duplicate string", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Batch(1, format.NoThread, 30, func(b *format.Encoder) {
				b.Event(format.EvStrings, nil, nil)
				b.Event(format.EvString, []uint64{1}, []byte("again"))
			})
		}), 0, "id 1 appears twice in the string table", false},
		{"bad allocfree kind", encode(t, v, func(e *format.Encoder) {
			goodGen(e, 1)
			e.Event(format.EvExperimentalBatch, []uint64{uint64(format.AllocFree), 1, 1, 5}, []byte{9})
		}), 0, "AllocFree batch kind 9", false},
		{"1.26 without end of generation", encode(t, format.Go126, func(e *format.Encoder) {
			e.Batch(1, format.NoThread, 10, func(b *format.Encoder) {
				b.Event(format.EvSync, nil, nil)
				b.Event(format.EvFrequency, []uint64{1e9}, nil)
			})
			e.Event(format.EvEndOfGeneration, nil, nil)
			e.Batch(2, format.NoThread, 10, func(b *format.Encoder) {
				b.Event(format.EvSync, nil, nil)
			})
		}), 1, "generation has no EndOfGeneration", true},
		{"1.26 lone end of generation", encode(t, format.Go126, func(e *format.Encoder) {
			e.Event(format.EvEndOfGeneration, nil, nil)
		}), 0, "end of a generation that has no batches", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "truncated batch" {
				full := encode(t, v, func(e *format.Encoder) { goodGen(e, 1); goodGen(e, 2) })
				tc.data = full[:len(full)-3]
				tc.gens, tc.want, tc.trunc = 1, "bytes of batch, input ends after", true
			}
			gens, err := readAll(t, tc.data)
			if len(gens) != tc.gens {
				t.Errorf("%d generations delivered, want %d", len(gens), tc.gens)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
			if IsTruncated(err) != tc.trunc {
				t.Fatalf("IsTruncated(%v) = %v, want %v", err, !tc.trunc, tc.trunc)
			}
		})
	}
}

// TestErrorString pins the error's one-line form.
func TestErrorString(t *testing.T) {
	err := &Error{Offset: 0x1a2f, Gen: 3, Batch: 7, Event: "GoStart", Err: errors.New("want 3 args, input ends after 1")}
	if got, want := err.Error(), "byte 0x1a2f (gen 3, batch 7): GoStart: want 3 args, input ends after 1"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	err = &Error{Offset: 0, Batch: -1, Err: ErrEmpty}
	if got, want := err.Error(), "byte 0x0: empty input, want a trace header"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestTruncatePeer cuts every trace test of the Go tree at every offset.
func TestTruncatePeer(t *testing.T) {
	for _, file := range peerTests(t) {
		data, _ := assembleTest(t, file)
		for n := range len(data) {
			readAll(t, data[:n])
		}
	}
}

// stuckReader returns data, then nothing and no error forever.
type stuckReader struct{ data []byte }

func (s *stuckReader) Read(p []byte) (int, error) {
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// TestStuckReader: a reader that stops making progress gives an error, not
// a hang.
func TestStuckReader(t *testing.T) {
	data := fixture(t, "demo.trace")
	r, err := NewReader(&stuckReader{data: data[:100]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("got %v, want io.ErrNoProgress", err)
	}
}

package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/gotool"
)

// smallTrace is a committed trace of three generations, written by the
// stress program in a slow mode:
//
//	go run ./testdata/progs/stress -o internal/bench/testdata/small.trace \
//		-size 800000 -duration 3500ms -rings 2 -ring-len 4 -mutexers 4 \
//		-sleepers 20 -conns 2 -allocators 1 -idle 40ms
const smallTrace = "testdata/small.trace"

func readSmall(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(smallTrace)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// wireEvents counts the events go tool trace -d=wire lists, batch headers
// excluded: lines that are not indented (frames and data are) and do not
// open a batch.
func wireEvents(t *testing.T, file string) int64 {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := gotool.Trace("-d=wire", file).Output()
	if err != nil {
		t.Fatalf("go tool trace -d=wire: %v", err)
	}
	var n int64
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || l[0] == '\t' || l[0] == ' ' ||
			strings.HasPrefix(l, "EventBatch ") || strings.HasPrefix(l, "ExperimentalBatch ") {
			continue
		}
		n++
	}
	return n
}

func TestWalkMatchesGoTool(t *testing.T) {
	data := readSmall(t)
	c, err := Walk(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if c.Bytes != int64(len(data)) {
		t.Errorf("walk covered %d bytes, file has %d", c.Bytes, len(data))
	}
	if c.Generations != 3 {
		t.Errorf("walk saw %d generations, want 3", c.Generations)
	}
	if want := wireEvents(t, smallTrace); c.Events != want {
		t.Errorf("walk counted %d events, go tool trace -d=wire lists %d", c.Events, want)
	}
}

func TestWalkOneByteReader(t *testing.T) {
	data := readSmall(t)
	want, err := Walk(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{
		"OneByte": iotest.OneByteReader(bytes.NewReader(data)),
		"Half":    iotest.HalfReader(bytes.NewReader(data)),
	} {
		got, err := Walk(r)
		if err != nil || got != want {
			t.Errorf("%s: walk = %+v, %v; want %+v", name, got, err, want)
		}
	}
}

func TestWalkErrors(t *testing.T) {
	data := readSmall(t)
	// The second batch of the trace: corrupting its first event's type
	// byte must be reported at that byte.
	s, err := NewScanner(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var firstEvent int64
	if _, err := s.NextGen(func(b *Batch) error {
		if b.Index == 1 {
			firstEvent = b.Offset + int64(len(b.Raw)-len(b.Data))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	badType := bytes.Clone(data)
	badType[firstEvent] = 120 // no v2 version defines it

	bigBatch := format.NewEncoder(format.Go126)
	bigBatch.Event(format.EvEventBatch, []uint64{1, 1, 1, format.MaxBatchSize + 1}, nil)
	bigBatchBytes, _ := bigBatch.Bytes()

	tests := []struct {
		name  string
		input []byte
		is    error
		want  string
	}{
		{"empty", nil, io.ErrUnexpectedEOF, "header"},
		{"not a trace", []byte("hello, world, this is text"), format.ErrNotTrace, "byte 0x0"},
		{"truncated", data[:len(data)/2], io.ErrUnexpectedEOF, "byte 0x"},
		{"unknown event", badType, decode.ErrCorrupt, fmt.Sprintf("byte 0x%x (gen 1, batch 1): unknown event type 120", firstEvent)},
		{"batch too big", bigBatchBytes, decode.ErrCorrupt, "exceeds the maximum"},
		{"old format", []byte("go 1.21 trace\x00\x00\x00"), decode.ErrOldFormat, "old trace format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Walk(bytes.NewReader(tt.input))
			if err == nil {
				t.Fatal("walk succeeded")
			}
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Errorf("error %q is a %T, want a *decode.Error", err, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestWritePrefix(t *testing.T) {
	data := readSmall(t)
	whole, err := Walk(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for gens := 1; gens <= whole.Generations+1; gens++ {
		var buf bytes.Buffer
		c, err := WritePrefix(&buf, bytes.NewReader(data), gens)
		if err != nil {
			t.Fatalf("%d generations: %v", gens, err)
		}
		if c.Bytes != int64(buf.Len()) {
			t.Errorf("%d generations: reported %d bytes, wrote %d", gens, c.Bytes, buf.Len())
		}
		walked, err := Walk(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%d generations: walking the prefix: %v", gens, err)
		}
		want := min(gens, whole.Generations)
		if walked.Generations != want || c.Generations != want {
			t.Errorf("prefix of %d: walk sees %d generations, WritePrefix says %d; want %d",
				gens, walked.Generations, c.Generations, want)
		}
		if gens >= whole.Generations && !bytes.Equal(buf.Bytes(), data) {
			t.Errorf("prefix of %d generations differs from the whole trace", gens)
		}
		// The reference parser must accept the prefix as a complete trace.
		if _, err := XExpLoop(bytes.NewReader(buf.Bytes())); err != nil {
			t.Errorf("x/exp/trace rejects the prefix of %d generations: %v", gens, err)
		}
	}
	if _, err := WritePrefix(io.Discard, bytes.NewReader(data), 0); err == nil {
		t.Error("a prefix of 0 generations was accepted")
	}
}

func TestXExpLoop(t *testing.T) {
	data := readSmall(t)
	n, err := XExpLoop(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := Walk(bytes.NewReader(data))
	// x/exp/trace delivers semantic events, not wire events: table
	// entries are folded away and a few events are synthesised, so the
	// counts are close but not equal.
	if n < w.Events/2 || n > w.Events*2 {
		t.Errorf("x/exp/trace delivered %d events for %d wire events", n, w.Events)
	}
}

func TestDecodeLoopsMatchWalk(t *testing.T) {
	data := readSmall(t)
	w, _ := Walk(bytes.NewReader(data))
	for name, loop := range map[string]func(io.Reader) (int64, error){
		"DecodeLoop":         DecodeLoop,
		"DecodeBatchesLoop":  DecodeBatchesLoop,
		"DecodeEachLoop":     DecodeEachLoop,
		"DecodeParallelLoop": DecodeParallelLoop,
	} {
		n, err := loop(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != w.Events {
			t.Errorf("%s counted %d events, the walk %d", name, n, w.Events)
		}
	}
}

// TestDecodeParallelLoopSums reads the same fields of the same events and
// tables as the loop that reads an event at a time.
func TestDecodeParallelLoopSums(t *testing.T) {
	data := readSmall(t)
	if _, err := DecodeEachLoop(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	want := touched
	if _, err := DecodeParallelLoop(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if touched != want || want == 0 {
		t.Errorf("the parallel loop summed %d, the loop an event at a time %d", touched, want)
	}
}

func TestTracedSpan(t *testing.T) {
	data := readSmall(t)
	whole, err := TracedSpan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := WritePrefix(&buf, bytes.NewReader(data), 1); err != nil {
		t.Fatal(err)
	}
	first, err := TracedSpan(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// The small trace ran for about two seconds over three generations;
	// its first generation is a part of that.
	if first <= 0 || first >= whole || whole > time.Minute {
		t.Errorf("span of the first generation %v, of the whole trace %v", first, whole)
	}
	if _, err := TracedSpan(bytes.NewReader(data[:format.HeaderSize])); err == nil {
		t.Error("a trace with no generations has a span")
	}
}

// BenchmarkLoops runs every in-process reader the harness measures on the
// small committed trace: walk is the floor, xexp the reference.
func BenchmarkLoops(b *testing.B) {
	data := readSmall(b)
	for _, l := range Loops {
		b.Run(l.Name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := l.Run(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMeasureOverlap: the small trace's first generations end with status
// batches written after the next one began (what stats counts as
// restamped); a trace of one generation has no next one to overlap.
func TestMeasureOverlap(t *testing.T) {
	data := readSmall(t)
	o, err := MeasureOverlap(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := Overlap{Generations: 3, NoThreadBatches: 15, LateBatches: 4, LateGenerations: 2}
	if o != want {
		t.Errorf("small trace: %+v, want %+v", o, want)
	}
	var buf bytes.Buffer
	if _, err := WritePrefix(&buf, bytes.NewReader(data), 1); err != nil {
		t.Fatal(err)
	}
	one, err := MeasureOverlap(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if one.Generations != 1 || one.LateBatches != 0 || one.NoThreadBatches == 0 {
		t.Errorf("first generation alone: %+v, want 1 generation, no late batches", one)
	}
	if _, err := MeasureOverlap(bytes.NewReader(data[:len(data)/2])); err == nil {
		t.Error("a truncated trace was read without an error")
	}
}

// TestMeasureXExp: the shape pass delivers what the loop does, and its
// goroutine counts are the ones gotrace stats reports for the small trace
// (3436 created, 10 from before, at most 116 alive).
func TestMeasureXExp(t *testing.T) {
	data := readSmall(t)
	s, err := MeasureXExp(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	n, err := XExpLoop(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if s.Events != n {
		t.Errorf("shape pass read %d events, the loop %d", s.Events, n)
	}
	if s.Created != 3436 || s.Existing != 10 || s.PeakAlive != 116 {
		t.Errorf("goroutines: %d created, %d existing, peak %d; want 3436, 10, 116", s.Created, s.Existing, s.PeakAlive)
	}
	// The late statuses of the first generations end after the next
	// generation began: x/exp/trace moves its first events, which are not
	// later than them.
	if s.Moved <= 0 || s.Moved >= s.Events {
		t.Errorf("%d of %d events moved", s.Moved, s.Events)
	}
}

// TestOrderLoop: gotrace's ordered reader delivers exactly the events
// golang.org/x/exp/trace does.
func TestOrderLoop(t *testing.T) {
	data := readSmall(t)
	want, err := XExpLoop(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	n, err := OrderLoop(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("order delivered %d events, x/exp/trace %d", n, want)
	}
}
